"""Flow Reservation function set end to end (IEEE 2030.5-2018 clause 10.9): an EV charger POSTs a
FlowReservationRequest over mutual TLS and finds the utility's FlowReservationResponse, decided by a
capacity per group and time slot or by the operator; capacity is never over-allocated, not even by two
devices racing for the last kilowatts; plus the pure allocation arithmetic, property-tested."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from helpers import register
from hypothesis import given, settings
from hypothesis import strategies as st
from sep_client import AdminClient, SepClient
from test_openapi import DocumentedAdmin

from gridhan.schemas.clock import ManualClock
from gridhan.schemas.flow_allocation import Capacity, Hold, decide, slots, used
from gridhan.schemas.sep2 import (
    ActivePower,
    DateTimeInterval,
    EndDevice,
    FlowReservationRequest,
    FlowReservationRequestList,
    FlowReservationResponse,
    FlowReservationResponseList,
    RequestStatus,
    SignedRealEnergy,
)
from gridhan.schemas.sep2.response import FlowReservationResponseResponse
from gridhan.schemas.xmlcodec import encode

T0 = 1_800_000_000
HOUR = 3600
SLOT = 900


@dataclass
class Env:
    server: object
    clock: ManualClock
    admin: DocumentedAdmin
    device: Callable[[str], SepClient]


@pytest.fixture
async def env(make_server, pki, optional_sep_schemas) -> AsyncIterator[Env]:
    clock = ManualClock(T0)
    server = await make_server(clock=clock)
    client = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    clients: list[SepClient] = []

    def device(name: str) -> SepClient:
        c = SepClient(server.sep2_url, pki, name, optional_sep_schemas)
        clients.append(c)
        return c

    yield Env(server, clock, DocumentedAdmin(client), device)
    for c in clients:
        await c.close()
    await client.close()


def ask(
    mrid: str, kw: int = 7, kwh: int = 12, start: int = T0 + HOUR, hours: int = 8, status: int = 0, needs: int = 3600
) -> FlowReservationRequest:
    """A request like clause C.20's: kwh within a window of ``hours``, at kw, needing ``needs`` seconds."""
    return FlowReservationRequest(
        mRID=mrid,
        description="charge overnight",
        creationTime=T0,
        durationRequested=needs,
        energyRequested=SignedRealEnergy(multiplier=3, value=kwh),
        intervalRequested=DateTimeInterval(start=start, duration=hours * HOUR),
        powerRequested=ActivePower(multiplier=3, value=kw),
        RequestStatus=RequestStatus(dateTime=T0, requestStatus=status),
    )


async def feeder(env: Env, *clients: SepClient, capacity_w: int, policy: str) -> tuple[int, list[int]]:
    ids = [await register(env.admin, c) for c in clients]
    status, group = await env.admin.post("/groups", {"name": "feeder-7"})
    assert status == 201
    assert (await env.admin.put(f"/groups/{group['id']}/members", {"device_ids": ids}))[0] == 200
    status, cap = await env.admin.put(
        f"/flow-capacities/{group['id']}", {"slot_seconds": SLOT, "capacity_w": capacity_w, "policy": policy}
    )
    assert status == 200, cap
    return group["id"], ids


async def post(dev: SepClient, device_id: int, body: FlowReservationRequest) -> str:
    edev = (await dev.get(f"/edev/{device_id}")).parse(EndDevice)
    reply = await dev.post(edev.FlowReservationRequestListLink.href, body)
    assert reply.status == 201, reply.text
    return reply.headers["Location"]


async def responses(dev: SepClient, device_id: int) -> list[FlowReservationResponse]:
    edev = (await dev.get(f"/edev/{device_id}")).parse(EndDevice)
    listed = (await dev.get(edev.FlowReservationResponseListLink.href + "?l=20")).parse(FlowReservationResponseList)
    assert listed.all == edev.FlowReservationResponseListLink.all
    return listed.FlowReservationResponse


def watts(p: ActivePower) -> int:
    return p.value * 10**p.multiplier


def wh(e: SignedRealEnergy) -> int:
    return e.value * 10**e.multiplier


async def test_ev_charger_request_is_granted_automatically(env: Env):
    ev = env.device("dev1")
    _, (ev_id,) = await feeder(env, ev, capacity_w=50_000, policy="partial")
    location = await post(ev, ev_id, ask("68512866203DB3B10000E566"))
    assert location.startswith(f"/edev/{ev_id}/frq/")
    got = (await ev.get(location)).parse(FlowReservationRequest)
    assert got.mRID == "68512866203DB3B10000E566" and got.RequestStatus.requestStatus == 0
    (resp,) = await responses(ev, ev_id)
    assert resp.subject == "68512866203DB3B10000E566"
    assert (watts(resp.powerAvailable), wh(resp.energyAvailable)) == (7000, 12000)
    assert (resp.interval.start, resp.interval.duration) == (T0 + HOUR, 8 * HOUR)
    assert resp.EventStatus.currentStatus == 0 and resp.replyTo == "/rsps/5/rsp" and resp.responseRequired == "01"
    env.clock.set(T0 + HOUR + 5)
    assert (await ev.get(resp.href)).parse(FlowReservationResponse).EventStatus.currentStatus == 1
    # the device acknowledges the response (FlowReservationResponseResponse, response set 5)
    ack = FlowReservationResponseResponse(endDeviceLFDI=ev.lfdi, subject=resp.mRID, status=1, createdDateTime=T0)
    reply = await ev.post("/rsps/5/rsp", ack)
    assert reply.status == 201, reply.text
    status, tally = await env.admin.get(f"/responses?subject={resp.mRID}")
    assert status == 200 and tally["never_responded"] == []


async def test_capacity_is_shared_then_exhausted_and_released_by_cancellation(env: Env):
    one, two, three = env.device("dev1"), env.device("dev2"), env.device("dev3")
    _, (id1, id2, id3) = await feeder(env, one, two, three, capacity_w=10_000, policy="partial")
    first = await post(one, id1, ask("A1" * 12))
    await post(two, id2, ask("B2" * 12, start=T0 + 2 * HOUR, hours=2))  # overlaps: 3 kW left
    await post(three, id3, ask("C3" * 12))
    (r1,), (r2,), (r3,) = [await responses(d, i) for d, i in ((one, id1), (two, id2), (three, id3))]
    assert watts(r1.powerAvailable) == 7000
    assert (watts(r2.powerAvailable), wh(r2.energyAvailable)) == (3000, 6000)  # 3 kW for 2 h delivers 6 kWh
    assert (watts(r3.powerAvailable), wh(r3.energyAvailable)) == (0, 0)  # refused: nothing left
    status, listed = await env.admin.get("/flow-requests")
    assert status == 200
    assert [r["state"] for r in listed["items"]] == ["granted", "granted", "refused"]

    # dev1 cancels its request (PUT with RequestStatus 1): its response is cancelled, capacity released
    env.clock.set(T0 + 60)
    cancel = ask("A1" * 12)
    cancel.RequestStatus = RequestStatus(dateTime=T0 + 60, requestStatus=1)
    assert (await one.put(first, cancel)).status == 204
    assert (await one.get(first)).parse(FlowReservationRequest).RequestStatus.requestStatus == 1
    (r1,) = await responses(one, id1)
    assert r1.EventStatus.currentStatus == 2 and r1.EventStatus.dateTime == T0 + 60
    await post(three, id3, ask("C4" * 12, kw=7, start=T0 + 5 * HOUR, hours=1))
    by_subject = {r.subject: r for r in await responses(three, id3)}
    assert watts(by_subject["C4" * 12].powerAvailable) == 7000


async def test_all_or_nothing_refuses_what_does_not_fit(env: Env):
    one, two = env.device("dev1"), env.device("dev2")
    _, (id1, id2) = await feeder(env, one, two, capacity_w=10_000, policy="all-or-nothing")
    await post(one, id1, ask("A1" * 12))
    await post(two, id2, ask("B2" * 12))
    assert watts((await responses(two, id2))[0].powerAvailable) == 0
    await post(two, id2, ask("B3" * 12, kw=3))  # exactly what is left
    by_subject = {r.subject: r for r in await responses(two, id2)}
    assert watts(by_subject["B3" * 12].powerAvailable) == 3000


async def test_operator_decides_under_the_manual_policy(env: Env):
    one, two = env.device("dev1"), env.device("dev2")
    group_id, (id1, id2) = await feeder(env, one, two, capacity_w=10_000, policy="manual")
    await post(one, id1, ask("A1" * 12))
    await post(two, id2, ask("B2" * 12))
    assert await responses(one, id1) == []  # waiting for the operator
    status, pending = await env.admin.get("/flow-requests?state=pending")
    assert status == 200 and [r["device_id"] for r in pending["items"]] == [id1, id2]
    first, second = pending["items"]
    status, decided = await env.admin.post(
        f"/flow-requests/{first['id']}/decide",
        {"decision": "grant", "power_w": 6000, "start": T0 + 2 * HOUR, "duration": 4 * HOUR},
    )
    assert status == 200 and decided["state"] == "granted", decided
    (resp,) = await responses(one, id1)
    assert (watts(resp.powerAvailable), wh(resp.energyAvailable)) == (6000, 12000)
    assert (resp.interval.start, resp.interval.duration) == (T0 + 2 * HOUR, 4 * HOUR)
    # a second decision on the same request is a conflict
    assert (await env.admin.post(f"/flow-requests/{first['id']}/decide", {"decision": "refuse"}))[0] == 409
    # the operator is held to the capacity too: 7 kW does not fit beside 6 kW of 10 kW
    status, body = await env.admin.post(f"/flow-requests/{second['id']}/decide", {"decision": "grant"})
    assert status == 409 and "capacity" in body["error"]
    assert (await env.admin.get(f"/flow-requests/{second['id']}"))[1]["state"] == "pending"
    assert await responses(two, id2) == []
    status, body = await env.admin.post(f"/flow-requests/{second['id']}/decide", {"decision": "refuse"})
    assert status == 200 and body["state"] == "refused"
    (refusal,) = await responses(two, id2)
    assert (watts(refusal.powerAvailable), wh(refusal.energyAvailable)) == (0, 0)
    # bad decisions name the field
    status, body = await env.admin.post(f"/flow-requests/{second['id']}/decide", {"decision": "maybe"})
    assert status == 400 and "decision" in body["error"]
    assert (await env.admin.get(f"/flow-capacities/{group_id}"))[1]["policy"] == "manual"


async def test_another_devices_reservations_answer_404(env: Env):
    one, two = env.device("dev1"), env.device("dev2")
    id1, id2 = await register(env.admin, one), await register(env.admin, two)
    location = await post(one, id1, ask("A1" * 12))  # no capacity applies: granted as asked (10.9.1)
    (resp,) = await responses(one, id1)
    assert watts(resp.powerAvailable) == 7000
    missing = await two.get(f"/edev/{id1}/frq/99999")
    for href in (location, resp.href, f"/edev/{id1}/frq", f"/edev/{id1}/frp"):
        reply = await two.get(href)
        assert (reply.status, reply.text) == (404, missing.text.replace("FlowReservationRequest", "EndDevice"))
    assert (await two.post(f"/edev/{id1}/frq", ask("B2" * 12))).status == 404
    cancel = ask("A1" * 12, status=1)
    assert (await two.put(location, cancel)).status == 404
    assert (await one.get(location)).parse(FlowReservationRequest).RequestStatus.requestStatus == 0
    assert (await two.get(f"/edev/{id2}/frq")).parse(FlowReservationRequestList).all == 0


@pytest.mark.parametrize(
    ("body", "message", "status"),
    [
        (ask("A1" * 12, start=T0 - 9 * HOUR), "intervalRequested: the window has already ended", 400),
        (ask("A1" * 12, status=1), "requestStatus: a new request is 0", 400),
        (ask("A1" * 12, hours=1, needs=4000), "durationRequested: 4000 s does not fit", 400),
        (ask("A1" * 12, kw=0), "powerRequested: must be positive", 400),
        (ask("A1" * 12, kwh=0), "energyRequested: must not be zero", 400),
        (
            b'<FlowReservationRequest xmlns="urn:ieee:std:2030.5:ns"><mRID>AB</mRID></FlowReservationRequest>',
            "FlowReservationRequest",
            400,
        ),
        (encode(ask("A1" * 12)).replace(b"urn:ieee:std:2030.5:ns", b"urn:example"), "", 400),
    ],
)
async def test_bad_requests_are_refused_and_store_nothing(env: Env, body, message, status):
    ev = env.device("dev1")
    _, (ev_id,) = await feeder(env, ev, capacity_w=50_000, policy="partial")
    reply = await ev.post(f"/edev/{ev_id}/frq", body)
    assert reply.status == status and message in reply.text, reply.text
    assert (await ev.get(f"/edev/{ev_id}/frq")).parse(FlowReservationRequestList).all == 0
    assert await responses(ev, ev_id) == []
    assert (await env.admin.get("/flow-requests"))[1]["total"] == 0


async def test_duplicate_request_mrid_is_a_conflict(env: Env):
    ev = env.device("dev1")
    ev_id = await register(env.admin, ev)
    await post(ev, ev_id, ask("A1" * 12))
    reply = await ev.post(f"/edev/{ev_id}/frq", ask("a1" * 12))
    assert reply.status == 409 and "mRID" in reply.text
    assert len(await responses(ev, ev_id)) == 1


async def test_two_devices_racing_for_the_last_capacity(env: Env):
    one, two = env.device("dev1"), env.device("dev2")
    _, (id1, id2) = await feeder(env, one, two, capacity_w=10_000, policy="all-or-nothing")
    for round_ in range(3):  # a fresh window each round
        start = T0 + HOUR + round_ * 10 * HOUR
        replies = await asyncio.gather(
            one.post(f"/edev/{id1}/frq", ask(f"{round_:02X}" + "A" * 22, start=start)),
            two.post(f"/edev/{id2}/frq", ask(f"{round_:02X}" + "B" * 22, start=start)),
        )
        assert [r.status for r in replies] == [201, 201], [r.text for r in replies]
        granted = [
            watts(r.powerAvailable)
            for d, i in ((one, id1), (two, id2))
            for r in await responses(d, i)
            if r.interval.start == start
        ]
        assert sorted(granted) == [0, 7000]  # exactly one got it; 14 kW never went out of 10 kW


# -- the pure arithmetic ----------------------------------------------------------------------------


def test_slots_cover_the_window():
    assert slots(100, 100, 900) == []
    assert slots(0, 900, 900) == [0]
    assert slots(899, 901, 900) == [0, 900]


requests_ = st.lists(
    st.tuples(
        st.integers(0, 20_000),  # start
        st.integers(1, 20_000),  # duration
        st.integers(1, 30_000),  # power
        st.integers(-50_000, 50_000).filter(lambda e: e != 0),  # energy
    ),
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(
    capacity_w=st.integers(0, 60_000),
    slot_seconds=st.sampled_from([60, 300, 900, 3600]),
    policy=st.sampled_from(["partial", "all-or-nothing"]),
    asks=requests_,
)
def test_decisions_never_over_allocate_a_slot(capacity_w, slot_seconds, policy, asks):
    cap = Capacity(slot_seconds=slot_seconds, capacity_w=capacity_w, policy=policy)
    holds: list[Hold] = []
    for start, duration, power, energy in asks:
        grant = decide([(cap, holds)], start, duration, power, energy)
        assert grant is not None
        assert 0 <= grant.power_w <= power
        assert abs(grant.energy_wh) <= abs(energy)
        if policy == "all-or-nothing" and energy > 0:
            assert grant.power_w in (0, power)
        if grant.energy_wh > 0 and grant.power_w > 0:
            holds.append(Hold(start=start, duration=duration, power_w=grant.power_w))
    for slot in {s for h in holds for s in slots(h.start, h.end, slot_seconds)}:
        assert used(holds, slot, slot_seconds) <= capacity_w


def test_manual_policy_leaves_the_decision_to_the_operator():
    cap = Capacity(slot_seconds=900, capacity_w=10, policy="manual")
    assert decide([(cap, [])], 0, 900, 5, 5) is None
    assert decide([], 0, 900, 5, 5).power_w == 5  # no capacity: granted as asked
    with pytest.raises(ValueError, match="policy"):
        Capacity(slot_seconds=900, capacity_w=10, policy="first-come")
