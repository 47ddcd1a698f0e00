"""End Device function set (IEEE 2030.5-2018 clause 8.5) with Registration, and the documents a device
keeps about itself on the server: DeviceInformation, DeviceStatus, PowerStatus (End Device function set, clause 8.5).

* ``/edev`` EndDeviceList: GET (scoped by the caller: a device sees itself; an aggregator sees its own
  EndDevice first, then those it manages; an unregistered client sees an empty list), POST (in-band
  registration).
* ``/edev/{id}`` EndDevice: GET, DELETE (by the managing aggregator).
* ``/edev/{id}/rg`` Registration: GET.
* ``/edev/{id}/di``, ``/ds``, ``/ps``: GET, PUT by the device (or its aggregator); every PUT is kept.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import platform
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from cryptography import x509

from gridhan.certs.identity import lfdi_of
from gridhan.schemas.identifiers import format_sfdi, sfdi_from_lfdi
from gridhan.schemas.sep2 import (
    DeviceInformation,
    DeviceStatus,
    EndDevice,
    EndDeviceList,
    Link,
    ListLink,
    PowerStatus,
    Registration,
    SelfDevice,
)
from gridhan.schemas.xmlcodec import XmlResource, decode, encode
from gridhan.server.context import CONTEXT
from gridhan.server.identity import Principal
from gridhan.server.sep2.http import created, memo_response, no_content, paging, read_resource, xml_response
from gridhan.server.sep2.registry import FunctionSets, end_device_links
from gridhan.server.sep2.scope import device_in_scope, principal, visible_device_ids
from gridhan.server.store.pubsub import subscription_counts
from gridhan.server.store.repo import Conflict
from gridhan.server.store.tables import EndDeviceRow

LIST_PATH = "/edev"
SELF_PATH = "/sdev"

#: Per-device documents: path suffix -> resource class.
DOCUMENTS: dict[str, type[XmlResource]] = {"di": DeviceInformation, "ds": DeviceStatus, "ps": PowerStatus}


def device_href(device_id: int) -> str:
    return f"{LIST_PATH}/{device_id}"


def render_end_device(
    row: EndDeviceRow,
    counts: tuple[int, int],
    csip_aus: bool = False,
    subscriptions: int | None = None,
    links: Mapping[str, Any] | None = None,
) -> EndDevice:
    """An EndDevice (clause 8.5) with its own links and ``links`` the other function sets add."""
    href = device_href(row.id)  # type: ignore[arg-type]
    fsa_count, log_count = counts
    return EndDevice(
        href=href,
        subscribable=1,  # non-conditional subscriptions (clause 8.7, gridhan.server.notify.topics)
        DERListLink=ListLink(href=f"{href}/der", all=1),
        deviceCategory=row.device_category,
        DeviceInformationLink=Link(href=f"{href}/di"),
        DeviceStatusLink=Link(href=f"{href}/ds"),
        lFDI=row.lfdi,
        LogEventListLink=ListLink(href=f"{href}/lel", all=log_count),
        PowerStatusLink=Link(href=f"{href}/ps"),
        sFDI=row.sfdi,
        changedTime=row.changed_time,
        enabled=row.enabled,
        FunctionSetAssignmentsListLink=ListLink(href=f"{href}/fsa", all=fsa_count),
        postRate=row.post_rate,
        RegistrationLink=Link(href=f"{href}/rg") if row.pin is not None and row.registered_time is not None else None,
        SubscriptionListLink=None if subscriptions is None else ListLink(href=f"{href}/sub", all=subscriptions),
        ConnectionPointLink=Link(href=f"{href}/cp") if csip_aus else None,
        **(links or {}),
    )


async def get_list(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    page = paging(request)
    ids = await visible_device_ids(request)
    poll = ctx.runtime.poll_rates["EndDeviceList"]
    if not ids:
        return xml_response(EndDeviceList(href=LIST_PATH, all=0, results=0, subscribable=0, pollRate=poll))
    who = principal(request)
    first = who.device_id if who.kind == "aggregator" else None
    result = await ctx.store.devices_in_scope(ids, page.start, page.limit, first_id=first, after=page.after)
    counts = await ctx.store.link_counts([r.id for r in result.rows])
    subs = await subscription_counts(ctx.store, [r.id for r in result.rows])  # type: ignore[misc]
    csip_aus = ctx.settings.csip_aus
    links = await end_device_links(request, result.rows)
    items = [render_end_device(r, counts[r.id], csip_aus, subs[r.id], links[r.id]) for r in result.rows]
    return xml_response(
        EndDeviceList(
            href=LIST_PATH, all=result.total, results=len(items), subscribable=0, pollRate=poll, EndDevice=items
        )
    )


async def post_list(request: web.Request) -> web.Response:
    """In-band registration (clause 8.5.3): a direct device registers itself (its LFDI and SFDI come from
    its certificate); an aggregator registers the devices it manages (it supplies their LFDI and SFDI).
    A POST of an EndDevice that already exists for this caller creates nothing and answers with the
    existing resource's Location."""
    ctx = request.app[CONTEXT]
    who = principal(request)
    body = await read_resource(request, EndDevice)
    now = ctx.now()
    if who.kind == "aggregator":
        if body.lFDI is None:
            raise web.HTTPBadRequest(text="EndDevice/lFDI: an aggregator must supply the LFDI of the device")
        lfdi = body.lFDI
        if sfdi_from_lfdi(lfdi) != body.sFDI:
            raise web.HTTPBadRequest(
                text=f"EndDevice/sFDI: {body.sFDI} is not the SFDI of lFDI {lfdi} "
                f"(expected {format_sfdi(sfdi_from_lfdi(lfdi))})"
            )
        existing = await ctx.store.device_by_lfdi(lfdi)
        if existing is not None:
            if existing.id == who.device_id or existing.aggregator_id == who.device_id:
                return created(device_href(existing.id))  # type: ignore[arg-type]
            raise web.HTTPConflict(text=f"EndDevice/lFDI: {lfdi} is registered to another client")
        fields: dict[str, Any] = {"aggregator_id": who.device_id}
    else:
        _check_own_identity(body, who)
        if who.device_id is not None:
            return created(device_href(who.device_id))
        if not ctx.runtime.inband_registration:
            raise web.HTTPForbidden(
                text="in-band registration is switched off: the utility registers this device's LFDI"
            )
        lfdi, fields = who.lfdi, {}
    try:
        row = await ctx.store.create_device(
            lfdi=lfdi,
            sfdi=sfdi_from_lfdi(lfdi),
            device_category=body.deviceCategory,
            enabled=True if body.enabled is None else body.enabled,
            changed_time=now,
            post_rate=body.postRate,
            created_by="in-band",
            **fields,
        )
    except Conflict:  # registered concurrently
        row = await ctx.store.device_by_lfdi(lfdi)
        assert row is not None
    ctx.identities.invalidate(lfdi)
    return created(device_href(row.id))  # type: ignore[arg-type]


def _check_own_identity(body: EndDevice, who: Principal) -> None:
    if body.sFDI != who.sfdi:
        raise web.HTTPForbidden(
            text=f"EndDevice/sFDI: {body.sFDI} does not match the client certificate (SFDI {format_sfdi(who.sfdi)})"
        )
    if body.lFDI is not None and body.lFDI != who.lfdi:
        raise web.HTTPForbidden(
            text=f"EndDevice/lFDI: {body.lFDI} does not match the client certificate (LFDI {who.lfdi})"
        )


async def get_device(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    row = await device_in_scope(request)
    counts = (await ctx.store.link_counts([row.id]))[row.id]  # type: ignore[list-item, index]
    subs = (await subscription_counts(ctx.store, [row.id]))[row.id]  # type: ignore[list-item, index]
    links = (await end_device_links(request, [row]))[row.id]  # type: ignore[index]
    # every value render_end_device reads is in the key
    key = ("EndDevice", row.id, row.lfdi, row.sfdi, row.device_category, row.enabled, row.changed_time,
           row.post_rate, row.pin is None or row.registered_time is None, counts, subs,
           *sorted((name, link.href, getattr(link, "all", None)) for name, link in links.items()))  # fmt: skip
    csip_aus = ctx.settings.csip_aus
    return memo_response(request, key, lambda: render_end_device(row, counts, csip_aus, subs, links))


async def delete_device(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    who = principal(request)
    row = await device_in_scope(request)
    if who.kind != "aggregator" or row.id == who.device_id:
        raise web.HTTPForbidden(text="only the utility or the managing aggregator may delete this EndDevice")
    await ctx.store.delete_device(row.id)  # type: ignore[arg-type]
    ctx.identities.invalidate(row.lfdi)
    return no_content()


async def get_registration(request: web.Request) -> web.Response:
    row = await device_in_scope(request)
    if row.pin is None or row.registered_time is None:
        raise web.HTTPNotFound(text="this EndDevice has no Registration")
    return xml_response(
        Registration(
            href=f"{device_href(row.id)}/rg",  # type: ignore[arg-type]
            dateTimeRegistered=row.registered_time,
            pIN=row.pin,
            pollRate=request.app[CONTEXT].runtime.poll_rates["EndDevice"],
        )
    )


def _document_handlers(suffix: str, cls: type[XmlResource]) -> tuple[Any, Any]:
    async def get_document(request: web.Request) -> web.Response:
        ctx = request.app[CONTEXT]
        row = await device_in_scope(request)
        record = await ctx.store.latest_record(row.id, cls.XML_NAME)  # type: ignore[arg-type]
        if record is None:
            raise web.HTTPNotFound(text=f"this EndDevice has not reported its {cls.XML_NAME}")
        doc = decode(record.document, cls)
        doc.href = f"{device_href(row.id)}/{suffix}"  # type: ignore[arg-type, attr-defined]
        return xml_response(doc)

    async def put_document(request: web.Request) -> web.Response:
        ctx = request.app[CONTEXT]
        row = await device_in_scope(request)
        doc = await read_resource(request, cls)
        lfdi = getattr(doc, "lFDI", None)
        if lfdi is not None and lfdi != row.lfdi:
            raise web.HTTPBadRequest(text=f"{cls.XML_NAME}/lFDI: {lfdi} is not the LFDI of this EndDevice")
        doc.href = None  # type: ignore[attr-defined]
        await ctx.store.put_record(row.id, cls.XML_NAME, encode(doc), ctx.now())  # type: ignore[arg-type]
        return no_content()

    return get_document, put_document


def self_device_information(cert: x509.Certificate, mf_id: int, started: int) -> DeviceInformation:
    """The server's own DeviceInformation (reached from SelfDevice, clause 8.5): its identity comes from
    its certificate, its software from this installation."""
    return DeviceInformation(
        lFDI=lfdi_of(cert),
        mfDate=int(cert.not_valid_before_utc.timestamp()),
        mfHwVer=platform.machine()[:32] or "unknown",
        mfID=mf_id,
        mfModel="gridhan",
        mfSerNum=f"{cert.serial_number:X}"[-32:],
        primaryPower=1,
        secondaryPower=0,
        swActTime=started,
        swVer=_version()[:32],
    )


def _version() -> str:
    try:
        return importlib.metadata.version("gridhan")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


async def get_self_device(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    info = ctx.self_information
    if info is None:
        raise web.HTTPNotFound(text="this server has no SelfDevice")
    return xml_response(
        SelfDevice(
            href=SELF_PATH,
            subscribable=0,
            DeviceInformationLink=Link(href=f"{SELF_PATH}/di"),
            lFDI=info.lFDI,
            sFDI=sfdi_from_lfdi(info.lFDI),
            pollRate=ctx.runtime.poll_rates["SelfDevice"],
        )
    )


async def get_self_information(request: web.Request) -> web.Response:
    info = request.app[CONTEXT].self_information
    if info is None:
        raise web.HTTPNotFound(text="this server has no SelfDevice")
    return xml_response(dataclasses.replace(info, href=f"{SELF_PATH}/di"))


async def _dcap_links(request: web.Request, who: Principal) -> dict[str, Any]:
    if who.device_id is None:
        count = 0
    elif who.kind == "aggregator":
        count = len(await request.app[CONTEXT].store.managed_device_ids(who.device_id))
    else:
        count = 1
    links: dict[str, Any] = {"EndDeviceListLink": ListLink(href=LIST_PATH, all=count)}
    if request.app[CONTEXT].self_information is not None:
        links["SelfDeviceLink"] = Link(href=SELF_PATH)
    return links


def setup(app: web.Application, fs: FunctionSets) -> None:
    r = app.router
    r.add_get(LIST_PATH, get_list, allow_head=True)
    r.add_post(LIST_PATH, post_list)
    r.add_get(LIST_PATH + "/{edev}", get_device, allow_head=True)
    r.add_delete(LIST_PATH + "/{edev}", delete_device)
    r.add_get(LIST_PATH + "/{edev}/rg", get_registration, allow_head=True)
    for suffix, cls in DOCUMENTS.items():
        get_doc, put_doc = _document_handlers(suffix, cls)
        r.add_get(f"{LIST_PATH}/{{edev}}/{suffix}", get_doc, allow_head=True)
        r.add_put(f"{LIST_PATH}/{{edev}}/{suffix}", put_doc)
    r.add_get(SELF_PATH, get_self_device, allow_head=True)
    r.add_get(SELF_PATH + "/di", get_self_information, allow_head=True)
    fs.dcap_links.append(_dcap_links)
    fs.names += ["EndDevice", "Registration", "DeviceInformation", "DeviceStatus", "PowerStatus", "SelfDevice"]
