"""Response function set (IEEE 2030.5-2018 clause 8.8): devices POST a Response to the URI an event's
``replyTo`` names, as its ``responseRequired`` bits ask; the utility reads who received, started, completed
or refused each event.

* ``/rsps`` ResponseSetList: GET (any registered client); linked from DeviceCapability and from every
  FunctionSetAssignments.
* ``/rsps/{set}`` ResponseSet: GET. The sets are fixed, one per event-bearing function set: ``/rsps/1``
  DER controls, ``/rsps/2`` EndDeviceControls (DRLC), ``/rsps/3`` TimeTariffIntervals (pricing),
  ``/rsps/4`` TextMessages, ``/rsps/5`` FlowReservationResponses; each event's ``replyTo`` names its set's
  ResponseList.
* ``/rsps/{set}/rsp`` ResponseList: GET (a device sees its own Responses, an aggregator its own and those
  of the devices it manages), POST a Response or a derived type the set takes (201 with Location).
* ``/rsps/{set}/rsp/{id}`` Response: GET, scoped like the list.

Rules applied to a POST, each refusal storing nothing:

* ``endDeviceLFDI`` must be the caller's own LFDI, or (an aggregator) that of a device it manages: 403.
* ``subject`` must be the mRID of an event addressed to that device, found through the event resolvers
  of the function sets (:func:`~gridhan.server.sep2.registry.resolve_event`): 400 otherwise. An event
  that exists but is addressed to other devices is refused exactly like an unknown mRID, so a device
  cannot probe another device's events.
* ``status`` must be a value of Table 27 ("Response types by function set"): 1-14 and 252-254; 0, 15-251
  and 255 are reserved. The schema lets ``status`` be left out; this server asks for it (a Response
  without a status tells the utility nothing) and answers 400 otherwise.
* Every accepted Response is kept, repeats included: clause 8.8 asks for no de-duplication and the
  sequence of statuses a device reports is what the utility reads. ``createdDateTime`` is kept as sent,
  beside the time the server received it.

Lists are ordered as Table 26 asks: ResponseSets by mRID descending, Responses by createdDateTime
descending then endDeviceLFDI ascending.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from gridhan.schemas.sep2 import ListLink
from gridhan.schemas.sep2.response import (
    RESPONSE_STATUSES,
    DERControlResponse,
    DrResponse,
    FlowReservationResponseResponse,
    PriceResponse,
    Response,
    ResponseList,
    ResponseSet,
    ResponseSetList,
    TextResponse,
)
from gridhan.schemas.xmlcodec import (
    XmlResource,
    decode,
    derived_classes,
    encode,
)
from gridhan.server.context import CONTEXT
from gridhan.server.identity import Principal
from gridhan.server.sep2.http import created, paging, read_resource, xml_response
from gridhan.server.sep2.registry import FunctionSets, resolve_event
from gridhan.server.sep2.scope import require_registered, visible_device_ids
from gridhan.server.store import responses as response_store
from gridhan.server.store.tables import DeviceGroupRow, ResponseRow

T = TypeVar("T", bound=XmlResource)

LIST_PATH = "/rsps"

#: Table 27 ("Response types by function set"): every status a Response may carry.
STATUSES: Mapping[int, str] = RESPONSE_STATUSES


@dataclass(frozen=True)
class ResponseSetSpec:
    """A ResponseSet the server hosts: which function set's events it collects responses to, and which
    Response types it takes."""

    id: int
    function_set: str
    description: str
    classes: tuple[type[Response], ...]

    @property
    def href(self) -> str:
        return f"{LIST_PATH}/{self.id}"

    @property
    def list_href(self) -> str:
        return f"{self.href}/rsp"

    def mrid(self, pen: int) -> str:
        """A stable mRID: 96 bits derived from the set's name, then the server's PEN (as the standard
        asks of the least significant 32 bits of an mRID)."""
        high = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:gridhan:ResponseSet:{self.function_set}").int >> 32
        return f"{high:024X}{pen & 0xFFFFFFFF:08X}"


#: The sets, by id: one per event-bearing function set, each taking the Response types Table 27 gives it.
RESPONSE_SETS: tuple[ResponseSetSpec, ...] = (
    ResponseSetSpec(1, "DER", "DERControl responses", (Response, DERControlResponse)),
    ResponseSetSpec(2, "DRLC", "EndDeviceControl responses", (Response, DrResponse)),
    ResponseSetSpec(3, "Pricing", "TimeTariffInterval responses", (Response, PriceResponse)),
    ResponseSetSpec(4, "Messaging", "TextMessage responses", (Response, TextResponse)),
    ResponseSetSpec(5, "FlowReservation", "Flow reservation responses", (Response, FlowReservationResponseResponse)),
)
#: The ``replyTo`` of DERControls (IEEE 2030.5-2018 clause 10.10 / 8.8.3).
DER_REPLY_TO = RESPONSE_SETS[0].list_href
#: The ``replyTo`` of EndDeviceControls (clause 10.3, DRLC).
DRLC_REPLY_TO = RESPONSE_SETS[1].list_href
#: The ``replyTo`` of TimeTariffIntervals (clause 10.5, Pricing).
PRICING_REPLY_TO = RESPONSE_SETS[2].list_href
#: The ``replyTo`` of TextMessages (Messaging).
MESSAGING_REPLY_TO = RESPONSE_SETS[3].list_href
#: The ``replyTo`` of FlowReservationResponses (clause 10.9, Flow Reservation).
FLOW_RESERVATION_REPLY_TO = RESPONSE_SETS[4].list_href


def response_set(raw: str) -> ResponseSetSpec:
    for spec in RESPONSE_SETS:
        if raw == str(spec.id):
            return spec
    raise web.HTTPNotFound(text="no such ResponseSet")


def response_class(kind: str) -> type[Response]:
    """The Response class whose element name is ``kind``."""
    for cls in derived_classes(Response):
        if cls.XML_NAME == kind:
            return cls
    raise KeyError(kind)


# -- rendering -----------------------------------------------------------------------------------------


def render_response(row: ResponseRow) -> Response:
    doc = decode(bytes(row.document), response_class(row.kind))
    doc.href = f"{LIST_PATH}/{row.set_id}/rsp/{row.id}"
    return doc


def render_set(spec: ResponseSetSpec, pen: int, count: int) -> ResponseSet:
    return ResponseSet(
        href=spec.href,
        mRID=spec.mrid(pen),
        description=spec.description,
        ResponseListLink=ListLink(href=spec.list_href, all=count),
    )


# -- handlers ------------------------------------------------------------------------------------------


async def get_set_list(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    require_registered(request)
    page = paging(request)
    counts = await response_store.count_in_scope(ctx.store, await visible_device_ids(request))
    pen = ctx.settings.manufacturer_pen
    ordered = sorted(RESPONSE_SETS, key=lambda spec: (spec.mrid(pen), spec.id), reverse=True)
    items = [render_set(s, pen, counts.get(s.id, 0)) for s in ordered[page.start : page.start + page.limit]]
    return xml_response(
        ResponseSetList(
            href=LIST_PATH,
            all=len(RESPONSE_SETS),
            results=len(items),
            pollRate=ctx.runtime.poll_rates.get("ResponseSetList", ctx.settings.poll_rate),
            ResponseSet=items,
        )
    )


async def get_set(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    require_registered(request)
    spec = response_set(request.match_info["set"])
    counts = await response_store.count_in_scope(ctx.store, await visible_device_ids(request))
    return xml_response(render_set(spec, ctx.settings.manufacturer_pen, counts.get(spec.id, 0)))


async def get_response_list(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    require_registered(request)
    spec = response_set(request.match_info["set"])
    page = paging(request)
    ids = await visible_device_ids(request)
    result = await response_store.responses_in_scope(ctx.store, spec.id, ids, page.start, page.limit, page.after)
    items = [render_response(r) for r in result.rows]
    return xml_response(ResponseList(href=spec.list_href, all=result.total, results=len(items), Response=items))


async def post_response(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    who = require_registered(request)
    spec = response_set(request.match_info["set"])
    body = await read_resource(request, spec.classes)
    device_id = await _responding_device(request, who, body)
    if body.status is None:
        raise web.HTTPBadRequest(
            text=f"{body.XML_NAME}/status: required by this server (the status of Table 27 being reported)"
        )
    if body.status not in STATUSES:
        raise web.HTTPBadRequest(
            text=f"{body.XML_NAME}/status: {body.status} is not a status Table 27 defines (1-14, 252-254)"
        )
    event = await resolve_event(request.app[CONTEXT], body.subject)
    if event is None or device_id not in event.device_ids:
        raise web.HTTPBadRequest(
            text=f"{body.XML_NAME}/subject: no event with mRID {body.subject} is addressed to the EndDevice "
            f"of LFDI {body.endDeviceLFDI}"
        )
    body.href = None
    row = await response_store.add_response(
        ctx.store,
        set_id=spec.id,
        device_id=device_id,
        end_device_lfdi=body.endDeviceLFDI,
        subject=body.subject,
        status=body.status,
        created_date_time=body.createdDateTime,
        received_time=ctx.now(),
        kind=body.XML_NAME,
        document=encode(body),
    )
    return created(f"{spec.list_href}/{row.id}")


async def _responding_device(request: web.Request, who: Principal, body: Response) -> int:
    """The EndDevice a Response speaks for: the caller's own, or (an aggregator) one it manages; 403 for any
    other LFDI (another client's device answers exactly like an unknown LFDI)."""
    ids = await visible_device_ids(request)
    lfdi = body.endDeviceLFDI
    row = await request.app[CONTEXT].store.device_by_lfdi(lfdi)
    if row is None or row.revoked or row.id not in ids:
        whose = "this client or of a device it manages" if who.kind == "aggregator" else "this client"
        raise web.HTTPForbidden(text=f"{body.XML_NAME}/endDeviceLFDI: {lfdi} is not the LFDI of {whose}")
    return row.id  # type: ignore[return-value]


async def get_response(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    require_registered(request)
    spec = response_set(request.match_info["set"])
    raw = request.match_info["rsp"]
    row = (
        await response_store.response(ctx.store, spec.id, int(raw))
        if raw.isascii() and raw.isdigit() and len(raw) < 10
        else None
    )
    if row is None or row.device_id not in await visible_device_ids(request):
        raise web.HTTPNotFound(text="no such Response")
    return xml_response(render_response(row))


# -- links -------------------------------------------------------------------------------------------


def _set_list_link() -> ListLink:
    return ListLink(href=LIST_PATH, all=len(RESPONSE_SETS))


async def _dcap_links(_request: web.Request, who: Principal) -> dict[str, Any]:
    return {"ResponseSetListLink": _set_list_link()} if who.registered else {}


async def _fsa_links(_request: web.Request, _who: Principal, _group: DeviceGroupRow) -> dict[str, Any]:
    return {"ResponseSetListLink": _set_list_link()}


def setup(app: web.Application, fs: FunctionSets) -> None:
    r = app.router
    r.add_get(LIST_PATH, get_set_list, allow_head=True)
    r.add_get(LIST_PATH + "/{set}", get_set, allow_head=True)
    r.add_get(LIST_PATH + "/{set}/rsp", get_response_list, allow_head=True)
    r.add_post(LIST_PATH + "/{set}/rsp", post_response)
    r.add_get(LIST_PATH + "/{set}/rsp/{rsp}", get_response, allow_head=True)
    fs.dcap_links.append(_dcap_links)
    fs.fsa_links.append(_fsa_links)
    fs.names.append("Response")
    # The admin API (a separate application on the same context) resolves events through this registry.
    app[CONTEXT].function_sets = fs


__all__ = [
    "DER_REPLY_TO",
    "RESPONSE_SETS",
    "STATUSES",
    "ResponseSetSpec",
    "render_response",
    "response_class",
    "setup",
]
