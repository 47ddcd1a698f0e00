"""Demand response programs and events for the utility (IEEE 2030.5-2018 clause 10.3, DRLC).

* ``POST/GET /api/v1/dr-programs``; ``GET/PATCH/DELETE /api/v1/dr-programs/{id}``;
  ``GET /api/v1/dr-programs/{id}/load-shed-availability`` (what the program's devices reported).
* ``POST/GET /api/v1/dr-events``; ``GET /api/v1/dr-events/{id}``; ``POST .../{id}/cancel``;
  ``POST .../{id}/reschedule``.

One request states an event: "a voluntary critical-peak event for group X tomorrow 14:00-18:00 with a 2 °F
cooling offset" is ``{"group_id": X, "start": "...T14:00:00-07:00", "end": "...T18:00:00-07:00",
"device_category": "01", "mandatory": false, "controls": {"Offset": {"coolingOffset": 11}}}`` (Offset is in
tenths of a degree Celsius: 2 °F = 1.1 °C). The event goes into the program named, or into the group's
program of lowest primacy (made on the way when the group has none). Control structures travel with the
standard's member names and are checked as strictly as the XML would be.

A served event is never edited (clause 10.2.3 rule c): cancelling sets EventStatus Cancelled (2) or, with
``randomized``, Cancelled with Randomization (3); rescheduling cancels the event and issues a new one in one
transaction, and answers with both.

The event view carries its EventStatus now, the events that superseded it, the notice warnings of use case
UC96 (day-ahead events published by 15:00 the day before, day-of events by 10:00, judged in the utility's
time zone: the run-time setting ``timezone`` the Time resource reports), and the devices' Responses: the
same object ``GET /api/v1/responses?subject=`` gives (tally by latest status, responding devices, targeted
devices that never responded), with named counts (opted out, partial opt-out, ...) and the overrides devices
reported in DrResponse.overrideDuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from gridhan.schemas.dictcodec import from_dict, to_dict
from gridhan.schemas.event_rules import category_bits, supersessions
from gridhan.schemas.sep2 import ActivePower, DrResponse, LoadShedAvailability
from gridhan.schemas.xmlcodec import XmlDecodeError, decode, encode
from gridhan.server.admin.der import status_json
from gridhan.server.admin.responses import event_responses
from gridhan.server.admin.serialize import API
from gridhan.server.admin.validation import (
    Member,
    bad_request,
    boolean,
    date_time,
    hex_string,
    identifier,
    integer,
    not_found,
    page_params,
    path_id,
    query_int,
    read_json_object,
    read_members,
    string,
)
from gridhan.server.context import CONTEXT, AppContext
from gridhan.server.mrid import new_mrid
from gridhan.server.sep2.drlc import (
    CONTROL_MEMBERS,
    control_href,
    control_parts,
    event_spec,
    program_href,
    statuses,
)
from gridhan.server.sep2.response import DRLC_REPLY_TO
from gridhan.server.store import drlc as dr_store
from gridhan.server.store import responses as response_store
from gridhan.server.store.repo import Conflict
from gridhan.server.store.tables import DrControlRow, DrProgramRow

#: Primacy of the program made for a group that had none.
DEFAULT_PRIMACY = 10
ONE_HOUR = 3600
#: Bits 0..25 of DeviceCategoryType are defined (thermostat .. other storage system); the rest are reserved.
DEFINED_CATEGORY_BITS = 26
#: Use case UC96: day-ahead events are published by 15:00 the day before, day-of events by 10:00 (local time).
DAY_AHEAD_DEADLINE = time(15, 0)
DAY_OF_DEADLINE = time(10, 0)
#: Names of the Response statuses (Table 27) a DR event's tally counts.
STATUS_NAMES: Mapping[int, str] = MappingProxyType(
    {
        1: "received",
        2: "started",
        3: "completed",
        4: "opted_out",
        5: "opted_in",
        6: "cancelled",
        7: "superseded",
        8: "partial_opt_out",
        9: "partial_opt_in",
        10: "no_participation",
        11: "acknowledged",
        12: "cannot_be_displayed",
        13: "aborted_server_event",
        14: "aborted_program_event",
        252: "rejected_not_applicable",
        253: "rejected_invalid",
        254: "rejected_expired",
    }
)


# -- member parsers ---------------------------------------------------------------------------------


def _device_category(name: str, value: Any) -> str:
    """A DeviceCategoryType: hexadecimal, at least one defined category bit, no reserved bit."""
    text = hex_string(8)(name, value)
    bits = category_bits(text)
    if not bits:
        raise bad_request(f"{name}: {value!r} addresses no device category (set at least one bit)")
    reserved = sorted(b for b in bits if b >= DEFINED_CATEGORY_BITS)
    if reserved:
        raise bad_request(f"{name}: bit {reserved[0]} is reserved (DeviceCategoryType defines bits 0..25)")
    return text


def _active_power(name: str, value: Any) -> bytes:
    try:
        return encode(from_dict(ActivePower, value, name))
    except XmlDecodeError as exc:
        raise bad_request(str(exc)) from None


def _controls(name: str, value: Any) -> dict[str, Any]:
    """The EndDeviceControl's control structures, by element name, each read strictly."""
    if not isinstance(value, dict):
        raise bad_request(f"{name}: must be an object of control structures ({', '.join(CONTROL_MEMBERS)})")
    unknown = sorted(set(value) - set(CONTROL_MEMBERS))
    if unknown:
        raise bad_request(
            f"{name}/{unknown[0]}: EndDeviceControl has no control member {unknown[0]!r} "
            f"(allowed: {', '.join(CONTROL_MEMBERS)})"
        )
    if not value:
        raise bad_request(f"{name}: an EndDeviceControl without a control structure controls nothing")
    parts: dict[str, Any] = {}
    for member, data in value.items():
        cls = CONTROL_MEMBERS[member][0]
        try:
            parts[member] = from_dict(cls, data, f"{name}/{member}")
        except XmlDecodeError as exc:
            raise bad_request(str(exc)) from None
    _check_control_values(name, parts)
    return parts


def _check_control_values(name: str, parts: dict[str, Any]) -> None:
    """Rules the schema's types do not carry (sep.xsd annotations of DutyCycle, SetPoint, Offset)."""
    duty = parts.get("DutyCycle")
    if duty is not None and duty.normalValue > 100:
        raise bad_request(f"{name}/DutyCycle/normalValue: {duty.normalValue} is out of range (a percentage, 0..100)")
    point = parts.get("SetPoint")
    if point is not None:
        if point.coolingSetpoint is None and point.heatingSetpoint is None:
            raise bad_request(f"{name}/SetPoint: give coolingSetpoint or heatingSetpoint")
        for member in ("coolingSetpoint", "heatingSetpoint"):
            value = getattr(point, member)
            if value is not None and value < -27315:
                raise bad_request(f"{name}/SetPoint/{member}: {value} is below absolute zero (-27315, 0.01 °C)")
    offset = parts.get("Offset")
    if offset is not None and all(
        getattr(offset, m) is None for m in ("coolingOffset", "heatingOffset", "loadAdjustmentPercentageOffset")
    ):
        raise bad_request(f"{name}/Offset: give coolingOffset, heatingOffset or loadAdjustmentPercentageOffset")


PROGRAM_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "group_id": Member(identifier),
        "primacy": Member(integer(0, 255)),
        "description": Member(string(32), nullable=True),
        "availability_update_percent_change_threshold": Member(integer(0, 10_000), nullable=True),
        "availability_update_power_change_threshold": Member(_active_power, nullable=True),
    }
)
PROGRAM_PATCH: Mapping[str, Member] = MappingProxyType(
    {name: member for name, member in PROGRAM_MEMBERS.items() if name != "group_id"}
)
EVENT_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "program_id": Member(identifier),
        "group_id": Member(identifier),
        "primacy": Member(integer(0, 255)),
        "start": Member(date_time),
        "end": Member(date_time),
        "duration": Member(integer(1, 2**32 - 1)),
        "device_category": Member(_device_category),
        "mandatory": Member(boolean),
        "load_shift_forward": Member(boolean),
        "override_duration": Member(integer(0, 65535), nullable=True),
        "randomize_start": Member(integer(-ONE_HOUR, ONE_HOUR), nullable=True),
        "randomize_duration": Member(integer(-ONE_HOUR, ONE_HOUR), nullable=True),
        "description": Member(string(32), nullable=True),
        "response_required": Member(hex_string(2), nullable=True),
        "controls": Member(_controls),
    }
)
#: What a rescheduled event keeps of the one it replaces (besides its control structures).
COPIED_ON_RESCHEDULE = (
    "description",
    "randomize_start",
    "randomize_duration",
    "response_required",
    "device_category",
    "mandatory",
    "load_shift_forward",
    "override_duration",
)
CANCEL_MEMBERS: Mapping[str, Member] = MappingProxyType({"randomized": Member(boolean)})
RESCHEDULE_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {name: EVENT_MEMBERS[name] for name in ("start", "end", "duration")} | {"randomized": Member(boolean)}
)


def _interval(body: dict[str, Any]) -> tuple[int, int]:
    """(start, duration) from ``start`` and exactly one of ``end`` and ``duration``."""
    if ("end" in body) == ("duration" in body):
        raise bad_request("give exactly one of end and duration")
    start = body["start"]
    if "duration" in body:
        return start, body["duration"]
    if body["end"] <= start:
        raise bad_request(f"end: {body['end']} is not after start {start}")
    duration = body["end"] - start
    if duration > 2**32 - 1:
        raise bad_request(f"end: the event would last {duration} s, more than interval.duration (UInt32) holds")
    return start, duration


# -- notice rules of use case UC96 --------------------------------------------------------------------


def notice_warnings(creation: int, start: int, zone: ZoneInfo) -> list[dict[str, str]]:
    """UC96 (REQUIREMENTS: day-ahead events published by 15:00 the day before, day-of events by 10:00),
    judged in the utility's local time zone. An event starting on a later local day than its publication
    is a day-ahead event, late when published after 15:00:00 on the day before its start day; one
    starting on its publication day is a day-of event, late when published after 10:00:00 (a real-time
    event is exactly that, and is allowed: the warning only says so). Nothing is refused."""
    published = datetime.fromtimestamp(creation, zone)
    begins = datetime.fromtimestamp(start, zone)
    day_before = begins.date() - timedelta(days=1)
    if start <= creation:
        return []
    if published.date() == day_before and published.time() > DAY_AHEAD_DEADLINE:
        return [
            {
                "code": "day_ahead_after_15",
                "message": f"day-ahead event published at {published.strftime('%H:%M')} {zone.key} on "
                f"{published.date()}, after the 15:00 deadline the day before its start (UC96)",
            }
        ]
    if published.date() == begins.date() and published.time() > DAY_OF_DEADLINE:
        return [
            {
                "code": "day_of_after_10",
                "message": f"day-of event published at {published.strftime('%H:%M')} {zone.key}, after the "
                "10:00 deadline for day-of events (UC96); only a real-time event may be this late",
            }
        ]
    return []


# -- JSON shapes ------------------------------------------------------------------------------------


def program_json(row: DrProgramRow) -> dict[str, Any]:
    power = row.availability_power_threshold
    return {
        "id": row.id,
        "href": program_href(row.id),  # type: ignore[arg-type]
        "group_id": row.group_id,
        "mrid": row.mrid,
        "description": row.description,
        "primacy": row.primacy,
        "version": row.version,
        "created_time": row.created_time,
        "availability_update_percent_change_threshold": row.availability_percent_threshold,
        "availability_update_power_change_threshold": None
        if power is None
        else to_dict(decode(bytes(power), ActivePower)),
    }


async def _responses_view(ctx: AppContext, mrid: str) -> dict[str, Any]:
    """The event's Responses as ``GET /api/v1/responses?subject=`` gives them, with the devices counted by
    the name of their latest status and the overrides reported in DrResponse.overrideDuration."""
    found = await event_responses(ctx, mrid)
    counts = {name: 0 for name in STATUS_NAMES.values()}
    for status, count in (found["tally"] if found else {}).items():
        name = STATUS_NAMES.get(int(status))
        if name is not None:
            counts[name] += count
    overrides = []
    for row in await response_store.responses_about(ctx.store, mrid):
        if row.kind == DrResponse.XML_NAME:
            doc = decode(bytes(row.document), DrResponse)
            if doc.overrideDuration is not None:
                overrides.append({"device_id": row.device_id, "status": row.status,
                                  "override_duration": doc.overrideDuration})  # fmt: skip
    return {"responses": found, "response_counts": counts, "overrides": overrides}


async def _event_view(ctx: AppContext, row: DrControlRow) -> dict[str, Any]:
    program = await dr_store.program(ctx.store, row.program_id)
    assert program is not None
    rows = await dr_store.controls_of_program(ctx.store, program.id)  # type: ignore[arg-type]
    now = ctx.now()
    status = statuses(rows, program, now).get(row.mrid)
    specs = [event_spec(r, program) for r in rows]
    winners = sorted({s.winner for s in supersessions(specs) if s.loser == row.mrid})
    return {
        "id": row.id,
        "href": control_href(program.id, row.id),  # type: ignore[arg-type]
        "mrid": row.mrid,
        "program_id": program.id,
        "group_id": program.group_id,
        "primacy": program.primacy,
        "description": row.description,
        "creation_time": row.creation_time,
        "start": row.start,
        "end": row.start + row.duration,
        "duration": row.duration,
        "randomize_start": row.randomize_start,
        "randomize_duration": row.randomize_duration,
        "response_required": row.response_required,
        "reply_to": DRLC_REPLY_TO if row.response_required else None,
        "device_category": row.device_category,
        "device_category_bits": sorted(category_bits(row.device_category)),
        "mandatory": row.mandatory,
        "load_shift_forward": row.load_shift_forward,
        "override_duration": row.override_duration,
        "controls": {name: to_dict(part) for name, part in control_parts(row).items()},
        "cancelled_time": row.cancelled_time,
        "cancel_randomized": row.cancel_randomized,
        "status": status_json(status),
        "superseded_by": winners,
        "warnings": notice_warnings(row.creation_time, row.start, ctx.runtime.zone),
        **await _responses_view(ctx, row.mrid),
    }


# -- programs ---------------------------------------------------------------------------------------


def _program_fields(body: dict[str, Any]) -> dict[str, Any]:
    names = {
        "primacy": "primacy",
        "description": "description",
        "availability_update_percent_change_threshold": "availability_percent_threshold",
        "availability_update_power_change_threshold": "availability_power_threshold",
    }
    return {column: body[name] for name, column in names.items() if name in body}


async def create_program(request: web.Request) -> web.Response:
    """Create a DemandResponseProgram for a group (the group's FunctionSetAssignments will link it)."""
    ctx = request.app[CONTEXT]
    body = read_members(await read_json_object(request), PROGRAM_MEMBERS, required=("group_id", "primacy"))
    try:
        row = await dr_store.create_program(
            ctx.store,
            group_id=body["group_id"],
            mrid=new_mrid(ctx.settings.manufacturer_pen),
            created_time=ctx.now(),
            **_program_fields(body),
        )
    except KeyError as exc:
        raise bad_request(f"group_id: {exc.args[0]}") from None
    return web.json_response(program_json(row), status=201, headers={"Location": f"{API}/dr-programs/{row.id}"})


async def list_programs(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    offset, limit = page_params(request)
    group_id = query_int(request, "group", None, lo=1)
    page = await dr_store.list_programs(ctx.store, group_id=group_id, start=offset, limit=limit)
    return web.json_response({"total": page.total, "items": [program_json(p) for p in page.rows]})


async def _program_or_404(ctx: AppContext, program_id: int) -> DrProgramRow:
    row = await dr_store.program(ctx.store, program_id)
    if row is None:
        raise not_found(f"no DR program with id {program_id}")
    return row


async def get_program(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    return web.json_response(program_json(await _program_or_404(ctx, path_id(request, "DR program"))))


async def patch_program(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    program_id = path_id(request, "DR program")
    body = read_members(await read_json_object(request), PROGRAM_PATCH)
    row = await dr_store.update_program(ctx.store, program_id, **_program_fields(body))
    if row is None:
        raise not_found(f"no DR program with id {program_id}")
    return web.json_response(program_json(row))


async def delete_program(request: web.Request) -> web.Response:
    """Delete a program with its EndDeviceControls."""
    ctx = request.app[CONTEXT]
    program_id = path_id(request, "DR program")
    if not await dr_store.delete_program(ctx.store, program_id):
        raise not_found(f"no DR program with id {program_id}")
    return web.Response(status=204)


async def get_program_availability(request: web.Request) -> web.Response:
    """The LoadShedAvailability the program's devices reported, by device."""
    ctx = request.app[CONTEXT]
    program = await _program_or_404(ctx, path_id(request, "DR program"))
    rows = await dr_store.availabilities_of_program(ctx.store, program.id)  # type: ignore[arg-type]
    items = [
        {"device_id": r.device_id, "updated_time": r.updated_time,
         "availability": to_dict(decode(bytes(r.document), LoadShedAvailability))}
        for r in rows
    ]  # fmt: skip
    return web.json_response({"total": len(items), "items": items})


# -- events -----------------------------------------------------------------------------------------


async def _target_program(ctx: AppContext, body: dict[str, Any]) -> DrProgramRow:
    """The program a new event goes into: the one named, or the group's (made if it has none)."""
    if ("program_id" in body) == ("group_id" in body):
        raise bad_request("give exactly one of program_id and group_id")
    if "program_id" in body:
        program = await dr_store.program(ctx.store, body["program_id"])
        if program is None:
            raise bad_request(f"program_id: no DR program with id {body['program_id']}")
        return program
    group = await ctx.store.group(body["group_id"])
    if group is None:
        raise bad_request(f"group_id: no group with id {body['group_id']}")
    existing = await dr_store.programs_of_groups(ctx.store, [group.id], 0, 1)  # type: ignore[list-item]
    if existing.rows:
        return existing.rows[0]
    try:
        return await dr_store.create_program(
            ctx.store, group_id=group.id, primacy=body.get("primacy", DEFAULT_PRIMACY), description=group.name[:32],
            mrid=new_mrid(ctx.settings.manufacturer_pen), created_time=ctx.now(),
        )  # fmt: skip
    except KeyError as exc:  # the group went away meanwhile
        raise bad_request(f"group_id: {exc.args[0]}") from None


def _check_interval(ctx: AppContext, start: int, duration: int) -> None:
    if start + duration <= ctx.now():
        raise bad_request(
            "end: the event would end before it is created (2030.5 10.2.3: an event entirely in the past is "
            "never in effect)"
        )


def _control_columns(parts: dict[str, Any]) -> dict[str, bytes]:
    return {CONTROL_MEMBERS[name][1]: encode(part) for name, part in parts.items()}


async def create_event(request: web.Request) -> web.Response:
    """Create an EndDeviceControl for a program or a group in one request."""
    ctx = request.app[CONTEXT]
    body = read_members(
        await read_json_object(request), EVENT_MEMBERS, required=("start", "device_category", "controls")
    )
    start, duration = _interval(body)
    _check_interval(ctx, start, duration)
    program = await _target_program(ctx, body)
    try:
        row = await dr_store.create_control(
            ctx.store,
            program_id=program.id,
            mrid=new_mrid(ctx.settings.manufacturer_pen),
            description=body.get("description"),
            creation_time=ctx.now(),
            start=start,
            duration=duration,
            randomize_start=body.get("randomize_start"),
            randomize_duration=body.get("randomize_duration"),
            response_required=body.get("response_required"),
            device_category=body["device_category"],
            mandatory=body.get("mandatory", False),
            load_shift_forward=body.get("load_shift_forward", False),
            override_duration=body.get("override_duration"),
            **_control_columns(body["controls"]),
        )
    except Conflict as exc:
        raise web.HTTPConflict(text=str(exc)) from None
    except KeyError as exc:  # the program was deleted meanwhile
        raise bad_request(f"program_id: {exc.args[0]}") from None
    return web.json_response(await _event_view(ctx, row), status=201, headers={"Location": f"{API}/dr-events/{row.id}"})


async def list_events(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    offset, limit = page_params(request)
    program_id = query_int(request, "program", None, lo=1)
    page = await dr_store.list_controls(ctx.store, program_id=program_id, start=offset, limit=limit)
    return web.json_response({"total": page.total, "items": [await _event_view(ctx, r) for r in page.rows]})


async def _event_or_404(ctx: AppContext, event_id: int) -> DrControlRow:
    row = await dr_store.control(ctx.store, event_id)
    if row is None:
        raise not_found(f"no DR event with id {event_id}")
    return row


async def get_event(request: web.Request) -> web.Response:
    """An event with its EventStatus now, the events that superseded it, notice warnings and Responses."""
    ctx = request.app[CONTEXT]
    return web.json_response(await _event_view(ctx, await _event_or_404(ctx, path_id(request, "DR event"))))


async def cancel_event(request: web.Request) -> web.Response:
    """Cancel an event (EventStatus 2), or cancel it with randomization (3) when ``randomized``."""
    ctx = request.app[CONTEXT]
    event_id = path_id(request, "DR event")
    body = read_members(await read_json_object(request), CANCEL_MEMBERS)
    row = await dr_store.cancel_control(ctx.store, event_id, ctx.now(), body.get("randomized", False))
    if row is None:
        raise not_found(f"no DR event with id {event_id}")
    return web.json_response(await _event_view(ctx, row))


async def reschedule_event(request: web.Request) -> web.Response:
    """Move an event: cancel it and issue a copy with the new interval, in one transaction (10.2.3 rule c:
    a served event is never edited). Answers with both; 409 when the event was already cancelled."""
    ctx = request.app[CONTEXT]
    event_id = path_id(request, "DR event")
    body = read_members(await read_json_object(request), RESCHEDULE_MEMBERS, required=("start",))
    old = await _event_or_404(ctx, event_id)
    start, duration = _interval(body)
    _check_interval(ctx, start, duration)
    now = ctx.now()
    copied = (*COPIED_ON_RESCHEDULE, *(column for _, column in CONTROL_MEMBERS.values()))
    try:
        found = await dr_store.reschedule_control(
            ctx.store, event_id, now, body.get("randomized", False),
            mrid=new_mrid(ctx.settings.manufacturer_pen), creation_time=now, start=start, duration=duration,
            **{name: getattr(old, name) for name in copied},
        )  # fmt: skip
    except Conflict as exc:
        raise web.HTTPConflict(text=str(exc)) from None
    if found is None:
        raise not_found(f"no DR event with id {event_id}")
    cancelled, new = found
    return web.json_response(
        {"cancelled": await _event_view(ctx, cancelled), "event": await _event_view(ctx, new)},
        status=201,
        headers={"Location": f"{API}/dr-events/{new.id}"},
    )


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post(f"{API}/dr-programs", create_program)
    r.add_get(f"{API}/dr-programs", list_programs)
    r.add_get(f"{API}/dr-programs/{{id}}", get_program)
    r.add_patch(f"{API}/dr-programs/{{id}}", patch_program)
    r.add_delete(f"{API}/dr-programs/{{id}}", delete_program)
    r.add_get(f"{API}/dr-programs/{{id}}/load-shed-availability", get_program_availability)
    r.add_post(f"{API}/dr-events", create_event)
    r.add_get(f"{API}/dr-events", list_events)
    r.add_get(f"{API}/dr-events/{{id}}", get_event)
    r.add_post(f"{API}/dr-events/{{id}}/cancel", cancel_event)
    r.add_post(f"{API}/dr-events/{{id}}/reschedule", reschedule_event)


__all__ = ["notice_warnings", "setup"]
