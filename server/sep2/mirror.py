"""Metering Mirror function set (IEEE 2030.5-2018 clause 10.11) and the Metering resources it publishes
(clause 10.4): devices that cannot serve their own readings (inverters, batteries, meters) POST them here,
and read them back as ordinary UsagePoints.

* ``/mup`` MirrorUsagePointList: GET (the caller's mirrors), POST a MirrorUsagePoint.
* ``/mup/{id}`` MirrorUsagePoint: GET (first-level elements only, rule c), POST a MirrorMeterReading or a
  MirrorMeterReadingList (rule d), DELETE (rule l: its UsagePoint and data go with it).
* ``/mup/{id}/mr/{mr}`` MirrorMeterReading: GET (its ReadingType and current Reading).
* ``/upt`` UsagePointList, ``/upt/{id}`` UsagePoint, ``/upt/{id}/mr`` MeterReadingList,
  ``/upt/{id}/mr/{mr}`` MeterReading with ``/rt`` (ReadingType) and ``/r`` (its current Reading),
  ``/upt/{id}/mr/{mr}/rs`` ReadingSetList, ``/rs/{rs}`` ReadingSet, ``/rs/{rs}/r`` ReadingList, ``/r/{r}``
  Reading: GET, all scoped to the caller (a device sees its own, an aggregator its own and its devices').

The rules of 10.11.3 this module applies:

* a) 3) a MirrorUsagePoint of a new mRID answers 201 Created with its Location; 4) a repeated mRID (for the
  same device) writes over the mirror and its UsagePoint and answers 204 with the same Location; a mirror
  is never duplicated. A new mirror must define at least one MirrorMeterReading with its ReadingType
  (rule a) 1)): 400 otherwise.
* ``deviceLFDI`` must be the caller's LFDI or (an aggregator) that of a device it manages: 403 otherwise,
  and (rule e) only those clients reach the mirror afterwards.
* h) MirrorMeterReadings are matched by mRID: a match overwrites the MeterReading (the fields sent), a new
  mRID creates one and must carry a ReadingType (400 otherwise); i) MirrorReadingSets are matched by mRID
  within their MeterReading: a match replaces the ReadingSet's data, a new mRID adds one.
* f), g): a POST of a MirrorMeterReading answers with the Location of its MeterReading
  (``/upt/{id}/mr/{mr}``), of a MirrorMeterReadingList with that of the MeterReadingList; 201 when a
  MeterReading was created, 204 otherwise (the standard names only the Location).
* j) a body above ``max_body_bytes`` answers 413.
* postRate: the server answers with its preferred rate (the device's postRate, else the run-time
  ``post_rate``), as the schema allows; the rate a client proposes is kept but not obeyed.

Lists are ordered as Tables 39 and 56 ask: MirrorUsagePoints, UsagePoints and MeterReadings by mRID
descending; ReadingSets by timePeriod.start then mRID descending; Readings by localID, consumptionBlock and
touTier ascending.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gridhan.schemas.sep2 import Link, ListLink
from gridhan.schemas.sep2.events import DateTimeInterval
from gridhan.schemas.sep2.metering import (
    MeterReading,
    MeterReadingList,
    MirrorMeterReading,
    MirrorMeterReadingList,
    MirrorReadingSet,
    MirrorUsagePoint,
    MirrorUsagePointList,
    Reading,
    ReadingList,
    ReadingSet,
    ReadingSetList,
    ReadingType,
    UsagePoint,
    UsagePointList,
)
from gridhan.schemas.xmlcodec import decode, encode
from gridhan.server.context import CONTEXT
from gridhan.server.identity import Principal
from gridhan.server.sep2.http import created, no_content, paging, read_resource, xml_response
from gridhan.server.sep2.registry import FunctionSets
from gridhan.server.sep2.scope import require_registered, visible_device_ids
from gridhan.server.store import metering as metering_store
from gridhan.server.store.metering import MeterReadingData, MissingReadingType, ReadingSetData
from gridhan.server.store.tables import (
    DeviceGroupRow,
    GroupMemberRow,
    MeterReadingRow,
    MirrorUsagePointRow,
    ReadingRow,
    ReadingSetRow,
)

MIRROR_PATH = "/mup"
USAGE_POINT_PATH = "/upt"
#: Path ids are database ids: more digits than this cannot name a row (and would overflow int4).
MAX_ID_DIGITS = 9


def mirror_href(usage_point_id: int) -> str:
    return f"{MIRROR_PATH}/{usage_point_id}"


def usage_point_href(usage_point_id: int) -> str:
    return f"{USAGE_POINT_PATH}/{usage_point_id}"


def meter_reading_href(usage_point_id: int, meter_reading_id: int) -> str:
    return f"{usage_point_href(usage_point_id)}/mr/{meter_reading_id}"


def _path_id(request: web.Request, name: str, what: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit() or not raw.isascii() or len(raw) > MAX_ID_DIGITS:
        raise web.HTTPNotFound(text=f"no such {what}")
    return int(raw)


# -- converting what a client POSTs ----------------------------------------------------------------


def _reading_fields(reading: Reading, default_time: int) -> dict[str, Any]:
    period = reading.timePeriod
    return {
        "value": reading.value,
        "local_id": reading.localID,
        "local_number": int(reading.localID, 16) if reading.localID else None,
        "quality_flags": reading.qualityFlags,
        "consumption_block": reading.consumptionBlock,
        "tou_tier": reading.touTier,
        "start": period.start if period is not None else None,
        "duration": period.duration if period is not None else None,
        "time": period.start if period is not None else default_time,
    }


def _reading_type_fields(reading_type: ReadingType) -> dict[str, Any]:
    reading_type.href = None
    return {
        "reading_type": encode(reading_type),
        "uom": reading_type.uom,
        "power_of_ten_multiplier": reading_type.powerOfTenMultiplier,
        "kind": reading_type.kind,
        "flow_direction": reading_type.flowDirection,
        "accumulation_behaviour": reading_type.accumulationBehaviour,
        "phase": reading_type.phase,
        "commodity": reading_type.commodity,
        "interval_length": reading_type.intervalLength,
    }


def _reading_set_data(reading_set: MirrorReadingSet) -> ReadingSetData:
    period = reading_set.timePeriod
    return ReadingSetData(
        mrid=reading_set.mRID,
        fields={
            "description": reading_set.description,
            "version": reading_set.version,
            "start": period.start,
            "duration": period.duration,
        },
        readings=[_reading_fields(r, period.start) for r in reading_set.Reading],
    )


def meter_reading_data(mmr: MirrorMeterReading, path: str, received: int) -> MeterReadingData:
    """A MirrorMeterReading as the store takes it; 400 (naming ``path``) for a MirrorReadingSet mRID that
    appears twice. The fields it leaves out keep their stored values (10.11.3 h) 1))."""
    sent = {
        "description": mmr.description,
        "version": mmr.version,
        "last_update_time": mmr.lastUpdateTime,
        "next_update_time": mmr.nextUpdateTime,
    }
    _refuse_repeats([s.mRID for s in mmr.MirrorReadingSet], f"{path}/MirrorReadingSet")
    when = received if mmr.lastUpdateTime is None else mmr.lastUpdateTime
    return MeterReadingData(
        mrid=mmr.mRID,
        fields={key: value for key, value in sent.items() if value is not None},
        reading_type=_reading_type_fields(mmr.ReadingType) if mmr.ReadingType is not None else None,
        reading=None if mmr.Reading is None else _reading_fields(mmr.Reading, when),
        reading_sets=[_reading_set_data(s) for s in mmr.MirrorReadingSet],
    )


def _refuse_repeats(mrids: list[str], path: str) -> None:
    seen: set[str] = set()
    for mrid in mrids:
        if mrid in seen:
            raise web.HTTPBadRequest(text=f"{path}: mRID {mrid} appears more than once in the request")
        seen.add(mrid)


def _missing_reading_type(exc: MissingReadingType, path: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(
        text=f"{path}/ReadingType: MirrorMeterReading {exc.mrid} is new to this mirror and has no ReadingType "
        "(clause 10.11.3 h) 3)); nothing was stored"
    )


# -- scoping ---------------------------------------------------------------------------------------


async def _mirror_in_scope(request: web.Request, name: str, what: str) -> MirrorUsagePointRow:
    """The mirror (``mup``) or the UsagePoint (``upt``) the path names, if the caller may see it: a mirror
    only by the devices it belongs to; a UsagePoint also when it is the utility's own, for the caller or a
    group the caller is in."""
    require_registered(request)
    usage_point_id = _path_id(request, name, what)
    store = request.app[CONTEXT].store
    if name == "upt":
        row = await metering_store.usage_point_in_scope(store, usage_point_id, await visible_device_ids(request))
    else:
        row = await metering_store.mirror(store, usage_point_id)
        if row is not None and row.device_id not in await visible_device_ids(request):
            row = None
    if row is None:
        raise web.HTTPNotFound(text=f"no such {what}")
    return row


async def _meter_reading_in_scope(
    request: web.Request, name: str, what: str
) -> tuple[MirrorUsagePointRow, MeterReadingRow]:
    mirror = await _mirror_in_scope(request, name, what)
    meter_reading_id = _path_id(request, "mr", what)
    row = await metering_store.meter_reading(request.app[CONTEXT].store, mirror.id, meter_reading_id)  # type: ignore[arg-type]
    if row is None:
        raise web.HTTPNotFound(text=f"no such {what}")
    return mirror, row


async def _reading_set_in_scope(request: web.Request, what: str) -> tuple[MeterReadingRow, ReadingSetRow]:
    _mirror, meter_reading = await _meter_reading_in_scope(request, "upt", what)
    reading_set_id = _path_id(request, "rs", what)
    row = await metering_store.reading_set(request.app[CONTEXT].store, meter_reading.id, reading_set_id)  # type: ignore[arg-type]
    if row is None:
        raise web.HTTPNotFound(text=f"no such {what}")
    return meter_reading, row


# -- rendering -------------------------------------------------------------------------------------


async def _post_rate(request: web.Request, row: MirrorUsagePointRow) -> int:
    ctx = request.app[CONTEXT]
    device = await ctx.store.device(row.device_id)
    if device is not None and device.post_rate is not None:
        return device.post_rate
    return ctx.runtime.post_rate


def render_mirror(row: MirrorUsagePointRow, post_rate: int) -> MirrorUsagePoint:
    """A MirrorUsagePoint with its first-level elements only (10.11.3 c))."""
    return MirrorUsagePoint(
        href=mirror_href(row.id),  # type: ignore[arg-type]
        mRID=row.mrid,
        description=row.description,
        version=row.version,
        roleFlags=row.role_flags,
        serviceCategoryKind=row.service_category_kind,
        status=row.status,
        deviceLFDI=row.device_lfdi,
        postRate=post_rate,
    )


def render_usage_point(row: MirrorUsagePointRow, meter_readings: int) -> UsagePoint:
    href = usage_point_href(row.id)  # type: ignore[arg-type]
    return UsagePoint(
        href=href,
        mRID=row.mrid,
        description=row.description,
        version=row.version,
        roleFlags=row.role_flags,
        serviceCategoryKind=row.service_category_kind,
        status=row.status,
        deviceLFDI=row.device_lfdi,
        MeterReadingListLink=ListLink(href=f"{href}/mr", all=meter_readings),
    )


def render_reading(row: ReadingRow, href: str | None) -> Reading:
    period = DateTimeInterval(duration=row.duration, start=row.start) if row.start is not None else None
    return Reading(
        href=href,
        consumptionBlock=row.consumption_block,
        qualityFlags=row.quality_flags,
        timePeriod=period,
        touTier=row.tou_tier,
        value=row.value,
        localID=row.local_id,
    )


def render_reading_type(row: MeterReadingRow, href: str) -> ReadingType:
    reading_type = decode(bytes(row.reading_type), ReadingType)
    reading_type.href = href
    return reading_type


def render_meter_reading(row: MeterReadingRow, has_reading: bool, reading_sets: int) -> MeterReading:
    href = meter_reading_href(row.usage_point_id, row.id)  # type: ignore[arg-type]
    return MeterReading(
        href=href,
        mRID=row.mrid,
        description=row.description,
        version=row.version,
        ReadingLink=Link(href=f"{href}/r") if has_reading else None,
        ReadingSetListLink=ListLink(href=f"{href}/rs", all=reading_sets),
        ReadingTypeLink=Link(href=f"{href}/rt"),
    )


def render_reading_set(row: ReadingSetRow, base: str, readings: int) -> ReadingSet:
    href = f"{base}/{row.id}"
    return ReadingSet(
        href=href,
        mRID=row.mrid,
        description=row.description,
        version=row.version,
        timePeriod=DateTimeInterval(duration=row.duration, start=row.start),
        ReadingListLink=ListLink(href=f"{href}/r", all=readings),
    )


# -- Metering Mirror (10.11) -----------------------------------------------------------------------


async def get_mirror_list(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    require_registered(request)
    page = paging(request)
    result = await metering_store.mirrors_in_scope(ctx.store, await visible_device_ids(request), page.start, page.limit)
    items = [render_mirror(r, await _post_rate(request, r)) for r in result.rows]
    return xml_response(
        MirrorUsagePointList(
            href=MIRROR_PATH,
            all=result.total,
            results=len(items),
            pollRate=ctx.runtime.poll_rates.get("MirrorUsagePointList", ctx.settings.poll_rate),
            MirrorUsagePoint=items,
        )
    )


async def post_mirror(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    who = require_registered(request)
    body = await read_resource(request, MirrorUsagePoint)
    device_id = await _mirrored_device(request, who, body.deviceLFDI)
    _refuse_repeats([m.mRID for m in body.MirrorMeterReading], "MirrorUsagePoint/MirrorMeterReading")
    now = ctx.now()
    readings = [meter_reading_data(m, "MirrorUsagePoint/MirrorMeterReading", now) for m in body.MirrorMeterReading]
    fields = {
        "description": body.description,
        "version": body.version,
        "role_flags": body.roleFlags,
        "service_category_kind": body.serviceCategoryKind,
        "status": body.status,
        "device_lfdi": body.deviceLFDI,
        "post_rate": body.postRate,
    }
    if not readings and await metering_store.mirror_by_mrid(ctx.store, device_id, body.mRID) is None:
        raise web.HTTPBadRequest(
            text="MirrorUsagePoint/MirrorMeterReading: a new MirrorUsagePoint defines at least one "
            "MirrorMeterReading with its ReadingType (clause 10.11.3 a) 1))"
        )
    try:
        row, is_new, _applied = await metering_store.upsert_mirror(
            ctx.store, device_id, body.mRID, fields, readings, now
        )
    except MissingReadingType as exc:
        raise _missing_reading_type(exc, "MirrorUsagePoint/MirrorMeterReading") from None
    location = mirror_href(row.id)  # type: ignore[arg-type]
    if is_new:
        return created(location)
    return web.Response(status=204, headers={"Location": location})


async def _mirrored_device(request: web.Request, who: Principal, lfdi: str) -> int:
    """The EndDevice a mirror belongs to: the caller's own, or (an aggregator) one it manages; 403 for any
    other LFDI."""
    ids = await visible_device_ids(request)
    row = await request.app[CONTEXT].store.device_by_lfdi(lfdi)
    if row is None or row.revoked or row.id not in ids:
        whose = "this client or of a device it manages" if who.kind == "aggregator" else "this client"
        raise web.HTTPForbidden(text=f"MirrorUsagePoint/deviceLFDI: {lfdi} is not the LFDI of {whose}")
    return row.id  # type: ignore[return-value]


async def get_mirror(request: web.Request) -> web.Response:
    row = await _mirror_in_scope(request, "mup", "MirrorUsagePoint")
    return xml_response(render_mirror(row, await _post_rate(request, row)))


async def post_mirror_readings(request: web.Request) -> web.Response:
    """New data for a mirror (10.11.3 d)): a MirrorMeterReading or a MirrorMeterReadingList."""
    ctx = request.app[CONTEXT]
    mirror = await _mirror_in_scope(request, "mup", "MirrorUsagePoint")
    body = await read_resource(request, (MirrorMeterReading, MirrorMeterReadingList))
    now = ctx.now()
    if isinstance(body, MirrorMeterReadingList):
        path = "MirrorMeterReadingList/MirrorMeterReading"
        items = body.MirrorMeterReading
        _refuse_repeats([m.mRID for m in items], path)
    else:
        path, items = "MirrorMeterReading", [body]
    readings = [meter_reading_data(m, path, now) for m in items]
    try:
        applied = await metering_store.post_meter_readings(ctx.store, mirror.id, readings, now)  # type: ignore[arg-type]
    except MissingReadingType as exc:
        raise _missing_reading_type(exc, path) from None
    if applied is None:  # deleted meanwhile
        raise web.HTTPNotFound(text="no such MirrorUsagePoint")
    base = usage_point_href(mirror.id)  # type: ignore[arg-type]
    location = f"{base}/mr" if isinstance(body, MirrorMeterReadingList) else f"{base}/mr/{applied[0].row.id}"
    status = 201 if any(a.created for a in applied) else 204
    return web.Response(status=status, headers={"Location": location})


async def delete_mirror(request: web.Request) -> web.Response:
    """Remove a mirror; its UsagePoint and all its data go with it (10.11.3 l))."""
    mirror = await _mirror_in_scope(request, "mup", "MirrorUsagePoint")
    if not await metering_store.delete_mirror(request.app[CONTEXT].store, mirror.id):  # type: ignore[arg-type]
        raise web.HTTPNotFound(text="no such MirrorUsagePoint")
    return no_content()


async def get_mirror_meter_reading(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    mirror, row = await _meter_reading_in_scope(request, "mup", "MirrorMeterReading")
    current = (await metering_store.current_readings(ctx.store, [row.id])).get(row.id)  # type: ignore[list-item]
    href = meter_reading_href(mirror.id, row.id)  # type: ignore[arg-type]
    return xml_response(
        MirrorMeterReading(
            href=f"{mirror_href(mirror.id)}/mr/{row.id}",  # type: ignore[arg-type]
            mRID=row.mrid,
            description=row.description,
            version=row.version,
            lastUpdateTime=row.last_update_time,
            nextUpdateTime=row.next_update_time,
            Reading=render_reading(current, f"{href}/r") if current is not None else None,
            ReadingType=render_reading_type(row, f"{href}/rt"),
        )
    )


# -- Metering (10.4): the mirrored data read back ------------------------------------------------


async def get_usage_point_list(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    require_registered(request)
    page = paging(request)
    ids = await visible_device_ids(request)
    result = await metering_store.usage_points_in_scope(ctx.store, ids, page.start, page.limit)
    counts = await metering_store.meter_reading_counts(ctx.store, [r.id for r in result.rows])
    items = [render_usage_point(r, counts[r.id]) for r in result.rows]
    return xml_response(
        UsagePointList(
            href=USAGE_POINT_PATH,
            all=result.total,
            results=len(items),
            subscribable=0,
            pollRate=ctx.runtime.poll_rates.get("UsagePointList", ctx.settings.poll_rate),
            UsagePoint=items,
        )
    )


async def get_usage_point(request: web.Request) -> web.Response:
    row = await _mirror_in_scope(request, "upt", "UsagePoint")
    counts = await metering_store.meter_reading_counts(request.app[CONTEXT].store, [row.id])  # type: ignore[list-item]
    return xml_response(render_usage_point(row, counts[row.id]))  # type: ignore[index]


async def get_meter_reading_list(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    mirror = await _mirror_in_scope(request, "upt", "MeterReadingList")
    page = paging(request)
    result = await metering_store.meter_readings(ctx.store, mirror.id, page.start, page.limit)  # type: ignore[arg-type]
    ids = [r.id for r in result.rows]
    current = await metering_store.current_readings(ctx.store, ids)
    sets = await metering_store.reading_set_counts(ctx.store, ids)
    items = [render_meter_reading(r, r.id in current, sets[r.id]) for r in result.rows]
    return xml_response(
        MeterReadingList(
            href=f"{usage_point_href(mirror.id)}/mr",  # type: ignore[arg-type]
            all=result.total,
            results=len(items),
            subscribable=0,
            MeterReading=items,
        )
    )


async def get_meter_reading(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    _mirror, row = await _meter_reading_in_scope(request, "upt", "MeterReading")
    current = await metering_store.current_readings(ctx.store, [row.id])  # type: ignore[list-item]
    sets = await metering_store.reading_set_counts(ctx.store, [row.id])  # type: ignore[list-item]
    return xml_response(render_meter_reading(row, row.id in current, sets[row.id]))  # type: ignore[index]


async def get_reading_type(request: web.Request) -> web.Response:
    mirror, row = await _meter_reading_in_scope(request, "upt", "ReadingType")
    return xml_response(render_reading_type(row, f"{meter_reading_href(mirror.id, row.id)}/rt"))  # type: ignore[arg-type]


async def get_current_reading(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    mirror, row = await _meter_reading_in_scope(request, "upt", "Reading")
    current = (await metering_store.current_readings(ctx.store, [row.id])).get(row.id)  # type: ignore[list-item]
    if current is None:
        raise web.HTTPNotFound(text="this MeterReading has no current Reading")
    return xml_response(render_reading(current, f"{meter_reading_href(mirror.id, row.id)}/r"))  # type: ignore[arg-type]


async def get_reading_set_list(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    mirror, row = await _meter_reading_in_scope(request, "upt", "ReadingSetList")
    page = paging(request)
    result = await metering_store.reading_sets(ctx.store, row.id, page.start, page.limit)  # type: ignore[arg-type]
    counts = await metering_store.reading_counts(ctx.store, [s.id for s in result.rows])
    base = f"{meter_reading_href(mirror.id, row.id)}/rs"  # type: ignore[arg-type]
    items = [render_reading_set(s, base, counts[s.id]) for s in result.rows]
    return xml_response(
        ReadingSetList(href=base, all=result.total, results=len(items), subscribable=0, ReadingSet=items)
    )


async def get_reading_set(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    meter_reading, row = await _reading_set_in_scope(request, "ReadingSet")
    counts = await metering_store.reading_counts(ctx.store, [row.id])  # type: ignore[list-item]
    base = f"{meter_reading_href(meter_reading.usage_point_id, meter_reading.id)}/rs"  # type: ignore[arg-type]
    return xml_response(render_reading_set(row, base, counts[row.id]))  # type: ignore[index]


async def get_reading_list(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    meter_reading, reading_set = await _reading_set_in_scope(request, "ReadingList")
    page = paging(request)
    result = await metering_store.readings_of_set(ctx.store, reading_set.id, page.start, page.limit)  # type: ignore[arg-type]
    base = f"{meter_reading_href(meter_reading.usage_point_id, meter_reading.id)}/rs/{reading_set.id}/r"  # type: ignore[arg-type]
    items = [render_reading(r, f"{base}/{r.id}") for r in result.rows]
    return xml_response(ReadingList(href=base, all=result.total, results=len(items), subscribable=0, Reading=items))


async def get_reading(request: web.Request) -> web.Response:
    meter_reading, reading_set = await _reading_set_in_scope(request, "Reading")
    reading_id = _path_id(request, "r", "Reading")
    row = await metering_store.reading_of_set(request.app[CONTEXT].store, reading_set.id, reading_id)  # type: ignore[arg-type]
    if row is None:
        raise web.HTTPNotFound(text="no such Reading")
    base = f"{meter_reading_href(meter_reading.usage_point_id, meter_reading.id)}/rs/{reading_set.id}/r"  # type: ignore[arg-type]
    return xml_response(render_reading(row, f"{base}/{row.id}"))


# -- links -------------------------------------------------------------------------------------------


async def _mirror_count(request: web.Request, who: Principal) -> int:
    if not who.registered or who.device_id is None:
        return 0
    counts = await metering_store.mirror_counts(request.app[CONTEXT].store, await visible_device_ids(request))
    return sum(counts.values())


async def _usage_point_count(request: web.Request, who: Principal) -> int:
    """Mirrors plus the utility's own UsagePoints the caller reads."""
    if not who.registered or who.device_id is None:
        return 0
    store = request.app[CONTEXT].store
    ids = await visible_device_ids(request)

    async def count() -> int:
        return await metering_store.utility_usage_point_count(store, ids)

    utility = await store.derived(("UtilityUsagePoints", frozenset(ids)), (MirrorUsagePointRow, GroupMemberRow), count)
    return await _mirror_count(request, who) + utility


async def _dcap_links(request: web.Request, who: Principal) -> dict[str, Any]:
    if not who.registered:
        return {}
    return {
        "MirrorUsagePointListLink": ListLink(href=MIRROR_PATH, all=await _mirror_count(request, who)),
        "UsagePointListLink": ListLink(href=USAGE_POINT_PATH, all=await _usage_point_count(request, who)),
    }


async def _fsa_links(request: web.Request, who: Principal, _group: DeviceGroupRow) -> dict[str, Any]:
    return {"UsagePointListLink": ListLink(href=USAGE_POINT_PATH, all=await _usage_point_count(request, who))}


def setup(app: web.Application, fs: FunctionSets) -> None:
    r = app.router
    r.add_get(MIRROR_PATH, get_mirror_list, allow_head=True)
    r.add_post(MIRROR_PATH, post_mirror)
    r.add_get(MIRROR_PATH + "/{mup}", get_mirror, allow_head=True)
    r.add_post(MIRROR_PATH + "/{mup}", post_mirror_readings)
    r.add_delete(MIRROR_PATH + "/{mup}", delete_mirror)
    r.add_get(MIRROR_PATH + "/{mup}/mr/{mr}", get_mirror_meter_reading, allow_head=True)
    upt = USAGE_POINT_PATH + "/{upt}"
    r.add_get(USAGE_POINT_PATH, get_usage_point_list, allow_head=True)
    r.add_get(upt, get_usage_point, allow_head=True)
    r.add_get(upt + "/mr", get_meter_reading_list, allow_head=True)
    r.add_get(upt + "/mr/{mr}", get_meter_reading, allow_head=True)
    r.add_get(upt + "/mr/{mr}/rt", get_reading_type, allow_head=True)
    r.add_get(upt + "/mr/{mr}/r", get_current_reading, allow_head=True)
    r.add_get(upt + "/mr/{mr}/rs", get_reading_set_list, allow_head=True)
    r.add_get(upt + "/mr/{mr}/rs/{rs}", get_reading_set, allow_head=True)
    r.add_get(upt + "/mr/{mr}/rs/{rs}/r", get_reading_list, allow_head=True)
    r.add_get(upt + "/mr/{mr}/rs/{rs}/r/{r}", get_reading, allow_head=True)
    fs.dcap_links.append(_dcap_links)
    fs.fsa_links.append(_fsa_links)
    fs.names += ["MirrorUsagePoint", "UsagePoint", "MeterReading", "ReadingType", "ReadingSet", "Reading"]
