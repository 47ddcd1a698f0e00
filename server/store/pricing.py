"""Queries of the Pricing function set (IEEE 2030.5-2018 clause 10.5): tariff profiles, rate components and
time tariff intervals. Each function is one transaction on the given :class:`~gridhan.server.store.repo.Store`;
a schedule of many intervals is written in one transaction, so it is published whole or not at all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from gridhan.server.store.repo import Conflict, Page, Store
from gridhan.server.store.tables import DeviceGroupRow, RateComponentRow, TariffProfileRow, TimeTariffIntervalRow


async def _insert_under(store: Store, rows: Sequence[Any], parent: type, parent_id: int, parent_name: str) -> None:
    """Insert ``rows`` whose parent must exist (``KeyError`` names a missing one; :class:`Conflict` a taken
    mRID), all in one transaction."""
    try:
        async with store.session() as s, s.begin():
            if await s.get(parent, parent_id) is None:
                raise KeyError(f"no {parent_name} with id {parent_id}")
            s.add_all(rows)
    except IntegrityError:
        raise Conflict("an mRID is already taken") from None


async def _update(store: Store, cls: type, row_id: int, fields: dict[str, Any]) -> Any:
    async with store.session() as s, s.begin():
        row = await s.get(cls, row_id)
        if row is None:
            return None
        for key, value in fields.items():
            setattr(row, key, value)
        row.version = (row.version + 1) % 65536
    return row


async def _delete(store: Store, cls: Any, row_id: int) -> bool:
    async with store.session() as s, s.begin():
        result = await s.execute(delete(cls).where(cls.id == row_id))
        return result.rowcount > 0


async def _get(store: Store, cls: type, row_id: int) -> Any:
    async with store.session() as s:
        return await s.get(cls, row_id)


async def _page(store: Store, query: Any, order: Sequence[Any], start: int, limit: int | None) -> Page:
    async with store.session() as s:
        total = (await s.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        query = query.order_by(*order).offset(start)
        if limit is not None:
            query = query.limit(limit)
        rows = (await s.execute(query)).scalars().all()
    return Page(total, rows)


# -- tariff profiles -------------------------------------------------------------------------------------


async def create_profile(store: Store, **fields: Any) -> TariffProfileRow:
    row = TariffProfileRow(**fields)
    await _insert_under(store, [row], DeviceGroupRow, fields["group_id"], "group")
    return row


async def profile(store: Store, profile_id: int) -> TariffProfileRow | None:
    return await _get(store, TariffProfileRow, profile_id)


async def update_profile(store: Store, profile_id: int, **fields: Any) -> TariffProfileRow | None:
    return await _update(store, TariffProfileRow, profile_id, fields)


async def delete_profile(store: Store, profile_id: int) -> bool:
    return await _delete(store, TariffProfileRow, profile_id)


async def list_profiles(store: Store, *, group_id: int | None = None, start: int = 0, limit: int = 100) -> Page:
    query = select(TariffProfileRow)
    if group_id is not None:
        query = query.where(TariffProfileRow.group_id == group_id)
    return await _page(store, query, [TariffProfileRow.id], start, limit)


async def profiles_of_groups(store: Store, group_ids: Sequence[int], start: int = 0, limit: int | None = None) -> Page:
    """Profiles of the given groups in TariffProfileList order: mRID descending (clause 10.5.2, Table 42)."""
    if not group_ids:
        return Page(0, [])
    query = select(TariffProfileRow).where(TariffProfileRow.group_id.in_(group_ids))
    return await _page(store, query, [TariffProfileRow.mrid.desc()], start, limit)


# -- rate components -------------------------------------------------------------------------------------


async def create_rate_component(store: Store, **fields: Any) -> RateComponentRow:
    row = RateComponentRow(**fields)
    await _insert_under(store, [row], TariffProfileRow, fields["profile_id"], "tariff profile")
    return row


async def rate_component(store: Store, rate_component_id: int) -> RateComponentRow | None:
    return await _get(store, RateComponentRow, rate_component_id)


async def update_rate_component(store: Store, rate_component_id: int, **fields: Any) -> RateComponentRow | None:
    return await _update(store, RateComponentRow, rate_component_id, fields)


async def delete_rate_component(store: Store, rate_component_id: int) -> bool:
    return await _delete(store, RateComponentRow, rate_component_id)


async def rate_components(
    store: Store, *, profile_id: int | None = None, start: int = 0, limit: int | None = None, by_mrid: bool = False
) -> Page:
    """Rate components (of one profile), by id, or in RateComponentList order (mRID descending, Table 42)."""
    query = select(RateComponentRow)
    if profile_id is not None:
        query = query.where(RateComponentRow.profile_id == profile_id)
    order = [RateComponentRow.mrid.desc()] if by_mrid else [RateComponentRow.id]
    return await _page(store, query, order, start, limit)


# -- time tariff intervals -------------------------------------------------------------------------------


async def create_intervals(store: Store, rate_component_id: int, rows: list[TimeTariffIntervalRow]) -> None:
    """Publish ``rows`` (one interval or a whole schedule) for a rate component in one transaction."""
    await _insert_under(store, rows, RateComponentRow, rate_component_id, "rate component")


async def interval(store: Store, interval_id: int) -> TimeTariffIntervalRow | None:
    return await _get(store, TimeTariffIntervalRow, interval_id)


async def interval_by_mrid(store: Store, mrid: str) -> TimeTariffIntervalRow | None:
    async with store.session() as s:
        result = await s.execute(select(TimeTariffIntervalRow).where(TimeTariffIntervalRow.mrid == mrid))
        return result.scalar_one_or_none()


async def intervals_of(store: Store, rate_component_id: int) -> list[TimeTariffIntervalRow]:
    """Every interval of a rate component (the event rules need them all to tell each one's status)."""
    async with store.session() as s:
        result = await s.execute(
            select(TimeTariffIntervalRow)
            .where(TimeTariffIntervalRow.rate_component_id == rate_component_id)
            .order_by(TimeTariffIntervalRow.id)
        )
        return list(result.scalars().all())


async def cancel_interval(store: Store, interval_id: int, when: int, randomized: bool) -> TimeTariffIntervalRow | None:
    """Mark an interval cancelled (once: a second cancel keeps the first time)."""
    async with store.session() as s, s.begin():
        row = await s.get(TimeTariffIntervalRow, interval_id)
        if row is None:
            return None
        if row.cancelled_time is None:
            row.cancelled_time = when
            row.cancel_randomized = randomized
            row.version = (row.version + 1) % 65536
    return row
