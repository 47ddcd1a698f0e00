"""DER function set end to end (IEEE 2030.5-2018 clause 10.10; CSIP; CSIP-AUS 1.2): the operator states a
control once in the admin API; devices of the group find it from DeviceCapability over mutual TLS, and its
EventStatus follows its life (scheduled, active, superseded, cancelled) as the controlled clock moves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from helpers import register
from sep_client import AdminClient, SepClient

from gridhan.schemas.clock import ManualClock
from gridhan.schemas.sep2 import (
    DER,
    ActivePower,
    DefaultDERControl,
    DERAvailability,
    DERCapability,
    DERControl,
    DERControlList,
    DERCurveList,
    DERList,
    DERProgram,
    DERProgramList,
    DERSettings,
    DERStatus,
    EndDevice,
    FunctionSetAssignmentsList,
)
from gridhan.schemas.xsd import SchemaValidator

T0 = 1_800_000_000


@dataclass
class Env:
    server: object
    clock: ManualClock
    admin: AdminClient
    device: Callable[..., SepClient]


@pytest.fixture
async def env(make_server, pki, optional_sep_schemas) -> AsyncIterator[Env]:
    clock = ManualClock(T0)
    server = await make_server(clock=clock)
    admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    clients: list[SepClient] = []

    def device(name: str, schemas: list[SchemaValidator] | None = None) -> SepClient:
        client = SepClient(server.sep2_url, pki, name, optional_sep_schemas if schemas is None else schemas)
        clients.append(client)
        return client

    yield Env(server, clock, admin, device)
    for client in clients:
        await client.close()
    await admin.close()


async def group_of(env: Env, *clients: SepClient) -> tuple[int, list[int]]:
    ids = [await register(env.admin, c) for c in clients]
    status, group = await env.admin.post("/groups", {"name": "feeder-7", "description": "feeder 7"})
    assert status == 201
    status, _ = await env.admin.put(f"/groups/{group['id']}/members", {"device_ids": ids})
    assert status in (200, 204)
    return group["id"], ids


async def find_program(dev: SepClient, device_id: int) -> DERProgram:
    """The discovery walk a device makes: EndDevice -> FSA -> DERProgramList -> DERProgram."""
    edev = (await dev.get(f"/edev/{device_id}")).parse(EndDevice)
    fsal = (await dev.get(edev.FunctionSetAssignmentsListLink.href + "?l=10")).parse(FunctionSetAssignmentsList)
    (fsa,) = fsal.FunctionSetAssignments
    programs = (await dev.get(fsa.DERProgramListLink.href + "?l=10")).parse(DERProgramList)
    assert programs.all == 1
    return programs.DERProgram[0]


async def controls(dev: SepClient, program: DERProgram, which: str = "DERControlListLink") -> list[DERControl]:
    link = getattr(program, which)
    return (await dev.get(link.href + "?l=50")).parse(DERControlList).DERControl


async def test_control_for_a_group_through_its_life(env: Env):
    one, two, outsider = env.device("dev1"), env.device("dev2"), env.device("dev3")
    group_id, (id1, id2) = await group_of(env, one, two)
    await register(env.admin, outsider)
    start = T0 + 3600
    status, made = await env.admin.post(
        "/der-controls",
        {
            "group_id": group_id,
            "start": start,
            "duration": 7200,
            "description": "limit output",
            "response_required": "03",
            "base": {"opModMaxLimW": 5000, "opModConnect": True},
        },
    )
    assert status == 201, made
    assert made["status"]["name"] == "scheduled" and made["modes"] == ["opModConnect", "opModMaxLimW"]

    for dev, device_id in ((one, id1), (two, id2)):
        program = await find_program(dev, device_id)
        (control,) = await controls(dev, program)
        assert control.mRID == made["mrid"]
        assert (control.interval.start, control.interval.duration) == (start, 7200)
        assert control.EventStatus.currentStatus == 0
        assert control.DERControlBase.opModMaxLimW == 5000
        assert control.replyTo == "/rsps/1/rsp" and control.responseRequired == "03"
        assert await controls(dev, program, "ActiveDERControlListLink") == []

    # a device outside the group does not see the program at all
    program_href = made["href"].rsplit("/derc", 1)[0]
    assert (await outsider.get(program_href)).status == 404
    assert (await outsider.get(made["href"])).status == 404

    env.clock.set(start + 10)
    program = await find_program(one, id1)
    (active,) = await controls(one, program, "ActiveDERControlListLink")
    assert active.EventStatus.currentStatus == 1 and active.EventStatus.dateTime == start

    # a newer control of the same mode supersedes the older one; another mode would not
    status, newer = await env.admin.post(
        "/der-controls",
        {"group_id": group_id, "start": start + 600, "duration": 600, "base": {"opModMaxLimW": 3000}},
    )
    assert status == 201, newer
    env.clock.set(start + 650)  # the newer control has started: it took opModMaxLimW from the older one
    status, older = await env.admin.get(f"/der-controls/{made['id']}")
    assert older["status"]["potentially_superseded"] is True and older["superseded_by"] == [newer["mrid"]]
    by_mrid = {c.mRID: c for c in await controls(one, program)}
    assert by_mrid[made["mrid"]].EventStatus.potentiallySuperseded is True

    # cancelled: status 2 from the moment of cancellation, gone from the active list
    env.clock.set(start + 700)
    status, cancelled = await env.admin.post(f"/der-controls/{newer['id']}/cancel", {})
    assert status == 200 and cancelled["status"]["name"] == "cancelled"
    status, reply = await env.admin.post("/der-controls/424242/cancel", {})
    assert status == 404 and "no DER control with id 424242" in reply["error"]
    by_mrid = {c.mRID: c for c in await controls(one, program)}
    assert by_mrid[newer["mrid"]].EventStatus.currentStatus == 2
    assert by_mrid[newer["mrid"]].EventStatus.dateTime == start + 700
    active = await controls(one, program, "ActiveDERControlListLink")
    assert [c.mRID for c in active] == [made["mrid"]]


async def test_default_control_and_curves(env: Env):
    dev = env.device("dev1")
    group_id, (device_id,) = await group_of(env, dev)
    status, program = await env.admin.post("/der-programs", {"group_id": group_id, "primacy": 2, "description": "csip"})
    assert status == 201, program
    status, default = await env.admin.put(
        f"/der-programs/{program['id']}/default-control",
        {"DERControlBase": {"opModConnect": True, "opModMaxLimW": 10000}, "setGradW": 50, "setESDelay": 300},
    )
    assert status == 200, default
    status, curve = await env.admin.post(
        f"/der-programs/{program['id']}/curves",
        {
            "curveType": 11,  # volt-var
            "CurveData": [{"xvalue": x, "yvalue": y} for x, y in ((9200, 3000), (9670, 0), (10300, 0), (10700, -3000))],
            "xMultiplier": -2,
            "yMultiplier": -2,
            "yRefType": 2,
        },
    )
    assert status == 201, curve
    found = await find_program(dev, device_id)
    assert found.primacy == 2 and found.DERCurveListLink.all == 1
    got = (await dev.get(found.DefaultDERControlLink.href)).parse(DefaultDERControl)
    assert got.DERControlBase.opModMaxLimW == 10000 and got.setGradW == 50 and got.mRID == default["mrid"]
    curves = (await dev.get(found.DERCurveListLink.href + "?l=5")).parse(DERCurveList)
    assert [p.xvalue for p in curves.DERCurve[0].CurveData] == [9200, 9670, 10300, 10700]
    # a curve whose x values do not increase is refused, nothing stored
    status, body = await env.admin.post(
        f"/der-programs/{program['id']}/curves",
        {"curveType": 11, "CurveData": [{"xvalue": 2, "yvalue": 0}, {"xvalue": 1, "yvalue": 0}],
         "xMultiplier": 0, "yMultiplier": 0, "yRefType": 2},
    )  # fmt: skip
    assert status == 400 and "xvalue must increase" in body["error"]
    assert (await env.admin.get(f"/der-programs/{program['id']}/curves"))[1]["total"] == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"base": {"opModWhatever": 1}}, "DERControlBase has no member 'opModWhatever'"),
        ({"base": {"opModMaxLimW": 20000}}, "DERControlBase/opModMaxLimW: 20000 is out of range"),
        ({"base": {}}, "sets no control mode"),
        ({"start": T0 - 10_000}, "would end before it is created"),
        ({"randomize_start": 4000}, "randomize_start: 4000 is out of range"),
        ({"group_id": 999}, "group_id: no group with id 999"),
        ({"start": "tomorrow"}, "is not an ISO 8601 date-time"),
    ],
)
async def test_bad_control_requests_create_nothing(env: Env, change, message):
    dev = env.device("dev1")
    group_id, _ = await group_of(env, dev)
    body = {"group_id": group_id, "start": T0 + 60, "duration": 60, "base": {"opModMaxLimW": 100}, **change}
    status, reply = await env.admin.post("/der-controls", body)
    assert status == 400 and message in reply["error"], reply
    assert (await env.admin.get("/der-controls"))[1]["total"] == 0


async def test_control_for_a_list_of_devices_with_an_iso_start(env: Env):
    one, two = env.device("dev1"), env.device("dev2")
    id1, id2 = await register(env.admin, one), await register(env.admin, two)
    status, made = await env.admin.post(
        "/der-controls",
        {"device_ids": [id1], "start": "2027-01-16T14:00:00+10:00", "duration": 3600, "base": {"opModFixedW": 50}},
    )
    assert status == 201, made
    assert made["start"] == 1_800_072_000  # 2027-01-16T04:00:00Z
    program = await find_program(one, id1)
    assert [c.mRID for c in await controls(one, program)] == [made["mrid"]]
    assert (await two.get(f"/edev/{id2}/fsa")).parse(FunctionSetAssignmentsList).all == 0


def der_documents(rtg_max_w: int) -> dict[str, object]:
    return {
        "dercap": DERCapability(modesSupported="0000FFFF", rtgMaxW=ActivePower(multiplier=3, value=rtg_max_w), type=4),
        "ders": DERStatus(readingTime=T0),
        "dera": DERAvailability(readingTime=T0, statWAvail=ActivePower(multiplier=0, value=3000)),
    }


async def test_device_reports_its_der(env: Env):
    dev, other = env.device("dev1"), env.device("dev2")
    device_id, other_id = await register(env.admin, dev), await register(env.admin, other)
    edev = (await dev.get(f"/edev/{device_id}")).parse(EndDevice)
    ders = (await dev.get(edev.DERListLink.href + "?l=5")).parse(DERList)
    (der,) = ders.DER
    assert der.CurrentDERProgramLink is None
    der = (await dev.get(der.href)).parse(DER)
    docs = der_documents(5)  # rtgMaxW 5 kW
    for suffix, doc in docs.items():
        assert (await dev.put(f"{der.href}/{suffix}", doc)).status == 204
        got = (await dev.get(f"{der.href}/{suffix}")).parse(type(doc))
        got.href = None
        assert got == doc
    settings = DERSettings(setGradW=100, setMaxW=ActivePower(multiplier=3, value=6), updatedTime=T0)
    reply = await dev.put(f"{der.href}/derg", settings)
    assert reply.status == 400 and "DERSettings/setMaxW: 6000 exceeds DERCapability/rtgMaxW (5000)" in reply.text
    assert (await dev.get(f"{der.href}/derg")).status == 404  # nothing stored
    settings.setMaxW = ActivePower(multiplier=3, value=4)
    assert (await dev.put(f"{der.href}/derg", settings)).status == 204
    # another device's DER answers as if it did not exist, and takes nothing
    assert (await dev.put(f"/edev/{other_id}/der/1/ders", DERStatus(readingTime=T0))).status == 404
    assert (await other.get(f"/edev/{other_id}/der/1/ders")).status == 404
    malformed = b'<DERSettings xmlns="urn:ieee:std:2030.5:ns"><setGradW>x</setGradW></DERSettings>'
    reply = await dev.put(f"{der.href}/derg", malformed)
    assert reply.status == 400 and "DERSettings/setGradW" in reply.text


async def test_csip_aus_limits_and_connection_point(make_server, pki, sep_schemas):
    """CSIP-AUS: the DOE export limit travels in the csipaus namespace, and documents validate against the
    CSIP-AUS 1.2 schema; the EndDevice links its ConnectionPoint (NMI)."""
    from gridhan.schemas.sep2 import ConnectionPoint

    csip = [v for v in sep_schemas if v.path.name == "csipaus-core.xsd"]
    if not csip:
        pytest.skip("CSIP-AUS 1.2 schema not found")
    server = await make_server(clock=ManualClock(T0), csip_aus=True)
    admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    dev = SepClient(server.sep2_url, pki, "dev1", csip)
    try:
        device_id = await register(admin, dev)
        status, made = await admin.post(
            "/der-controls",
            {"device_ids": [device_id], "start": T0 + 60, "duration": 1800,
             "base": {"opModExpLimW": {"value": 5, "multiplier": 3}}},
        )  # fmt: skip
        assert status == 201, made
        program = await find_program(dev, device_id)
        (control,) = await controls(dev, program)
        assert control.DERControlBase.opModExpLimW.value == 5
        reply = await dev.get(made["href"])
        assert b"csipaus:opModExpLimW" in reply.body
        edev = (await dev.get(f"/edev/{device_id}")).parse(EndDevice)
        assert edev.ConnectionPointLink.href == f"/edev/{device_id}/cp"
        assert (
            await dev.put(edev.ConnectionPointLink.href, ConnectionPoint(connectionPointId="4102345678"))
        ).status == 204
        point = (await dev.get(edev.ConnectionPointLink.href)).parse(ConnectionPoint)
        assert point.connectionPointId == "4102345678"
    finally:
        await dev.close()
        await admin.close()


async def test_status_in_a_time_filtered_list_counts_the_controls_left_out(env: Env):
    """``a`` filters the DERControlList, not the event rules: a control superseded by one that starts before
    ``a`` still shows Superseded."""
    dev = env.device("dev1")
    group_id, (device_id,) = await group_of(env, dev)
    start = T0 + 3600
    status, older = await env.admin.post(
        "/der-controls", {"group_id": group_id, "start": start + 600, "duration": 600, "base": {"opModMaxLimW": 50}}
    )
    assert status == 201
    env.clock.advance(10)
    status, newer = await env.admin.post(
        "/der-controls", {"group_id": group_id, "start": start, "duration": 3600, "base": {"opModMaxLimW": 40}}
    )
    assert status == 201
    env.clock.set(start + 700)
    program = await find_program(dev, device_id)
    listed = (await dev.get(f"{program.DERControlListLink.href}?a={start + 300}&l=10")).parse(DERControlList)
    assert [c.mRID for c in listed.DERControl] == [older["mrid"]]
    assert listed.DERControl[0].EventStatus.currentStatus == 4
    assert (await env.admin.get(f"/der-controls/{older['id']}"))[1]["superseded_by"] == [newer["mrid"]]
