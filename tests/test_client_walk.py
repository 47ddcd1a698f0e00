"""The client's discovery walk against gridhan's server over mutual TLS: its own EndDevice, the PIN, the
programs of every function set through FunctionSetAssignments, paging, poll rates, in-band registration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sep_client import AdminClient

from gridhan.certs.pki import DevelopmentPki
from gridhan.client.session import DeviceCredentials, SepSession, Unreachable
from gridhan.client.walk import NotRegistered, RegistrationMismatch, Walker
from gridhan.schemas.clock import ManualClock
from gridhan.schemas.sep2 import DERControlList

T0 = 1_815_000_000  # 2027-07-08


@dataclass
class Env:
    server: Any
    admin: AdminClient
    pki: DevelopmentPki
    clock: ManualClock

    def session(self, name: str) -> SepSession:
        creds = DeviceCredentials(
            self.pki.device_cert_path(name), self.pki.device_key_path(name), [self.pki.trust_anchor_path]
        )
        return SepSession(self.server.sep2_url + "/dcap", creds)


@pytest.fixture
async def env(make_server, pki: DevelopmentPki) -> AsyncIterator[Env]:
    clock = ManualClock(T0)
    server = await make_server(clock=clock)
    admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    yield Env(server, admin, pki, clock)
    await admin.close()


async def enrol(env: Env, name: str, **fields: Any) -> tuple[int, int]:
    """Register the device and put it in a group of its own; (device id, group id)."""
    lfdi = DeviceCredentials(env.pki.device_cert_path(name), env.pki.device_key_path(name), []).lfdi
    status, device = await env.admin.post("/devices", {"lfdi": lfdi, **fields})
    assert status == 201, device
    status, group = await env.admin.post("/groups", {"name": f"group-{name}"})
    assert status == 201, group
    status, _ = await env.admin.put(f"/groups/{group['id']}/members", {"device_ids": [device["id"]]})
    assert status in (200, 204)
    return device["id"], group["id"]


async def test_walk_finds_every_function_set_of_the_device(env: Env) -> None:
    device_id, group_id = await enrol(env, "dev1", pin=111115)
    status, program = await env.admin.post("/der-programs", {"group_id": group_id, "primacy": 2})
    assert status == 201, program
    status, _ = await env.admin.put(
        f"/der-programs/{program['id']}/default-control", {"DERControlBase": {"opModMaxLimW": 10000}}
    )
    assert status == 200
    for i in range(3):  # more controls than one page of the walk's smallest page size
        status, made = await env.admin.post(
            "/der-controls",
            {"program_id": program["id"], "start": T0 + 3600 * (i + 1), "duration": 600,
             "base": {"opModMaxLimW": 5000 + i}},
        )
        assert status == 201, made
    status, event = await env.admin.post(
        "/dr-events",
        {"group_id": group_id, "start": T0 + 7200, "duration": 3600, "device_category": "00000001",
         "mandatory": False, "controls": {"Offset": {"coolingOffset": 11}}},
    )
    assert status == 201, event
    async with env.session("dev1") as session:
        walker = Walker(session, pin=111115)
        found = await walker.walk(T0, "/dcap")
        assert found.end_device.href == f"/edev/{device_id}"
        assert found.time is not None and found.time.currentTime == T0
        assert found.registration is not None and found.registration.pIN == 111115
        (der,) = found.der
        assert der.program.primacy == 2
        assert sorted(c.DERControlBase.opModMaxLimW for c in der.controls) == [5000, 5001, 5002]
        assert der.default is not None and der.default.DERControlBase.opModMaxLimW == 10000
        (dr,) = found.dr
        (control,) = dr.controls
        assert control.Offset is not None and control.Offset.coolingOffset == 11
        assert control.mRID == event["mrid"]
        fetched = found.fetched
        assert fetched >= 8

        again = await walker.walk(T0 + 10, "/dcap")
        assert again.fetched == 0 and not again.changed, "nothing is due before its pollRate"
        assert [c.mRID for c in again.der[0].controls] == [c.mRID for c in der.controls]
        later = await walker.walk(T0 + 901, "/dcap")
        assert later.fetched == fetched and later.changed, "everything is due again after the default 900 s"
        walker.accept(der.program.DERControlListLink.href, DERControlList(all=0, results=0), 900)
        notified = await walker.walk(T0 + 902, "/dcap")
        assert notified.fetched == 0 and notified.changed and notified.der[0].controls == []


async def test_list_paging_reads_every_entry(env: Env) -> None:
    _, group_id = await enrol(env, "dev1")
    status, program = await env.admin.post("/der-programs", {"group_id": group_id, "primacy": 1})
    assert status == 201
    for i in range(7):
        status, _ = await env.admin.post(
            "/der-controls",
            {"program_id": program["id"], "start": T0 + 600 * (i + 1), "duration": 60, "base": {"opModMaxLimW": i}},
        )
        assert status == 201
    async with env.session("dev1") as session:
        _, items = await session.get_all(f"/derp/{program['id']}/derc", DERControlList, page_size=3)
    assert sorted(c.DERControlBase.opModMaxLimW for c in items) == list(range(7))


async def test_wrong_pin_stops_the_walk(env: Env) -> None:
    await enrol(env, "dev1", pin=111115)
    async with env.session("dev1") as session:
        with pytest.raises(RegistrationMismatch, match="111115"):
            await Walker(session, pin=222220).walk(T0, "/dcap")


async def test_unregistered_device_is_told_so_or_registers_in_band(env: Env) -> None:
    async with env.session("dev2") as session:
        with pytest.raises(NotRegistered):
            await Walker(session).walk(T0, "/dcap")
        status, _ = await env.admin.patch("/settings", {"inband_registration": True})
        assert status == 200
        found = await Walker(session, inband=True).walk(T0, "/dcap")
        assert found.end_device.lFDI == session.credentials.lfdi
        status, devices = await env.admin.get("/devices")
        assert session.credentials.lfdi in [d["lfdi"] for d in devices["items"]]


async def test_server_gone_is_unreachable(env: Env) -> None:
    await enrol(env, "dev1")
    session = env.session("dev1")
    async with session:
        await Walker(session).walk(T0, "/dcap")
        await env.server.stop()
        with pytest.raises(Unreachable):
            await Walker(session).walk(T0, "/dcap")
