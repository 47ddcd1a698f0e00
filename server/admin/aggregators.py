"""Aggregators: clients that act for the EndDevices they manage (IEEE 2030.5-2018 clause 8.5.3 and
CSIP 2.2: an aggregator sees its own EndDevice first, then those it manages, in the EndDeviceList).

* ``POST /api/v1/aggregators`` registers one (the device body, with ``is_aggregator`` true);
  ``GET`` lists them.
* ``GET/PUT /api/v1/aggregators/{id}/devices``: the devices it manages.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from aiohttp import web

from gridhan.server.admin.devices import create, device_or_404, page_json
from gridhan.server.admin.serialize import API
from gridhan.server.admin.validation import (
    Member,
    bad_request,
    identifier_list,
    not_found,
    page_params,
    path_id,
    read_json_object,
    read_members,
)
from gridhan.server.context import CONTEXT, AppContext
from gridhan.server.store.tables import EndDeviceRow

DEVICE_IDS_MEMBERS: Mapping[str, Member] = MappingProxyType({"device_ids": Member(identifier_list)})


async def aggregator_or_404(ctx: AppContext, device_id: int) -> EndDeviceRow:
    row = await device_or_404(ctx, device_id)
    if not row.is_aggregator:
        raise not_found(f"device {device_id} is not an aggregator")
    return row


async def create_aggregator(request: web.Request) -> web.Response:
    """Register an aggregator's own EndDevice (clause 8.5), by LFDI or certificate, like
    ``POST /devices`` with ``is_aggregator`` true. 201 with Location; 409 when the LFDI exists."""
    return await create(request, aggregator=True)


async def list_aggregators(request: web.Request) -> web.Response:
    """The registered aggregators by id, a page at a time."""
    ctx = request.app[CONTEXT]
    offset, limit = page_params(request)
    page = await ctx.store.list_devices(start=offset, limit=limit, aggregators_only=True)
    return web.json_response(await page_json(ctx, page))


async def list_managed(request: web.Request) -> web.Response:
    """The devices the aggregator manages (its EndDeviceList after its own EndDevice, clause 8.5.3)."""
    ctx = request.app[CONTEXT]
    aggregator_id = path_id(request, "aggregator")
    await aggregator_or_404(ctx, aggregator_id)
    offset, limit = page_params(request)
    page = await ctx.store.list_devices(start=offset, limit=limit, aggregator_id=aggregator_id)
    return web.json_response(await page_json(ctx, page))


async def put_managed(request: web.Request) -> web.Response:
    """Make ``device_ids`` exactly the devices the aggregator manages: each gets its ``aggregator_id``
    (leaving any other aggregator), those it managed and are not listed are released. One transaction:
    an unknown id or an aggregator in the list changes nothing (400). Answers the managed devices."""
    ctx = request.app[CONTEXT]
    aggregator_id = path_id(request, "aggregator")
    body = read_members(await read_json_object(request), DEVICE_IDS_MEMBERS, required=("device_ids",))
    device_ids: list[int] = body["device_ids"]
    await aggregator_or_404(ctx, aggregator_id)
    try:
        changed = await ctx.store.set_managed_devices(aggregator_id, device_ids, ctx.now())
    except (LookupError, ValueError) as exc:
        raise bad_request(f"device_ids: {exc.args[0] if exc.args else exc}") from None
    if changed is None:
        raise not_found(f"no device with id {aggregator_id}")
    for lfdi in changed:
        ctx.identities.invalidate(lfdi)
    page = await ctx.store.list_devices(start=0, limit=max(len(device_ids), 1), aggregator_id=aggregator_id)
    return web.json_response(await page_json(ctx, page))


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post(f"{API}/aggregators", create_aggregator)
    r.add_get(f"{API}/aggregators", list_aggregators)
    r.add_get(f"{API}/aggregators/{{id}}/devices", list_managed)
    r.add_put(f"{API}/aggregators/{{id}}/devices", put_managed)
