"""FunctionSetAssignments (IEEE 2030.5-2018 clause 8.6): a device's groups, each linking the function
sets (programs, tariffs, messages, files, ...) that apply to that group. Group membership, set by the
utility in the admin API, decides what a device sees."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gridhan.schemas.sep2 import FunctionSetAssignments, FunctionSetAssignmentsList
from gridhan.server.context import CONTEXT
from gridhan.server.identity import Principal
from gridhan.server.sep2.edev import device_href
from gridhan.server.sep2.http import paging, xml_response
from gridhan.server.sep2.registry import FUNCTION_SETS, FunctionSets
from gridhan.server.sep2.scope import device_in_scope, group_in_scope, principal
from gridhan.server.store.tables import DeviceGroupRow


async def render_fsa(request: web.Request, who: Principal, group: DeviceGroupRow, href: str) -> FunctionSetAssignments:
    links: dict[str, Any] = {}
    for contribute in request.app[FUNCTION_SETS].fsa_links:
        links.update(await contribute(request, who, group))
    return FunctionSetAssignments(
        href=href, mRID=group.mrid, description=group.description, version=group.version, subscribable=1, **links
    )


async def get_list(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    row = await device_in_scope(request)
    page = paging(request)
    result = await ctx.store.groups_of_device(row.id, page.start, page.limit)  # type: ignore[arg-type]
    base = f"{device_href(row.id)}/fsa"  # type: ignore[arg-type]
    who = principal(request)
    items = [await render_fsa(request, who, g, f"{base}/{g.id}") for g in result.rows]
    return xml_response(
        FunctionSetAssignmentsList(
            href=base,
            all=result.total,
            results=len(items),
            subscribable=1,  # clause 8.7: see gridhan.server.notify.topics
            pollRate=ctx.runtime.poll_rates["FunctionSetAssignmentsList"],
            FunctionSetAssignments=items,
        )
    )


async def get_one(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    row, group_id = await group_in_scope(request)
    group = await ctx.store.group(group_id)
    if group is None:
        raise web.HTTPNotFound(text="no such FunctionSetAssignments")
    href = f"{device_href(row.id)}/fsa/{group.id}"  # type: ignore[arg-type]
    return xml_response(await render_fsa(request, principal(request), group, href))


def setup(app: web.Application, fs: FunctionSets) -> None:
    app.router.add_get("/edev/{edev}/fsa", get_list, allow_head=True)
    app.router.add_get("/edev/{edev}/fsa/{fsa}", get_one, allow_head=True)
    fs.names.append("FunctionSetAssignments")
