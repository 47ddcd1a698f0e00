"""DER function set, utility side (IEEE 2030.5-2018 clause 10.10, with CSIP and CSIP-AUS 1.2).

Programs belong to a group of devices and are reached through the group's FunctionSetAssignments:

* ``/edev/{e}/fsa/{g}/derp``: DERProgramList of a group (primacy, then mRID).
* ``/derp/{p}``: DERProgram; ``/derp/{p}/derc`` DERControlList, ``/derp/{p}/derc/{c}`` DERControl,
  ``/derp/{p}/actderc`` ActiveDERControlList, ``/derp/{p}/dderc`` DefaultDERControl, ``/derp/{p}/dc`` DERCurveList,
  ``/derp/{p}/dc/{k}`` DERCurve. A program is visible to the devices of its group (and their aggregator).

Each EndDevice has one DER (``/edev/{e}/der/1``) whose DERCapability, DERSettings, DERStatus and
DERAvailability the device PUTs (validated, kept with history), with its AssociatedDERProgramList and a
CurrentDERProgramLink; CSIP-AUS servers also give it a ConnectionPoint (``/edev/{e}/cp``, the NMI).

EventStatus is computed, whenever a control is read, by the pure event rules of
:mod:`gridhan.schemas.event_rules` (clause 10.2.3) over the controls of its program: nothing about a
control's status is stored, so it is never stale.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gridhan.schemas.event_rules import EventSpec, Status, active_controls, event_statuses
from gridhan.schemas.sep2 import (
    DER,
    ConnectionPoint,
    DateTimeInterval,
    DefaultDERControl,
    DERAvailability,
    DERCapability,
    DERControl,
    DERControlBase,
    DERControlList,
    DERCurve,
    DERCurveList,
    DERList,
    DERProgram,
    DERProgramList,
    DERSettings,
    DERStatus,
    EventStatus,
    Link,
    ListLink,
)
from gridhan.schemas.xmlcodec import XmlResource, decode, encode
from gridhan.server.context import CONTEXT
from gridhan.server.identity import Principal
from gridhan.server.notify.topics import SUBSCRIBABLE_NON_CONDITIONAL as SUBSCRIBABLE
from gridhan.server.sep2.edev import device_href
from gridhan.server.sep2.http import no_content, paging, read_resource, xml_response
from gridhan.server.sep2.registry import EventRef, FunctionSets
from gridhan.server.sep2.response import DER_REPLY_TO
from gridhan.server.sep2.scope import device_in_scope, group_in_scope, require_registered, visible_device_ids
from gridhan.server.store import der as der_store
from gridhan.server.store.tables import DerControlRow, DerProgramRow, DeviceGroupRow

DER_INDEX = 1

#: Per-DER documents the device PUTs: path suffix -> class.
DER_DOCUMENTS: dict[str, type[XmlResource]] = {
    "dercap": DERCapability,
    "derg": DERSettings,
    "ders": DERStatus,
    "dera": DERAvailability,
}


def program_href(program_id: int) -> str:
    return f"/derp/{program_id}"


def control_href(program_id: int, control_id: int) -> str:
    return f"/derp/{program_id}/derc/{control_id}"


# -- the event rules on stored controls ------------------------------------------------------------


def control_modes(base: DERControlBase) -> frozenset[str]:
    """The control modes a DERControlBase sets (every member with a value)."""
    return frozenset(f.name for f in DERControlBase.XML_FIELDS if getattr(base, f.name) is not None)


def event_spec(row: DerControlRow, program: DerProgramRow) -> EventSpec:
    return EventSpec(
        mrid=row.mrid,
        program=program.mrid,
        primacy=program.primacy,
        creation_time=row.creation_time,
        start=row.start,
        duration=row.duration,
        randomize_start=row.randomize_start,
        randomize_duration=row.randomize_duration,
        modes=frozenset(row.modes.split()),
        cancelled_at=row.cancelled_time,
        cancel_randomized=row.cancel_randomized,
    )


def statuses(rows: list[DerControlRow], program: DerProgramRow, now: int) -> dict[str, Status]:
    """EventStatus of every control of one program at ``now`` (controls created later are left out)."""
    specs = [event_spec(r, program) for r in rows if r.creation_time <= now]
    return event_statuses(specs, now)


def render_control(row: DerControlRow, status: Status) -> DERControl:
    return DERControl(
        href=control_href(row.program_id, row.id),  # type: ignore[arg-type]
        replyTo=DER_REPLY_TO if row.response_required else None,
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
        DERControlBase=decode(row.base, DERControlBase),
    )


# -- scoping -----------------------------------------------------------------------------------------


async def visible_group_ids(request: web.Request) -> list[int]:
    """Groups of the devices the caller may see (its own; an aggregator's managed devices too)."""
    require_registered(request)
    return await der_store.group_ids_of_devices(request.app[CONTEXT].store, await visible_device_ids(request))


async def program_in_scope(request: web.Request) -> DerProgramRow:
    raw = request.match_info["derp"]
    row = await der_store.program(request.app[CONTEXT].store, int(raw)) if raw.isdigit() else None
    if row is None or row.group_id not in await visible_group_ids(request):
        raise web.HTTPNotFound(text="no such DERProgram")
    return row


# -- programs ---------------------------------------------------------------------------------------


async def render_program(request: web.Request, row: DerProgramRow) -> DERProgram:
    ctx = request.app[CONTEXT]
    store = ctx.store
    controls = await _published_controls(ctx, row)
    active = len(active_rows(controls, row, ctx.now()))
    curves = await der_store.curve_count(store, row.id)  # type: ignore[arg-type]
    href = program_href(row.id)  # type: ignore[arg-type]
    has_default = await der_store.default_control(store, row.id) is not None  # type: ignore[arg-type]
    return DERProgram(
        href=href,
        subscribable=SUBSCRIBABLE,
        mRID=row.mrid,
        description=row.description,
        version=row.version,
        ActiveDERControlListLink=ListLink(href=f"{href}/actderc", all=active),
        DefaultDERControlLink=Link(href=f"{href}/dderc") if has_default else None,
        DERControlListLink=ListLink(href=f"{href}/derc", all=len(controls)),
        DERCurveListLink=ListLink(href=f"{href}/dc", all=curves),
        primacy=row.primacy,
    )


async def get_group_programs(request: web.Request) -> web.Response:
    """DERProgramList of one FunctionSetAssignments (group) of a device."""
    ctx = request.app[CONTEXT]
    _device, group_id = await group_in_scope(request)
    page = paging(request)
    result = await der_store.programs_of_groups(ctx.store, [group_id], page.start, page.limit)
    items = [await render_program(request, p) for p in result.rows]
    return xml_response(
        DERProgramList(
            href=request.path,
            subscribable=SUBSCRIBABLE,
            all=result.total,
            results=len(items),
            DERProgram=items,
            pollRate=ctx.runtime.poll_rates["DERProgramList"],
        )
    )


async def get_program(request: web.Request) -> web.Response:
    return xml_response(await render_program(request, await program_in_scope(request)))


# -- controls ---------------------------------------------------------------------------------------


async def _published_controls(ctx: Any, program: DerProgramRow) -> list[DerControlRow]:
    """The program's controls a device can see now (those created by now), from one query."""
    now = ctx.now()
    return [r for r in await der_store.controls_of_program(ctx.store, program.id) if r.creation_time <= now]  # type: ignore[arg-type]


def active_rows(rows: list[DerControlRow], program: DerProgramRow, now: int) -> list[DerControlRow]:
    """What the ActiveDERControlList shows, in its order (the event rules' active_controls)."""
    by_mrid = {r.mrid: r for r in rows}
    return [by_mrid[s.mrid] for s in active_controls([event_spec(r, program) for r in rows], now)]


def sort_controls(rows: list[DerControlRow]) -> None:
    """DERControl list ordering: interval.start ascending, creationTime descending, mRID descending."""
    rows.sort(key=lambda r: r.mrid, reverse=True)
    rows.sort(key=lambda r: (r.start, -r.creation_time))


async def get_controls(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    program = await program_in_scope(request)
    page = paging(request)
    now = ctx.now()
    rows = await _published_controls(ctx, program)
    status = statuses(rows, program, now)  # over every control: a filtered-out one may supersede a listed one
    if page.after is not None:
        rows = [r for r in rows if r.start >= page.after]
    sort_controls(rows)
    chosen = rows[page.start : page.start + page.limit]
    items = [render_control(r, status[r.mrid]) for r in chosen]
    return xml_response(
        DERControlList(
            href=request.path, subscribable=SUBSCRIBABLE, all=len(rows), results=len(items), DERControl=items
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
    chosen = active[page.start : page.start + page.limit]
    items = [render_control(r, status[r.mrid]) for r in chosen]
    return xml_response(
        DERControlList(
            href=request.path, subscribable=SUBSCRIBABLE, all=len(active), results=len(items), DERControl=items
        )
    )


async def get_control(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    program = await program_in_scope(request)
    raw = request.match_info["derc"]
    row = await der_store.control(ctx.store, int(raw)) if raw.isdigit() else None
    now = ctx.now()
    if row is None or row.program_id != program.id or row.creation_time > now:
        raise web.HTTPNotFound(text="no such DERControl")
    status = statuses(await der_store.controls_of_program(ctx.store, program.id), program, now)  # type: ignore[arg-type]
    return xml_response(render_control(row, status[row.mrid]))


async def get_default_control(request: web.Request) -> web.Response:
    program = await program_in_scope(request)
    row = await der_store.default_control(request.app[CONTEXT].store, program.id)  # type: ignore[arg-type]
    if row is None:
        raise web.HTTPNotFound(text="this DERProgram has no DefaultDERControl")
    doc = decode(row.document, DefaultDERControl)
    doc.href, doc.mRID, doc.version, doc.subscribable = request.path, row.mrid, row.version, SUBSCRIBABLE
    return xml_response(doc)


async def get_curves(request: web.Request) -> web.Response:
    program = await program_in_scope(request)
    page = paging(request)
    result = await der_store.curves_of_program(request.app[CONTEXT].store, program.id, page.start, page.limit)  # type: ignore[arg-type]
    items = [_render_curve(row.document, f"{request.path}/{row.id}") for row in result.rows]
    return xml_response(DERCurveList(href=request.path, all=result.total, results=len(items), DERCurve=items))


async def get_curve(request: web.Request) -> web.Response:
    program = await program_in_scope(request)
    raw = request.match_info["dc"]
    row = await der_store.curve(request.app[CONTEXT].store, int(raw)) if raw.isdigit() else None
    if row is None or row.program_id != program.id:
        raise web.HTTPNotFound(text="no such DERCurve")
    return xml_response(_render_curve(row.document, request.path))


def _render_curve(document: bytes, href: str) -> DERCurve:
    curve = decode(document, DERCurve)
    curve.href = href
    return curve


# -- the device's DER --------------------------------------------------------------------------------


def der_href(device_id: int) -> str:
    return f"{device_href(device_id)}/der/{DER_INDEX}"


async def _associated_programs(request: web.Request, device_id: int) -> list[DerProgramRow]:
    store = request.app[CONTEXT].store
    groups = await store.group_ids_of_device(device_id)
    return list((await der_store.programs_of_groups(store, groups)).rows)


async def get_der_list(request: web.Request) -> web.Response:
    device = await device_in_scope(request)
    page = paging(request)
    items = [await _render_der(request, device.id)] if page.start == 0 and page.limit > 0 else []  # type: ignore[arg-type]
    return xml_response(
        DERList(
            href=request.path,
            all=1,
            results=len(items),
            DER=items,
            pollRate=request.app[CONTEXT].runtime.poll_rates["DERList"],
        )
    )


async def _render_der(request: web.Request, device_id: int) -> DER:
    href = der_href(device_id)
    programs = await _associated_programs(request, device_id)
    return DER(
        href=href,
        subscribable=0,
        AssociatedDERProgramListLink=ListLink(href=f"{href}/derp", all=len(programs)),
        CurrentDERProgramLink=Link(href=program_href(programs[0].id)) if programs else None,  # type: ignore[arg-type]
        DERAvailabilityLink=Link(href=f"{href}/dera"),
        DERCapabilityLink=Link(href=f"{href}/dercap"),
        DERSettingsLink=Link(href=f"{href}/derg"),
        DERStatusLink=Link(href=f"{href}/ders"),
    )


def _check_der(request: web.Request) -> None:
    if request.match_info["der"] != str(DER_INDEX):
        raise web.HTTPNotFound(text="no such DER")


async def get_der(request: web.Request) -> web.Response:
    device = await device_in_scope(request)
    _check_der(request)
    return xml_response(await _render_der(request, device.id))  # type: ignore[arg-type]


async def get_associated_programs(request: web.Request) -> web.Response:
    device = await device_in_scope(request)
    _check_der(request)
    page = paging(request)
    programs = await _associated_programs(request, device.id)  # type: ignore[arg-type]
    chosen = programs[page.start : page.start + page.limit]
    items = [await render_program(request, p) for p in chosen]
    return xml_response(
        DERProgramList(href=request.path, subscribable=0, all=len(programs), results=len(items), DERProgram=items)
    )


def _value(reading: Any) -> float | None:
    """The value of an ActivePower-like member (value x 10^multiplier), or None."""
    if reading is None:
        return None
    return reading.value * 10.0**reading.multiplier


def _document_handlers(suffix: str, cls: type[XmlResource]) -> tuple[Any, Any]:
    kind = cls.XML_NAME

    async def get_document(request: web.Request) -> web.Response:
        ctx = request.app[CONTEXT]
        device = await device_in_scope(request)
        _check_der(request)
        record = await ctx.store.latest_record(device.id, kind)  # type: ignore[arg-type]
        if record is None:
            raise web.HTTPNotFound(text=f"this DER has not reported its {kind}")
        doc = decode(record.document, cls)
        doc.href = request.path  # type: ignore[attr-defined]
        return xml_response(doc)

    async def put_document(request: web.Request) -> web.Response:
        ctx = request.app[CONTEXT]
        device = await device_in_scope(request)
        _check_der(request)
        doc = await read_resource(request, cls)
        if isinstance(doc, DERSettings):
            await _check_settings(ctx.store, device.id, doc)  # type: ignore[arg-type]
        if ctx.settings.csip_aus and isinstance(doc, DERCapability) and doc.doeModesSupported is None:
            raise web.HTTPBadRequest(text="DERCapability/doeModesSupported: required by CSIP-AUS 1.2")
        doc.href = None  # type: ignore[attr-defined]
        await ctx.store.put_record(device.id, kind, encode(doc), ctx.now())  # type: ignore[arg-type]
        return no_content()

    return get_document, put_document


async def _check_settings(store: Any, device_id: int, settings: DERSettings) -> None:
    """DERSettings may not exceed the ratings the device reported in its DERCapability (10.10)."""
    record = await store.latest_record(device_id, DERCapability.XML_NAME)
    if record is None:
        return
    capability = decode(record.document, DERCapability)
    pairs = (
        ("setMaxW", "rtgMaxW"),
        ("setMaxVA", "rtgMaxVA"),
        ("setMaxVar", "rtgMaxVar"),
        ("setMaxChargeRateW", "rtgMaxChargeRateW"),
        ("setMaxDischargeRateW", "rtgMaxDischargeRateW"),
    )
    for setting, rating in pairs:
        wanted, limit = _value(getattr(settings, setting)), _value(getattr(capability, rating))
        if wanted is not None and limit is not None and wanted > limit:
            raise web.HTTPBadRequest(
                text=f"DERSettings/{setting}: {wanted:g} exceeds DERCapability/{rating} ({limit:g})"
            )


async def get_connection_point(request: web.Request) -> web.Response:
    device = await device_in_scope(request)
    record = await request.app[CONTEXT].store.latest_record(device.id, ConnectionPoint.XML_NAME)  # type: ignore[arg-type]
    if record is None:
        raise web.HTTPNotFound(text="this EndDevice has no ConnectionPoint")
    doc = decode(record.document, ConnectionPoint)
    doc.href = request.path
    return xml_response(doc)


async def put_connection_point(request: web.Request) -> web.Response:
    """CSIP-AUS 1.2: the device (or its aggregator) tells the site's connection point (NMI)."""
    ctx = request.app[CONTEXT]
    device = await device_in_scope(request)
    doc = await read_resource(request, ConnectionPoint)
    doc.href = None
    await ctx.store.put_record(device.id, ConnectionPoint.XML_NAME, encode(doc), ctx.now())  # type: ignore[arg-type]
    return no_content()


# -- links and events --------------------------------------------------------------------------------


async def _fsa_links(request: web.Request, _who: Principal, group: DeviceGroupRow) -> dict[str, Any]:
    page = await der_store.programs_of_groups(request.app[CONTEXT].store, [group.id], 0, 0)  # type: ignore[list-item]
    base = request.path.split("/fsa")[0]
    return {"DERProgramListLink": ListLink(href=f"{base}/fsa/{group.id}/derp", all=page.total)}


async def resolve_control(ctx: Any, mrid: str) -> EventRef | None:
    """The DERControl with this mRID and the devices its program's group holds (for Responses)."""
    row = await der_store.control_by_mrid(ctx.store, mrid)
    if row is None:
        return None
    program = await der_store.program(ctx.store, row.program_id)
    assert program is not None
    members = await ctx.store.group_member_ids(program.group_id)
    return EventRef("DER", row.mrid, control_href(row.program_id, row.id), frozenset(members))  # type: ignore[arg-type]


def setup(app: web.Application, fs: FunctionSets) -> None:
    r = app.router
    r.add_get("/edev/{edev}/fsa/{fsa}/derp", get_group_programs, allow_head=True)
    r.add_get("/derp/{derp}", get_program, allow_head=True)
    r.add_get("/derp/{derp}/derc", get_controls, allow_head=True)
    r.add_get("/derp/{derp}/derc/{derc}", get_control, allow_head=True)
    r.add_get("/derp/{derp}/actderc", get_active_controls, allow_head=True)
    r.add_get("/derp/{derp}/dderc", get_default_control, allow_head=True)
    r.add_get("/derp/{derp}/dc", get_curves, allow_head=True)
    r.add_get("/derp/{derp}/dc/{dc}", get_curve, allow_head=True)
    r.add_get("/edev/{edev}/der", get_der_list, allow_head=True)
    r.add_get("/edev/{edev}/der/{der}", get_der, allow_head=True)
    r.add_get("/edev/{edev}/der/{der}/derp", get_associated_programs, allow_head=True)
    for suffix, cls in DER_DOCUMENTS.items():
        get_doc, put_doc = _document_handlers(suffix, cls)
        r.add_get(f"/edev/{{edev}}/der/{{der}}/{suffix}", get_doc, allow_head=True)
        r.add_put(f"/edev/{{edev}}/der/{{der}}/{suffix}", put_doc)
    if app[CONTEXT].settings.csip_aus:
        r.add_get("/edev/{edev}/cp", get_connection_point, allow_head=True)
        r.add_put("/edev/{edev}/cp", put_connection_point)
    fs.fsa_links.append(_fsa_links)
    fs.event_specs["der"] = event_spec
    fs.event_resolvers.append(resolve_control)
    fs.names += ["DER", "DERProgram", "DERControl", "DefaultDERControl", "DERCurve"]
