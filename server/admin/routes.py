"""Admin routes (placeholder until the full API lands): device pre-registration by LFDI."""

from __future__ import annotations

from aiohttp import web

from gridhan.schemas.identifiers import normalize_lfdi, sfdi_from_lfdi
from gridhan.server.context import CONTEXT

API = "/api/v1"


async def create_device(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    body = await request.json()
    lfdi = normalize_lfdi(body["lfdi"])
    row = await ctx.store.create_device(lfdi=lfdi, sfdi=sfdi_from_lfdi(lfdi), changed_time=ctx.now(),
                                        is_aggregator=body.get("aggregator", False),
                                        aggregator_id=body.get("aggregator_id"), pin=body.get("pin"),
                                        registered_time=ctx.now() if body.get("pin") is not None else None)
    ctx.identities.invalidate(lfdi)
    return web.json_response({"id": row.id, "lfdi": row.lfdi}, status=201)


def setup(app: web.Application) -> None:
    app.router.add_post(f"{API}/devices", create_device)
