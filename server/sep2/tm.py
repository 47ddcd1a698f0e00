"""Time function set (IEEE 2030.5-2018, Time function set): the server's clock and the configured time zone."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gridhan.schemas.sep2 import Link, Time
from gridhan.schemas.timekeeping import zone_fields
from gridhan.server.context import CONTEXT, RuntimeSettings
from gridhan.server.identity import Principal
from gridhan.server.sep2.http import memo_response
from gridhan.server.sep2.registry import FunctionSets
from gridhan.server.store.tables import DeviceGroupRow

PATH = "/tm"


async def get_time(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    now = ctx.now()
    runtime = ctx.runtime
    key = ("Time", now, runtime.timezone, runtime.time_quality, runtime.poll_rates["Time"])
    return memo_response(request, key, lambda: time_resource(now, runtime))


def time_resource(now: int, runtime: RuntimeSettings) -> Time:
    z = zone_fields(now, runtime.zone)
    return Time(
        href=PATH,
        currentTime=now,
        dstEndTime=z.dstEndTime,
        dstOffset=z.dstOffset,
        dstStartTime=z.dstStartTime,
        localTime=z.localTime,
        quality=runtime.time_quality,
        tzOffset=z.tzOffset,
        pollRate=runtime.poll_rates["Time"],
    )


async def _dcap_link(_request: web.Request, _who: Principal) -> dict[str, Any]:
    return {"TimeLink": Link(href=PATH)}


async def _fsa_link(_request: web.Request, _who: Principal, _group: DeviceGroupRow) -> dict[str, Any]:
    return {"TimeLink": Link(href=PATH)}


def setup(app: web.Application, fs: FunctionSets) -> None:
    app.router.add_get(PATH, get_time, allow_head=True)
    fs.dcap_links.append(_dcap_link)
    fs.fsa_links.append(_fsa_link)
    fs.names.append("Time")
