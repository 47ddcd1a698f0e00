"""DeviceCapability, the entry point of discovery (IEEE 2030.5-2018, Device Capability function set).

It links exactly the function sets this server offers: the links come from the function-set modules
through :class:`~gridhan.server.sep2.registry.FunctionSets`.
"""

from __future__ import annotations

from aiohttp import web

from gridhan.schemas.sep2 import DeviceCapability
from gridhan.server.context import CONTEXT
from gridhan.server.sep2.http import memo_response
from gridhan.server.sep2.registry import FUNCTION_SETS, FunctionSets
from gridhan.server.sep2.scope import principal

PATH = "/dcap"


async def get_dcap(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    who = principal(request)
    links: dict = {}
    for contribute in request.app[FUNCTION_SETS].dcap_links:
        links.update(await contribute(request, who))
    poll = ctx.runtime.poll_rates["DeviceCapability"]
    key = (
        "DeviceCapability",
        poll,
        *sorted((name, link.href, getattr(link, "all", None)) for name, link in links.items()),
    )
    return memo_response(request, key, lambda: DeviceCapability(href=PATH, pollRate=poll, **links))


def setup(app: web.Application, fs: FunctionSets) -> None:
    app.router.add_get(PATH, get_dcap, allow_head=True)
    fs.names.append("DeviceCapability")
