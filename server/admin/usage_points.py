"""The utility's own UsagePoints (IEEE 2030.5-2018 clause 10.4, Metering): data the utility pushes (a
meter's interval data for the premise's display), published at ``/upt`` beside the mirrored ones and read
by the device or the group of devices it is for.

* ``POST/GET /api/v1/usage-points``; ``GET/DELETE /api/v1/usage-points/{id}``.
* ``POST /api/v1/usage-points/{id}/meter-readings``: a MeterReading with its ReadingType.
* ``POST /api/v1/meter-readings/{id}/reading-sets``: a ReadingSet with all its Readings in one request
  (e.g. 96 quarter-hours); the same ``mrid`` again replaces that set's data. All or nothing.

roleFlags must leave bit 0 (isMirror) clear: these UsagePoints are not mirrors.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from aiohttp import web

from gridhan.schemas.dictcodec import to_dict
from gridhan.schemas.sep2.metering import Reading, ReadingType
from gridhan.schemas.xmlcodec import decode
from gridhan.server.admin.readings import from_json, reading_set
from gridhan.server.admin.serialize import API
from gridhan.server.admin.validation import (
    Member,
    bad_request,
    hex_string,
    identifier,
    integer,
    lfdi,
    not_found,
    page_params,
    path_id,
    read_json_object,
    read_members,
    string,
)
from gridhan.server.context import CONTEXT
from gridhan.server.mrid import new_mrid
from gridhan.server.sep2.mirror import _reading_fields, _reading_type_fields, meter_reading_href, usage_point_href
from gridhan.server.store import metering as metering_store
from gridhan.server.store.metering import ReadingSetData
from gridhan.server.store.tables import MeterReadingRow, MirrorUsagePointRow

UP_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "device_id": Member(identifier),
        "group_id": Member(identifier),
        "description": Member(string(32), nullable=True),
        "role_flags": Member(hex_string(4)),
        "service_category_kind": Member(integer(0, 6)),
        "status": Member(integer(0, 1)),
        "device_lfdi": Member(lfdi, nullable=True),
    }
)
MR_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {"description": Member(string(32), nullable=True), "reading_type": Member(lambda _n, v: v)}
)


def usage_point_json(row: MirrorUsagePointRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "href": usage_point_href(row.id),  # type: ignore[arg-type]
        "mrid": row.mrid,
        "description": row.description,
        "device_id": row.target_device_id,
        "group_id": row.group_id,
        "role_flags": row.role_flags,
        "service_category_kind": row.service_category_kind,
        "status": row.status,
        "device_lfdi": row.device_lfdi,
    }


def meter_reading_json(row: MeterReadingRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "href": meter_reading_href(row.usage_point_id, row.id),  # type: ignore[arg-type]
        "usage_point_id": row.usage_point_id,
        "mrid": row.mrid,
        "description": row.description,
        "reading_type": to_dict(decode(bytes(row.reading_type), ReadingType)),
    }


async def create_usage_point(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    body = read_members(await read_json_object(request), UP_MEMBERS, required=("service_category_kind",))
    targets = [k for k in ("device_id", "group_id") if k in body]
    if len(targets) != 1:
        raise bad_request("give exactly one of device_id and group_id: the device or group that reads it")
    role_flags = body.get("role_flags", "00")
    if int(role_flags, 16) & 1:
        raise bad_request("role_flags: bit 0 (isMirror) is for mirrors devices post; the utility's own is not one")
    if "device_id" in body and await ctx.store.device(body["device_id"]) is None:
        raise bad_request(f"device_id: no device with id {body['device_id']}")
    if "group_id" in body and await ctx.store.group(body["group_id"]) is None:
        raise bad_request(f"group_id: no group with id {body['group_id']}")
    now = ctx.now()
    row = MirrorUsagePointRow(
        source="utility",
        target_device_id=body.get("device_id"),
        group_id=body.get("group_id"),
        mrid=new_mrid(ctx.settings.manufacturer_pen),
        description=body.get("description"),
        version=0,
        role_flags=role_flags,
        service_category_kind=body["service_category_kind"],
        status=body.get("status", 1),
        device_lfdi=body.get("device_lfdi"),
        created_time=now,
        updated_time=now,
    )
    async with ctx.store.session() as s, s.begin():
        s.add(row)
    return web.json_response(usage_point_json(row), status=201, headers={"Location": f"{API}/usage-points/{row.id}"})


async def list_usage_points(request: web.Request) -> web.Response:
    offset, limit = page_params(request)
    page = await metering_store.utility_usage_points(request.app[CONTEXT].store, offset, limit)
    return web.json_response({"total": page.total, "items": [usage_point_json(r) for r in page.rows]})


async def _usage_point_or_404(request: web.Request) -> MirrorUsagePointRow:
    usage_point_id = path_id(request, "usage point")
    row = await metering_store.mirror(request.app[CONTEXT].store, usage_point_id)
    if row is None or row.source != "utility":
        raise not_found(f"no usage point of the utility with id {usage_point_id}")
    return row


async def get_usage_point(request: web.Request) -> web.Response:
    return web.json_response(usage_point_json(await _usage_point_or_404(request)))


async def delete_usage_point(request: web.Request) -> web.Response:
    row = await _usage_point_or_404(request)
    await metering_store.delete_mirror(request.app[CONTEXT].store, row.id)  # type: ignore[arg-type]
    return web.Response(status=204)


async def create_meter_reading(request: web.Request) -> web.Response:
    """A MeterReading and its ReadingType (``reading_type`` in the standard's member names)."""
    ctx = request.app[CONTEXT]
    usage_point = await _usage_point_or_404(request)
    body = read_members(await read_json_object(request), MR_MEMBERS, required=("reading_type",))
    reading_type = from_json(ReadingType, body["reading_type"], "reading_type")
    if reading_type.intervalLength is not None and reading_type.intervalLength == 0:
        raise bad_request("reading_type/intervalLength: an interval has a length (give none for non-interval data)")
    fields = {"mrid": new_mrid(ctx.settings.manufacturer_pen), "description": body.get("description"), "version": 0,
              **_reading_type_fields(reading_type)}  # fmt: skip
    row = await metering_store.add_meter_reading(ctx.store, usage_point.id, fields, ctx.now())  # type: ignore[arg-type]
    if row is None:
        raise not_found(f"no usage point of the utility with id {usage_point.id}")
    return web.json_response(meter_reading_json(row), status=201)


async def push_reading_set(request: web.Request) -> web.Response:
    """Push a ReadingSet with its Readings; each reading must lie inside the set's period and (when the
    ReadingType has one) last its intervalLength."""
    ctx = request.app[CONTEXT]
    meter_reading_id = path_id(request, "meter reading")
    async with ctx.store.session() as s:
        meter_reading = await s.get(MeterReadingRow, meter_reading_id)
    if meter_reading is None:
        raise not_found(f"no meter reading with id {meter_reading_id}")
    values, period, readings = reading_set(await read_json_object(request), Reading, meter_reading.interval_length)
    mrid = values.get("mrid") or new_mrid(ctx.settings.manufacturer_pen)
    rows = []
    for i, reading in enumerate(readings):
        reading.localID = f"{i:04X}"
        rows.append(_reading_fields(reading, period.start))
    data = ReadingSetData(
        mrid=mrid,
        fields={"description": values.get("description"), "version": 0, "start": period.start,
                "duration": period.duration},
        readings=rows,
    )  # fmt: skip
    result = await metering_store.push_reading_set(ctx.store, meter_reading_id, data, ctx.now())
    if result is None:
        raise not_found(f"no meter reading of a utility usage point with id {meter_reading_id}")
    row, created = result
    href = f"{meter_reading_href(meter_reading.usage_point_id, meter_reading_id)}/rs/{row.id}"
    return web.json_response(
        {"id": row.id, "href": href, "mrid": row.mrid, "start": row.start, "duration": row.duration,
         "readings": len(rows), "replaced": not created},
        status=201 if created else 200,
    )  # fmt: skip


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post(f"{API}/usage-points", create_usage_point)
    r.add_get(f"{API}/usage-points", list_usage_points)
    r.add_get(f"{API}/usage-points/{{id}}", get_usage_point)
    r.add_delete(f"{API}/usage-points/{{id}}", delete_usage_point)
    r.add_post(f"{API}/usage-points/{{id}}/meter-readings", create_meter_reading)
    r.add_post(f"{API}/meter-readings/{{id}}/reading-sets", push_reading_set)
