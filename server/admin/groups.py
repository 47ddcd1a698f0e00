"""Groups: each is a FunctionSetAssignments (IEEE 2030.5-2018 clause 8.6) that its member devices find
in their FunctionSetAssignmentsList; membership decides which programs a device sees.

* ``GET/POST /api/v1/groups``; ``GET/PATCH/DELETE /api/v1/groups/{id}``.
* ``PUT /api/v1/groups/{id}/members``: replace the members.

Every change bumps the group's ``version`` (FunctionSetAssignments.version, a UInt16 that wraps), so
devices polling their FunctionSetAssignmentsList see that something changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from types import MappingProxyType

from aiohttp import web

from gridhan.server.admin.serialize import API, group_json, group_location
from gridhan.server.admin.validation import (
    Member,
    bad_request,
    identifier_list,
    not_found,
    page_params,
    path_id,
    read_json_object,
    read_members,
    string,
)
from gridhan.server.context import CONTEXT, AppContext
from gridhan.server.store.repo import Conflict
from gridhan.server.store.tables import DeviceGroupRow

GROUP_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "name": Member(string(64, min_length=1)),
        # FunctionSetAssignments.description is a String32.
        "description": Member(string(32), nullable=True),
    }
)
DEVICE_IDS_MEMBERS: Mapping[str, Member] = MappingProxyType({"device_ids": Member(identifier_list)})


async def _group_json(ctx: AppContext, row: DeviceGroupRow) -> dict[str, object]:
    return group_json(row, await ctx.store.group_member_ids(row.id))  # type: ignore[arg-type]


async def list_groups(request: web.Request) -> web.Response:
    """The groups by id, a page at a time, each with its member device ids."""
    ctx = request.app[CONTEXT]
    offset, limit = page_params(request)
    page = await ctx.store.list_groups(offset, limit)
    members = await ctx.store.member_ids_by_group([g.id for g in page.rows])
    return web.json_response({"total": page.total, "items": [group_json(g, members[g.id]) for g in page.rows]})


async def create_group(request: web.Request) -> web.Response:
    """Create a group (a FunctionSetAssignments, clause 8.6) with a fresh mRID (128 bits, upper-case hex)
    and version 0. 201 with Location; 409 when the name is taken."""
    ctx = request.app[CONTEXT]
    body = read_members(await read_json_object(request), GROUP_MEMBERS, required=("name",))
    try:
        row = await ctx.store.create_group(
            name=body["name"], description=body.get("description"), mrid=uuid.uuid4().hex.upper(), version=0
        )
    except Conflict:
        raise web.HTTPConflict(text=f"name: a group named {body['name']!r} already exists") from None
    return web.json_response(
        group_json(row, []),
        status=201,
        headers={"Location": group_location(row.id)},  # type: ignore[arg-type]
    )


async def _group_or_404(ctx: AppContext, group_id: int) -> DeviceGroupRow:
    row = await ctx.store.group(group_id)
    if row is None:
        raise not_found(f"no group with id {group_id}")
    return row


async def get_group(request: web.Request) -> web.Response:
    """One group with its member device ids."""
    ctx = request.app[CONTEXT]
    return web.json_response(await _group_json(ctx, await _group_or_404(ctx, path_id(request, "group"))))


async def patch_group(request: web.Request) -> web.Response:
    """Rename a group or change its description (FunctionSetAssignments.description); bumps its version.
    409 when the new name is taken."""
    ctx = request.app[CONTEXT]
    group_id = path_id(request, "group")
    body = read_members(await read_json_object(request), GROUP_MEMBERS)
    if not body:
        return web.json_response(await _group_json(ctx, await _group_or_404(ctx, group_id)))
    try:
        row = await ctx.store.update_group(group_id, **body)
    except Conflict:
        raise web.HTTPConflict(text=f"name: a group named {body['name']!r} already exists") from None
    if row is None:
        raise not_found(f"no group with id {group_id}")
    return web.json_response(await _group_json(ctx, row))


async def delete_group(request: web.Request) -> web.Response:
    """Delete a group: its members stop seeing its FunctionSetAssignments (their EndDevice.changedTime
    becomes now). 204."""
    ctx = request.app[CONTEXT]
    group_id = path_id(request, "group")
    lfdis = await ctx.store.delete_group_of_members(group_id, ctx.now())
    if lfdis is None:
        raise not_found(f"no group with id {group_id}")
    for lfdi in lfdis:
        ctx.identities.invalidate(lfdi)
    return web.Response(status=204)


async def put_members(request: web.Request) -> web.Response:
    """Make ``device_ids`` exactly the group's members and bump its version, in one transaction: an
    unknown device id changes nothing (400). Devices that joined or left get EndDevice.changedTime now
    (their FunctionSetAssignmentsList changed, clause 8.6)."""
    ctx = request.app[CONTEXT]
    group_id = path_id(request, "group")
    body = read_members(await read_json_object(request), DEVICE_IDS_MEMBERS, required=("device_ids",))
    try:
        result = await ctx.store.replace_group_members(group_id, body["device_ids"], ctx.now())
    except LookupError as exc:
        raise bad_request(f"device_ids: {exc.args[0] if exc.args else exc}") from None
    if result is None:
        raise not_found(f"no group with id {group_id}")
    row, lfdis = result
    for lfdi in lfdis:
        ctx.identities.invalidate(lfdi)
    return web.json_response(await _group_json(ctx, row))


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get(f"{API}/groups", list_groups)
    r.add_post(f"{API}/groups", create_group)
    r.add_get(f"{API}/groups/{{id}}", get_group)
    r.add_patch(f"{API}/groups/{{id}}", patch_group)
    r.add_delete(f"{API}/groups/{{id}}", delete_group)
    r.add_put(f"{API}/groups/{{id}}/members", put_members)
