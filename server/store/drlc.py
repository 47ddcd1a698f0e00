"""Queries of the Demand Response and Load Control function set (IEEE 2030.5-2018 clause 10.3): programs,
EndDeviceControls and the LoadShedAvailability devices report. Each function is one transaction on the
given :class:`~gridhan.server.store.repo.Store`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from gridhan.server.store.repo import Conflict, Page, Store
from gridhan.server.store.tables import (
    DeviceGroupRow,
    DrControlRow,
    DrProgramRow,
    EndDeviceRow,
    GroupMemberRow,
    LoadShedAvailabilityRow,
)


async def _insert_under(store: Store, row: Any, parent: type, parent_id: int, parent_name: str) -> Any:
    """Insert ``row`` under an existing parent: ``KeyError`` names a missing parent, :class:`Conflict` a
    taken mRID; nothing is written in either case."""
    try:
        async with store.session() as s, s.begin():
            if await s.get(parent, parent_id) is None:
                raise KeyError(f"no {parent_name} with id {parent_id}")
            s.add(row)
    except IntegrityError:
        raise Conflict(f"a {type(row).__name__.removesuffix('Row')} with mRID {row.mrid} already exists") from None
    return row


# -- programs ---------------------------------------------------------------------------------------


async def create_program(store: Store, **fields: Any) -> DrProgramRow:
    return await _insert_under(store, DrProgramRow(**fields), DeviceGroupRow, fields["group_id"], "group")


async def program(store: Store, program_id: int) -> DrProgramRow | None:
    async with store.session() as s:
        return await s.get(DrProgramRow, program_id)


async def update_program(store: Store, program_id: int, **fields: Any) -> DrProgramRow | None:
    async with store.session() as s, s.begin():
        row = await s.get(DrProgramRow, program_id)
        if row is None:
            return None
        for key, value in fields.items():
            setattr(row, key, value)
        row.version = (row.version + 1) % 65536
    return row


async def delete_program(store: Store, program_id: int) -> bool:
    async with store.session() as s, s.begin():
        result = await s.execute(delete(DrProgramRow).where(DrProgramRow.id == program_id))
        return result.rowcount > 0


async def list_programs(store: Store, *, group_id: int | None = None, start: int = 0, limit: int = 100) -> Page:
    async with store.session() as s:
        query = select(DrProgramRow)
        if group_id is not None:
            query = query.where(DrProgramRow.group_id == group_id)
        total = (await s.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = (await s.execute(query.order_by(DrProgramRow.id).offset(start).limit(limit))).scalars().all()
    return Page(total, rows)


async def programs_of_groups(store: Store, group_ids: Sequence[int], start: int = 0, limit: int | None = None) -> Page:
    """Programs of the given groups in DemandResponseProgramList order: primacy, then mRID."""
    if not group_ids:
        return Page(0, [])
    async with store.session() as s:
        where = DrProgramRow.group_id.in_(group_ids)
        total = (await s.execute(select(func.count()).select_from(DrProgramRow).where(where))).scalar_one()
        query = select(DrProgramRow).where(where).order_by(DrProgramRow.primacy, DrProgramRow.mrid).offset(start)
        if limit is not None:
            query = query.limit(limit)
        rows = (await s.execute(query)).scalars().all()
    return Page(total, rows)


# -- EndDeviceControls ------------------------------------------------------------------------------


async def create_control(store: Store, **fields: Any) -> DrControlRow:
    return await _insert_under(store, DrControlRow(**fields), DrProgramRow, fields["program_id"], "DR program")


async def control(store: Store, control_id: int) -> DrControlRow | None:
    async with store.session() as s:
        return await s.get(DrControlRow, control_id)


async def control_by_mrid(store: Store, mrid: str) -> DrControlRow | None:
    async with store.session() as s:
        result = await s.execute(select(DrControlRow).where(DrControlRow.mrid == mrid))
        return result.scalar_one_or_none()


async def controls_of_program(store: Store, program_id: int) -> list[DrControlRow]:
    """Every EndDeviceControl of a program (the event rules need them all to tell each one's status)."""
    async with store.session() as s:
        result = await s.execute(
            select(DrControlRow).where(DrControlRow.program_id == program_id).order_by(DrControlRow.id)
        )
        return list(result.scalars().all())


async def list_controls(store: Store, *, program_id: int | None = None, start: int = 0, limit: int = 100) -> Page:
    """EndDeviceControls for the utility, newest first."""
    async with store.session() as s:
        query = select(DrControlRow)
        if program_id is not None:
            query = query.where(DrControlRow.program_id == program_id)
        total = (await s.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = (await s.execute(query.order_by(DrControlRow.id.desc()).offset(start).limit(limit))).scalars().all()
    return Page(total, rows)


async def cancel_control(store: Store, control_id: int, when: int, randomized: bool) -> DrControlRow | None:
    """Mark an EndDeviceControl cancelled (once: a second cancel keeps the first time)."""
    async with store.session() as s, s.begin():
        row = await s.get(DrControlRow, control_id)
        if row is None:
            return None
        if row.cancelled_time is None:
            row.cancelled_time = when
            row.cancel_randomized = randomized
            row.version = (row.version + 1) % 65536
    return row


async def reschedule_control(
    store: Store, control_id: int, when: int, randomized: bool, **fields: Any
) -> tuple[DrControlRow, DrControlRow] | None:
    """Cancel an EndDeviceControl and create its replacement in one transaction (a served event is never
    edited, 10.2.3 rule c). None when the control does not exist; :class:`Conflict` when it was already
    cancelled (nothing is written then)."""
    async with store.session() as s, s.begin():
        old = await s.get(DrControlRow, control_id)
        if old is None:
            return None
        if old.cancelled_time is not None:
            raise Conflict(
                f"EndDeviceControl {old.mrid} was cancelled at {old.cancelled_time}: it cannot be rescheduled"
            )
        old.cancelled_time = when
        old.cancel_randomized = randomized
        old.version = (old.version + 1) % 65536
        new = DrControlRow(program_id=old.program_id, **fields)
        s.add(new)
    return old, new


# -- LoadShedAvailability ---------------------------------------------------------------------------


async def availabilities(store: Store, device_id: int, start: int = 0, limit: int | None = None) -> Page:
    """A device's LoadShedAvailability, in the order it first reported them."""
    async with store.session() as s:
        where = LoadShedAvailabilityRow.device_id == device_id
        total = (await s.execute(select(func.count()).select_from(LoadShedAvailabilityRow).where(where))).scalar_one()
        query = select(LoadShedAvailabilityRow).where(where).order_by(LoadShedAvailabilityRow.id).offset(start)
        if limit is not None:
            query = query.limit(limit)
        rows = (await s.execute(query)).scalars().all()
    return Page(total, rows)


async def availability_counts(store: Store, device_ids: Sequence[int]) -> dict[int, int]:
    """LoadShedAvailability per device (devices without any are absent)."""
    if not device_ids:
        return {}
    async with store.session() as s:
        result = await s.execute(
            select(LoadShedAvailabilityRow.device_id, func.count())
            .where(LoadShedAvailabilityRow.device_id.in_(list(device_ids)))
            .group_by(LoadShedAvailabilityRow.device_id)
        )
        return {device_id: count for device_id, count in result.all()}


async def availability(store: Store, availability_id: int) -> LoadShedAvailabilityRow | None:
    async with store.session() as s:
        return await s.get(LoadShedAvailabilityRow, availability_id)


async def put_availability(
    store: Store, device_id: int, program_id: int | None, document: bytes, when: int
) -> tuple[LoadShedAvailabilityRow, bool]:
    """Keep the device's LoadShedAvailability for ``program_id`` (None: for the device as a whole),
    replacing the previous one; returns the row and whether it was created."""
    async with store.session() as s, s.begin():
        query = select(LoadShedAvailabilityRow).where(
            LoadShedAvailabilityRow.device_id == device_id,
            LoadShedAvailabilityRow.program_id.is_(None)
            if program_id is None
            else LoadShedAvailabilityRow.program_id == program_id,
        )
        row = (await s.execute(query)).scalars().first()
        created = row is None
        if row is None:
            row = LoadShedAvailabilityRow(
                device_id=device_id, program_id=program_id, document=document, updated_time=when
            )
            s.add(row)
        else:
            row.document = document
            row.updated_time = when
    return row, created


async def replace_availability(
    store: Store, availability_id: int, document: bytes, when: int
) -> LoadShedAvailabilityRow | None:
    async with store.session() as s, s.begin():
        row = await s.get(LoadShedAvailabilityRow, availability_id)
        if row is None:
            return None
        row.document = document
        row.updated_time = when
    return row


async def availabilities_of_program(store: Store, program_id: int) -> list[LoadShedAvailabilityRow]:
    """What the devices reported for one program (the utility's view), by device."""
    async with store.session() as s:
        result = await s.execute(
            select(LoadShedAvailabilityRow)
            .where(LoadShedAvailabilityRow.program_id == program_id)
            .order_by(LoadShedAvailabilityRow.device_id)
        )
        return list(result.scalars().all())


async def member_categories(store: Store, group_id: int) -> dict[int, str | None]:
    """The members of a group with the deviceCategory each EndDevice declared (None: not declared)."""
    async with store.session() as s:
        result = await s.execute(
            select(EndDeviceRow.id, EndDeviceRow.device_category)
            .join(GroupMemberRow, GroupMemberRow.device_id == EndDeviceRow.id)
            .where(GroupMemberRow.group_id == group_id)
            .order_by(EndDeviceRow.id)
        )
        return {device_id: category for device_id, category in result.all()}
