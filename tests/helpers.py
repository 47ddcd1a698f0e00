"""Small helpers shared by the HTTP tests."""

from __future__ import annotations

from sep_client import AdminClient, SepClient


async def register(admin: AdminClient, client: SepClient, **fields: object) -> int:
    """Pre-register a test device's LFDI through the admin API; returns its EndDevice id."""
    status, body = await admin.post("/devices", {"lfdi": client.lfdi, **fields})
    assert status == 201, body
    return body["id"]
