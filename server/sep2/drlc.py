"""Demand Response and Load Control function set, utility side (IEEE 2030.5-2018 clause 10.3).

Programs belong to a group of devices and are reached through the group's FunctionSetAssignments:

* ``/edev/{e}/fsa/{g}/dr``: DemandResponseProgramList of a group (primacy, then mRID).
* ``/dr/{p}``: DemandResponseProgram; ``/dr/{p}/edc`` EndDeviceControlList, ``/dr/{p}/edc/{c}``
  EndDeviceControl, ``/dr/{p}/actedc`` ActiveEndDeviceControlList (clause 10.2.2). A program is visible to the
  devices of its group (and their aggregator); anything else answers 404.
* ``/edev/{e}/lsl``: LoadShedAvailabilityList of an EndDevice, linked from it. The *device* reports what load
  it could shed (DemandResponseProgram.availabilityUpdate*Threshold tell clients when to provide it): POST a
  LoadShedAvailability to the list (one per DemandResponseProgramLink, a later one replaces the earlier; 201
  with its Location), PUT it at ``/edev/{e}/lsl/{id}``; GET both.

EndDeviceControls carry ``replyTo`` = the DRLC ResponseSet (``/rsps/2/rsp``, DrResponse) when the utility
asks for responses. EventStatus is computed whenever a control is read by the pure event rules of
:mod:`gridhan.schemas.event_rules` (clause 10.2.3), with one pseudo-mode per deviceCategory bit: controls
of one program supersede each other only for the device categories they share. Nothing about a control's
status is stored, so it is never stale.

Devices an EndDeviceControl targets (for the Response function set and the utility's tally): the members
of its program's group whose EndDevice.deviceCategory shares a bit with the control's deviceCategory, plus
members that declared no category (the server cannot tell they should ignore it). A member of another
category SHOULD ignore the control (sep.xsd EndDeviceControl.deviceCategory), so it is neither expected to
respond nor counted as silent.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gridhan.schemas.event_rules import (
    EventSpec,
    Status,
    active_controls,
    categories_overlap,
    category_modes,
    event_statuses,
)
from gridhan.schemas.sep2 import (
    ActivePower,
    ApplianceLoadReduction,
    DateTimeInterval,
    DemandResponseProgram,
    DemandResponseProgramList,
    DutyCycle,
    EndDeviceControl,
    EndDeviceControlList,
    EventStatus,
    Link,
    ListLink,
    LoadShedAvailability,
    LoadShedAvailabilityList,
    Offset,
    SetPoint,
    TargetReduction,
)
from gridhan.schemas.xmlcodec import decode, encode
from gridhan.server.context import CONTEXT, AppContext
from gridhan.server.identity import Principal
from gridhan.server.notify.topics import SUBSCRIBABLE_NON_CONDITIONAL
from gridhan.server.sep2.der import visible_group_ids
from gridhan.server.sep2.edev import device_href
from gridhan.server.sep2.http import created, no_content, paging, read_resource, xml_response
from gridhan.server.sep2.registry import EventRef, FunctionSets
from gridhan.server.sep2.response import DRLC_REPLY_TO
from gridhan.server.sep2.scope import device_in_scope, group_in_scope
from gridhan.server.store import drlc as dr_store
from gridhan.server.store.tables import (
    DeviceGroupRow,
    DrControlRow,
    DrProgramRow,
    EndDeviceRow,
    LoadShedAvailabilityRow,
)

#: sep.xsd SubscribableType of the DRLC lists and EndDeviceControls: 1, non-conditional subscriptions (clause
#: 8.7; see gridhan.server.notify.topics for what is subscribable and how changes reach subscribers).
SUBSCRIBABLE = SUBSCRIBABLE_NON_CONDITIONAL

#: The control structures an EndDeviceControl may carry: element name -> (class, column of DrControlRow).
CONTROL_MEMBERS: dict[str, tuple[type, str]] = {
    "ApplianceLoadReduction": (ApplianceLoadReduction, "appliance_load_reduction"),
    "DutyCycle": (DutyCycle, "duty_cycle"),
    "Offset": (Offset, "offset"),
    "SetPoint": (SetPoint, "set_point"),
    "TargetReduction": (TargetReduction, "target_reduction"),
}


def program_href(program_id: int) -> str:
    return f"/dr/{program_id}"


def control_href(program_id: int, control_id: int) -> str:
    return f"/dr/{program_id}/edc/{control_id}"


def availability_list_href(device_id: int) -> str:
    return f"{device_href(device_id)}/lsl"


# -- the event rules on stored controls ------------------------------------------------------------


def event_spec(row: DrControlRow, program: DrProgramRow) -> EventSpec:
    return EventSpec(
        mrid=row.mrid,
        program=program.mrid,
        primacy=program.primacy,
        creation_time=row.creation_time,
        start=row.start,
        duration=row.duration,
        randomize_start=row.randomize_start,
        randomize_duration=row.randomize_duration,
        modes=category_modes(row.device_category),
        cancelled_at=row.cancelled_time,
        cancel_randomized=row.cancel_randomized,
    )


def statuses(rows: list[DrControlRow], program: DrProgramRow, now: int) -> dict[str, Status]:
    """EventStatus of every control of one program at ``now`` (controls created later are left out)."""
    specs = [event_spec(r, program) for r in rows if r.creation_time <= now]
    return event_statuses(specs, now)


def active_rows(rows: list[DrControlRow], program: DrProgramRow, now: int) -> list[DrControlRow]:
    """What the ActiveEndDeviceControlList shows, in its order (the event rules' active_controls)."""
    by_mrid = {r.mrid: r for r in rows}
    return [by_mrid[s.mrid] for s in active_controls([event_spec(r, program) for r in rows], now)]


def sort_controls(rows: list[DrControlRow]) -> None:
    """Event list ordering: interval.start ascending, creationTime descending, mRID descending."""
    rows.sort(key=lambda r: r.mrid, reverse=True)
    rows.sort(key=lambda r: (r.start, -r.creation_time))


def control_parts(row: DrControlRow) -> dict[str, Any]:
    """The control structures the row holds, decoded, by element name."""
    parts: dict[str, Any] = {}
    for name, (cls, column) in CONTROL_MEMBERS.items():
        data = getattr(row, column)
        if data is not None:
            parts[name] = decode(bytes(data), cls)
    return parts


def render_control(row: DrControlRow, status: Status) -> EndDeviceControl:
    return EndDeviceControl(
        href=control_href(row.program_id, row.id),  # type: ignore[arg-type]
        replyTo=DRLC_REPLY_TO if row.response_required else None,
        responseRequired=row.response_required,
        mRID=row.mrid,
        description=row.description,
        version=row.version,
        subscribable=SUBSCRIBABLE,
        creationTime=row.creation_time,
        EventStatus=EventStatus(
            currentStatus=int(status.current_status),
            dateTime=status.date_time,
            potentiallySuperseded=status.potentially_superseded,
            potentiallySupersededTime=status.potentially_superseded_time,
        ),
        interval=DateTimeInterval(duration=row.duration, start=row.start),
        randomizeDuration=row.randomize_duration,
        randomizeStart=row.randomize_start,
        deviceCategory=row.device_category,
        drProgramMandatory=row.mandatory,
        loadShiftForward=row.load_shift_forward,
        overrideDuration=row.override_duration,
        **control_parts(row),
    )


# -- scoping -----------------------------------------------------------------------------------------


async def program_in_scope(request: web.Request) -> DrProgramRow:
    raw = request.match_info["dr"]
    row = await dr_store.program(request.app[CONTEXT].store, int(raw)) if raw.isdigit() else None
    if row is None or row.group_id not in await visible_group_ids(request):
        raise web.HTTPNotFound(text="no such DemandResponseProgram")
    return row


# -- programs ---------------------------------------------------------------------------------------


async def _published_controls(ctx: AppContext, program: DrProgramRow) -> list[DrControlRow]:
    """The program's controls a device can see now (those created by now), from one query."""
    now = ctx.now()
    return [r for r in await dr_store.controls_of_program(ctx.store, program.id) if r.creation_time <= now]  # type: ignore[arg-type]


def render_program(row: DrProgramRow, controls: list[DrControlRow], now: int) -> DemandResponseProgram:
    href = program_href(row.id)  # type: ignore[arg-type]
    power = row.availability_power_threshold
    return DemandResponseProgram(  # an IdentifiedObject in sep.xsd: it carries no subscribable attribute
        href=href,
        mRID=row.mrid,
        description=row.description,
        version=row.version,
        ActiveEndDeviceControlListLink=ListLink(href=f"{href}/actedc", all=len(active_rows(controls, row, now))),
        availabilityUpdatePercentChangeThreshold=row.availability_percent_threshold,
        availabilityUpdatePowerChangeThreshold=decode(bytes(power), ActivePower) if power is not None else None,
        EndDeviceControlListLink=ListLink(href=f"{href}/edc", all=len(controls)),
        primacy=row.primacy,
    )


async def _program_resource(ctx: AppContext, row: DrProgramRow) -> DemandResponseProgram:
    return render_program(row, await _published_controls(ctx, row), ctx.now())


async def get_group_programs(request: web.Request) -> web.Response:
    """DemandResponseProgramList of one FunctionSetAssignments (group) of a device."""
    ctx = request.app[CONTEXT]
    _device, group_id = await group_in_scope(request)
    page = paging(request)
    result = await dr_store.programs_of_groups(ctx.store, [group_id], page.start, page.limit)
    items = [await _program_resource(ctx, p) for p in result.rows]
    return xml_response(
        DemandResponseProgramList(
            href=request.path,
            subscribable=SUBSCRIBABLE,
            all=result.total,
            results=len(items),
            DemandResponseProgram=items,
            pollRate=ctx.runtime.poll_rates["DemandResponseProgramList"],
        )
    )


async def get_program(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    return xml_response(await _program_resource(ctx, await program_in_scope(request)))


# -- controls ---------------------------------------------------------------------------------------


async def get_controls(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    program = await program_in_scope(request)
    page = paging(request)
    rows = await _published_controls(ctx, program)
    status = statuses(rows, program, ctx.now())  # over every control: one filtered out may supersede one listed
    if page.after is not None:
        rows = [r for r in rows if r.start >= page.after]
    sort_controls(rows)
    items = [render_control(r, status[r.mrid]) for r in rows[page.start : page.start + page.limit]]
    return xml_response(
        EndDeviceControlList(
            href=request.path, subscribable=SUBSCRIBABLE, all=len(rows), results=len(items), EndDeviceControl=items
        )
    )


async def get_active_controls(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    program = await program_in_scope(request)
    page = paging(request)
    now = ctx.now()
    rows = await _published_controls(ctx, program)
    active = active_rows(rows, program, now)
    status = statuses(rows, program, now)
    items = [render_control(r, status[r.mrid]) for r in active[page.start : page.start + page.limit]]
    return xml_response(
        EndDeviceControlList(
            href=request.path, subscribable=SUBSCRIBABLE, all=len(active), results=len(items), EndDeviceControl=items
        )
    )


async def get_control(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    program = await program_in_scope(request)
    raw = request.match_info["edc"]
    row = await dr_store.control(ctx.store, int(raw)) if raw.isdigit() else None
    now = ctx.now()
    if row is None or row.program_id != program.id or row.creation_time > now:
        raise web.HTTPNotFound(text="no such EndDeviceControl")
    status = statuses(await dr_store.controls_of_program(ctx.store, program.id), program, now)  # type: ignore[arg-type]
    return xml_response(render_control(row, status[row.mrid]))


# -- LoadShedAvailability (reported by the device) -----------------------------------------------------


def render_availability(row: Any) -> LoadShedAvailability:
    doc = decode(bytes(row.document), LoadShedAvailability)
    doc.href = f"{availability_list_href(row.device_id)}/{row.id}"
    doc.DemandResponseProgramLink = Link(href=program_href(row.program_id)) if row.program_id is not None else None
    return doc


async def get_availabilities(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    device = await device_in_scope(request)
    page = paging(request)
    result = await dr_store.availabilities(ctx.store, device.id, page.start, page.limit)  # type: ignore[arg-type]
    items = [render_availability(r) for r in result.rows]
    return xml_response(
        LoadShedAvailabilityList(
            href=availability_list_href(device.id),  # type: ignore[arg-type]
            all=result.total,
            results=len(items),
            LoadShedAvailability=items,
            pollRate=ctx.runtime.poll_rates["LoadShedAvailabilityList"],
        )
    )


async def _availability_in_scope(request: web.Request, device: EndDeviceRow) -> Any:
    raw = request.match_info["lsa"]
    row = await dr_store.availability(request.app[CONTEXT].store, int(raw)) if raw.isdigit() else None
    if row is None or row.device_id != device.id:
        raise web.HTTPNotFound(text="no such LoadShedAvailability")
    return row


async def get_availability(request: web.Request) -> web.Response:
    device = await device_in_scope(request)
    return xml_response(render_availability(await _availability_in_scope(request, device)))


async def _reported_program(request: web.Request, device: EndDeviceRow, doc: LoadShedAvailability) -> int | None:
    """The DemandResponseProgram a LoadShedAvailability is about: one of the device's own (400 otherwise)."""
    link = doc.DemandResponseProgramLink
    if link is None:
        return None
    ctx = request.app[CONTEXT]
    prefix = "/dr/"
    raw = link.href[len(prefix) :] if link.href.startswith(prefix) else ""
    program = await dr_store.program(ctx.store, int(raw)) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    if program is None or program.group_id not in await ctx.store.group_ids_of_device(device.id):  # type: ignore[arg-type]
        raise web.HTTPBadRequest(
            text=f"LoadShedAvailability/DemandResponseProgramLink: {link.href} is not a DemandResponseProgram "
            "of this EndDevice"
        )
    return program.id


async def post_availability(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    device = await device_in_scope(request)
    doc = await read_resource(request, LoadShedAvailability)
    program_id = await _reported_program(request, device, doc)
    doc.href, doc.DemandResponseProgramLink = None, None
    row, _ = await dr_store.put_availability(ctx.store, device.id, program_id, encode(doc), ctx.now())  # type: ignore[arg-type]
    return created(f"{availability_list_href(device.id)}/{row.id}")  # type: ignore[arg-type]


async def put_availability(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    device = await device_in_scope(request)
    row = await _availability_in_scope(request, device)
    doc = await read_resource(request, LoadShedAvailability)
    program_id = await _reported_program(request, device, doc)
    if doc.DemandResponseProgramLink is not None and program_id != row.program_id:
        raise web.HTTPBadRequest(
            text="LoadShedAvailability/DemandResponseProgramLink: names another program than this resource's "
            "(POST to the list to report for another program)"
        )
    doc.href, doc.DemandResponseProgramLink = None, None
    await dr_store.replace_availability(ctx.store, row.id, encode(doc), ctx.now())
    return no_content()


# -- links and events --------------------------------------------------------------------------------


async def _fsa_links(request: web.Request, _who: Principal, group: DeviceGroupRow) -> dict[str, Any]:
    page = await dr_store.programs_of_groups(request.app[CONTEXT].store, [group.id], 0, 0)  # type: ignore[list-item]
    base = request.path.split("/fsa")[0]
    return {"DemandResponseProgramListLink": ListLink(href=f"{base}/fsa/{group.id}/dr", all=page.total)}


async def _edev_links(request: web.Request, rows: Any) -> dict[int, dict[str, Any]]:
    store = request.app[CONTEXT].store
    ids = [r.id for r in rows]

    async def load() -> dict[int, int]:
        return await dr_store.availability_counts(store, ids)

    counts = await store.derived(("LoadShedAvailabilityList", tuple(ids)), (LoadShedAvailabilityRow,), load)
    return {
        r.id: {"LoadShedAvailabilityListLink": ListLink(href=availability_list_href(r.id), all=counts.get(r.id, 0))}
        for r in rows
    }


def targeted(members: dict[int, str | None], device_category: str) -> frozenset[int]:
    """The members an EndDeviceControl of ``device_category`` addresses: those whose declared category
    shares a bit with it, and those that declared none."""
    return frozenset(
        d for d, category in members.items() if not category or categories_overlap(category, device_category)
    )


async def resolve_control(ctx: Any, mrid: str) -> EventRef | None:
    """The EndDeviceControl with this mRID and the devices it targets (for Responses and the tally)."""
    row = await dr_store.control_by_mrid(ctx.store, mrid)
    if row is None:
        return None
    program = await dr_store.program(ctx.store, row.program_id)
    assert program is not None
    members = await dr_store.member_categories(ctx.store, program.group_id)
    href = control_href(row.program_id, row.id)  # type: ignore[arg-type]
    return EventRef("DRLC", row.mrid, href, targeted(members, row.device_category))


def setup(app: web.Application, fs: FunctionSets) -> None:
    r = app.router
    r.add_get("/edev/{edev}/fsa/{fsa}/dr", get_group_programs, allow_head=True)
    r.add_get("/dr/{dr}", get_program, allow_head=True)
    r.add_get("/dr/{dr}/edc", get_controls, allow_head=True)
    r.add_get("/dr/{dr}/edc/{edc}", get_control, allow_head=True)
    r.add_get("/dr/{dr}/actedc", get_active_controls, allow_head=True)
    r.add_get("/edev/{edev}/lsl", get_availabilities, allow_head=True)
    r.add_post("/edev/{edev}/lsl", post_availability)
    r.add_get("/edev/{edev}/lsl/{lsa}", get_availability, allow_head=True)
    r.add_put("/edev/{edev}/lsl/{lsa}", put_availability)
    fs.fsa_links.append(_fsa_links)
    fs.edev_links.append(_edev_links)
    fs.event_resolvers.append(resolve_control)
    fs.event_specs["drlc"] = event_spec
    fs.names += ["DemandResponseProgram", "EndDeviceControl", "LoadShedAvailability"]
