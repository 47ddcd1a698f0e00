"""Flow reservations for the utility (IEEE 2030.5-2018 clause 10.9).

* ``GET /api/v1/flow-capacities``; ``GET/PUT/DELETE /api/v1/flow-capacities/{id}`` (``id``: a group):
  the power the group's devices may reserve per slot (e.g. 50 kW per 15-minute slot for "feeder-7") and
  the policy deciding requests: ``partial``, ``all-or-nothing`` or ``manual``
  (:mod:`gridhan.schemas.flow_allocation`).
* ``GET /api/v1/flow-requests`` (``state=pending`` for the operator's queue), ``GET .../{id}`` with its
  responses.
* ``POST /api/v1/flow-requests/{id}/decide``: grant (power, energy, interval; by default the request's)
  or refuse a pending request. A grant is held to the groups' capacity like an automatic one (409 when a
  slot lacks the power).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from aiohttp import web

from gridhan.schemas.flow_allocation import POLICIES, Grant
from gridhan.server.admin.serialize import API
from gridhan.server.admin.validation import (
    Member,
    bad_request,
    date_time,
    integer,
    not_found,
    page_params,
    path_id,
    read_json_object,
    read_members,
)
from gridhan.server.context import CONTEXT, AppContext
from gridhan.server.mrid import new_mrid
from gridhan.server.sep2.flow import request_href, response_href, response_required
from gridhan.server.store import flow as flow_store
from gridhan.server.store.tables import FlowCapacityRow, FlowRequestRow, FlowResponseRow

STATES = ("pending", "granted", "refused", "cancelled")
#: Watts / watt-hours the JSON API takes (within what the BigInteger columns and JSON numbers keep exact).
MAX_AMOUNT = 2**53 - 1


def _choice(options: tuple[str, ...]) -> Any:
    def parse(name: str, value: Any) -> str:
        if value not in options:
            raise bad_request(f"{name}: {value!r} is not one of {', '.join(options)}")
        return value

    return parse


CAPACITY_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "slot_seconds": Member(integer(60, 86400)),
        "capacity_w": Member(integer(0, MAX_AMOUNT)),
        "policy": Member(_choice(POLICIES)),
    }
)
DECIDE_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "decision": Member(_choice(("grant", "refuse"))),
        "power_w": Member(integer(0, MAX_AMOUNT)),
        "energy_wh": Member(integer(-MAX_AMOUNT, MAX_AMOUNT)),
        "start": Member(date_time),
        "duration": Member(integer(1, 2**32 - 1)),
    }
)


def capacity_json(row: FlowCapacityRow) -> dict[str, Any]:
    return {
        "group_id": row.group_id,
        "slot_seconds": row.slot_seconds,
        "capacity_w": row.capacity_w,
        "policy": row.policy,
    }


def response_json(row: FlowResponseRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "href": response_href(row.device_id, row.id),  # type: ignore[arg-type]
        "mrid": row.mrid,
        "creation_time": row.creation_time,
        "start": row.start,
        "duration": row.duration,
        "power_w": row.power_w,
        "energy_wh": row.energy_wh,
        "cancelled_time": row.cancelled_time,
        "responses": f"{API}/responses?subject={row.mrid}",
    }


def request_json(row: FlowRequestRow, responses: list[FlowResponseRow]) -> dict[str, Any]:
    return {
        "id": row.id,
        "href": request_href(row.device_id, row.id),  # type: ignore[arg-type]
        "device_id": row.device_id,
        "mrid": row.mrid,
        "creation_time": row.creation_time,
        "received_time": row.received_time,
        "start": row.start,
        "duration": row.duration,
        "power_w": row.power_w,
        "energy_wh": row.energy_wh,
        "request_status": row.request_status,
        "state": row.state,
        "responses": [response_json(r) for r in responses],
    }


# -- capacities -------------------------------------------------------------------------------------


async def list_capacities(request: web.Request) -> web.Response:
    rows = await flow_store.capacities(request.app[CONTEXT].store)
    return web.json_response({"total": len(rows), "items": [capacity_json(r) for r in rows]})


async def get_capacity(request: web.Request) -> web.Response:
    group_id = path_id(request, "group")
    row = await flow_store.capacity(request.app[CONTEXT].store, group_id)
    if row is None:
        raise not_found(f"group {group_id} has no flow capacity")
    return web.json_response(capacity_json(row))


async def put_capacity(request: web.Request) -> web.Response:
    """Set a group's capacity per slot and its policy (applies to requests from now on)."""
    group_id = path_id(request, "group")
    body = read_members(
        await read_json_object(request), CAPACITY_MEMBERS, required=("slot_seconds", "capacity_w", "policy")
    )
    try:
        row = await flow_store.put_capacity(request.app[CONTEXT].store, group_id, **body)
    except KeyError as exc:
        raise not_found(str(exc.args[0])) from None
    return web.json_response(capacity_json(row))


async def delete_capacity(request: web.Request) -> web.Response:
    group_id = path_id(request, "group")
    if not await flow_store.delete_capacity(request.app[CONTEXT].store, group_id):
        raise not_found(f"group {group_id} has no flow capacity")
    return web.Response(status=204)


# -- requests ---------------------------------------------------------------------------------------


async def _view(ctx: AppContext, row: FlowRequestRow) -> dict[str, Any]:
    return request_json(row, await flow_store.responses_of_request(ctx.store, row.id))  # type: ignore[arg-type]


async def list_requests(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    offset, limit = page_params(request)
    state = request.query.get("state")
    if state is not None and state not in STATES:
        raise bad_request(f"query parameter state={state!r}: must be one of {', '.join(STATES)}")
    page = await flow_store.list_requests(ctx.store, state, offset, limit)
    return web.json_response({"total": page.total, "items": [await _view(ctx, r) for r in page.rows]})


async def get_request(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    request_id = path_id(request, "flow reservation request")
    row = await flow_store.request(ctx.store, request_id)
    if row is None:
        raise not_found(f"no flow reservation request with id {request_id}")
    return web.json_response(await _view(ctx, row))


async def decide_request(request: web.Request) -> web.Response:
    """Grant or refuse a pending request; the device finds the FlowReservationResponse in its list."""
    ctx = request.app[CONTEXT]
    request_id = path_id(request, "flow reservation request")
    body = read_members(await read_json_object(request), DECIDE_MEMBERS, required=("decision",))
    row = await flow_store.request(ctx.store, request_id)
    if row is None:
        raise not_found(f"no flow reservation request with id {request_id}")
    start, duration = body.get("start", row.start), body.get("duration", row.duration)
    if body["decision"] == "refuse":
        extra = sorted(set(body) - {"decision"})
        if extra:
            raise bad_request(f"{extra[0]}: a refusal grants nothing")
        grant = Grant(power_w=0, energy_wh=0)
    else:
        grant = Grant(power_w=body.get("power_w", row.power_w), energy_wh=body.get("energy_wh", row.energy_wh))
        if grant.power_w == 0:
            raise bad_request("power_w: a grant of 0 W is a refusal (decision refuse)")
        if start < row.start or start + duration > row.start + row.duration:
            raise bad_request(
                f"start: the granted interval must lie within the requested one "
                f"({row.start}..{row.start + row.duration})"
            )
        if start + duration <= ctx.now():
            raise bad_request("start: the granted interval has already ended")
    try:
        result = await flow_store.decide_request(
            ctx.store, request_id, grant, start, duration, new_mrid(ctx.settings.manufacturer_pen), ctx.now(),
            response_required(ctx),
        )  # fmt: skip
    except flow_store.NotPending as exc:
        raise web.HTTPConflict(text=str(exc)) from None
    except flow_store.OverCapacity as exc:
        raise web.HTTPConflict(text=f"power_w: {exc}") from None
    assert result is not None
    return web.json_response(await _view(ctx, result.request))


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get(f"{API}/flow-capacities", list_capacities)
    r.add_get(f"{API}/flow-capacities/{{id}}", get_capacity)
    r.add_put(f"{API}/flow-capacities/{{id}}", put_capacity)
    r.add_delete(f"{API}/flow-capacities/{{id}}", delete_capacity)
    r.add_get(f"{API}/flow-requests", list_requests)
    r.add_get(f"{API}/flow-requests/{{id}}", get_request)
    r.add_post(f"{API}/flow-requests/{{id}}/decide", decide_request)
