"""Devices: the utility's register of EndDevices (IEEE 2030.5-2018 clause 8.5), their Registration
(clause 8.5 / 6.3.5: the PIN), certificates (clause 6.11) and what they reported about themselves.

* ``POST /api/v1/devices`` pre-registers a device by LFDI or by certificate; ``GET`` lists them.
* ``GET/PATCH/DELETE /api/v1/devices/{id}``; ``POST .../revoke`` and ``.../reinstate``.
* ``GET .../records/{kind}``: DeviceInformation, DeviceStatus, PowerStatus, current and history.
* ``GET .../log-events``: the LogEvents (Log Event function set) it posted.

After every change the identity cache forgets the LFDI (the next request or handshake reads the new
state), and a change to a self-signed certificate rebuilds the TLS context of the 2030.5 listener.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from aiohttp import web

from gridhan.certs.identity import der_of, is_self_signed, lfdi_of
from gridhan.schemas.identifiers import sfdi_from_lfdi
from gridhan.schemas.sep2 import DeviceInformation, DeviceStatus, PowerStatus
from gridhan.schemas.xmlcodec import XmlResource
from gridhan.server.admin.serialize import API, device_json, device_location, log_event_json, record_json
from gridhan.server.admin.validation import (
    Member,
    bad_request,
    boolean,
    certificate_pem,
    hex_string,
    identifier,
    identifier_list,
    integer,
    lfdi,
    not_found,
    page_params,
    path_id,
    pin,
    query_int,
    read_json_object,
    read_members,
    string,
)
from gridhan.server.context import CONTEXT, AppContext
from gridhan.server.store.repo import Conflict, Page
from gridhan.server.store.tables import EndDeviceRow

#: Members of the body that creates a device (``POST /devices`` and ``POST /aggregators``).
CREATE_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "lfdi": Member(lfdi),
        "certificate": Member(certificate_pem),
        "pin": Member(pin, nullable=True),
        "groups": Member(identifier_list),
        "aggregator_id": Member(identifier, nullable=True),
        "is_aggregator": Member(boolean),
        "label": Member(string(64), nullable=True),
        "device_category": Member(hex_string(8), nullable=True),
        "enabled": Member(boolean),
        "post_rate": Member(integer(1), nullable=True),
    }
)
#: Members ``PATCH /devices/{id}`` may change.
PATCH_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        name: CREATE_MEMBERS[name]
        for name in ("label", "pin", "enabled", "post_rate", "device_category", "aggregator_id", "groups")
    }
)
#: ``records/{kind}`` -> the resource class whose documents the device PUT (kept under its XML name).
RECORD_KINDS: Mapping[str, type[XmlResource]] = MappingProxyType(
    {
        "device-information": DeviceInformation,
        "device-status": DeviceStatus,
        "power-status": PowerStatus,
    }
)


def _reference_error(exc: LookupError | ValueError) -> web.HTTPBadRequest:
    """A refused reference from the store (unknown group, unknown or non-aggregator aggregator)."""
    message = str(exc.args[0]) if exc.args else str(exc)
    field = "groups" if "group" in message else "aggregator_id"
    return bad_request(f"{field}: {message}")


async def device_or_404(ctx: AppContext, device_id: int) -> EndDeviceRow:
    row = await ctx.store.device(device_id)
    if row is None:
        raise not_found(f"no device with id {device_id}")
    return row


async def one_device_json(ctx: AppContext, row: EndDeviceRow) -> dict[str, Any]:
    return device_json(row, await ctx.store.group_ids_of_device(row.id))  # type: ignore[arg-type]


async def page_json(ctx: AppContext, page: Page) -> dict[str, Any]:
    """``{"total", "items"}`` of a page of devices."""
    groups = await ctx.store.group_ids_by_device([r.id for r in page.rows])
    return {"total": page.total, "items": [device_json(r, groups[r.id]) for r in page.rows]}


async def create(request: web.Request, *, aggregator: bool) -> web.Response:
    """Create an EndDevice from an operator's body (shared by devices and aggregators)."""
    ctx = request.app[CONTEXT]
    body = read_members(await read_json_object(request), CREATE_MEMBERS)
    if ("lfdi" in body) == ("certificate" in body):
        raise bad_request("lfdi, certificate: give exactly one of the two (the LFDI, or the PEM certificate)")
    if aggregator:
        if body.get("is_aggregator") is False:
            raise bad_request("is_aggregator: an aggregator is created with is_aggregator true")
        body["is_aggregator"] = True
    if body.get("is_aggregator") and body.get("aggregator_id") is not None:
        raise bad_request("aggregator_id: an aggregator is not managed by another aggregator")
    now = ctx.now()
    fields: dict[str, Any] = {
        name: body[name]
        for name in (
            "aggregator_id",
            "is_aggregator",
            "label",
            "device_category",
            "enabled",
            "post_rate",
            "pin",
        )
        if name in body and body[name] is not None
    }
    if "certificate" in body:
        cert = body["certificate"]
        fields.update(lfdi=lfdi_of(cert), certificate=der_of(cert), self_signed=is_self_signed(cert))
    else:
        fields["lfdi"] = body["lfdi"]
    fields.update(sfdi=sfdi_from_lfdi(fields["lfdi"]), changed_time=now, created_by="admin")
    if fields.get("pin") is not None:
        fields["registered_time"] = now
    try:
        row = await ctx.store.create_device_in_groups(fields, body.get("groups", []))
    except Conflict:
        raise web.HTTPConflict(text=f"lfdi: a device with LFDI {fields['lfdi']} already exists") from None
    except (LookupError, ValueError) as exc:
        raise _reference_error(exc) from None
    ctx.identities.invalidate(row.lfdi)
    if row.self_signed:
        await ctx.trust_changed()
    return web.json_response(
        await one_device_json(ctx, row),
        status=201,
        headers={"Location": device_location(row.id)},  # type: ignore[arg-type]
    )


async def create_device(request: web.Request) -> web.Response:
    """Pre-register an EndDevice (clause 8.5) by its LFDI (clause 6.3.4) or by its certificate (the LFDI is
    computed from it; a self-signed certificate becomes trusted for exactly that device, clause 6.11).
    A ``pin`` creates its Registration (``dateTimeRegistered`` now). 201 with Location; 409 when the LFDI
    is already registered."""
    return await create(request, aggregator=False)


async def list_devices(request: web.Request) -> web.Response:
    """The registered devices by id, a page at a time; ``group`` keeps the members of a group,
    ``aggregator`` the devices an aggregator manages."""
    ctx = request.app[CONTEXT]
    offset, limit = page_params(request)
    group = query_int(request, "group", None, lo=1)
    aggregator = query_int(request, "aggregator", None, lo=1)
    page = await ctx.store.list_devices(start=offset, limit=limit, aggregator_id=aggregator, group_id=group)
    return web.json_response(await page_json(ctx, page))


async def get_device(request: web.Request) -> web.Response:
    """One device, with its group ids."""
    ctx = request.app[CONTEXT]
    row = await device_or_404(ctx, path_id(request, "device"))
    return web.json_response(await one_device_json(ctx, row))


async def patch_device(request: web.Request) -> web.Response:
    """Change a device: ``label``, ``pin`` (its Registration, clause 8.5; null removes it), ``enabled`` and
    ``post_rate`` (EndDevice.enabled, EndDevice.postRate), ``device_category``, ``aggregator_id`` (null:
    not managed), ``groups`` (its FunctionSetAssignments, clause 8.6). All are checked before any is
    applied, and all are applied in one transaction; EndDevice.changedTime becomes now."""
    ctx = request.app[CONTEXT]
    device_id = path_id(request, "device")
    body = read_members(await read_json_object(request), PATCH_MEMBERS)
    groups = body.pop("groups", None)
    fields = dict(body)
    if "pin" in fields:
        fields["registered_time"] = None if fields["pin"] is None else ctx.now()
    if not fields and groups is None:
        return web.json_response(await one_device_json(ctx, await device_or_404(ctx, device_id)))
    fields["changed_time"] = ctx.now()
    try:
        row = await ctx.store.update_device_and_groups(device_id, fields, groups)
    except (LookupError, ValueError) as exc:
        raise _reference_error(exc) from None
    if row is None:
        raise not_found(f"no device with id {device_id}")
    ctx.identities.invalidate(row.lfdi)
    return web.json_response(await one_device_json(ctx, row))


async def delete_device(request: web.Request) -> web.Response:
    """Forget a device, with its records, log events and group memberships; the devices an aggregator
    managed stay registered, unmanaged. A self-signed certificate stops being trusted from the next
    handshake. 204."""
    ctx = request.app[CONTEXT]
    device_id = path_id(request, "device")
    deleted = await ctx.store.delete_device_releasing(device_id, ctx.now())
    if deleted is None:
        raise not_found(f"no device with id {device_id}")
    row, released = deleted
    for lfdi_ in (row.lfdi, *released):
        ctx.identities.invalidate(lfdi_)
    if row.self_signed:
        await ctx.trust_changed()
    return web.Response(status=204)


async def _set_revoked(request: web.Request, revoked: bool) -> web.Response:
    ctx = request.app[CONTEXT]
    device_id = path_id(request, "device")
    row = await device_or_404(ctx, device_id)
    if row.revoked != revoked:
        updated = await ctx.store.update_device(device_id, revoked=revoked, changed_time=ctx.now())
        if updated is None:
            raise not_found(f"no device with id {device_id}")
        row = updated
        ctx.identities.invalidate(row.lfdi)
        if row.self_signed:
            await ctx.trust_changed()
    return web.json_response(await one_device_json(ctx, row))


async def revoke_device(request: web.Request) -> web.Response:
    """Revoke a device's certificate (clause 6.11): its next TLS handshake is refused and requests on
    connections already open are refused (403). A revoked device keeps its records. Idempotent."""
    return await _set_revoked(request, True)


async def reinstate_device(request: web.Request) -> web.Response:
    """Undo a revocation: the device may connect again from its next handshake. Idempotent."""
    return await _set_revoked(request, False)


async def get_records(request: web.Request) -> web.Response:
    """What the device PUT about itself (clause 8.5: DeviceInformation, DeviceStatus, PowerStatus): the
    current document and the history, newest first (``offset``/``limit`` page the history)."""
    ctx = request.app[CONTEXT]
    device_id = path_id(request, "device")
    kind = request.match_info["kind"]
    cls = RECORD_KINDS.get(kind)
    if cls is None:
        raise not_found(f"no record kind {kind!r} (kinds: {', '.join(RECORD_KINDS)})")
    await device_or_404(ctx, device_id)
    offset, limit = page_params(request)
    latest = await ctx.store.latest_record(device_id, cls.XML_NAME)
    history = await ctx.store.record_history(device_id, cls.XML_NAME, offset, limit)
    return web.json_response(
        {
            "kind": cls.XML_NAME,
            "current": None if latest is None else record_json(latest, cls)["document"],
            "total": history.total,
            "history": [record_json(r, cls) for r in history.rows],
        }
    )


async def get_log_events(request: web.Request) -> web.Response:
    """The LogEvents (Log Event function set) the device posted, newest first."""
    ctx = request.app[CONTEXT]
    device_id = path_id(request, "device")
    await device_or_404(ctx, device_id)
    offset, limit = page_params(request)
    page = await ctx.store.log_events(device_id, offset, limit)
    return web.json_response({"total": page.total, "items": [log_event_json(r) for r in page.rows]})


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post(f"{API}/devices", create_device)
    r.add_get(f"{API}/devices", list_devices)
    r.add_get(f"{API}/devices/{{id}}", get_device)
    r.add_patch(f"{API}/devices/{{id}}", patch_device)
    r.add_delete(f"{API}/devices/{{id}}", delete_device)
    r.add_post(f"{API}/devices/{{id}}/revoke", revoke_device)
    r.add_post(f"{API}/devices/{{id}}/reinstate", reinstate_device)
    r.add_get(f"{API}/devices/{{id}}/records/{{kind}}", get_records)
    r.add_get(f"{API}/devices/{{id}}/log-events", get_log_events)
