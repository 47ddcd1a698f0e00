"""Telemetry: the readings devices mirrored to the server (IEEE 2030.5-2018 clause 10.11, Metering Mirror;
clause 10.4 for ReadingType and Reading), as the utility reads them.

* ``GET /api/v1/devices/{id}/telemetry?from=&to=&kind=&uom=``: a device's readings in a time range, oldest
  first, each with its unit and its value scaled by the ReadingType's powerOfTenMultiplier.
* ``GET /api/v1/groups/{id}/telemetry?from=&to=``: totals over a group's members of the latest reading of
  each MeterReading measuring real power (uom 38, W), reactive power (63, var) or real energy (72, Wh),
  one total per unit, flowDirection (1 forward: delivered to the customer; 19 reverse: received from the
  customer; 0 not applicable) and phase.

A reading's time is its timePeriod.start, else its ReadingSet's start, else the MirrorMeterReading's
lastUpdateTime, else the time the server received it; ``from`` and ``to`` (TimeType, seconds) bound it,
both included.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from aiohttp import web

from gridhan.server.admin.apidoc import errors as _errors
from gridhan.server.admin.apidoc import json_content as _json
from gridhan.server.admin.apidoc import nullable as _nullable
from gridhan.server.admin.apidoc import ref as _ref
from gridhan.server.admin.serialize import API
from gridhan.server.admin.validation import INT32_MAX, bad_request, not_found, page_params, path_id, query_int
from gridhan.server.context import CONTEXT
from gridhan.server.store import metering as metering_store
from gridhan.server.store.metering import TelemetryRow

#: Largest TimeType the API takes in from/to (a signed 64-bit count of seconds).
TIME_MAX = 2**63 - 1

#: UomType (sep.xsd, from IEC 61968-9): the units' symbols.
UNITS: Mapping[int, str] = MappingProxyType(
    {
        0: "",
        5: "A",
        6: "K",
        23: "°C",
        29: "V",
        31: "J",
        33: "Hz",
        38: "W",
        42: "m3",
        61: "VA",
        63: "var",
        65: "cos θ",
        67: "V²",
        69: "A²",
        71: "VAh",
        72: "Wh",
        73: "varh",
        106: "Ah",
        119: "ft3",
        122: "ft3/h",
        125: "m3/h",
        128: "US gl",
        129: "US gl/h",
        130: "IMP gl",
        131: "IMP gl/h",
        132: "BTU",
        133: "BTU/h",
        134: "L",
        137: "L/h",
        140: "Pa (gauge)",
        155: "Pa (absolute)",
        169: "therm",
    }
)
#: KindType (sep.xsd): names the ``kind`` parameter accepts besides the numbers.
KINDS: Mapping[str, int] = MappingProxyType({"none": 0, "currency": 3, "demand": 8, "energy": 12, "power": 37})
#: The units the group totals add up: real power, reactive power, real energy.
GROUP_UNITS = (38, 63, 72)


def scaled(value: int | None, multiplier: int | None) -> float | None:
    """A Reading's value in its unit: value x 10^powerOfTenMultiplier."""
    if value is None:
        return None
    power = multiplier or 0
    return float(value * 10**power) if power >= 0 else value / 10**-power


def _time_range(request: web.Request) -> tuple[int | None, int | None]:
    start = query_int(request, "from", None, hi=TIME_MAX)
    end = query_int(request, "to", None, hi=TIME_MAX)
    if start is not None and end is not None and start > end:
        raise bad_request(f"query parameter from={start}: must not be after to={end}")
    return start, end


def _kind(request: web.Request) -> int | None:
    raw = request.query.get("kind")
    if raw is None:
        return None
    if raw.lower() in KINDS:
        return KINDS[raw.lower()]
    if raw.isascii() and raw.isdigit() and int(raw) in KINDS.values():
        return int(raw)
    allowed = ", ".join(f"{name} ({number})" for name, number in KINDS.items())
    raise bad_request(f"query parameter kind={raw!r}: must be a ReadingType kind: {allowed}")


def telemetry_json(item: TelemetryRow) -> dict[str, Any]:
    reading, meter, mirror = item.reading, item.meter_reading, item.usage_point
    return {
        "time": reading.time,
        "duration": reading.duration,
        "value": reading.value,
        "power_of_ten_multiplier": meter.power_of_ten_multiplier,
        "scaled_value": scaled(reading.value, meter.power_of_ten_multiplier),
        "uom": meter.uom,
        "unit": UNITS.get(meter.uom) if meter.uom is not None else None,
        "kind": meter.kind,
        "flow_direction": meter.flow_direction,
        "accumulation_behaviour": meter.accumulation_behaviour,
        "phase": meter.phase,
        "interval_length": meter.interval_length,
        "quality_flags": reading.quality_flags,
        "local_id": reading.local_id,
        "usage_point_id": mirror.id,
        "usage_point_mrid": mirror.mrid,
        "meter_reading_id": meter.id,
        "meter_reading_mrid": meter.mrid,
        "reading_set_mrid": item.reading_set_mrid,
        "received_time": reading.received_time,
    }


async def get_device_telemetry(request: web.Request) -> web.Response:
    """A device's mirrored readings in a time range, oldest first, a page at a time; ``kind`` (power,
    energy, demand, currency, or the KindType number) and ``uom`` (UomType number) filter them."""
    ctx = request.app[CONTEXT]
    device_id = path_id(request, "device")
    start, end = _time_range(request)
    kind = _kind(request)
    uom = query_int(request, "uom", None, hi=255)
    offset, limit = page_params(request)
    if await ctx.store.device(device_id) is None:
        raise not_found(f"no device with id {device_id}")
    page = await metering_store.device_readings(
        ctx.store, device_id, start_time=start, end_time=end, kind=kind, uom=uom, offset=offset, limit=limit
    )
    return web.json_response(
        {
            "device_id": device_id,
            "from": start,
            "to": end,
            "total": page.total,
            "items": [telemetry_json(r) for r in page.rows],
        }
    )


async def get_group_telemetry(request: web.Request) -> web.Response:
    """Totals over a group's members of their latest W, var and Wh readings (in the time range)."""
    ctx = request.app[CONTEXT]
    group_id = path_id(request, "group")
    start, end = _time_range(request)
    if await ctx.store.group(group_id) is None:
        raise not_found(f"no group with id {group_id}")
    members = await ctx.store.group_member_ids(group_id)
    latest = await metering_store.latest_readings(ctx.store, members, GROUP_UNITS, start_time=start, end_time=end)
    totals: dict[tuple[int, int, int], dict[str, Any]] = {}
    for item in latest:
        meter = item.meter_reading
        value = scaled(item.reading.value, meter.power_of_ten_multiplier)
        if value is None:
            continue
        key = (meter.uom or 0, meter.flow_direction or 0, meter.phase or 0)
        entry = totals.setdefault(
            key,
            {
                "uom": key[0],
                "unit": UNITS[key[0]],
                "flow_direction": key[1],
                "phase": key[2],
                "total": 0.0,
                "readings": 0,
                "devices": set(),
                "earliest_time": item.reading.time,
                "latest_time": item.reading.time,
            },
        )
        entry["total"] += value
        entry["readings"] += 1
        entry["devices"].add(item.usage_point.device_id)
        entry["earliest_time"] = min(entry["earliest_time"], item.reading.time)
        entry["latest_time"] = max(entry["latest_time"], item.reading.time)
    reporting = sorted({item.usage_point.device_id for item in latest})
    return web.json_response(
        {
            "group_id": group_id,
            "from": start,
            "to": end,
            "member_count": len(members),
            "reporting_devices": reporting,
            "totals": [{**entry, "devices": len(entry["devices"])} for _key, entry in sorted(totals.items())],
        }
    )


def setup(app: web.Application) -> None:
    app.router.add_get(f"{API}/devices/{{id}}/telemetry", get_device_telemetry)
    app.router.add_get(f"{API}/groups/{{id}}/telemetry", get_group_telemetry)


# -- OpenAPI description (merged into gridhan.server.admin.openapi) ----------------------------------


_ID = {"type": "integer", "minimum": 1, "maximum": INT32_MAX}
_TIME = {"type": "integer", "description": "TimeType: seconds since 1970-01-01T00:00:00Z"}
_INT = {"type": "integer"}
_FLOW = {"type": "integer", "description": "flowDirection: 0 not applicable, 1 forward, 19 reverse"}


def schemas() -> dict[str, Any]:
    return {
        "TelemetryReading": {
            "type": "object",
            "description": "A mirrored Reading with its ReadingType (IEEE 2030.5-2018 clauses 10.4, 10.11)",
            "additionalProperties": False,
            "required": [
                "time",
                "duration",
                "value",
                "power_of_ten_multiplier",
                "scaled_value",
                "uom",
                "unit",
                "kind",
                "flow_direction",
                "accumulation_behaviour",
                "phase",
                "interval_length",
                "quality_flags",
                "local_id",
                "usage_point_id",
                "usage_point_mrid",
                "meter_reading_id",
                "meter_reading_mrid",
                "reading_set_mrid",
                "received_time",
            ],
            "properties": {
                "time": {**_TIME, "description": "when the value applies"},
                "duration": _nullable({**_INT, "description": "timePeriod.duration (seconds)"}),
                "value": _nullable({**_INT, "description": "Reading.value as sent"}),
                "power_of_ten_multiplier": _nullable(_INT),
                "scaled_value": _nullable({"type": "number", "description": "value x 10^powerOfTenMultiplier"}),
                "uom": _nullable({**_INT, "description": "ReadingType.uom (UomType)"}),
                "unit": _nullable({"type": "string", "description": "the unit's symbol (W, var, Wh, ...)"}),
                "kind": _nullable(
                    {**_INT, "description": "ReadingType.kind: 3 currency, 8 demand, 12 energy, 37 power"}
                ),
                "flow_direction": _nullable(_FLOW),
                "accumulation_behaviour": _nullable(_INT),
                "phase": _nullable(_INT),
                "interval_length": _nullable(_INT),
                "quality_flags": _nullable({"type": "string", "pattern": "^[0-9A-F]*$"}),
                "local_id": _nullable({"type": "string", "pattern": "^[0-9A-F]*$"}),
                "usage_point_id": {**_ID, "description": "the UsagePoint /upt/{id} (its mirror /mup/{id})"},
                "usage_point_mrid": {"type": "string"},
                "meter_reading_id": _ID,
                "meter_reading_mrid": {"type": "string"},
                "reading_set_mrid": _nullable({"type": "string", "description": "null: a MeterReading's Reading"}),
                "received_time": _TIME,
            },
        },
        "DeviceTelemetry": {
            "type": "object",
            "additionalProperties": False,
            "required": ["device_id", "from", "to", "total", "items"],
            "properties": {
                "device_id": _ID,
                "from": _nullable(_TIME),
                "to": _nullable(_TIME),
                "total": {"type": "integer", "minimum": 0},
                "items": {"type": "array", "items": _ref("TelemetryReading")},
            },
        },
        "GroupTelemetry": {
            "type": "object",
            "additionalProperties": False,
            "required": ["group_id", "from", "to", "member_count", "reporting_devices", "totals"],
            "properties": {
                "group_id": _ID,
                "from": _nullable(_TIME),
                "to": _nullable(_TIME),
                "member_count": {"type": "integer", "minimum": 0},
                "reporting_devices": {"type": "array", "items": _ID},
                "totals": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": [
                            "uom",
                            "unit",
                            "flow_direction",
                            "phase",
                            "total",
                            "readings",
                            "devices",
                            "earliest_time",
                            "latest_time",
                        ],
                        "properties": {
                            "uom": {"enum": list(GROUP_UNITS), "description": "38 W, 63 var, 72 Wh"},
                            "unit": {"enum": [UNITS[u] for u in GROUP_UNITS]},
                            "flow_direction": _FLOW,
                            "phase": {**_INT, "description": "ReadingType.phase (0: not applicable)"},
                            "total": {"type": "number", "description": "sum of the latest scaled values"},
                            "readings": {"type": "integer", "minimum": 1},
                            "devices": {"type": "integer", "minimum": 1},
                            "earliest_time": _TIME,
                            "latest_time": _TIME,
                        },
                    },
                },
            },
        },
    }


def paths() -> dict[str, Any]:
    time_range = [
        {"name": "from", "in": "query", "schema": {**_TIME, "minimum": 0}, "description": "earliest time (included)"},
        {"name": "to", "in": "query", "schema": {**_TIME, "minimum": 0}, "description": "latest time (included)"},
    ]
    return {
        f"{API}/devices/{{id}}/telemetry": {
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "get": {
                "summary": "A device's mirrored readings in a time range (2030.5 clause 10.11), oldest first",
                "tags": ["telemetry"],
                "parameters": [
                    *time_range,
                    {
                        "name": "kind",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "ReadingType.kind: power, energy, demand, currency, none, or its number",
                    },
                    {
                        "name": "uom",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 0, "maximum": 255},
                        "description": "ReadingType.uom (38 W, 63 var, 72 Wh, ...)",
                    },
                    {"$ref": "#/components/parameters/offset"},
                    {"$ref": "#/components/parameters/limit"},
                ],
                "responses": {
                    "200": _json(_ref("DeviceTelemetry"), "a page of readings"),
                    **_errors(400, 401, 404),
                },
            },
        },
        f"{API}/groups/{{id}}/telemetry": {
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "get": {
                "summary": "Totals of the group members' latest W, var and Wh readings",
                "tags": ["telemetry"],
                "parameters": time_range,
                "responses": {
                    "200": _json(_ref("GroupTelemetry"), "totals per unit, flow direction and phase"),
                    **_errors(400, 401, 404),
                },
            },
        },
    }
