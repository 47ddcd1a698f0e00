"""Log Event function set (IEEE 2030.5-2018): devices POST LogEvents to their EndDevice's
LogEventList; the device and the utility read them back."""

from __future__ import annotations

from aiohttp import web

from gridhan.schemas.sep2 import LogEvent, LogEventList
from gridhan.server.context import CONTEXT
from gridhan.server.sep2.edev import device_href
from gridhan.server.sep2.http import created, paging, read_resource, xml_response
from gridhan.server.sep2.registry import FunctionSets
from gridhan.server.sep2.scope import device_in_scope
from gridhan.server.store.tables import LogEventRow


def render_log_event(row: LogEventRow, href: str) -> LogEvent:
    return LogEvent(
        href=href,
        createdDateTime=row.created_date_time,
        details=row.details,
        extendedData=row.extended_data,
        functionSet=row.function_set,
        logEventCode=row.log_event_code,
        logEventID=row.log_event_id,
        logEventPEN=row.log_event_pen,
        profileID=row.profile_id,
    )


async def get_list(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    device = await device_in_scope(request)
    page = paging(request)
    result = await ctx.store.log_events(device.id, page.start, page.limit, page.after)  # type: ignore[arg-type]
    base = f"{device_href(device.id)}/lel"  # type: ignore[arg-type]
    items = [render_log_event(r, f"{base}/{r.id}") for r in result.rows]
    return xml_response(LogEventList(href=base, all=result.total, results=len(items), subscribable=0, LogEvent=items))


async def post_list(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    device = await device_in_scope(request)
    event = await read_resource(request, LogEvent)
    row = await ctx.store.add_log_event(
        device.id,  # type: ignore[arg-type]
        created_date_time=event.createdDateTime,
        details=event.details,
        extended_data=event.extendedData,
        function_set=event.functionSet,
        log_event_code=event.logEventCode,
        log_event_id=event.logEventID,
        log_event_pen=event.logEventPEN,
        profile_id=event.profileID,
        received_time=ctx.now(),
    )
    return created(f"{device_href(device.id)}/lel/{row.id}")  # type: ignore[arg-type]


async def get_one(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    device = await device_in_scope(request)
    raw = request.match_info["lel"]
    row = await ctx.store.log_event(device.id, int(raw)) if raw.isdigit() else None  # type: ignore[arg-type]
    if row is None:
        raise web.HTTPNotFound(text="no such LogEvent")
    return xml_response(render_log_event(row, f"{device_href(device.id)}/lel/{row.id}"))  # type: ignore[arg-type]


def setup(app: web.Application, fs: FunctionSets) -> None:
    app.router.add_get("/edev/{edev}/lel", get_list, allow_head=True)
    app.router.add_post("/edev/{edev}/lel", post_list)
    app.router.add_get("/edev/{edev}/lel/{lel}", get_one, allow_head=True)
    fs.names.append("LogEvent")
