"""Subscriptions to Demand Response and Load Control resources (IEEE 2030.5-2018 clauses 8.7 and 10.3), on
SQLite and PostgreSQL, over real mutual TLS both ways: thermostats subscribe to their program's
EndDeviceControlList, ActiveEndDeviceControlList, an EndDeviceControl and their group's
DemandResponseProgramList, and hear new, rescheduled and cancelled critical-peak events, their start and end
on the server's clock (the event-boundary scheduler), programs coming and going, and losing sight of the
program when they leave the group (status 4). A device outside the group hears none of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from helpers import register
from sep_client import AdminClient, SepClient
from test_openapi import DocumentedAdmin
from test_pubsub import NOTIFY_SETTINGS, Listener, eventually, subscribe, subscription

from gridhan.schemas.clock import ManualClock
from gridhan.schemas.sep2 import (
    DemandResponseProgram,
    DemandResponseProgramList,
    EndDevice,
    EndDeviceControl,
    EndDeviceControlList,
    LoadShedAvailability,
    Notification,
    SubscriptionList,
)
from gridhan.schemas.xmlcodec import encode
from gridhan.server.app import GridhanServer

T0 = 1_800_000_000
THERMOSTAT = "01"
SCHEDULED, ACTIVE, CANCELLED = 0, 1, 2


@dataclass
class Env:
    server: GridhanServer
    clock: ManualClock
    admin: DocumentedAdmin
    device: Callable[[str], SepClient]
    listener: Listener
    make_server: Callable[..., Any]

    def advance(self, to: int) -> None:
        """Move the server's clock and make the scheduler look at once."""
        self.clock.set(to)
        assert self.server.context.notify is not None
        self.server.context.notify.kick()


@pytest.fixture
async def env(make_server, pki, optional_sep_schemas) -> AsyncIterator[Env]:
    clock = ManualClock(T0)
    server = await make_server(clock=clock, **NOTIFY_SETTINGS)
    admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    listener = await Listener(pki, "dev1", optional_sep_schemas).start()
    clients: list[SepClient] = []

    def device(name: str) -> SepClient:
        client = SepClient(server.sep2_url, pki, name, optional_sep_schemas)
        clients.append(client)
        return client

    yield Env(server, clock, DocumentedAdmin(admin), device, listener, make_server)
    for client in clients:
        await client.close()
    await listener.stop()
    await admin.close()


async def dr_program_for(env: Env, name: str, *device_ids: int) -> tuple[int, int]:
    """A group of these devices with one DemandResponseProgram; (group id, program id)."""
    status, group = await env.admin.post("/groups", {"name": name})
    assert status == 201, group
    status, _ = await env.admin.put(f"/groups/{group['id']}/members", {"device_ids": list(device_ids)})
    assert status in (200, 204)
    status, program = await env.admin.post("/dr-programs", {"group_id": group["id"], "primacy": 10})
    assert status == 201, program
    return group["id"], program["id"]


async def critical_peak(env: Env, program_id: int, start: int, duration: int = 4 * 3600) -> dict[str, Any]:
    body = {
        "program_id": program_id,
        "start": start,
        "duration": duration,
        "device_category": THERMOSTAT,
        "description": "critical peak",
        "controls": {"Offset": {"coolingOffset": 11}},
    }
    status, made = await env.admin.post("/dr-events", body)
    assert status == 201, made
    return made


async def heard(env: Env, path: str, check: Callable[[Notification], bool]) -> Notification:
    """The first notification at ``path`` for which ``check`` holds (earlier ones, e.g. of a change made
    before, are passed over); fails when none comes within test_pubsub.WAIT seconds."""
    while True:
        note = await env.listener.next(path)
        if check(note):
            return note


def statuses(note: Notification) -> dict[str, int]:
    assert isinstance(note.Resource, EndDeviceControlList), note
    return {c.mRID: c.EventStatus.currentStatus for c in note.Resource.EndDeviceControl}


async def settled(env: Env) -> bool:
    """No notification is pending."""
    status, page = await env.admin.get("/notifications?status=pending")
    assert status == 200, page
    return page["items"] == []


async def test_thermostat_hears_its_events_through_their_life(env: Env):
    one, two, outsider = env.device("dev1"), env.device("dev2"), env.device("dev3")
    ids = [await register(env.admin.client, d, device_category=THERMOSTAT) for d in (one, two, outsider)]
    id1, _, id3 = ids
    group_id, program_id = await dr_program_for(env, "cpp-feeder-7", ids[0], ids[1])
    _, other_program = await dr_program_for(env, "cpp-feeder-9", id3)
    url = env.listener.url

    # the lists and the control advertise non-conditional subscriptions; the program is an IdentifiedObject
    edc_list = (await one.get(f"/dr/{program_id}/edc")).parse(EndDeviceControlList)
    active_list = (await one.get(f"/dr/{program_id}/actedc")).parse(EndDeviceControlList)
    programs = (await one.get(f"/edev/{id1}/fsa/{group_id}/dr")).parse(DemandResponseProgramList)
    assert edc_list.subscribable == active_list.subscribable == programs.subscribable == 1
    assert b"subscribable" not in (await one.get(f"/dr/{program_id}")).body
    (await one.get(f"/dr/{program_id}")).parse(DemandResponseProgram)

    await subscribe(one, id1, f"/dr/{program_id}/edc", url("/edc"))
    await subscribe(one, id1, f"/dr/{program_id}/actedc", url("/act"))
    await subscribe(one, id1, f"/edev/{id1}/fsa/{group_id}/dr", url("/drpl"))
    # a device outside the group cannot subscribe to the program: it answers as a missing resource
    reply = await outsider.post(f"/edev/{id3}/sub", subscription(f"/dr/{program_id}/edc", url("/outside/edc")))
    assert reply.status == 400 and "subscribedResource" in reply.text
    # it listens to its own program, which none of this touches
    await subscribe(outsider, id3, f"/dr/{other_program}/edc", url("/outside/own"))
    await subscribe(outsider, id3, f"/dr/{other_program}/actedc", url("/outside/act"))

    # a new critical-peak event: the control list and the group's program list (its link's all) change
    peak = await critical_peak(env, program_id, start=T0 + 3600)
    note = await heard(env, "/edc", lambda n: True)
    assert note.status == 0 and note.subscribedResource == f"/dr/{program_id}/edc"
    assert statuses(note) == {peak["mrid"]: SCHEDULED}
    (control,) = note.Resource.EndDeviceControl
    assert control.href == peak["href"] and control.Offset.coolingOffset == 11 and control.subscribable == 1
    note = await heard(env, "/drpl", lambda n: True)
    assert isinstance(note.Resource, DemandResponseProgramList)
    (listed,) = note.Resource.DemandResponseProgram
    assert listed.EndDeviceControlListLink.all == 1 and listed.ActiveEndDeviceControlListLink.all == 0
    await subscribe(one, id1, peak["href"], url("/peak"), limit=1)

    # a second event, rescheduled (cancelled and issued again in one transaction), then cancelled
    later = await critical_peak(env, program_id, start=T0 + 86_400)
    await heard(env, "/edc", lambda n: later["mrid"] in statuses(n))
    status, moved = await env.admin.post(
        f"/dr-events/{later['id']}/reschedule", {"start": T0 + 90_000, "duration": 3600}
    )
    assert status == 201, moved
    new_mrid = moved["event"]["mrid"]
    note = await heard(env, "/edc", lambda n: new_mrid in statuses(n))
    assert statuses(note) == {peak["mrid"]: SCHEDULED, later["mrid"]: CANCELLED, new_mrid: SCHEDULED}
    status, _ = await env.admin.post(f"/dr-events/{moved['event']['id']}/cancel", {})
    assert status == 200
    note = await heard(env, "/edc", lambda n: statuses(n).get(new_mrid) == CANCELLED)
    assert statuses(note)[peak["mrid"]] == SCHEDULED
    assert env.listener.attempts.count("/act") == 0  # nothing was active yet: the active list never changed

    # the event starts on the server's clock: its status, the active list and the program's link change
    env.advance(T0 + 3600)
    note = await heard(env, "/act", lambda n: True)
    assert [c.mRID for c in note.Resource.EndDeviceControl] == [peak["mrid"]]
    assert note.Resource.EndDeviceControl[0].EventStatus.currentStatus == ACTIVE
    got = (await one.get(f"/dr/{program_id}/actedc?l=10")).parse(EndDeviceControlList)
    assert encode(got) == encode(note.Resource)  # what GET gives that device
    note = await heard(env, "/peak", lambda n: True)
    assert isinstance(note.Resource, EndDeviceControl) and note.Resource.EventStatus.currentStatus == ACTIVE
    await heard(env, "/edc", lambda n: statuses(n)[peak["mrid"]] == ACTIVE)
    await heard(env, "/drpl", lambda n: n.Resource.DemandResponseProgram[0].ActiveEndDeviceControlListLink.all == 1)

    # ... and ends: the active list is empty again
    env.advance(T0 + 3600 + 4 * 3600)
    note = await heard(env, "/act", lambda n: True)
    assert note.Resource.all == 0 and note.Resource.EndDeviceControl == []
    await heard(env, "/drpl", lambda n: n.Resource.DemandResponseProgram[0].ActiveEndDeviceControlListLink.all == 0)

    # the device outside the group heard nothing of it
    await eventually(lambda: settled(env))
    assert not any(path.startswith("/outside") for path in env.listener.attempts)
    status, subs = await env.admin.get(f"/devices/{id3}/subscriptions")
    assert status == 200 and subs["total"] == 2
    assert sum(sum(s["notifications"].values()) for s in subs["items"]) == 0


async def test_group_changes_reach_dr_subscribers_and_a_leaving_device_loses_sight(env: Env):
    one, two = env.device("dev1"), env.device("dev2")
    id1 = await register(env.admin.client, one, device_category=THERMOSTAT)
    id2 = await register(env.admin.client, two, device_category=THERMOSTAT)
    group_id, program_id = await dr_program_for(env, "cpp-feeder-3", id1, id2)
    url = env.listener.url
    edc1 = await subscribe(one, id1, f"/dr/{program_id}/edc", url("/one/edc"))
    await subscribe(one, id1, f"/edev/{id1}/fsa/{group_id}/dr", url("/one/drpl"))
    await subscribe(two, id2, f"/dr/{program_id}/edc", url("/two/edc"))
    await subscribe(two, id2, f"/edev/{id2}/fsa/{group_id}/dr", url("/two/drpl"))

    # a program added to the group: both members' DemandResponseProgramLists grow
    status, added = await env.admin.post("/dr-programs", {"group_id": group_id, "primacy": 20})
    assert status == 201, added
    for who in ("/one/drpl", "/two/drpl"):
        note = await heard(env, who, lambda n: n.Resource.all == 2)
        assert [p.mRID for p in note.Resource.DemandResponseProgram][1] == added["mrid"]  # by primacy

    # dev1 leaves the group: its subscriptions to the group's resources end with status 4
    status, _ = await env.admin.put(f"/groups/{group_id}/members", {"device_ids": [id2]})
    assert status in (200, 204)
    for path in ("/one/edc", "/one/drpl"):
        note = await heard(env, path, lambda n: n.status == 4)
        assert note.Resource is None
    assert (await one.get(edc1)).status == 404
    assert (await one.get(f"/dr/{program_id}/edc")).status == 404
    assert (await one.get(f"/edev/{id1}/sub")).parse(SubscriptionList).all == 0
    heard_by_one = [p for p in env.listener.attempts if p.startswith("/one")]
    # an event issued afterwards reaches the member that stayed, and not the one that left
    peak = await critical_peak(env, program_id, start=T0 + 3600)
    note = await heard(env, "/two/edc", lambda n: True)
    assert statuses(note) == {peak["mrid"]: SCHEDULED}

    # the added program is deleted: the remaining member's list shrinks
    status, _ = await env.admin.delete(f"/dr-programs/{added['id']}")
    assert status == 204
    await heard(env, "/two/drpl", lambda n: n.status == 0 and n.Resource.all == 1)
    # the program of the event is deleted: its control list is gone (status 4)
    status, _ = await env.admin.delete(f"/dr-programs/{program_id}")
    assert status == 204
    note = await heard(env, "/two/edc", lambda n: n.status == 4)
    assert note.subscribedResource == f"/dr/{program_id}/edc"
    await heard(env, "/two/drpl", lambda n: n.status == 0 and n.Resource.all == 0)

    # a LoadShedAvailability the device reports changes its EndDevice (LoadShedAvailabilityListLink all)
    await subscribe(two, id2, f"/edev/{id2}", url("/two/edev"), limit=1)
    reply = await two.post(f"/edev/{id2}/lsl", LoadShedAvailability(availabilityDuration=7200, sheddablePercent=4000))
    assert reply.status == 201, reply.text
    # (the subscription itself changed the EndDevice too: that notification may come first)
    note = await heard(
        env,
        "/two/edev",
        lambda n: isinstance(n.Resource, EndDevice) and n.Resource.LoadShedAvailabilityListLink.all == 1,
    )
    assert note.Resource.LoadShedAvailabilityListLink.href == f"/edev/{id2}/lsl"

    # the device is deleted: its subscription below its EndDevice ends with status 4
    status, _ = await env.admin.delete(f"/devices/{id2}")
    assert status == 204
    note = await heard(env, "/two/drpl", lambda n: n.status != 0)
    assert note.status == 4
    await eventually(lambda: settled(env))
    assert [p for p in env.listener.attempts if p.startswith("/one")] == heard_by_one  # nothing after it left


async def test_event_boundaries_passed_while_the_server_was_down_are_notified_at_start_up(env: Env):
    one = env.device("dev1")
    id1 = await register(env.admin.client, one, device_category=THERMOSTAT)
    _, program_id = await dr_program_for(env, "cpp-feeder-5", id1)
    await subscribe(one, id1, f"/dr/{program_id}/actedc", env.listener.url("/act"))
    peak = await critical_peak(env, program_id, start=T0 + 600, duration=3600)
    await env.server.stop()
    env.clock.set(T0 + 600)  # the event started while no server ran
    restarted = await env.make_server(clock=env.clock, **NOTIFY_SETTINGS)
    assert restarted.context.notify is not None
    note = await env.listener.next("/act")
    assert [c.mRID for c in note.Resource.EndDeviceControl] == [peak["mrid"]]
    # its watermark was kept with the notification: moving past the end notifies the end, once
    restarted.context.notify.kick()
    env.clock.set(T0 + 600 + 3600)
    restarted.context.notify.kick()
    note = await env.listener.next("/act")
    assert note.Resource.all == 0
