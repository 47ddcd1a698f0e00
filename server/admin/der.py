"""DER programs and controls for the utility (IEEE 2030.5-2018 clause 10.10; CSIP, CSIP-AUS 1.2).

* ``POST/GET /api/v1/der-programs``; ``GET/PATCH/DELETE /api/v1/der-programs/{id}``.
* ``GET/PUT/DELETE /api/v1/der-programs/{id}/default-control``: the DefaultDERControl.
* ``GET/POST /api/v1/der-programs/{id}/curves``; ``DELETE /api/v1/der-curves/{id}``.
* ``POST/GET /api/v1/der-controls``; ``GET /api/v1/der-controls/{id}``; ``POST .../{id}/cancel``.

One request creates a control for a program, for a group (its program of lowest primacy, created on the
way when the group has none) or for a list of devices (a group of exactly those devices is made for it).
2030.5 structures travel in JSON with the standard's member names (``{"opModExpLimW": {"value": 5000,
"multiplier": 0}}``) and are checked as strictly as the XML would be.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from aiohttp import web

from gridhan.schemas.dictcodec import from_dict, to_dict
from gridhan.schemas.event_rules import CurrentStatus, Status, supersessions
from gridhan.schemas.sep2 import DefaultDERControl, DERControlBase, DERCurve
from gridhan.schemas.xmlcodec import XmlDecodeError, decode, encode
from gridhan.server.admin.serialize import API
from gridhan.server.admin.validation import (
    Member,
    bad_request,
    boolean,
    date_time,
    hex_string,
    identifier,
    identifier_list,
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
from gridhan.server.sep2.der import control_modes, event_spec, program_href, statuses
from gridhan.server.store import der as der_store
from gridhan.server.store.repo import Conflict
from gridhan.server.store.tables import DerControlRow, DerProgramRow

#: Primacy of the program made for a group or a list of devices that had none.
DEFAULT_PRIMACY = 10
ONE_HOUR = 3600


def _any(_name: str, value: Any) -> Any:
    return value


PROGRAM_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "group_id": Member(identifier),
        "primacy": Member(integer(0, 255)),
        "description": Member(string(32), nullable=True),
    }
)
PROGRAM_PATCH: Mapping[str, Member] = MappingProxyType(
    {name: PROGRAM_MEMBERS[name] for name in ("primacy", "description")}
)
CONTROL_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "program_id": Member(identifier),
        "group_id": Member(identifier),
        "device_ids": Member(identifier_list),
        "primacy": Member(integer(0, 255)),
        "start": Member(date_time),
        "duration": Member(integer(1, 2**32 - 1)),
        "randomize_start": Member(integer(-ONE_HOUR, ONE_HOUR), nullable=True),
        "randomize_duration": Member(integer(-ONE_HOUR, ONE_HOUR), nullable=True),
        "description": Member(string(32), nullable=True),
        "response_required": Member(hex_string(2), nullable=True),
        "base": Member(_any),
    }
)
CANCEL_MEMBERS: Mapping[str, Member] = MappingProxyType({"randomized": Member(boolean)})


# -- JSON shapes ------------------------------------------------------------------------------------


def program_json(row: DerProgramRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "href": program_href(row.id),  # type: ignore[arg-type]
        "group_id": row.group_id,
        "mrid": row.mrid,
        "description": row.description,
        "primacy": row.primacy,
        "version": row.version,
        "created_time": row.created_time,
    }


def status_json(status: Status | None) -> dict[str, Any] | None:
    if status is None:
        return None
    return {
        "current_status": int(status.current_status),
        "name": CurrentStatus(status.current_status).name.lower(),
        "date_time": status.date_time,
        "potentially_superseded": status.potentially_superseded,
        "potentially_superseded_time": status.potentially_superseded_time,
    }


def control_json(row: DerControlRow, program: DerProgramRow, status: Status | None, superseded_by: list[str]) -> dict:
    return {
        "id": row.id,
        "href": f"{program_href(program.id)}/derc/{row.id}",  # type: ignore[arg-type]
        "mrid": row.mrid,
        "program_id": program.id,
        "group_id": program.group_id,
        "description": row.description,
        "creation_time": row.creation_time,
        "start": row.start,
        "duration": row.duration,
        "randomize_start": row.randomize_start,
        "randomize_duration": row.randomize_duration,
        "response_required": row.response_required,
        "base": to_dict(decode(row.base, DERControlBase)),
        "modes": sorted(row.modes.split()),
        "cancelled_time": row.cancelled_time,
        "cancel_randomized": row.cancel_randomized,
        "status": status_json(status),
        "superseded_by": superseded_by,
        "responses": f"{API}/responses?subject={row.mrid}",
    }


async def _control_view(ctx: AppContext, row: DerControlRow) -> dict[str, Any]:
    program = await der_store.program(ctx.store, row.program_id)
    assert program is not None
    rows = await der_store.controls_of_program(ctx.store, program.id)  # type: ignore[arg-type]
    now = ctx.now()
    status = statuses(rows, program, now).get(row.mrid)
    specs = [event_spec(r, program) for r in rows]
    winners = sorted({s.winner for s in supersessions(specs) if s.loser == row.mrid})
    return control_json(row, program, status, winners)


# -- programs ---------------------------------------------------------------------------------------


async def create_program(request: web.Request) -> web.Response:
    """Create a DERProgram for a group (the group's FunctionSetAssignments will link it)."""
    ctx = request.app[CONTEXT]
    body = read_members(await read_json_object(request), PROGRAM_MEMBERS, required=("group_id", "primacy"))
    try:
        row = await der_store.create_program(
            ctx.store,
            group_id=body["group_id"],
            primacy=body["primacy"],
            description=body.get("description"),
            mrid=new_mrid(ctx.settings.manufacturer_pen),
            created_time=ctx.now(),
        )
    except KeyError as exc:
        raise bad_request(f"group_id: {exc.args[0]}") from None
    return web.json_response(program_json(row), status=201, headers={"Location": _program_location(row)})


def _program_location(row: DerProgramRow) -> str:
    return f"{API}/der-programs/{row.id}"


async def list_programs(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    offset, limit = page_params(request)
    page = await der_store.list_programs(ctx.store, group_id=query_int(request, "group", None, lo=1), start=offset,
                                         limit=limit)  # fmt: skip
    return web.json_response({"total": page.total, "items": [program_json(p) for p in page.rows]})


async def _program_or_404(ctx: AppContext, program_id: int) -> DerProgramRow:
    row = await der_store.program(ctx.store, program_id)
    if row is None:
        raise not_found(f"no DER program with id {program_id}")
    return row


async def get_program(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    return web.json_response(program_json(await _program_or_404(ctx, path_id(request, "DER program"))))


async def patch_program(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    program_id = path_id(request, "DER program")
    body = read_members(await read_json_object(request), PROGRAM_PATCH)
    row = await der_store.update_program(ctx.store, program_id, **body)
    if row is None:
        raise not_found(f"no DER program with id {program_id}")
    return web.json_response(program_json(row))


async def delete_program(request: web.Request) -> web.Response:
    """Delete a program with its controls, default control and curves."""
    ctx = request.app[CONTEXT]
    program_id = path_id(request, "DER program")
    if not await der_store.delete_program(ctx.store, program_id):
        raise not_found(f"no DER program with id {program_id}")
    return web.Response(status=204)


# -- default control and curves ---------------------------------------------------------------------


def _strict(cls: type, data: Any, managed: dict[str, Any]) -> Any:
    """A 2030.5 structure from JSON; the members the server manages (href, mRID, ...) are refused in the
    request and filled in from ``managed``."""
    if isinstance(data, dict):
        for name in managed:
            if name in data:
                raise bad_request(f"{cls.XML_NAME}/{name}: set by the server, not in the request")
        data = {**data, **{k: v for k, v in managed.items() if v is not None}}
    try:
        return from_dict(cls, data)
    except XmlDecodeError as exc:
        raise bad_request(str(exc)) from None


async def get_default_control(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    program = await _program_or_404(ctx, path_id(request, "DER program"))
    row = await der_store.default_control(ctx.store, program.id)  # type: ignore[arg-type]
    if row is None:
        raise not_found(f"DER program {program.id} has no default control")
    return web.json_response({"mrid": row.mrid, "version": row.version, "updated_time": row.updated_time,
                              "control": to_dict(decode(row.document, DefaultDERControl))})  # fmt: skip


async def put_default_control(request: web.Request) -> web.Response:
    """Set the DefaultDERControl (DERControlBase and the setES*/setGradW settings) of a program."""
    ctx = request.app[CONTEXT]
    program = await _program_or_404(ctx, path_id(request, "DER program"))
    body = await read_json_object(request)
    existing = await der_store.default_control(ctx.store, program.id)  # type: ignore[arg-type]
    mrid = existing.mrid if existing else new_mrid(ctx.settings.manufacturer_pen)
    managed = {"href": None, "mRID": mrid, "version": None, "subscribable": None}
    doc = _strict(DefaultDERControl, body, managed)
    if not control_modes(doc.DERControlBase):
        raise bad_request("DefaultDERControl/DERControlBase: sets no control mode")
    row = await der_store.put_default_control(ctx.store, program.id, mrid, encode(doc), ctx.now())  # type: ignore[arg-type]
    return web.json_response({"mrid": row.mrid, "version": row.version, "updated_time": row.updated_time,
                              "control": to_dict(doc)})  # fmt: skip


async def delete_default_control(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    program = await _program_or_404(ctx, path_id(request, "DER program"))
    if not await der_store.delete_default_control(ctx.store, program.id):  # type: ignore[arg-type]
        raise not_found(f"DER program {program.id} has no default control")
    return web.Response(status=204)


def curve_json(row: Any, program_id: int) -> dict[str, Any]:
    return {
        "id": row.id,
        "href": f"{program_href(program_id)}/dc/{row.id}",
        "program_id": program_id,
        "mrid": row.mrid,
        "creation_time": row.creation_time,
        "curve": to_dict(decode(row.document, DERCurve)),
    }


async def list_curves(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    program = await _program_or_404(ctx, path_id(request, "DER program"))
    offset, limit = page_params(request)
    page = await der_store.curves_of_program(ctx.store, program.id, offset, limit)  # type: ignore[arg-type]
    return web.json_response({"total": page.total, "items": [curve_json(c, program.id) for c in page.rows]})  # type: ignore[arg-type]


async def create_curve(request: web.Request) -> web.Response:
    """Add a DERCurve (volt-var, volt-watt, frequency-watt, ride-through ...) to a program."""
    ctx = request.app[CONTEXT]
    program = await _program_or_404(ctx, path_id(request, "DER program"))
    body = await read_json_object(request)
    now, mrid = ctx.now(), new_mrid(ctx.settings.manufacturer_pen)
    doc = _strict(DERCurve, body, {"href": None, "mRID": mrid, "creationTime": now})
    xs = [point.xvalue for point in doc.CurveData]
    if xs != sorted(xs) or len(set(xs)) != len(xs):
        raise bad_request("DERCurve/CurveData: xvalue must increase from point to point")
    row = await der_store.create_curve(ctx.store, program_id=program.id, mrid=mrid, document=encode(doc),
                                       creation_time=now)  # fmt: skip
    return web.json_response(curve_json(row, program.id), status=201,  # type: ignore[arg-type]
                             headers={"Location": f"{API}/der-curves/{row.id}"})  # fmt: skip


async def delete_curve(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    curve_id = path_id(request, "DER curve")
    if not await der_store.delete_curve(ctx.store, curve_id):
        raise not_found(f"no DER curve with id {curve_id}")
    return web.Response(status=204)


# -- controls ---------------------------------------------------------------------------------------


async def _target_program(ctx: AppContext, body: dict[str, Any]) -> DerProgramRow:
    """The program a new control goes into: named, a group's (made if missing), or a devices' group's."""
    targets = [k for k in ("program_id", "group_id", "device_ids") if k in body]
    if len(targets) != 1:
        raise bad_request("give exactly one of program_id, group_id and device_ids")
    primacy = body.get("primacy", DEFAULT_PRIMACY)
    if "program_id" in body:
        program = await der_store.program(ctx.store, body["program_id"])
        if program is None:
            raise bad_request(f"program_id: no DER program with id {body['program_id']}")
        return program
    if "group_id" in body:
        group = await ctx.store.group(body["group_id"])
        if group is None:
            raise bad_request(f"group_id: no group with id {body['group_id']}")
        existing = await der_store.programs_of_groups(ctx.store, [group.id], 0, 1)  # type: ignore[list-item]
        if existing.rows:
            return existing.rows[0]
        group_id, description = group.id, group.name[:32]
    else:
        if not body["device_ids"]:
            raise bad_request("device_ids: name at least one device")
        mrid = new_mrid(ctx.settings.manufacturer_pen)
        try:
            group = await der_store.create_target_group(
                ctx.store, name=f"der-{mrid[:12].lower()}", mrid=mrid, description="DER control targets",
                version=0, device_ids=body["device_ids"],
            )  # fmt: skip
        except KeyError as exc:
            raise bad_request(f"device_ids: {exc.args[0]}") from None
        group_id, description = group.id, "DER control targets"
    return await der_store.create_program(
        ctx.store, group_id=group_id, primacy=primacy, description=description,
        mrid=new_mrid(ctx.settings.manufacturer_pen), created_time=ctx.now(),
    )  # fmt: skip


async def create_control(request: web.Request) -> web.Response:
    """Create a DERControl: e.g. "export at most 5 kW from 14:00 to 16:00" for a group in one request."""
    ctx = request.app[CONTEXT]
    body = read_members(await read_json_object(request), CONTROL_MEMBERS, required=("start", "duration", "base"))
    base = _strict(DERControlBase, body["base"], {})
    modes = control_modes(base)
    if not modes:
        raise bad_request("base: a DERControlBase that sets no control mode controls nothing")
    now = ctx.now()
    if body["start"] + body["duration"] <= now:
        raise bad_request("start: the control would end before it is created (2030.5 10.2.3: an event "
                          "entirely in the past is never in effect)")  # fmt: skip
    program = await _target_program(ctx, body)
    try:
        row = await der_store.create_control(
            ctx.store,
            program_id=program.id,
            mrid=new_mrid(ctx.settings.manufacturer_pen),
            description=body.get("description"),
            creation_time=now,
            start=body["start"],
            duration=body["duration"],
            randomize_start=body.get("randomize_start"),
            randomize_duration=body.get("randomize_duration"),
            response_required=body.get("response_required"),
            base=encode(base),
            modes=" ".join(sorted(modes)),
        )
    except Conflict as exc:
        raise web.HTTPConflict(text=str(exc)) from None
    return web.json_response(await _control_view(ctx, row), status=201,
                             headers={"Location": f"{API}/der-controls/{row.id}"})  # fmt: skip


async def list_controls(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    offset, limit = page_params(request)
    program_id = query_int(request, "program", None, lo=1)
    page = await der_store.list_controls(ctx.store, program_id=program_id, start=offset, limit=limit)
    return web.json_response({"total": page.total, "items": [await _control_view(ctx, r) for r in page.rows]})


async def _control_or_404(ctx: AppContext, control_id: int) -> DerControlRow:
    row = await der_store.control(ctx.store, control_id)
    if row is None:
        raise not_found(f"no DER control with id {control_id}")
    return row


async def get_control(request: web.Request) -> web.Response:
    """A control with its EventStatus now, the controls that superseded it, and where its Responses are."""
    ctx = request.app[CONTEXT]
    return web.json_response(await _control_view(ctx, await _control_or_404(ctx, path_id(request, "DER control"))))


async def cancel_control(request: web.Request) -> web.Response:
    """Cancel a control (EventStatus 2), or cancel it with randomization (3) when ``randomized``."""
    ctx = request.app[CONTEXT]
    control_id = path_id(request, "DER control")
    body = read_members(await read_json_object(request), CANCEL_MEMBERS)
    row = await der_store.cancel_control(ctx.store, control_id, ctx.now(), body.get("randomized", False))
    if row is None:
        raise not_found(f"no DER control with id {control_id}")
    return web.json_response(await _control_view(ctx, row))


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post(f"{API}/der-programs", create_program)
    r.add_get(f"{API}/der-programs", list_programs)
    r.add_get(f"{API}/der-programs/{{id}}", get_program)
    r.add_patch(f"{API}/der-programs/{{id}}", patch_program)
    r.add_delete(f"{API}/der-programs/{{id}}", delete_program)
    r.add_get(f"{API}/der-programs/{{id}}/default-control", get_default_control)
    r.add_put(f"{API}/der-programs/{{id}}/default-control", put_default_control)
    r.add_delete(f"{API}/der-programs/{{id}}/default-control", delete_default_control)
    r.add_get(f"{API}/der-programs/{{id}}/curves", list_curves)
    r.add_post(f"{API}/der-programs/{{id}}/curves", create_curve)
    r.add_delete(f"{API}/der-curves/{{id}}", delete_curve)
    r.add_post(f"{API}/der-controls", create_control)
    r.add_get(f"{API}/der-controls", list_controls)
    r.add_get(f"{API}/der-controls/{{id}}", get_control)
    r.add_post(f"{API}/der-controls/{{id}}/cancel", cancel_control)
