"""Pricing function set, utility side (IEEE 2030.5-2018 clause 10.5).

Tariff profiles belong to a group of devices and are reached through the group's FunctionSetAssignments
(clause 10.5 and Annex C, "Pricing time of use": a client follows the TariffProfileListLink of its
FunctionSetAssignments):

* ``/edev/{e}/fsa/{g}/tp``: TariffProfileList of a group.
* ``/tp/{t}``: TariffProfile; ``/tp/{t}/rc`` RateComponentList, ``/tp/{t}/rc/{r}`` RateComponent,
  ``/tp/{t}/rc/{r}/rt`` its ReadingType (flowDirection 1 prices imported energy, 19 exported energy).
* ``/tp/{t}/rc/{r}/tti`` TimeTariffIntervalList, ``/tp/{t}/rc/{r}/tti/{i}`` TimeTariffInterval,
  ``/tp/{t}/rc/{r}/acttti`` ActiveTimeTariffIntervalList.
* ``/tp/{t}/rc/{r}/tti/{i}/cti`` ConsumptionTariffIntervalList, ``.../cti/{k}`` ConsumptionTariffInterval
  (``k`` counts the blocks from 1 in startValue order; a served interval never changes, rule c of 10.2.3).

Lists follow Table 42 (10.5.2): TariffProfiles and RateComponents by mRID descending; TimeTariffIntervals
by interval.start ascending, creationTime descending, mRID descending; ConsumptionTariffIntervals by
startValue ascending. A TimeTariffInterval is an event: its EventStatus is computed when it is read, by the
event rules (:mod:`gridhan.schemas.event_rules`, 10.2.3) over the intervals of its rate component, with one
pseudo-mode, so a newer overlapping interval (a critical-peak hour over a time-of-use hour) supersedes the
older one. Nothing about status is stored. Pricing resources are served with ``subscribable="0"``: this
server does not yet notify subscribers of price changes.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gridhan.schemas.event_rules import EventSpec, Status, active_controls, event_statuses
from gridhan.schemas.sep2 import DateTimeInterval, EventStatus, Link, ListLink
from gridhan.schemas.sep2.metering import ReadingType, UnitValueType
from gridhan.schemas.sep2.pricing import (
    ConsumptionTariffInterval,
    ConsumptionTariffIntervalList,
    RateComponent,
    RateComponentList,
    TariffProfile,
    TariffProfileList,
    TimeTariffInterval,
    TimeTariffIntervalList,
)
from gridhan.schemas.tariff import Block, TariffInterval, overlap_groups
from gridhan.schemas.xmlcodec import decode
from gridhan.server.context import CONTEXT
from gridhan.server.identity import Principal
from gridhan.server.sep2.http import paging, xml_response
from gridhan.server.sep2.registry import EventRef, FunctionSets
from gridhan.server.sep2.response import PRICING_REPLY_TO
from gridhan.server.sep2.scope import group_in_scope, require_registered, visible_device_ids
from gridhan.server.store import der as der_store
from gridhan.server.store import pricing as store
from gridhan.server.store.tables import DeviceGroupRow, RateComponentRow, TariffProfileRow, TimeTariffIntervalRow

#: Pricing resources are not offered for subscription (sep.xsd SubscribableType 0).
NOT_SUBSCRIBABLE = 0


def profile_href(profile_id: int) -> str:
    return f"/tp/{profile_id}"


def rate_component_href(row: RateComponentRow) -> str:
    return f"{profile_href(row.profile_id)}/rc/{row.id}"


def interval_href(rc: RateComponentRow, row: TimeTariffIntervalRow) -> str:
    return f"{rate_component_href(rc)}/tti/{row.id}"


# -- the event rules and the tariff arithmetic on stored intervals ---------------------------------------


def blocks_of(row: TimeTariffIntervalRow) -> list[ConsumptionTariffInterval]:
    """The interval's ConsumptionTariffIntervals, in startValue order."""
    return decode(row.blocks, ConsumptionTariffIntervalList).ConsumptionTariffInterval


def tariff_interval(
    row: TimeTariffIntervalRow, profile: TariffProfileRow, *, with_blocks: bool = True
) -> TariffInterval:
    """A stored interval as the pure tariff arithmetic sees it."""
    blocks = tuple(Block(b.startValue, b.price) for b in blocks_of(row)) if with_blocks else ()
    return TariffInterval(
        mrid=row.mrid,
        creation_time=row.creation_time,
        start=row.start,
        duration=row.duration,
        tou_tier=row.tou_tier,
        blocks=blocks,
        primacy=profile.primacy,
        randomize_start=row.randomize_start,
        randomize_duration=row.randomize_duration,
        cancelled_at=row.cancelled_time,
        cancel_randomized=row.cancel_randomized,
    )


def event_specs(rows: list[TimeTariffIntervalRow], profile: TariffProfileRow, rc: RateComponentRow) -> list[EventSpec]:
    return [tariff_interval(r, profile, with_blocks=False).spec(rc.mrid) for r in rows]


def statuses(
    rows: list[TimeTariffIntervalRow], profile: TariffProfileRow, rc: RateComponentRow, now: int
) -> dict[str, Status]:
    """EventStatus of every interval of one rate component at ``now`` (intervals created later are left
    out), computed group by group of overlapping intervals (only those can supersede each other)."""
    specs = event_specs([r for r in rows if r.creation_time <= now], profile, rc)
    out: dict[str, Status] = {}
    for group in overlap_groups(specs):
        out.update(event_statuses(group, now))
    return out


def active_rows(
    rows: list[TimeTariffIntervalRow], profile: TariffProfileRow, rc: RateComponentRow, now: int
) -> list[TimeTariffIntervalRow]:
    """What the ActiveTimeTariffIntervalList shows at ``now``, in its order (10.2.2, Table 42)."""
    by_mrid = {r.mrid: r for r in rows}
    out: list[TimeTariffIntervalRow] = []
    for group in overlap_groups(event_specs(rows, profile, rc)):
        if any(e.earliest_effective_start <= now < e.latest_effective_end for e in group):
            out += [by_mrid[s.mrid] for s in active_controls(group, now)]
    sort_intervals(out)
    return out


def sort_intervals(rows: list[TimeTariffIntervalRow]) -> None:
    """Table 42: interval.start ascending, creationTime descending, mRID descending."""
    rows.sort(key=lambda r: r.mrid, reverse=True)
    rows.sort(key=lambda r: (r.start, -r.creation_time))


async def published_intervals(ctx: Any, rc: RateComponentRow) -> list[TimeTariffIntervalRow]:
    """The rate component's intervals a device can see now (those created by now), from one query."""
    now = ctx.now()
    return [r for r in await store.intervals_of(ctx.store, rc.id) if r.creation_time <= now]  # type: ignore[arg-type]


# -- rendering -------------------------------------------------------------------------------------------


def render_profile(row: TariffProfileRow, rate_components: int) -> TariffProfile:
    href = profile_href(row.id)  # type: ignore[arg-type]
    return TariffProfile(
        href=href,
        mRID=row.mrid,
        description=row.description,
        version=row.version,
        currency=row.currency,
        pricePowerOfTenMultiplier=row.price_power_of_ten,
        primacy=row.primacy,
        rateCode=row.rate_code,
        RateComponentListLink=ListLink(href=f"{href}/rc", all=rate_components),
        serviceCategoryKind=row.service_category_kind,
    )


def render_rate_component(row: RateComponentRow, intervals: int, active: int) -> RateComponent:
    href = rate_component_href(row)
    return RateComponent(
        href=href,
        mRID=row.mrid,
        description=row.description,
        version=row.version,
        ActiveTimeTariffIntervalListLink=ListLink(href=f"{href}/acttti", all=active),
        flowRateEndLimit=decode(row.flow_rate_end_limit, UnitValueType) if row.flow_rate_end_limit else None,
        flowRateStartLimit=decode(row.flow_rate_start_limit, UnitValueType) if row.flow_rate_start_limit else None,
        ReadingTypeLink=Link(href=f"{href}/rt"),
        roleFlags=row.role_flags,
        TimeTariffIntervalListLink=ListLink(href=f"{href}/tti", all=intervals),
    )


def render_interval(rc: RateComponentRow, row: TimeTariffIntervalRow, status: Status) -> TimeTariffInterval:
    href = interval_href(rc, row)
    return TimeTariffInterval(
        href=href,
        replyTo=PRICING_REPLY_TO if row.response_required else None,
        responseRequired=row.response_required,
        mRID=row.mrid,
        description=row.description,
        version=row.version,
        subscribable=NOT_SUBSCRIBABLE,
        creationTime=row.creation_time,
        EventStatus=EventStatus(
            currentStatus=int(status.current_status),
            dateTime=status.date_time,
            potentiallySuperseded=status.potentially_superseded,
            potentiallySupersededTime=status.potentially_superseded_time,
        ),
        interval=DateTimeInterval(duration=row.duration, start=row.start),
        randomizeDuration=row.randomize_duration,
        randomizeStart=row.randomize_start,
        ConsumptionTariffIntervalListLink=ListLink(href=f"{href}/cti", all=len(blocks_of(row))),
        touTier=row.tou_tier,
    )


# -- scoping ---------------------------------------------------------------------------------------------


async def _visible_group_ids(request: web.Request) -> list[int]:
    require_registered(request)
    return await der_store.group_ids_of_devices(request.app[CONTEXT].store, await visible_device_ids(request))


def _id(request: web.Request, name: str) -> int | None:
    raw = request.match_info[name]
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


async def profile_in_scope(request: web.Request) -> TariffProfileRow:
    """The path's TariffProfile, when a device the caller may see is in its group; 404 otherwise."""
    profile_id = _id(request, "tp")
    row = await store.profile(request.app[CONTEXT].store, profile_id) if profile_id else None
    if row is None or row.group_id not in await _visible_group_ids(request):
        raise web.HTTPNotFound(text="no such TariffProfile")
    return row


async def rate_component_in_scope(request: web.Request) -> tuple[TariffProfileRow, RateComponentRow]:
    profile = await profile_in_scope(request)
    rc_id = _id(request, "rc")
    row = await store.rate_component(request.app[CONTEXT].store, rc_id) if rc_id else None
    if row is None or row.profile_id != profile.id:
        raise web.HTTPNotFound(text="no such RateComponent")
    return profile, row


async def interval_in_scope(
    request: web.Request,
) -> tuple[TariffProfileRow, RateComponentRow, TimeTariffIntervalRow, list[TimeTariffIntervalRow]]:
    """The path's TimeTariffInterval (404 before its creationTime) with its rate component's published ones."""
    ctx = request.app[CONTEXT]
    profile, rc = await rate_component_in_scope(request)
    rows = await published_intervals(ctx, rc)
    wanted = _id(request, "tti")
    row = next((r for r in rows if r.id == wanted), None)
    if row is None:
        raise web.HTTPNotFound(text="no such TimeTariffInterval")
    return profile, rc, row, rows


# -- handlers --------------------------------------------------------------------------------------------


async def get_group_profiles(request: web.Request) -> web.Response:
    """TariffProfileList of one FunctionSetAssignments (group) of a device."""
    ctx = request.app[CONTEXT]
    _device, group_id = await group_in_scope(request)
    page = paging(request)
    result = await store.profiles_of_groups(ctx.store, [group_id], page.start, page.limit)
    items = []
    for row in result.rows:
        count = (await store.rate_components(ctx.store, profile_id=row.id, limit=0)).total
        items.append(render_profile(row, count))
    return xml_response(
        TariffProfileList(
            href=request.path,
            subscribable=NOT_SUBSCRIBABLE,
            all=result.total,
            results=len(items),
            TariffProfile=items,
            pollRate=ctx.runtime.poll_rates["TariffProfileList"],
        )
    )


async def get_profile(request: web.Request) -> web.Response:
    row = await profile_in_scope(request)
    count = (await store.rate_components(request.app[CONTEXT].store, profile_id=row.id, limit=0)).total
    return xml_response(render_profile(row, count))


async def _render_rc(ctx: Any, profile: TariffProfileRow, rc: RateComponentRow) -> RateComponent:
    rows = await published_intervals(ctx, rc)
    return render_rate_component(rc, len(rows), len(active_rows(rows, profile, rc, ctx.now())))


async def get_rate_components(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    profile = await profile_in_scope(request)
    page = paging(request)
    result = await store.rate_components(ctx.store, profile_id=profile.id, start=page.start, limit=page.limit,
                                         by_mrid=True)  # fmt: skip
    items = [await _render_rc(ctx, profile, rc) for rc in result.rows]
    return xml_response(RateComponentList(href=request.path, all=result.total, results=len(items), RateComponent=items))


async def get_rate_component(request: web.Request) -> web.Response:
    profile, rc = await rate_component_in_scope(request)
    return xml_response(await _render_rc(request.app[CONTEXT], profile, rc))


async def get_reading_type(request: web.Request) -> web.Response:
    """The ReadingType a rate component's prices are per unit of (forward or reverse flow, unit, scale)."""
    _, rc = await rate_component_in_scope(request)
    doc = decode(rc.reading_type, ReadingType)
    doc.href = request.path
    return xml_response(doc)


async def get_intervals(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    profile, rc = await rate_component_in_scope(request)
    page = paging(request)
    rows = await published_intervals(ctx, rc)
    status = statuses(rows, profile, rc, ctx.now())  # over every interval: one left out by 'a' may supersede
    if page.after is not None:
        rows = [r for r in rows if r.start >= page.after]
    sort_intervals(rows)
    chosen = rows[page.start : page.start + page.limit]
    items = [render_interval(rc, r, status[r.mrid]) for r in chosen]
    return xml_response(
        TimeTariffIntervalList(
            href=request.path, subscribable=NOT_SUBSCRIBABLE, all=len(rows), results=len(items),
            TimeTariffInterval=items,
        )
    )  # fmt: skip


async def get_active_intervals(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    profile, rc = await rate_component_in_scope(request)
    page = paging(request)
    now = ctx.now()
    rows = await published_intervals(ctx, rc)
    active = active_rows(rows, profile, rc, now)
    status = statuses(rows, profile, rc, now)
    chosen = active[page.start : page.start + page.limit]
    items = [render_interval(rc, r, status[r.mrid]) for r in chosen]
    return xml_response(
        TimeTariffIntervalList(
            href=request.path, subscribable=NOT_SUBSCRIBABLE, all=len(active), results=len(items),
            TimeTariffInterval=items,
        )
    )  # fmt: skip


async def get_interval(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    profile, rc, row, rows = await interval_in_scope(request)
    return xml_response(render_interval(rc, row, statuses(rows, profile, rc, ctx.now())[row.mrid]))


def _render_block(block: ConsumptionTariffInterval, href: str) -> ConsumptionTariffInterval:
    block.href = href
    return block


async def get_blocks(request: web.Request) -> web.Response:
    _, _, row, _ = await interval_in_scope(request)
    page = paging(request)
    blocks = blocks_of(row)
    chosen = list(enumerate(blocks, start=1))[page.start : page.start + page.limit]
    items = [_render_block(b, f"{request.path}/{k}") for k, b in chosen]
    return xml_response(
        ConsumptionTariffIntervalList(
            href=request.path, all=len(blocks), results=len(items), ConsumptionTariffInterval=items
        )
    )


async def get_block(request: web.Request) -> web.Response:
    _, _, row, _ = await interval_in_scope(request)
    blocks = blocks_of(row)
    k = _id(request, "cti")
    if k is None or not 1 <= k <= len(blocks):
        raise web.HTTPNotFound(text="no such ConsumptionTariffInterval")
    return xml_response(_render_block(blocks[k - 1], request.path))


# -- links and events ------------------------------------------------------------------------------------


async def _fsa_links(request: web.Request, _who: Principal, group: DeviceGroupRow) -> dict[str, Any]:
    page = await store.profiles_of_groups(request.app[CONTEXT].store, [group.id], 0, 0)  # type: ignore[list-item]
    base = request.path.split("/fsa")[0]
    return {"TariffProfileListLink": ListLink(href=f"{base}/fsa/{group.id}/tp", all=page.total)}


async def resolve_interval(ctx: Any, mrid: str) -> EventRef | None:
    """The TimeTariffInterval with this mRID and the devices its profile's group holds (for PriceResponses)."""
    row = await store.interval_by_mrid(ctx.store, mrid)
    if row is None or row.creation_time > ctx.now():
        return None
    rc = await store.rate_component(ctx.store, row.rate_component_id)
    assert rc is not None
    profile = await store.profile(ctx.store, rc.profile_id)
    assert profile is not None
    members = await ctx.store.group_member_ids(profile.group_id)
    return EventRef("Pricing", row.mrid, interval_href(rc, row), frozenset(members))


def setup(app: web.Application, fs: FunctionSets) -> None:
    r = app.router
    r.add_get("/edev/{edev}/fsa/{fsa}/tp", get_group_profiles, allow_head=True)
    r.add_get("/tp/{tp}", get_profile, allow_head=True)
    r.add_get("/tp/{tp}/rc", get_rate_components, allow_head=True)
    r.add_get("/tp/{tp}/rc/{rc}", get_rate_component, allow_head=True)
    r.add_get("/tp/{tp}/rc/{rc}/rt", get_reading_type, allow_head=True)
    r.add_get("/tp/{tp}/rc/{rc}/tti", get_intervals, allow_head=True)
    r.add_get("/tp/{tp}/rc/{rc}/tti/{tti}", get_interval, allow_head=True)
    r.add_get("/tp/{tp}/rc/{rc}/acttti", get_active_intervals, allow_head=True)
    r.add_get("/tp/{tp}/rc/{rc}/tti/{tti}/cti", get_blocks, allow_head=True)
    r.add_get("/tp/{tp}/rc/{rc}/tti/{tti}/cti/{cti}", get_block, allow_head=True)
    fs.fsa_links.append(_fsa_links)
    fs.event_resolvers.append(resolve_interval)
    fs.names += ["Pricing", "TariffProfile", "RateComponent", "TimeTariffInterval", "ConsumptionTariffInterval"]
