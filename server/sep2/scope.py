"""Scoping of every 2030.5 query by the caller (clause 6.11 on access control; 8.5.3 on EndDevice
filtering). A resource outside the caller's scope answers exactly like one that does not exist."""

from __future__ import annotations

from aiohttp import web

from gridhan.server.context import CONTEXT
from gridhan.server.identity import PRINCIPAL, Principal
from gridhan.server.store.tables import EndDeviceRow


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def require_registered(request: web.Request) -> Principal:
    """The registered principal, or 403: unregistered certificates reach only DeviceCapability, Time and
    (when the utility allows in-band registration) the EndDeviceList."""
    who = request[PRINCIPAL]
    if not who.registered:
        raise web.HTTPForbidden(text=f"certificate of LFDI {who.lfdi} is not registered with this server")
    return who


async def visible_device_ids(request: web.Request) -> list[int]:
    """The EndDevices the caller may see: its own (an aggregator's own first, then those it manages)."""
    who = request[PRINCIPAL]
    if who.device_id is None:
        return []
    if who.kind == "aggregator":
        return await request.app[CONTEXT].store.managed_device_ids(who.device_id)
    return [who.device_id]


async def device_in_scope(request: web.Request) -> EndDeviceRow:
    """The EndDevice named by the ``{edev}`` path segment, if the caller may see it; 404 otherwise."""
    who = require_registered(request)
    raw = request.match_info["edev"]
    if not raw.isdigit():
        raise web.HTTPNotFound(text="no such EndDevice")
    row = await request.app[CONTEXT].store.device(int(raw))
    if row is None or row.revoked:
        raise web.HTTPNotFound(text="no such EndDevice")
    if row.id == who.device_id or (who.kind == "aggregator" and row.aggregator_id == who.device_id):
        return row
    raise web.HTTPNotFound(text="no such EndDevice")


async def group_in_scope(request: web.Request) -> tuple[EndDeviceRow, int]:
    """The EndDevice of ``{edev}`` and the group id of ``{fsa}`` (a FunctionSetAssignments, clause 8.6), if
    the caller may see the device and the device is in the group; 404 otherwise."""
    device = await device_in_scope(request)
    raw = request.match_info["fsa"]
    if not raw.isdigit() or int(raw) not in await request.app[CONTEXT].store.group_ids_of_device(device.id):  # type: ignore[arg-type]
        raise web.HTTPNotFound(text="no such FunctionSetAssignments")
    return device, int(raw)
