"""Queries of the Pricing function set (IEEE 2030.5-2018 clause 10.5): tariff profiles, rate components and
time tariff intervals. Each function is one transaction on the given :class:`~gridhan.server.store.repo.Store`;
a schedule of many intervals is written in one transaction, so it is published whole or not at all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from gridhan.server.store import rows as row_queries
from gridhan.server.store.repo import Page, Store
from gridhan.server.store.tables import DeviceGroupRow, RateComponentRow, TariffProfileRow, TimeTariffIntervalRow

# -- tariff profiles -------------------------------------------------------------------------------------


async def create_profile(store: Store, **fields: Any) -> TariffProfileRow:
    row = TariffProfileRow(**fields)
    await row_queries.insert_under(store, [row], DeviceGroupRow, fields["group_id"], "group")
    return row


async def profile(store: Store, profile_id: int) -> TariffProfileRow | None:
    return await row_queries.get(store, TariffProfileRow, profile_id)


async def update_profile(store: Store, profile_id: int, **fields: Any) -> TariffProfileRow | None:
    return await row_queries.update(store, TariffProfileRow, profile_id, fields)


async def delete_profile(store: Store, profile_id: int) -> bool:
    return await row_queries.remove(store, TariffProfileRow, profile_id)


async def list_profiles(store: Store, *, group_id: int | None = None, start: int = 0, limit: int = 100) -> Page:
    query = select(TariffProfileRow)
    if group_id is not None:
        query = query.where(TariffProfileRow.group_id == group_id)
    return await row_queries.page(store, query, [TariffProfileRow.id], start, limit)


async def profiles_of_groups(store: Store, group_ids: Sequence[int], start: int = 0, limit: int | None = None) -> Page:
    """Profiles of the given groups in TariffProfileList order: mRID descending (clause 10.5.2, Table 42)."""
    if not group_ids:
        return Page(0, [])
    query = select(TariffProfileRow).where(TariffProfileRow.group_id.in_(group_ids))
    return await row_queries.page(store, query, [TariffProfileRow.mrid.desc()], start, limit)


# -- rate components -------------------------------------------------------------------------------------


async def create_rate_component(store: Store, **fields: Any) -> RateComponentRow:
    row = RateComponentRow(**fields)
    await row_queries.insert_under(store, [row], TariffProfileRow, fields["profile_id"], "tariff profile")
    return row


async def rate_component(store: Store, rate_component_id: int) -> RateComponentRow | None:
    return await row_queries.get(store, RateComponentRow, rate_component_id)


async def update_rate_component(store: Store, rate_component_id: int, **fields: Any) -> RateComponentRow | None:
    return await row_queries.update(store, RateComponentRow, rate_component_id, fields)


async def delete_rate_component(store: Store, rate_component_id: int) -> bool:
    return await row_queries.remove(store, RateComponentRow, rate_component_id)


async def rate_components(
    store: Store, *, profile_id: int | None = None, start: int = 0, limit: int | None = None, by_mrid: bool = False
) -> Page:
    """Rate components (of one profile), by id, or in RateComponentList order (mRID descending, Table 42)."""
    query = select(RateComponentRow)
    if profile_id is not None:
        query = query.where(RateComponentRow.profile_id == profile_id)
    order = [RateComponentRow.mrid.desc()] if by_mrid else [RateComponentRow.id]
    return await row_queries.page(store, query, order, start, limit)


# -- time tariff intervals -------------------------------------------------------------------------------


async def create_intervals(store: Store, rate_component_id: int, intervals: list[TimeTariffIntervalRow]) -> None:
    """Publish ``intervals`` (one or a whole schedule) for a rate component in one transaction."""
    await row_queries.insert_under(store, intervals, RateComponentRow, rate_component_id, "rate component")


async def interval(store: Store, interval_id: int) -> TimeTariffIntervalRow | None:
    return await row_queries.get(store, TimeTariffIntervalRow, interval_id)


async def interval_by_mrid(store: Store, mrid: str) -> TimeTariffIntervalRow | None:
    return await row_queries.by_mrid(store, TimeTariffIntervalRow, mrid)


async def intervals_of(store: Store, rate_component_id: int) -> list[TimeTariffIntervalRow]:
    """Every interval of a rate component (the event rules need them all to tell each one's status)."""
    return await row_queries.children(
        store, TimeTariffIntervalRow, TimeTariffIntervalRow.rate_component_id, rate_component_id
    )


async def cancel_interval(store: Store, interval_id: int, when: int, randomized: bool) -> TimeTariffIntervalRow | None:
    """Mark an interval cancelled (once: a second cancel keeps the first time)."""
    return await row_queries.cancel_event(store, TimeTariffIntervalRow, interval_id, when, randomized)
