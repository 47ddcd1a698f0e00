"""Queries of the Metering Mirror function set (IEEE 2030.5-2018 clause 10.11) and of the Metering resources
it publishes (clause 10.4), and the utility's telemetry. Each function is one transaction on the given
:class:`~gridhan.server.store.repo.Store`: a POST that is refused halfway leaves nothing behind.

The rules of 10.11.3 the writes carry out:

* a) 3-4: a MirrorUsagePoint is created once per (device, mRID); a repeated POST writes over it.
* h): a MirrorMeterReading is matched by mRID within its MirrorUsagePoint; a match overwrites the
  MeterReading, a new mRID needs a ReadingType (:class:`MissingReadingType` otherwise, nothing kept).
* i): a MirrorReadingSet whose mRID matches replaces that ReadingSet's data; a new one is added.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gridhan.server.store.repo import Page, Store
from gridhan.server.store.tables import (
    GroupMemberRow,
    MeterReadingRow,
    MirrorUsagePointRow,
    ReadingRow,
    ReadingSetRow,
)


class MissingReadingType(ValueError):
    """A MirrorMeterReading with a new mRID came without its ReadingType (10.11.3 h) 3))."""

    def __init__(self, mrid: str) -> None:
        super().__init__(mrid)
        self.mrid = mrid


@dataclass
class ReadingSetData:
    """A MirrorReadingSet as the store takes it: the ReadingSet's columns and its Readings' columns."""

    mrid: str
    fields: dict[str, Any]
    readings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class MeterReadingData:
    """A MirrorMeterReading as the store takes it. ``reading_type`` holds the ReadingType columns (and the
    document) or None when the POST left the ReadingType out; ``reading`` is its Reading's columns."""

    mrid: str
    fields: dict[str, Any]
    reading_type: dict[str, Any] | None = None
    reading: dict[str, Any] | None = None
    reading_sets: list[ReadingSetData] = field(default_factory=list)


@dataclass(frozen=True)
class AppliedMeterReading:
    row: MeterReadingRow
    created: bool


# -- writes ------------------------------------------------------------------------------------------


async def upsert_mirror(
    store: Store,
    device_id: int,
    mrid: str,
    fields: dict[str, Any],
    meter_readings: Sequence[MeterReadingData],
    now: int,
) -> tuple[MirrorUsagePointRow, bool, list[AppliedMeterReading]]:
    """Create the mirror of (device, mRID) or write over it (10.11.3 a) 3) and 4)), then apply its
    MirrorMeterReadings. Returns the row, whether it was created, and the MeterReadings applied.
    :class:`MissingReadingType` rolls everything back."""
    for attempt in range(2):
        try:
            async with store.session() as s, s.begin():
                existing = (
                    await s.execute(
                        select(MirrorUsagePointRow).where(
                            MirrorUsagePointRow.device_id == device_id, MirrorUsagePointRow.mrid == mrid
                        )
                    )
                ).scalar_one_or_none()
                if existing is None:
                    row = MirrorUsagePointRow(
                        device_id=device_id, mrid=mrid, created_time=now, updated_time=now, **fields
                    )
                    s.add(row)
                    await s.flush()
                else:
                    row = existing
                    for key, value in fields.items():
                        setattr(row, key, value)
                    row.updated_time = now
                applied = await _apply_meter_readings(s, row.id, meter_readings, now)  # type: ignore[arg-type]
            return row, existing is None, applied
        except IntegrityError:
            # a concurrent POST of the same mirror won the insert: the second try writes over it
            if attempt:
                raise
    raise AssertionError("unreachable")


async def post_meter_readings(
    store: Store, usage_point_id: int, meter_readings: Sequence[MeterReadingData], now: int
) -> list[AppliedMeterReading] | None:
    """Apply MirrorMeterReadings POSTed to a mirror (10.11.3 d), h), i)); None when the mirror is gone."""
    async with store.session() as s, s.begin():
        mirror = await s.get(MirrorUsagePointRow, usage_point_id)
        if mirror is None:
            return None
        mirror.updated_time = now
        return await _apply_meter_readings(s, usage_point_id, meter_readings, now)


async def _apply_meter_readings(
    s: AsyncSession, usage_point_id: int, meter_readings: Sequence[MeterReadingData], now: int
) -> list[AppliedMeterReading]:
    applied: list[AppliedMeterReading] = []
    for data in meter_readings:
        row = (
            await s.execute(
                select(MeterReadingRow).where(
                    MeterReadingRow.usage_point_id == usage_point_id, MeterReadingRow.mrid == data.mrid
                )
            )
        ).scalar_one_or_none()
        created = row is None
        if row is None:
            if data.reading_type is None:
                raise MissingReadingType(data.mrid)
            row = MeterReadingRow(
                usage_point_id=usage_point_id, mrid=data.mrid, updated_time=now, **data.fields, **data.reading_type
            )
            s.add(row)
            await s.flush()
        else:
            for key, value in {**data.fields, **(data.reading_type or {})}.items():
                setattr(row, key, value)
            row.updated_time = now
        if data.reading is not None:
            s.add(ReadingRow(meter_reading_id=row.id, received_time=now, **data.reading))  # type: ignore[arg-type]
        for set_data in data.reading_sets:
            await _apply_reading_set(s, row.id, set_data, now)  # type: ignore[arg-type]
        applied.append(AppliedMeterReading(row, created))
    return applied


async def _apply_reading_set(s: AsyncSession, meter_reading_id: int, data: ReadingSetData, now: int) -> None:
    reading_set = (
        await s.execute(
            select(ReadingSetRow).where(
                ReadingSetRow.meter_reading_id == meter_reading_id, ReadingSetRow.mrid == data.mrid
            )
        )
    ).scalar_one_or_none()
    if reading_set is None:
        reading_set = ReadingSetRow(meter_reading_id=meter_reading_id, mrid=data.mrid, updated_time=now, **data.fields)
        s.add(reading_set)
        await s.flush()
    else:
        # 10.11.3 i) 1): the new data replaces the ReadingSet's (row by row, through the ORM, so the read
        # cache sees ordinary deletes rather than a bulk statement)
        for key, value in data.fields.items():
            setattr(reading_set, key, value)
        reading_set.updated_time = now
        old = (await s.execute(select(ReadingRow).where(ReadingRow.reading_set_id == reading_set.id))).scalars()
        for reading in old.all():
            await s.delete(reading)
    s.add_all(
        ReadingRow(meter_reading_id=meter_reading_id, reading_set_id=reading_set.id, received_time=now, **r)
        for r in data.readings
    )


async def delete_mirror(store: Store, usage_point_id: int) -> bool:
    """Delete a mirror and, with it, its UsagePoint, MeterReadings, ReadingSets and Readings (10.11.3 l))."""
    async with store.session() as s, s.begin():
        row = await s.get(MirrorUsagePointRow, usage_point_id)
        if row is None:
            return False
        await s.delete(row)
    return True


# -- reads for 2030.5 clients ----------------------------------------------------------------------


async def mirrors_in_scope(store: Store, device_ids: Sequence[int], start: int, limit: int) -> Page:
    """Mirrors (and UsagePoints) of the given devices, mRID descending (Tables 39 and 56)."""
    condition = MirrorUsagePointRow.device_id.in_(list(device_ids))
    async with store.session() as s:
        total = (await s.execute(select(func.count()).select_from(MirrorUsagePointRow).where(condition))).scalar_one()
        query = (
            select(MirrorUsagePointRow)
            .where(condition)
            .order_by(MirrorUsagePointRow.mrid.desc(), MirrorUsagePointRow.id.desc())
            .offset(start)
            .limit(limit)
        )
        rows = (await s.execute(query)).scalars().all()
    return Page(total, rows)


def _usage_point_scope(device_ids: Sequence[int]) -> Any:
    """UsagePoints the devices read: their mirrors, and the utility's own for one of them or for a group
    one of them is in."""
    ids = list(device_ids)
    groups = select(GroupMemberRow.group_id).where(GroupMemberRow.device_id.in_(ids))
    return or_(
        MirrorUsagePointRow.device_id.in_(ids),
        MirrorUsagePointRow.target_device_id.in_(ids),
        MirrorUsagePointRow.group_id.in_(groups),
    )


async def usage_points_in_scope(store: Store, device_ids: Sequence[int], start: int, limit: int) -> Page:
    """UsagePoints (mirrored and the utility's own) the devices read, mRID descending (Table 39)."""
    condition = _usage_point_scope(device_ids)
    async with store.session() as s:
        total = (await s.execute(select(func.count()).select_from(MirrorUsagePointRow).where(condition))).scalar_one()
        query = (
            select(MirrorUsagePointRow)
            .where(condition)
            .order_by(MirrorUsagePointRow.mrid.desc(), MirrorUsagePointRow.id.desc())
            .offset(start)
            .limit(limit)
        )
        rows = (await s.execute(query)).scalars().all()
    return Page(total, rows)


async def utility_usage_point_count(store: Store, device_ids: Sequence[int]) -> int:
    """The utility's own UsagePoints the devices read."""
    if not device_ids:
        return 0
    condition = (MirrorUsagePointRow.source == "utility") & _usage_point_scope(device_ids)
    async with store.session() as s:
        return (await s.execute(select(func.count()).select_from(MirrorUsagePointRow).where(condition))).scalar_one()


async def usage_point_in_scope(
    store: Store, usage_point_id: int, device_ids: Sequence[int]
) -> MirrorUsagePointRow | None:
    if not device_ids:
        return None
    async with store.session() as s:
        query = select(MirrorUsagePointRow).where(
            MirrorUsagePointRow.id == usage_point_id, _usage_point_scope(device_ids)
        )
        return (await s.execute(query)).scalar_one_or_none()


# -- the utility's own UsagePoints (admin API) -----------------------------------------------------


async def utility_usage_points(store: Store, start: int, limit: int) -> Page:
    condition = MirrorUsagePointRow.source == "utility"
    async with store.session() as s:
        total = (await s.execute(select(func.count()).select_from(MirrorUsagePointRow).where(condition))).scalar_one()
        query = select(MirrorUsagePointRow).where(condition).order_by(MirrorUsagePointRow.id).offset(start).limit(limit)
        rows = (await s.execute(query)).scalars().all()
    return Page(total, rows)


async def add_meter_reading(
    store: Store, usage_point_id: int, fields: dict[str, Any], now: int
) -> MeterReadingRow | None:
    """A MeterReading (with its ReadingType columns in ``fields``) under one of the utility's UsagePoints;
    None when there is no such UsagePoint."""
    async with store.session() as s, s.begin():
        parent = await s.get(MirrorUsagePointRow, usage_point_id)
        if parent is None or parent.source != "utility":
            return None
        parent.updated_time = now
        row = MeterReadingRow(usage_point_id=usage_point_id, updated_time=now, **fields)
        s.add(row)
    return row


async def push_reading_set(
    store: Store, meter_reading_id: int, data: ReadingSetData, now: int
) -> tuple[ReadingSetRow, bool] | None:
    """Add a ReadingSet with all its Readings to a MeterReading of the utility's own UsagePoint, or (same
    mRID) replace that set's data, in one transaction; None when there is no such MeterReading."""
    async with store.session() as s, s.begin():
        meter_reading = await s.get(MeterReadingRow, meter_reading_id)
        if meter_reading is None:
            return None
        parent = await s.get(MirrorUsagePointRow, meter_reading.usage_point_id)
        if parent is None or parent.source != "utility":
            return None
        existing = (
            await s.execute(
                select(ReadingSetRow.id).where(
                    ReadingSetRow.meter_reading_id == meter_reading_id, ReadingSetRow.mrid == data.mrid
                )
            )
        ).scalar_one_or_none()
        meter_reading.updated_time = now
        await _apply_reading_set(s, meter_reading_id, data, now)
        await s.flush()
        row = (
            await s.execute(
                select(ReadingSetRow).where(
                    ReadingSetRow.meter_reading_id == meter_reading_id, ReadingSetRow.mrid == data.mrid
                )
            )
        ).scalar_one()
    return row, existing is None


async def mirror_counts(store: Store, device_ids: Sequence[int]) -> dict[int, int]:
    """MirrorUsagePoints per device (served from the store's read cache when it can be)."""
    return await store.counts_per_device(store.cache.mirrors, MirrorUsagePointRow.device_id, device_ids)


async def mirror(store: Store, usage_point_id: int) -> MirrorUsagePointRow | None:
    async with store.session() as s:
        return await s.get(MirrorUsagePointRow, usage_point_id)


async def mirror_by_mrid(store: Store, device_id: int, mrid: str) -> MirrorUsagePointRow | None:
    async with store.session() as s:
        result = await s.execute(
            select(MirrorUsagePointRow).where(
                MirrorUsagePointRow.device_id == device_id, MirrorUsagePointRow.mrid == mrid
            )
        )
        return result.scalar_one_or_none()


async def meter_reading_counts(store: Store, usage_point_ids: Sequence[int]) -> dict[int, int]:
    async with store.session() as s:
        result = await s.execute(
            select(MeterReadingRow.usage_point_id, func.count())
            .where(MeterReadingRow.usage_point_id.in_(list(usage_point_ids)))
            .group_by(MeterReadingRow.usage_point_id)
        )
        counts = dict(result.all())
    return {u: counts.get(u, 0) for u in usage_point_ids}


async def meter_readings(store: Store, usage_point_id: int, start: int, limit: int) -> Page:
    """A UsagePoint's MeterReadings, mRID descending (Table 39)."""
    condition = MeterReadingRow.usage_point_id == usage_point_id
    async with store.session() as s:
        total = (await s.execute(select(func.count()).select_from(MeterReadingRow).where(condition))).scalar_one()
        query = (
            select(MeterReadingRow)
            .where(condition)
            .order_by(MeterReadingRow.mrid.desc(), MeterReadingRow.id.desc())
            .offset(start)
            .limit(limit)
        )
        rows = (await s.execute(query)).scalars().all()
    return Page(total, rows)


async def meter_reading(store: Store, usage_point_id: int, meter_reading_id: int) -> MeterReadingRow | None:
    async with store.session() as s:
        row = await s.get(MeterReadingRow, meter_reading_id)
    return row if row is not None and row.usage_point_id == usage_point_id else None


async def reading_set_counts(store: Store, meter_reading_ids: Sequence[int]) -> dict[int, int]:
    async with store.session() as s:
        result = await s.execute(
            select(ReadingSetRow.meter_reading_id, func.count())
            .where(ReadingSetRow.meter_reading_id.in_(list(meter_reading_ids)))
            .group_by(ReadingSetRow.meter_reading_id)
        )
        counts = dict(result.all())
    return {m: counts.get(m, 0) for m in meter_reading_ids}


async def current_readings(store: Store, meter_reading_ids: Sequence[int]) -> dict[int, ReadingRow]:
    """The current Reading of each MeterReading: the newest posted directly in a MirrorMeterReading."""
    ids = list(meter_reading_ids)
    if not ids:
        return {}
    async with store.session() as s:
        newest = (
            select(func.max(ReadingRow.id))
            .where(ReadingRow.meter_reading_id.in_(ids), ReadingRow.reading_set_id.is_(None))
            .group_by(ReadingRow.meter_reading_id)
        )
        rows = (await s.execute(select(ReadingRow).where(ReadingRow.id.in_(newest)))).scalars().all()
    return {r.meter_reading_id: r for r in rows}


async def reading_sets(store: Store, meter_reading_id: int, start: int, limit: int) -> Page:
    """A MeterReading's ReadingSets, timePeriod.start descending, then mRID descending (Table 39)."""
    condition = ReadingSetRow.meter_reading_id == meter_reading_id
    async with store.session() as s:
        total = (await s.execute(select(func.count()).select_from(ReadingSetRow).where(condition))).scalar_one()
        query = (
            select(ReadingSetRow)
            .where(condition)
            .order_by(ReadingSetRow.start.desc(), ReadingSetRow.mrid.desc(), ReadingSetRow.id.desc())
            .offset(start)
            .limit(limit)
        )
        rows = (await s.execute(query)).scalars().all()
    return Page(total, rows)


async def reading_set(store: Store, meter_reading_id: int, reading_set_id: int) -> ReadingSetRow | None:
    async with store.session() as s:
        row = await s.get(ReadingSetRow, reading_set_id)
    return row if row is not None and row.meter_reading_id == meter_reading_id else None


async def reading_counts(store: Store, reading_set_ids: Sequence[int]) -> dict[int, int]:
    async with store.session() as s:
        result = await s.execute(
            select(ReadingRow.reading_set_id, func.count())
            .where(ReadingRow.reading_set_id.in_(list(reading_set_ids)))
            .group_by(ReadingRow.reading_set_id)
        )
        counts = dict(result.all())
    return {r: counts.get(r, 0) for r in reading_set_ids}


async def readings_of_set(store: Store, reading_set_id: int, start: int, limit: int) -> Page:
    """A ReadingSet's Readings: localID, consumptionBlock, touTier ascending (Table 39)."""
    condition = ReadingRow.reading_set_id == reading_set_id
    async with store.session() as s:
        total = (await s.execute(select(func.count()).select_from(ReadingRow).where(condition))).scalar_one()
        query = (
            select(ReadingRow)
            .where(condition)
            .order_by(
                ReadingRow.local_number,
                ReadingRow.consumption_block,
                ReadingRow.tou_tier,
                ReadingRow.time,
                ReadingRow.id,
            )
            .offset(start)
            .limit(limit)
        )
        rows = (await s.execute(query)).scalars().all()
    return Page(total, rows)


async def reading_of_set(store: Store, reading_set_id: int, reading_id: int) -> ReadingRow | None:
    async with store.session() as s:
        row = await s.get(ReadingRow, reading_id)
    return row if row is not None and row.reading_set_id == reading_set_id else None


# -- the utility's telemetry -----------------------------------------------------------------------


@dataclass(frozen=True)
class TelemetryRow:
    """A Reading with what it measures (its MeterReading and ReadingType) and where (its mirror)."""

    reading: ReadingRow
    meter_reading: MeterReadingRow
    usage_point: MirrorUsagePointRow
    reading_set_mrid: str | None


def _telemetry_query(conditions: Iterable[Any]) -> Any:
    return (
        select(ReadingRow, MeterReadingRow, MirrorUsagePointRow, ReadingSetRow.mrid)
        .join(MeterReadingRow, MeterReadingRow.id == ReadingRow.meter_reading_id)
        .join(MirrorUsagePointRow, MirrorUsagePointRow.id == MeterReadingRow.usage_point_id)
        .outerjoin(ReadingSetRow, ReadingSetRow.id == ReadingRow.reading_set_id)
        .where(*conditions)
    )


def _range(start: int | None, end: int | None) -> list[Any]:
    conditions = []
    if start is not None:
        conditions.append(ReadingRow.time >= start)
    if end is not None:
        conditions.append(ReadingRow.time <= end)
    return conditions


async def device_readings(
    store: Store,
    device_id: int,
    *,
    start_time: int | None = None,
    end_time: int | None = None,
    kind: int | None = None,
    uom: int | None = None,
    offset: int = 0,
    limit: int = 100,
) -> Page:
    """A device's Readings in a time range (bounds included), oldest first, as :class:`TelemetryRow`."""
    conditions = [MirrorUsagePointRow.device_id == device_id, *_range(start_time, end_time)]
    if kind is not None:
        conditions.append(MeterReadingRow.kind == kind)
    if uom is not None:
        conditions.append(MeterReadingRow.uom == uom)
    query = _telemetry_query(conditions)
    async with store.session() as s:
        total = (await s.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        result = await s.execute(query.order_by(ReadingRow.time, ReadingRow.id).offset(offset).limit(limit))
        rows = [TelemetryRow(*row) for row in result.all()]
    return Page(total, rows)


async def latest_readings(
    store: Store,
    device_ids: Sequence[int],
    uoms: Sequence[int],
    *,
    start_time: int | None = None,
    end_time: int | None = None,
) -> list[TelemetryRow]:
    """The newest Reading (in the time range) of each MeterReading of the given devices whose ReadingType
    has one of the given units."""
    if not device_ids:
        return []
    conditions = [
        MirrorUsagePointRow.device_id.in_(list(device_ids)),
        MeterReadingRow.uom.in_(list(uoms)),
        *_range(start_time, end_time),
    ]
    rank = (
        func.row_number()
        .over(partition_by=ReadingRow.meter_reading_id, order_by=(ReadingRow.time.desc(), ReadingRow.id.desc()))
        .label("rank")
    )
    ranked = (
        select(ReadingRow.id, rank)
        .join(MeterReadingRow, MeterReadingRow.id == ReadingRow.meter_reading_id)
        .join(MirrorUsagePointRow, MirrorUsagePointRow.id == MeterReadingRow.usage_point_id)
        .where(*conditions)
        .subquery()
    )
    newest = select(ranked.c.id).where(ranked.c.rank == 1)
    async with store.session() as s:
        result = await s.execute(_telemetry_query([ReadingRow.id.in_(newest)]).order_by(ReadingRow.id))
        return [TelemetryRow(*row) for row in result.all()]


__all__ = [
    "AppliedMeterReading",
    "MeterReadingData",
    "MissingReadingType",
    "ReadingSetData",
    "TelemetryRow",
    "add_meter_reading",
    "current_readings",
    "delete_mirror",
    "device_readings",
    "latest_readings",
    "meter_reading",
    "meter_reading_counts",
    "meter_readings",
    "mirror",
    "mirror_by_mrid",
    "mirrors_in_scope",
    "post_meter_readings",
    "push_reading_set",
    "reading_counts",
    "reading_of_set",
    "reading_set",
    "reading_set_counts",
    "reading_sets",
    "readings_of_set",
    "upsert_mirror",
    "usage_point_in_scope",
    "usage_points_in_scope",
    "utility_usage_point_count",
    "utility_usage_points",
]
