"""Flow Reservation function set, utility side (IEEE 2030.5-2018 clause 10.9).

Per EndDevice (links on the EndDevice: FlowReservationRequestListLink, FlowReservationResponseListLink):

* ``/edev/{e}/frq``: FlowReservationRequestList. The device POSTs a FlowReservationRequest (201 with
  Location) asking to move ``energyRequested`` (Wh; positive charge, negative discharge) within
  ``intervalRequested`` at ``powerRequested``; GET lists its own requests.
* ``/edev/{e}/frq/{id}``: GET; PUT the same request with RequestStatus 1 (Cancelled) to cancel it
  (RequestStatus is the one member a device changes; clause 10.9 example C.21: the client cancels its
  request, the server cancels the matching response).
* ``/edev/{e}/frp``: FlowReservationResponseList; ``/edev/{e}/frp/{id}``: FlowReservationResponse, an
  Event whose ``subject`` is the request's mRID, with the interval, ``powerAvailable`` and
  ``energyAvailable`` granted; replyTo ``/rsps/5/rsp`` when it asks for FlowReservationResponseResponses.

Another client's EndDevice, request or response answers 404, exactly like a missing one.

Decisions (the utility's policy; 10.9.1 leaves it open): see :mod:`gridhan.schemas.flow_allocation`. A
request is answered at once (granted, reduced, or refused with zero power and energy) unless a group of
the device has the ``manual`` policy: then it waits, with no response, for the operator (admin API).

Ordering (Table 48): requests and responses by interval start ascending, creationTime descending, mRID
descending. EventStatus of a response is computed at read time by :mod:`gridhan.schemas.event_rules`; the
responses to one request share a pseudo-mode (a later answer to the same request supersedes the earlier
one), responses to different requests are independent.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gridhan.schemas.event_rules import EventSpec, Status, event_statuses
from gridhan.schemas.flow_allocation import decide
from gridhan.schemas.sep2 import (
    ActivePower,
    DateTimeInterval,
    EventStatus,
    FlowReservationRequest,
    FlowReservationRequestList,
    FlowReservationResponse,
    FlowReservationResponseList,
    ListLink,
    SignedRealEnergy,
)
from gridhan.schemas.xmlcodec import decode, encode
from gridhan.server.context import CONTEXT, AppContext
from gridhan.server.mrid import new_mrid
from gridhan.server.sep2.edev import device_href
from gridhan.server.sep2.http import created, paging, read_resource, xml_response
from gridhan.server.sep2.registry import EventRef, FunctionSets
from gridhan.server.sep2.response import FLOW_RESERVATION_REPLY_TO
from gridhan.server.sep2.scope import device_in_scope
from gridhan.server.store import flow as flow_store
from gridhan.server.store.repo import Conflict
from gridhan.server.store.tables import EndDeviceRow, FlowRequestRow, FlowResponseRow

INT16_MAX = 2**15 - 1
INT48_MAX = 2**47 - 1


def request_href(device_id: int, request_id: int) -> str:
    return f"{device_href(device_id)}/frq/{request_id}"


def response_href(device_id: int, response_id: int) -> str:
    return f"{device_href(device_id)}/frp/{response_id}"


def response_required(ctx: AppContext) -> str | None:
    """responseRequired of new FlowReservationResponses (setting ``flow_response_required``)."""
    value = ctx.settings.flow_response_required.strip().upper()
    return value.zfill(2) if value else None


# -- units ------------------------------------------------------------------------------------------


def scaled(value: int, multiplier: int) -> int:
    """value x 10^multiplier as whole units (W, Wh), rounded toward zero."""
    return int(value * 10**multiplier) if multiplier >= 0 else int(value / 10**-multiplier)


def _compact(amount: int, limit: int) -> tuple[int, int]:
    """(value, multiplier) with |value| <= limit, rounded toward zero (never more than ``amount``)."""
    multiplier = 0
    while abs(amount) // 10**multiplier > limit:
        multiplier += 1
    value = abs(amount) // 10**multiplier
    return (value if amount >= 0 else -value), multiplier


def active_power(watts: int) -> ActivePower:
    value, multiplier = _compact(watts, INT16_MAX)
    return ActivePower(multiplier=multiplier, value=value)


def signed_energy(wh: int) -> SignedRealEnergy:
    value, multiplier = _compact(wh, INT48_MAX)
    return SignedRealEnergy(multiplier=multiplier, value=value)


# -- rendering --------------------------------------------------------------------------------------


def render_request(row: FlowRequestRow) -> FlowReservationRequest:
    doc = decode(row.document, FlowReservationRequest)
    doc.href = request_href(row.device_id, row.id)  # type: ignore[arg-type]
    doc.RequestStatus.requestStatus = row.request_status
    doc.RequestStatus.dateTime = row.status_time
    return doc


def event_spec(row: FlowResponseRow, subject: str) -> EventSpec:
    return EventSpec(
        mrid=row.mrid,
        program=f"frp:{row.device_id}",
        primacy=0,
        creation_time=row.creation_time,
        start=row.start,
        duration=row.duration,
        modes=frozenset({subject}),
        cancelled_at=row.cancelled_time,
    )


def render_response(row: FlowResponseRow, subject: str, status: Status) -> FlowReservationResponse:
    return FlowReservationResponse(
        href=response_href(row.device_id, row.id),  # type: ignore[arg-type]
        replyTo=FLOW_RESERVATION_REPLY_TO if row.response_required else None,
        responseRequired=row.response_required,
        mRID=row.mrid,
        version=row.version,
        subscribable=0,
        creationTime=row.creation_time,
        EventStatus=EventStatus(
            currentStatus=int(status.current_status),
            dateTime=status.date_time,
            potentiallySuperseded=status.potentially_superseded,
            potentiallySupersededTime=status.potentially_superseded_time,
        ),
        interval=DateTimeInterval(duration=row.duration, start=row.start),
        energyAvailable=signed_energy(row.energy_wh),
        powerAvailable=active_power(row.power_w),
        subject=subject,
    )


async def _responses(ctx: AppContext, device_id: int) -> tuple[list[FlowResponseRow], dict[str, Status], dict]:
    """A device's responses (those created by now), their statuses now, and each one's subject."""
    now = ctx.now()
    rows = [r for r in await flow_store.responses_of_device(ctx.store, device_id) if r.creation_time <= now]
    subjects = await flow_store.request_mrids(ctx.store, sorted({r.request_id for r in rows}))
    specs = [event_spec(r, subjects[r.request_id]) for r in rows]
    return rows, event_statuses(specs, now), subjects


def _table48(rows: list[Any], start: Any) -> None:
    rows.sort(key=lambda r: r.mrid, reverse=True)
    rows.sort(key=lambda r: (start(r), -r.creation_time))


# -- requests ---------------------------------------------------------------------------------------


def _check_request(doc: FlowReservationRequest, now: int) -> tuple[int, int]:
    """(power W, energy Wh) of a new request, or 400 naming the member at fault."""
    if doc.RequestStatus.requestStatus != 0:
        raise web.HTTPBadRequest(
            text="FlowReservationRequest/RequestStatus/requestStatus: a new request is 0 (Requested)"
        )
    interval = doc.intervalRequested
    if interval.duration <= 0:
        raise web.HTTPBadRequest(text="FlowReservationRequest/intervalRequested/duration: must be positive")
    if interval.start + interval.duration <= now:
        raise web.HTTPBadRequest(text="FlowReservationRequest/intervalRequested: the window has already ended")
    if doc.durationRequested is not None and doc.durationRequested > interval.duration:
        raise web.HTTPBadRequest(
            text=f"FlowReservationRequest/durationRequested: {doc.durationRequested} s does not fit in the "
            f"{interval.duration} s of intervalRequested"
        )
    power = scaled(doc.powerRequested.value, doc.powerRequested.multiplier)
    if power <= 0:
        raise web.HTTPBadRequest(
            text="FlowReservationRequest/powerRequested: must be positive (the sustained power level; "
            "energyRequested's sign tells charge from discharge)"
        )
    energy = scaled(doc.energyRequested.value, doc.energyRequested.multiplier)
    if energy == 0:
        raise web.HTTPBadRequest(text="FlowReservationRequest/energyRequested: must not be zero")
    return power, energy


async def post_request(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    device = await device_in_scope(request)
    doc = await read_resource(request, FlowReservationRequest)
    now = ctx.now()
    power, energy = _check_request(doc, now)
    doc.href = None
    interval = doc.intervalRequested
    fields = {
        "device_id": device.id,
        "mrid": doc.mRID.upper(),
        "creation_time": doc.creationTime,
        "start": interval.start,
        "duration": interval.duration,
        "power_w": power,
        "energy_wh": energy,
        "request_status": 0,
        "status_time": doc.RequestStatus.dateTime,
        "received_time": now,
        "document": encode(doc),
    }

    def decider(capacities: Any) -> Any:
        return decide(capacities, interval.start, interval.duration, power, energy)

    try:
        result = await flow_store.add_request(
            ctx.store, fields, decider, new_mrid(ctx.settings.manufacturer_pen), now, response_required(ctx)
        )
    except Conflict as exc:
        raise web.HTTPConflict(text=f"FlowReservationRequest/mRID: {exc}") from None
    return created(request_href(device.id, result.request.id))  # type: ignore[arg-type]


async def _request_in_scope(request: web.Request) -> tuple[EndDeviceRow, FlowRequestRow]:
    device = await device_in_scope(request)
    raw = request.match_info["frq"]
    row = await flow_store.request(request.app[CONTEXT].store, int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if row is None or row.device_id != device.id:
        raise web.HTTPNotFound(text="no such FlowReservationRequest")
    return device, row


async def get_requests(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    device = await device_in_scope(request)
    page = paging(request)
    rows = await flow_store.requests_of_device(ctx.store, device.id)  # type: ignore[arg-type]
    if page.after is not None:
        rows = [r for r in rows if r.start >= page.after]
    _table48(rows, lambda r: r.start)
    items = [render_request(r) for r in rows[page.start : page.start + page.limit]]
    return xml_response(
        FlowReservationRequestList(
            href=request.path,
            all=len(rows),
            results=len(items),
            FlowReservationRequest=items,
            pollRate=ctx.runtime.poll_rates.get("FlowReservationRequestList", ctx.settings.poll_rate),
        )
    )


async def get_request(request: web.Request) -> web.Response:
    _, row = await _request_in_scope(request)
    return xml_response(render_request(row))


async def put_request(request: web.Request) -> web.Response:
    """Cancel a request: the device PUTs it back with RequestStatus 1 (Cancelled); nothing else may change."""
    ctx = request.app[CONTEXT]
    _, row = await _request_in_scope(request)
    doc = await read_resource(request, FlowReservationRequest)
    stored = render_request(row)
    if doc.mRID.upper() != row.mrid:
        raise web.HTTPBadRequest(text=f"FlowReservationRequest/mRID: this request's mRID is {row.mrid}")
    if doc.RequestStatus.requestStatus != 1:
        raise web.HTTPBadRequest(
            text="FlowReservationRequest/RequestStatus/requestStatus: only a cancellation (1) can be PUT; "
            "POST a new request to ask for something else"
        )
    for name in ("creationTime", "durationRequested", "energyRequested", "intervalRequested", "powerRequested"):
        if getattr(doc, name) != getattr(stored, name):
            raise web.HTTPBadRequest(text=f"FlowReservationRequest/{name}: differs from the request; only "
                                     "RequestStatus may change")  # fmt: skip
    now = ctx.now()
    stored.href = None
    stored.RequestStatus.requestStatus = 1
    stored.RequestStatus.dateTime = now
    await flow_store.cancel_request(ctx.store, row.id, now, encode(stored))  # type: ignore[arg-type]
    return web.Response(status=204)


# -- responses --------------------------------------------------------------------------------------


async def get_responses(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    device = await device_in_scope(request)
    page = paging(request)
    rows, status, subjects = await _responses(ctx, device.id)  # type: ignore[arg-type]
    if page.after is not None:
        rows = [r for r in rows if r.start >= page.after]
    _table48(rows, lambda r: r.start)
    chosen = rows[page.start : page.start + page.limit]
    items = [render_response(r, subjects[r.request_id], status[r.mrid]) for r in chosen]
    return xml_response(
        FlowReservationResponseList(
            href=request.path,
            subscribable=0,
            all=len(rows),
            results=len(items),
            FlowReservationResponse=items,
            pollRate=ctx.runtime.poll_rates.get("FlowReservationResponseList", ctx.settings.poll_rate),
        )
    )


async def get_response(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    device = await device_in_scope(request)
    raw = request.match_info["frp"]
    rows, status, subjects = await _responses(ctx, device.id)  # type: ignore[arg-type]
    found = [r for r in rows if raw.isdigit() and r.id == int(raw)]
    if not found:
        raise web.HTTPNotFound(text="no such FlowReservationResponse")
    row = found[0]
    return xml_response(render_response(row, subjects[row.request_id], status[row.mrid]))


# -- links and events -------------------------------------------------------------------------------


async def _edev_links(request: web.Request, rows: Any) -> dict[int, dict[str, Any]]:
    store = request.app[CONTEXT].store
    ids = [row.id for row in rows]

    async def load() -> dict[int, tuple[int, int]]:
        return await flow_store.counts_by_device(store, ids)

    counts = await store.derived(("FlowReservationLists", tuple(ids)), (FlowRequestRow, FlowResponseRow), load)
    out = {}
    for row in rows:
        href = device_href(row.id)
        requests, responses = counts[row.id]
        out[row.id] = {
            "FlowReservationRequestListLink": ListLink(href=f"{href}/frq", all=requests),
            "FlowReservationResponseListLink": ListLink(href=f"{href}/frp", all=responses),
        }
    return out


async def resolve_response(ctx: Any, mrid: str) -> EventRef | None:
    """The FlowReservationResponse with this mRID; it addresses the one device that asked."""
    row = await flow_store.response_by_mrid(ctx.store, mrid)
    if row is None:
        return None
    href = response_href(row.device_id, row.id)  # type: ignore[arg-type]
    return EventRef("FlowReservation", row.mrid, href, frozenset({row.device_id}))


def setup(app: web.Application, fs: FunctionSets) -> None:
    r = app.router
    r.add_get("/edev/{edev}/frq", get_requests, allow_head=True)
    r.add_post("/edev/{edev}/frq", post_request)
    r.add_get("/edev/{edev}/frq/{frq}", get_request, allow_head=True)
    r.add_put("/edev/{edev}/frq/{frq}", put_request)
    r.add_get("/edev/{edev}/frp", get_responses, allow_head=True)
    r.add_get("/edev/{edev}/frp/{frp}", get_response, allow_head=True)
    fs.edev_links.append(_edev_links)
    fs.event_resolvers.append(resolve_response)
    fs.names += ["FlowReservationRequest", "FlowReservationResponse"]
