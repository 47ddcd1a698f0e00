"""Demand Response and Load Control end to end (IEEE 2030.5-2018 clause 10.3): the operator states an event
once in the admin API; thermostats of the group find it from their FunctionSetAssignments over mutual TLS,
its EventStatus follows its life as the controlled clock moves, the devices answer with DrResponses and the
operator reads the tally, the opt-outs and the devices that stayed silent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from helpers import register
from sep_client import AdminClient, SepClient
from test_openapi import DocumentedAdmin

from gridhan.schemas.clock import ManualClock
from gridhan.schemas.sep2 import (
    ActivePower,
    DemandResponseProgram,
    DemandResponseProgramList,
    DrResponse,
    EndDevice,
    EndDeviceControl,
    EndDeviceControlList,
    FunctionSetAssignmentsList,
    Link,
    LoadShedAvailability,
    LoadShedAvailabilityList,
)

ZONE = "America/Los_Angeles"
LA = ZoneInfo(ZONE)


def local(text: str) -> int:
    """Seconds of a wall-clock time in Los Angeles (``2027-07-14 09:00``)."""
    return int(datetime.fromisoformat(text).replace(tzinfo=LA).timestamp())


T0 = local("2027-07-14 09:00")  # the day before the critical-peak day, before the 15:00 deadline
PEAK_START, PEAK_END = local("2027-07-15 14:00"), local("2027-07-15 18:00")
THERMOSTAT, WATER_HEATER = "01", "08"  # DeviceCategoryType bits 0 and 3


@dataclass
class Env:
    clock: ManualClock
    admin: DocumentedAdmin
    device: Callable[[str], SepClient]


@pytest.fixture
async def env(make_server, pki, optional_sep_schemas) -> AsyncIterator[Env]:
    clock = ManualClock(T0)
    server = await make_server(clock=clock, timezone=ZONE)
    raw = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    clients: list[SepClient] = []

    def device(name: str) -> SepClient:
        client = SepClient(server.sep2_url, pki, name, optional_sep_schemas)
        clients.append(client)
        return client

    yield Env(clock, DocumentedAdmin(raw), device)
    for client in clients:
        await client.close()
    await raw.close()


async def make_group(env: Env, members: list[tuple[SepClient, str]]) -> tuple[int, list[int]]:
    ids = [await register(env.admin.client, c, device_category=category) for c, category in members]
    status, group = await env.admin.post("/groups", {"name": "cpp-residential"})
    assert status == 201, group
    status, _ = await env.admin.put(f"/groups/{group['id']}/members", {"device_ids": ids})
    assert status == 200
    return group["id"], ids


def critical_peak(group_id: int, **change: object) -> dict[str, object]:
    """A voluntary critical-peak event, tomorrow 14:00-18:00, 2 °F (1.1 °C) cooling offset, for thermostats
    (``duration`` in ``change`` replaces the end)."""
    body = {
        "group_id": group_id,
        "start": "2027-07-15T14:00:00-07:00",
        "end": "2027-07-15T18:00:00-07:00",
        "device_category": THERMOSTAT,
        "mandatory": False,
        "override_duration": 1800,
        "response_required": "03",
        "description": "critical peak",
        "controls": {"Offset": {"coolingOffset": 11}},
        **change,
    }
    if "duration" in change and "end" not in change:
        del body["end"]
    return body


async def find_program(dev: SepClient, device_id: int) -> DemandResponseProgram:
    """The discovery walk: EndDevice -> FunctionSetAssignments -> DemandResponseProgramList -> program."""
    edev = (await dev.get(f"/edev/{device_id}")).parse(EndDevice)
    fsal = (await dev.get(edev.FunctionSetAssignmentsListLink.href + "?l=10")).parse(FunctionSetAssignmentsList)
    (fsa,) = fsal.FunctionSetAssignments
    assert fsa.DemandResponseProgramListLink.all == 1
    programs = (await dev.get(fsa.DemandResponseProgramListLink.href + "?l=10")).parse(DemandResponseProgramList)
    (program,) = programs.DemandResponseProgram
    return (await dev.get(program.href)).parse(DemandResponseProgram)


async def controls(dev: SepClient, program: DemandResponseProgram, which: str = "EndDeviceControlListLink"):
    return (await dev.get(getattr(program, which).href + "?l=50")).parse(EndDeviceControlList).EndDeviceControl


def respond(dev: SepClient, control: EndDeviceControl, status: int, when: int, **extra: object) -> DrResponse:
    return DrResponse(endDeviceLFDI=dev.lfdi, subject=control.mRID, status=status, createdDateTime=when, **extra)


async def test_critical_peak_event_through_its_life(env: Env):
    one, two, silent, heater = env.device("dev1"), env.device("dev2"), env.device("dev3"), env.device("unreg1")
    group_id, (id1, id2, id3, heater_id) = await make_group(
        env, [(one, THERMOSTAT), (two, THERMOSTAT), (silent, THERMOSTAT), (heater, WATER_HEATER)]
    )
    status, made = await env.admin.post("/dr-events", critical_peak(group_id))
    assert status == 201, made
    assert (made["start"], made["end"]) == (PEAK_START, PEAK_END)
    assert made["status"]["name"] == "scheduled" and made["warnings"] == []
    assert made["controls"] == {"Offset": {"coolingOffset": 11}} and made["reply_to"] == "/rsps/2/rsp"
    assert made["responses"]["event"]["targeted"] == 3  # the thermostats; the water heater ignores it
    assert made["responses"]["never_responded"] == [id1, id2, id3]

    program = await find_program(one, id1)
    assert program.EndDeviceControlListLink.all == 1 and program.ActiveEndDeviceControlListLink.all == 0
    (control,) = await controls(one, program)
    assert control.mRID == made["mrid"] and control.Offset.coolingOffset == 11
    assert (control.interval.start, control.interval.duration) == (PEAK_START, 4 * 3600)
    assert control.deviceCategory == THERMOSTAT and control.drProgramMandatory is False
    assert control.overrideDuration == 1800 and control.loadShiftForward is False
    assert control.EventStatus.currentStatus == 0
    assert control.replyTo == "/rsps/2/rsp" and control.responseRequired == "03"
    assert await controls(one, program, "ActiveEndDeviceControlListLink") == []
    assert (await one.get(control.href)).parse(EndDeviceControl).mRID == control.mRID

    # the thermostats acknowledge; dev2's user opts out of the voluntary event; dev3 never answers
    for dev, status_code in ((one, 1), (two, 1), (two, 4)):
        reply = await dev.post(control.replyTo, respond(dev, control, status_code, T0 + 60))
        assert reply.status == 201, reply.text
    # the water heater is not addressed: its Response is refused like one about an unknown event
    reply = await heater.post(control.replyTo, respond(heater, control, 1, T0 + 60))
    assert reply.status == 400 and "subject" in reply.text

    env.clock.set(PEAK_START + 10)
    (active,) = await controls(one, program, "ActiveEndDeviceControlListLink")
    assert active.mRID == made["mrid"] and active.EventStatus.currentStatus == 1
    assert active.EventStatus.dateTime == PEAK_START
    reply = await one.post(control.replyTo, respond(one, control, 2, PEAK_START + 5))
    assert reply.status == 201
    # dev1's user overrides for 15 minutes: a partial opt-out with the override's duration
    env.clock.set(PEAK_END + 60)
    reply = await one.post(control.replyTo, respond(one, control, 8, PEAK_END, overrideDuration=900))
    assert reply.status == 201
    # completed: 2018 has no "completed" EventStatus; the event stays Active on the wire and leaves the active list
    assert await controls(one, program, "ActiveEndDeviceControlListLink") == []
    assert (await one.get(control.href)).parse(EndDeviceControl).EventStatus.currentStatus == 1

    status, view = await env.admin.get(f"/dr-events/{made['id']}")
    assert status == 200
    assert view["responses"]["tally"] == {"4": 1, "8": 1}
    assert view["response_counts"]["opted_out"] == 1 and view["response_counts"]["partial_opt_out"] == 1
    assert view["responses"]["never_responded"] == [id3]
    assert view["overrides"] == [{"device_id": id1, "status": 8, "override_duration": 900}]
    by_device = {d["device_id"]: d["statuses"] for d in view["responses"]["devices"]}
    assert by_device == {id1: [1, 2, 8], id2: [1, 4]}
    # the same object the Response function set's admin view gives
    status, same = await env.admin.get(f"/responses?subject={made['mrid']}")
    assert status == 200 and same == view["responses"]
    assert heater_id not in view["responses"]["never_responded"]


async def test_cancel_and_reschedule(env: Env):
    one = env.device("dev1")
    group_id, (id1,) = await make_group(env, [(one, THERMOSTAT)])
    status, made = await env.admin.post("/dr-events", critical_peak(group_id, randomize_start=300))
    assert status == 201, made
    env.clock.advance(600)
    status, moved = await env.admin.post(
        f"/dr-events/{made['id']}/reschedule", {"start": PEAK_START + 3600, "duration": 7200}
    )
    assert status == 201, moved
    old, new = moved["cancelled"], moved["event"]
    assert old["status"]["name"] == "cancelled" and old["cancelled_time"] == T0 + 600
    assert new["status"]["name"] == "scheduled" and (new["start"], new["duration"]) == (PEAK_START + 3600, 7200)
    assert new["controls"] == made["controls"] and new["randomize_start"] == 300 and new["mrid"] != made["mrid"]
    program = await find_program(one, id1)
    seen = {c.mRID: c for c in await controls(one, program)}
    assert seen[made["mrid"]].EventStatus.currentStatus == 2 and seen[made["mrid"]].EventStatus.dateTime == T0 + 600
    assert seen[made["mrid"]].interval.start == PEAK_START  # never edited (10.2.3 rule c)
    assert seen[new["mrid"]].EventStatus.currentStatus == 0
    # a cancelled event cannot be rescheduled again: nothing is written
    status, body = await env.admin.post(f"/dr-events/{made['id']}/reschedule", {"start": PEAK_START, "duration": 60})
    assert status == 409 and "cancelled" in body["error"]
    assert (await env.admin.get("/dr-events"))[1]["total"] == 2
    # cancelled with randomization: status 3, the device ends it within its randomization bound
    env.clock.set(PEAK_START + 3700)
    status, cancelled = await env.admin.post(f"/dr-events/{new['id']}/cancel", {"randomized": True})
    assert status == 200 and cancelled["status"]["name"] == "cancelled_with_randomization"
    got = (await one.get(new["href"])).parse(EndDeviceControl)
    assert got.EventStatus.currentStatus == 3 and got.EventStatus.dateTime == PEAK_START + 3700
    assert await controls(one, program, "ActiveEndDeviceControlListLink") == []


async def test_newer_event_supersedes_only_the_categories_it_shares(env: Env):
    thermostat, heater = env.device("dev1"), env.device("dev2")
    group_id, (_, h_id) = await make_group(env, [(thermostat, THERMOSTAT), (heater, WATER_HEATER)])
    both = critical_peak(group_id, device_category="09", controls={"DutyCycle": {"normalValue": 50}})
    status, wide = await env.admin.post("/dr-events", both)
    assert status == 201, wide
    assert wide["responses"]["event"]["targeted"] == 2
    env.clock.advance(60)
    status, deeper = await env.admin.post(
        "/dr-events", critical_peak(group_id, start=PEAK_START + 3600, duration=3600, device_category=THERMOSTAT)
    )
    assert status == 201, deeper
    env.clock.set(PEAK_START + 3600)
    status, view = await env.admin.get(f"/dr-events/{wide['id']}")
    assert view["status"]["name"] == "active" and view["status"]["potentially_superseded"] is True
    assert view["superseded_by"] == [deeper["mrid"]]
    # the water-heater part stays in force; a newer event for water heaters takes the rest
    env.clock.advance(60)
    status, heater_event = await env.admin.post(
        "/dr-events",
        critical_peak(group_id, start=PEAK_START + 3660, duration=600, device_category=WATER_HEATER,
                      controls={"ApplianceLoadReduction": {"type": 1}}),
    )  # fmt: skip
    assert status == 201, heater_event
    assert heater_event["responses"]["event"]["targeted"] == 1
    env.clock.advance(10)
    program = await find_program(heater, h_id)
    seen = {c.mRID: c for c in await controls(heater, program)}
    assert seen[wide["mrid"]].EventStatus.currentStatus == 4
    assert seen[deeper["mrid"]].EventStatus.currentStatus == 1
    assert seen[heater_event["mrid"]].ApplianceLoadReduction.type == 1
    active = [c.mRID for c in await controls(thermostat, program, "ActiveEndDeviceControlListLink")]
    assert wide["mrid"] not in active and deeper["mrid"] in active


async def test_notice_warnings_follow_the_utility_time_zone(env: Env):
    dev = env.device("dev1")
    group_id, _ = await make_group(env, [(dev, THERMOSTAT)])
    env.clock.set(local("2027-07-14 14:30"))  # 21:30 UTC: before 15:00 in Los Angeles, after it in UTC
    status, early = await env.admin.post("/dr-events", critical_peak(group_id))
    assert status == 201 and early["warnings"] == []
    env.clock.set(local("2027-07-14 15:00"))  # "by 15:00": on the dot is still in time
    status, on_time = await env.admin.post("/dr-events", critical_peak(group_id, description="on time"))
    assert status == 201 and on_time["warnings"] == []
    env.clock.set(local("2027-07-14 15:20"))
    status, late = await env.admin.post("/dr-events", critical_peak(group_id, description="late"))
    assert status == 201
    assert [w["code"] for w in late["warnings"]] == ["day_ahead_after_15"]
    assert "15:20 America/Los_Angeles" in late["warnings"][0]["message"]
    status, _ = await env.admin.patch("/settings", {"timezone": "UTC"})
    assert status == 200
    status, early_in_utc = await env.admin.get(f"/dr-events/{early['id']}")
    assert [w["code"] for w in early_in_utc["warnings"]] == ["day_ahead_after_15"]
    status, _ = await env.admin.patch("/settings", {"timezone": ZONE})
    # a day-of event published after 10:00 is late unless it is a real-time event
    env.clock.set(local("2027-07-15 11:00"))
    status, day_of = await env.admin.post("/dr-events", critical_peak(group_id, description="day of"))
    assert status == 201 and [w["code"] for w in day_of["warnings"]] == ["day_of_after_10"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"group_id": 999}, "group_id: no group with id 999"),
        ({"end": "2027-07-15T13:00:00-07:00"}, "end: "),
        ({"controls": {"Offset": {"coolingOffset": 300}}}, "controls/Offset/coolingOffset"),
        ({"controls": {"Offset": {"coolingOffsetF": 2}}}, "Offset has no member 'coolingOffsetF'"),
        ({"controls": {"Thermostat": {"coolingOffset": 2}}}, "EndDeviceControl has no control member 'Thermostat'"),
        ({"controls": {}}, "controls nothing"),
        ({"controls": {"DutyCycle": {"normalValue": 150}}}, "DutyCycle/normalValue: 150 is out of range"),
        ({"device_category": "00"}, "addresses no device category"),
        ({"device_category": "80000000"}, "bit 31 is reserved"),
        ({"start": "tomorrow"}, "is not an ISO 8601 date-time"),
        ({"duration": 3600, "end": PEAK_END}, "give exactly one of end and duration"),
        ({"randomize_start": 4000}, "randomize_start: 4000 is out of range"),
        ({"colour": "red"}, "colour: unknown field"),
    ],
)
async def test_bad_event_requests_store_nothing(env: Env, change, message):
    dev = env.device("dev1")
    group_id, _ = await make_group(env, [(dev, THERMOSTAT)])
    status, reply = await env.admin.post("/dr-events", {**critical_peak(group_id), **change})
    assert status == 400 and message in reply["error"], reply
    assert (await env.admin.get("/dr-events"))[1]["total"] == 0
    assert (await env.admin.get("/dr-programs"))[1]["total"] == 0  # no program was made for the group either


async def test_event_entirely_in_the_past_is_refused(env: Env):
    dev = env.device("dev1")
    group_id, _ = await make_group(env, [(dev, THERMOSTAT)])
    body = critical_peak(group_id, start=T0 - 7200, end=T0 - 3600)
    status, reply = await env.admin.post("/dr-events", body)
    assert status == 400 and "end before it is created" in reply["error"]
    assert (await env.admin.post("/dr-events/12345/cancel", {}))[0] == 404
    assert (await env.admin.get("/dr-events/abc"))[0] == 404


async def test_load_shed_availability_is_the_devices_own(env: Env):
    one, two, outsider = env.device("dev1"), env.device("dev2"), env.device("dev3")
    group_id, (id1, id2) = await make_group(env, [(one, THERMOSTAT), (two, THERMOSTAT)])
    other_id = await register(env.admin.client, outsider)
    status, other_group = await env.admin.post("/groups", {"name": "elsewhere"})
    await env.admin.put(f"/groups/{other_group['id']}/members", {"device_ids": [other_id]})
    status, program = await env.admin.post(
        "/dr-programs",
        {"group_id": group_id, "primacy": 1, "availability_update_percent_change_threshold": 500,
         "availability_update_power_change_threshold": {"multiplier": 2, "value": 5}},
    )  # fmt: skip
    assert status == 201, program
    status, foreign = await env.admin.post("/dr-programs", {"group_id": other_group["id"], "primacy": 1})
    assert status == 201
    found = await find_program(one, id1)
    assert found.availabilityUpdatePercentChangeThreshold == 500
    assert found.availabilityUpdatePowerChangeThreshold == ActivePower(multiplier=2, value=5)

    edev = (await one.get(f"/edev/{id1}")).parse(EndDevice)
    assert edev.LoadShedAvailabilityListLink.href == f"/edev/{id1}/lsl" and edev.LoadShedAvailabilityListLink.all == 0
    report = LoadShedAvailability(
        availabilityDuration=7200,
        DemandResponseProgramLink=Link(href=found.href),
        sheddablePercent=4000,
        sheddablePower=ActivePower(multiplier=0, value=1500),
    )
    reply = await one.post(edev.LoadShedAvailabilityListLink.href, report)
    assert reply.status == 201, reply.text
    location = reply.headers["Location"]
    report.sheddablePercent = 3000
    assert (await one.put(location, report)).status == 204
    listed = (await one.get(f"/edev/{id1}/lsl?l=5")).parse(LoadShedAvailabilityList)
    assert listed.all == 1 and listed.LoadShedAvailability[0].sheddablePercent == 3000
    assert listed.LoadShedAvailability[0].DemandResponseProgramLink.href == found.href
    assert (await one.get(f"/edev/{id1}")).parse(EndDevice).LoadShedAvailabilityListLink.all == 1
    status, reports = await env.admin.get(f"/dr-programs/{program['id']}/load-shed-availability")
    assert status == 200 and [r["device_id"] for r in reports["items"]] == [id1]
    assert reports["items"][0]["availability"]["sheddablePercent"] == 3000

    # another device's LoadShedAvailability is answered as missing, and takes nothing
    assert (await two.get(f"/edev/{id1}/lsl")).status == 404
    assert (await two.get(location)).status == 404
    assert (await two.post(f"/edev/{id1}/lsl", report)).status == 404
    assert (await two.put(location, report)).status == 404
    # a program of another group is not this device's to report on
    report.DemandResponseProgramLink = Link(href=f"/dr/{foreign['id']}")
    reply = await one.post(f"/edev/{id1}/lsl", report)
    assert reply.status == 400 and "DemandResponseProgramLink" in reply.text
    malformed = b'<LoadShedAvailability xmlns="urn:ieee:std:2030.5:ns"><sheddablePercent>20000</sheddablePercent>'
    malformed += b"</LoadShedAvailability>"
    reply = await one.post(f"/edev/{id1}/lsl", malformed)
    assert reply.status == 400 and "sheddablePercent" in reply.text
    assert (await one.get(f"/edev/{id1}/lsl?l=5")).parse(LoadShedAvailabilityList).all == 1
    assert (await two.get(f"/edev/{id2}/lsl")).parse(LoadShedAvailabilityList).all == 0


async def test_programs_crud_and_scope(env: Env):
    one, outsider = env.device("dev1"), env.device("dev2")
    group_id, _ = await make_group(env, [(one, THERMOSTAT)])
    await register(env.admin.client, outsider)
    status, program = await env.admin.post("/dr-programs", {"group_id": group_id, "primacy": 2})
    assert status == 201
    status, patched = await env.admin.patch(f"/dr-programs/{program['id']}", {"primacy": 1, "description": "cpp"})
    assert status == 200 and patched["primacy"] == 1 and patched["version"] == 1
    body = critical_peak(group_id)
    del body["group_id"]
    status, made = await env.admin.post("/dr-events", {**body, "program_id": program["id"]})
    assert status == 201, made
    assert (await outsider.get(program["href"])).status == 404
    assert (await outsider.get(made["href"])).status == 404
    assert (await env.admin.post("/dr-programs", {"group_id": 999, "primacy": 1}))[0] == 400
    assert (await env.admin.delete(f"/dr-programs/{program['id']}"))[0] == 204
    assert (await env.admin.get(f"/dr-events/{made['id']}"))[0] == 404
    assert (await one.get(made["href"])).status == 404
