"""Tariffs for the utility: the Pricing function set's admin API (IEEE 2030.5-2018 clause 10.5).

* ``POST/GET /api/v1/tariff-profiles``; ``GET/PATCH/DELETE /api/v1/tariff-profiles/{id}``.
* ``POST/GET /api/v1/rate-components``; ``GET/PATCH/DELETE /api/v1/rate-components/{id}``.
* ``POST /api/v1/rate-components/{id}/schedule``: a whole schedule in one request (a day-ahead 24 x 1 h,
  a real-time 96 x 15 min, or a time-of-use day of unequal periods), published in one transaction.
* ``POST /api/v1/rate-components/{id}/intervals``: one interval (e.g. a critical peak, which supersedes the
  intervals it overlaps); ``GET`` the rate component's intervals with their status.
* ``GET /api/v1/tariff-intervals/{id}``; ``POST /api/v1/tariff-intervals/{id}/cancel``.
* ``GET /api/v1/groups/{id}/prices``: the price in force now and the next change, per rate component of
  each of the group's tariff profiles (what a device of the group should be showing).

Prices are integers scaled by the profile's ``price_power_of_ten`` (pricePowerOfTenMultiplier): with -5,
a price of 12345 is 0.12345 of the currency per unit of the rate component's ReadingType. Everything is
checked before anything is written; a schedule is stored whole or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from aiohttp import web

from gridhan.schemas.dictcodec import from_dict, to_dict
from gridhan.schemas.event_rules import Status, supersessions
from gridhan.schemas.sep2.metering import ReadingType, UnitValueType
from gridhan.schemas.sep2.pricing import ConsumptionTariffInterval, ConsumptionTariffIntervalList
from gridhan.schemas.tariff import (
    TOU_TIER_MAX,
    Block,
    TariffInterval,
    check_blocks,
    money,
    next_price_change,
    overlap_groups,
    price_in_force,
    to_cents,
)
from gridhan.schemas.xmlcodec import XmlDecodeError, decode, encode
from gridhan.server.admin.der import status_json
from gridhan.server.admin.serialize import API
from gridhan.server.admin.validation import (
    Member,
    bad_request,
    boolean,
    date_time,
    hex_string,
    identifier,
    integer,
    not_found,
    page_params,
    path_id,
    query_int,
    read_json_object,
    read_members,
    string,
)
from gridhan.server.context import CONTEXT, AppContext
from gridhan.server.mrid import new_mrid
from gridhan.server.sep2.pricing import (
    blocks_of,
    event_specs,
    interval_href,
    profile_href,
    rate_component_href,
    sort_intervals,
    statuses,
    tariff_interval,
)
from gridhan.server.store import pricing as store
from gridhan.server.store.repo import Conflict
from gridhan.server.store.tables import RateComponentRow, TariffProfileRow, TimeTariffIntervalRow

ONE_HOUR = 3600
ONE_DAY = 86400
#: Most intervals one schedule request may publish (a week of 15-minute prices is 672).
MAX_SCHEDULE = 1000
#: ConsumptionBlockType numbers blocks 1..16.
MAX_BLOCKS = 16
#: ReadingType.flowDirection: 1 forward (delivered to the customer: import), 19 reverse (export).
DIRECTIONS = {1: "import", 19: "export"}


def _json_of(cls: type, *, where: str) -> Any:
    """A parser of a 2030.5 structure given in JSON with the schema's member names."""

    def parse(name: str, value: Any) -> Any:
        try:
            return from_dict(cls, value, where or name)
        except XmlDecodeError as exc:
            raise bad_request(f"{name}: {exc}") from None

    return parse


def _currency(name: str, value: Any) -> int:
    """CurrencyCode: an ISO 4217 numeric code, 1..999 (0, "not applicable", cannot price anything)."""
    code = integer(0, 2**16 - 1)(name, value)
    if not 1 <= code <= 999:
        raise bad_request(f"{name}: {code} is not an ISO 4217 numeric currency code (three digits, e.g. 840 USD, "
                          "978 EUR, 036 AUD)")  # fmt: skip
    return code


PROFILE_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "group_id": Member(identifier),
        "currency": Member(_currency),
        "price_power_of_ten": Member(integer(-9, 9)),
        "primacy": Member(integer(0, 255)),
        "rate_code": Member(string(20), nullable=True),
        "service_category_kind": Member(integer(0, 6)),
        "description": Member(string(32), nullable=True),
    }
)
PROFILE_PATCH: Mapping[str, Member] = MappingProxyType(
    {name: PROFILE_MEMBERS[name] for name in ("primacy", "rate_code", "description")}
)
RATE_COMPONENT_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "profile_id": Member(identifier),
        "description": Member(string(32), nullable=True),
        "role_flags": Member(hex_string(4)),
        "reading_type": Member(_json_of(ReadingType, where="ReadingType")),
        "flow_rate_start_limit": Member(_json_of(UnitValueType, where="flowRateStartLimit"), nullable=True),
        "flow_rate_end_limit": Member(_json_of(UnitValueType, where="flowRateEndLimit"), nullable=True),
    }
)
RATE_COMPONENT_PATCH: Mapping[str, Member] = MappingProxyType({"description": RATE_COMPONENT_MEMBERS["description"]})
BLOCK_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {"start_value": Member(integer(0, 2**48 - 1)), "price": Member(integer(-(2**31), 2**31 - 1))}
)
ENTRY_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "tier": Member(integer(0, TOU_TIER_MAX)),
        "price": Member(integer(-(2**31), 2**31 - 1)),
        "blocks": Member(lambda name, value: value),
        "start": Member(date_time),
        "duration": Member(integer(1, 2**32 - 1)),
    }
)
EVENT_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "description": Member(string(32), nullable=True),
        "response_required": Member(hex_string(2), nullable=True),
        "randomize_start": Member(integer(-ONE_HOUR, ONE_HOUR), nullable=True),
        "randomize_duration": Member(integer(-ONE_HOUR, ONE_HOUR), nullable=True),
    }
)
SCHEDULE_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        **EVENT_MEMBERS,
        "start": Member(date_time),
        "interval_length": Member(integer(60, ONE_DAY)),
        "intervals": Member(lambda name, value: value),
    }
)
INTERVAL_MEMBERS: Mapping[str, Member] = MappingProxyType({**EVENT_MEMBERS, **ENTRY_MEMBERS})
CANCEL_MEMBERS: Mapping[str, Member] = MappingProxyType({"randomized": Member(boolean)})


# -- JSON shapes -----------------------------------------------------------------------------------------


def profile_json(row: TariffProfileRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "href": profile_href(row.id),  # type: ignore[arg-type]
        "group_id": row.group_id,
        "mrid": row.mrid,
        "description": row.description,
        "currency": row.currency,
        "price_power_of_ten": row.price_power_of_ten,
        "primacy": row.primacy,
        "rate_code": row.rate_code,
        "service_category_kind": row.service_category_kind,
        "version": row.version,
        "created_time": row.created_time,
    }


def rate_component_json(row: RateComponentRow) -> dict[str, Any]:
    reading_type = decode(row.reading_type, ReadingType)
    return {
        "id": row.id,
        "href": rate_component_href(row),
        "profile_id": row.profile_id,
        "mrid": row.mrid,
        "description": row.description,
        "role_flags": row.role_flags,
        "direction": DIRECTIONS.get(reading_type.flowDirection or 0),
        "reading_type": to_dict(reading_type),
        "flow_rate_start_limit": _limit_json(row.flow_rate_start_limit),
        "flow_rate_end_limit": _limit_json(row.flow_rate_end_limit),
        "version": row.version,
        "created_time": row.created_time,
    }


def _limit_json(document: bytes | None) -> dict[str, Any] | None:
    return to_dict(decode(document, UnitValueType)) if document else None


def _blocks_json(row: TimeTariffIntervalRow, multiplier: int) -> list[dict[str, Any]]:
    return [
        {
            "start_value": b.startValue,
            "price": b.price,
            "amount": str(money(b.price, multiplier)) if b.price is not None else None,
        }
        for b in blocks_of(row)
    ]


def interval_json(
    row: TimeTariffIntervalRow, rc: RateComponentRow, profile: TariffProfileRow, status: Status | None,
    superseded_by: list[str],
) -> dict[str, Any]:  # fmt: skip
    return {
        "id": row.id,
        "href": interval_href(rc, row),
        "mrid": row.mrid,
        "rate_component_id": rc.id,
        "profile_id": profile.id,
        "description": row.description,
        "creation_time": row.creation_time,
        "start": row.start,
        "duration": row.duration,
        "tier": row.tou_tier,
        "blocks": _blocks_json(row, profile.price_power_of_ten),
        "randomize_start": row.randomize_start,
        "randomize_duration": row.randomize_duration,
        "response_required": row.response_required,
        "cancelled_time": row.cancelled_time,
        "cancel_randomized": row.cancel_randomized,
        "status": status_json(status),
        "superseded_by": superseded_by,
        "responses": f"{API}/responses?subject={row.mrid}",
    }


async def _parents(ctx: AppContext, rc_id: int) -> tuple[TariffProfileRow, RateComponentRow]:
    rc = await store.rate_component(ctx.store, rc_id)
    if rc is None:
        raise not_found(f"no rate component with id {rc_id}")
    profile = await store.profile(ctx.store, rc.profile_id)
    assert profile is not None
    return profile, rc


async def _intervals_view(
    ctx: AppContext, profile: TariffProfileRow, rc: RateComponentRow, chosen: list[TimeTariffIntervalRow]
) -> list[dict[str, Any]]:
    rows = await store.intervals_of(ctx.store, rc.id)  # type: ignore[arg-type]
    now = ctx.now()
    status = statuses(rows, profile, rc, now)
    lost: dict[str, list[str]] = {}
    for group in overlap_groups(event_specs([r for r in rows if r.creation_time <= now], profile, rc)):
        for s in supersessions(group):
            lost.setdefault(s.loser, []).append(s.winner)
    return [interval_json(r, rc, profile, status.get(r.mrid), sorted(lost.get(r.mrid, []))) for r in chosen]


# -- tariff profiles -------------------------------------------------------------------------------------


async def create_profile(request: web.Request) -> web.Response:
    """Create a TariffProfile for a group (the group's FunctionSetAssignments will link it)."""
    ctx = request.app[CONTEXT]
    body = read_members(await read_json_object(request), PROFILE_MEMBERS,
                        required=("group_id", "currency", "price_power_of_ten", "primacy"))  # fmt: skip
    try:
        row = await store.create_profile(
            ctx.store,
            group_id=body["group_id"],
            currency=body["currency"],
            price_power_of_ten=body["price_power_of_ten"],
            primacy=body["primacy"],
            rate_code=body.get("rate_code"),
            service_category_kind=body.get("service_category_kind", 0),
            description=body.get("description"),
            mrid=new_mrid(ctx.settings.manufacturer_pen),
            created_time=ctx.now(),
        )
    except KeyError as exc:
        raise bad_request(f"group_id: {exc.args[0]}") from None
    return web.json_response(profile_json(row), status=201, headers={"Location": f"{API}/tariff-profiles/{row.id}"})


async def list_profiles(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    offset, limit = page_params(request)
    group_id = query_int(request, "group", None, lo=1)
    page = await store.list_profiles(ctx.store, group_id=group_id, start=offset, limit=limit)
    return web.json_response({"total": page.total, "items": [profile_json(p) for p in page.rows]})


async def _profile_or_404(ctx: AppContext, profile_id: int) -> TariffProfileRow:
    row = await store.profile(ctx.store, profile_id)
    if row is None:
        raise not_found(f"no tariff profile with id {profile_id}")
    return row


async def get_profile(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    return web.json_response(profile_json(await _profile_or_404(ctx, path_id(request, "tariff profile"))))


async def patch_profile(request: web.Request) -> web.Response:
    """Change a profile's primacy, rate code or description (its currency and price scale are fixed: the
    prices already published are in them)."""
    ctx = request.app[CONTEXT]
    profile_id = path_id(request, "tariff profile")
    body = read_members(await read_json_object(request), PROFILE_PATCH)
    row = await store.update_profile(ctx.store, profile_id, **body)
    if row is None:
        raise not_found(f"no tariff profile with id {profile_id}")
    return web.json_response(profile_json(row))


async def delete_profile(request: web.Request) -> web.Response:
    """Delete a profile with its rate components and their intervals."""
    ctx = request.app[CONTEXT]
    profile_id = path_id(request, "tariff profile")
    if not await store.delete_profile(ctx.store, profile_id):
        raise not_found(f"no tariff profile with id {profile_id}")
    return web.Response(status=204)


# -- rate components -------------------------------------------------------------------------------------


def _limit_value(limit: UnitValueType) -> float:
    return limit.value * 10.0**limit.multiplier


async def create_rate_component(request: web.Request) -> web.Response:
    """Create a RateComponent: what is priced (its ReadingType; flowDirection 1 import, 19 export)."""
    ctx = request.app[CONTEXT]
    body = read_members(await read_json_object(request), RATE_COMPONENT_MEMBERS,
                        required=("profile_id", "reading_type"))  # fmt: skip
    reading_type: ReadingType = body["reading_type"]
    if reading_type.flowDirection not in DIRECTIONS:
        raise bad_request("reading_type: ReadingType/flowDirection is required: 1 (forward) prices imported "
                          "energy, 19 (reverse) exported energy")  # fmt: skip
    if reading_type.uom is None:
        raise bad_request("reading_type: ReadingType/uom is required (prices are per unit of it)")
    start, end = body.get("flow_rate_start_limit"), body.get("flow_rate_end_limit")
    if end is not None and start is None:
        raise bad_request("flow_rate_end_limit: a RateComponent with flowRateEndLimit also needs "
                          "flowRateStartLimit (2030.5 RateComponent)")  # fmt: skip
    if start is not None and end is not None:
        if start.unit != end.unit:
            raise bad_request("flow_rate_end_limit: unit differs from flow_rate_start_limit's")
        if _limit_value(end) < _limit_value(start):
            raise bad_request("flow_rate_end_limit: is below flow_rate_start_limit")
    if await store.profile(ctx.store, body["profile_id"]) is None:
        raise bad_request(f"profile_id: no tariff profile with id {body['profile_id']}")
    try:
        row = await store.create_rate_component(
            ctx.store,
            profile_id=body["profile_id"],
            mrid=new_mrid(ctx.settings.manufacturer_pen),
            description=body.get("description"),
            role_flags=body.get("role_flags", "0000").zfill(4),
            reading_type=encode(reading_type),
            flow_rate_start_limit=encode(start) if start is not None else None,
            flow_rate_end_limit=encode(end) if end is not None else None,
            created_time=ctx.now(),
        )
    except KeyError as exc:
        raise bad_request(f"profile_id: {exc.args[0]}") from None
    return web.json_response(rate_component_json(row), status=201,
                             headers={"Location": f"{API}/rate-components/{row.id}"})  # fmt: skip


async def list_rate_components(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    offset, limit = page_params(request)
    profile_id = query_int(request, "profile", None, lo=1)
    page = await store.rate_components(ctx.store, profile_id=profile_id, start=offset, limit=limit)
    return web.json_response({"total": page.total, "items": [rate_component_json(r) for r in page.rows]})


async def get_rate_component(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    _, rc = await _parents(ctx, path_id(request, "rate component"))
    return web.json_response(rate_component_json(rc))


async def patch_rate_component(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    rc_id = path_id(request, "rate component")
    body = read_members(await read_json_object(request), RATE_COMPONENT_PATCH)
    row = await store.update_rate_component(ctx.store, rc_id, **body)
    if row is None:
        raise not_found(f"no rate component with id {rc_id}")
    return web.json_response(rate_component_json(row))


async def delete_rate_component(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    rc_id = path_id(request, "rate component")
    if not await store.delete_rate_component(ctx.store, rc_id):
        raise not_found(f"no rate component with id {rc_id}")
    return web.Response(status=204)


# -- intervals -------------------------------------------------------------------------------------------


def _blocks(name: str, entry: dict[str, Any], reading_type: ReadingType) -> list[ConsumptionTariffInterval]:
    """The ConsumptionTariffIntervals of one entry: its single ``price`` (one block from 0) or its
    ``blocks`` (first at 0, startValue increasing, at most the ReadingType's numberOfConsumptionBlocks)."""
    if ("price" in entry) == ("blocks" in entry):
        raise bad_request(f"{name}: give exactly one of price and blocks")
    if "price" in entry:
        return [ConsumptionTariffInterval(consumptionBlock=0, startValue=0, price=entry["price"])]
    raw = entry["blocks"]
    if not isinstance(raw, list) or not raw:
        raise bad_request(f"{name}.blocks: must be a non-empty array of {{start_value, price}}")
    limit = min(MAX_BLOCKS, reading_type.numberOfConsumptionBlocks or MAX_BLOCKS)
    if len(raw) > limit:
        raise bad_request(f"{name}.blocks: {len(raw)} blocks; at most {limit} (ConsumptionBlockType, "
                          "ReadingType numberOfConsumptionBlocks)")  # fmt: skip
    parsed = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise bad_request(f"{name}.blocks[{i}]: must be an object {{start_value, price}}")
        parsed.append(read_members(item, BLOCK_MEMBERS, required=("start_value", "price"), where=f"{name}.blocks[{i}]"))
    try:
        check_blocks([Block(b["start_value"], b["price"]) for b in parsed])
    except ValueError as exc:
        raise bad_request(f"{name}.blocks: {exc} (2030.5 ConsumptionTariffInterval startValue)") from None
    return [
        ConsumptionTariffInterval(consumptionBlock=i + 1, startValue=b["start_value"], price=b["price"])
        for i, b in enumerate(parsed)
    ]


def _check_tier(name: str, tier: int, reading_type: ReadingType) -> None:
    tiers = reading_type.numberOfTouTiers
    if tiers is not None and tier > tiers:
        raise bad_request(f"{name}.tier: {tier} exceeds the rate component's ReadingType numberOfTouTiers ({tiers})")


def _new_row(ctx: AppContext, rc: RateComponentRow, event: dict[str, Any], start: int, duration: int, tier: int,
             blocks: list[ConsumptionTariffInterval]) -> TimeTariffIntervalRow:  # fmt: skip
    listing = ConsumptionTariffIntervalList(all=len(blocks), results=len(blocks), ConsumptionTariffInterval=blocks)
    return TimeTariffIntervalRow(
        rate_component_id=rc.id,  # type: ignore[arg-type]
        mrid=new_mrid(ctx.settings.manufacturer_pen),
        description=event.get("description"),
        creation_time=ctx.now(),
        start=start,
        duration=duration,
        randomize_start=event.get("randomize_start"),
        randomize_duration=event.get("randomize_duration"),
        response_required=event.get("response_required"),
        tou_tier=tier,
        blocks=encode(listing),
    )


async def _publish(ctx: AppContext, profile: TariffProfileRow, rc: RateComponentRow,
                   rows: list[TimeTariffIntervalRow]) -> list[dict[str, Any]]:  # fmt: skip
    try:
        await store.create_intervals(ctx.store, rc.id, rows)  # type: ignore[arg-type]
    except KeyError as exc:
        raise not_found(str(exc.args[0])) from None
    except Conflict as exc:
        raise web.HTTPConflict(text=str(exc)) from None
    return await _intervals_view(ctx, profile, rc, rows)


def _not_expired(name: str, ctx: AppContext, start: int, duration: int) -> None:
    if start + duration <= ctx.now():
        raise bad_request(f"{name}: the interval would end before it is created (2030.5 10.2.3: an event "
                          "entirely in the past is never in effect)")  # fmt: skip


async def publish_schedule(request: web.Request) -> web.Response:
    """Publish a schedule of consecutive intervals in one request: each entry gives a tier and a price (or
    block prices); it starts where the previous one ended (the first at ``start``) and lasts
    ``interval_length`` seconds (default 3600), unless it gives its own ``start`` / ``duration``. The
    entries may not overlap one another. Intervals of earlier schedules they overlap are superseded."""
    ctx = request.app[CONTEXT]
    profile, rc = await _parents(ctx, path_id(request, "rate component"))
    body = read_members(await read_json_object(request), SCHEDULE_MEMBERS, required=("start", "intervals"))
    entries = body["intervals"]
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_SCHEDULE:
        raise bad_request(f"intervals: must be an array of 1 to {MAX_SCHEDULE} entries {{tier, price | blocks}}")
    reading_type = decode(rc.reading_type, ReadingType)
    length = body.get("interval_length", ONE_HOUR)
    cursor, previous_end = body["start"], None
    rows = []
    for i, raw in enumerate(entries):
        name = f"intervals[{i}]"
        if not isinstance(raw, dict):
            raise bad_request(f"{name}: must be an object {{tier, price | blocks}}")
        entry = read_members(raw, ENTRY_MEMBERS, required=("tier",), where=name)
        start, duration = entry.get("start", cursor), entry.get("duration", length)
        if previous_end is not None and start < previous_end:
            raise bad_request(f"{name}: starts at {start}, before the previous interval ends ({previous_end}); "
                              "the intervals of one schedule may not overlap")  # fmt: skip
        _not_expired(name, ctx, start, duration)
        _check_tier(name, entry["tier"], reading_type)
        rows.append(_new_row(ctx, rc, body, start, duration, entry["tier"], _blocks(name, entry, reading_type)))
        cursor = previous_end = start + duration
    items = await _publish(ctx, profile, rc, rows)
    return web.json_response({"rate_component_id": rc.id, "total": len(items), "items": items}, status=201)


async def create_interval(request: web.Request) -> web.Response:
    """Publish one interval, e.g. a critical peak: a newer interval supersedes the ones it overlaps."""
    ctx = request.app[CONTEXT]
    profile, rc = await _parents(ctx, path_id(request, "rate component"))
    body = read_members(await read_json_object(request), INTERVAL_MEMBERS, required=("start", "duration", "tier"))
    reading_type = decode(rc.reading_type, ReadingType)
    _not_expired("start", ctx, body["start"], body["duration"])
    _check_tier("interval", body["tier"], reading_type)
    row = _new_row(
        ctx, rc, body, body["start"], body["duration"], body["tier"], _blocks("interval", body, reading_type)
    )
    (item,) = await _publish(ctx, profile, rc, [row])
    return web.json_response(item, status=201, headers={"Location": f"{API}/tariff-intervals/{row.id}"})


async def list_intervals(request: web.Request) -> web.Response:
    """A rate component's intervals in TimeTariffIntervalList order (Table 42), with their status now."""
    ctx = request.app[CONTEXT]
    profile, rc = await _parents(ctx, path_id(request, "rate component"))
    offset, limit = page_params(request)
    rows = await store.intervals_of(ctx.store, rc.id)  # type: ignore[arg-type]
    sort_intervals(rows)
    items = await _intervals_view(ctx, profile, rc, rows[offset : offset + limit])
    return web.json_response({"total": len(rows), "items": items})


async def _interval_or_404(ctx: AppContext, interval_id: int) -> TimeTariffIntervalRow:
    row = await store.interval(ctx.store, interval_id)
    if row is None:
        raise not_found(f"no tariff interval with id {interval_id}")
    return row


async def get_interval(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    row = await _interval_or_404(ctx, path_id(request, "tariff interval"))
    profile, rc = await _parents(ctx, row.rate_component_id)
    (item,) = await _intervals_view(ctx, profile, rc, [row])
    return web.json_response(item)


async def cancel_interval(request: web.Request) -> web.Response:
    """Cancel an interval (EventStatus 2), or cancel it with randomization (3) when ``randomized``."""
    ctx = request.app[CONTEXT]
    interval_id = path_id(request, "tariff interval")
    body = read_members(await read_json_object(request), CANCEL_MEMBERS)
    row = await store.cancel_interval(ctx.store, interval_id, ctx.now(), body.get("randomized", False))
    if row is None:
        raise not_found(f"no tariff interval with id {interval_id}")
    profile, rc = await _parents(ctx, row.rate_component_id)
    (item,) = await _intervals_view(ctx, profile, rc, [row])
    return web.json_response(item)


# -- current and next price ------------------------------------------------------------------------------


def _price_json(found: TariffInterval | None, by_mrid: dict[str, TimeTariffIntervalRow], multiplier: int) -> Any:
    if found is None:
        return None
    row = by_mrid[found.mrid]
    blocks = blocks_of(row)
    first = blocks[0].price if blocks else None
    return {
        "interval_id": row.id,
        "mrid": found.mrid,
        "tier": found.tou_tier,
        "start": found.start,
        "end": found.end,
        "price": first,
        "amount": str(money(first, multiplier)) if first is not None else None,
        "display": str(to_cents(first, multiplier)) if first is not None else None,
        "blocks": _blocks_json(row, multiplier),
    }


async def group_prices(request: web.Request) -> web.Response:
    """The price in force now and the next change, for every rate component of the group's tariffs."""
    ctx = request.app[CONTEXT]
    group_id = path_id(request, "group")
    if await ctx.store.group(group_id) is None:
        raise not_found(f"no group with id {group_id}")
    now = ctx.now()
    profiles = []
    for profile in (await store.profiles_of_groups(ctx.store, [group_id])).rows:
        components = []
        for rc in (await store.rate_components(ctx.store, profile_id=profile.id, by_mrid=True)).rows:
            rows = [r for r in await store.intervals_of(ctx.store, rc.id) if r.creation_time <= now]
            by_mrid = {r.mrid: r for r in rows}
            intervals = [tariff_interval(r, profile, with_blocks=False) for r in rows]  # blocks: only 2 used
            change = next_price_change(intervals, now, rc.mrid)
            m = profile.price_power_of_ten
            components.append(
                {
                    "rate_component_id": rc.id,
                    "mrid": rc.mrid,
                    "description": rc.description,
                    "direction": DIRECTIONS.get(decode(rc.reading_type, ReadingType).flowDirection or 0),
                    "current": _price_json(price_in_force(intervals, now, rc.mrid), by_mrid, m),
                    "next": None if change is None else {"at": change.at,
                                                         "price": _price_json(change.interval, by_mrid, m)},
                }
            )  # fmt: skip
        profiles.append({**profile_json(profile), "rate_components": components})
    return web.json_response({"group_id": group_id, "time": now, "profiles": profiles})


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post(f"{API}/tariff-profiles", create_profile)
    r.add_get(f"{API}/tariff-profiles", list_profiles)
    r.add_get(f"{API}/tariff-profiles/{{id}}", get_profile)
    r.add_patch(f"{API}/tariff-profiles/{{id}}", patch_profile)
    r.add_delete(f"{API}/tariff-profiles/{{id}}", delete_profile)
    r.add_post(f"{API}/rate-components", create_rate_component)
    r.add_get(f"{API}/rate-components", list_rate_components)
    r.add_get(f"{API}/rate-components/{{id}}", get_rate_component)
    r.add_patch(f"{API}/rate-components/{{id}}", patch_rate_component)
    r.add_delete(f"{API}/rate-components/{{id}}", delete_rate_component)
    r.add_post(f"{API}/rate-components/{{id}}/schedule", publish_schedule)
    r.add_post(f"{API}/rate-components/{{id}}/intervals", create_interval)
    r.add_get(f"{API}/rate-components/{{id}}/intervals", list_intervals)
    r.add_get(f"{API}/tariff-intervals/{{id}}", get_interval)
    r.add_post(f"{API}/tariff-intervals/{{id}}/cancel", cancel_interval)
    r.add_get(f"{API}/groups/{{id}}/prices", group_prices)
