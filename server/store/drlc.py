"""Queries of the Demand Response and Load Control function set (IEEE 2030.5-2018 clause 10.3): programs,
EndDeviceControls and the LoadShedAvailability devices report. Each function is one transaction on the
given :class:`~gridhan.server.store.repo.Store`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from gridhan.server.store import rows as row_queries
from gridhan.server.store.repo import Conflict, Page, Store
from gridhan.server.store.tables import (
    DeviceGroupRow,
    DrControlRow,
    DrProgramRow,
    EndDeviceRow,
    GroupMemberRow,
    LoadShedAvailabilityRow,
)

# -- programs ---------------------------------------------------------------------------------------


async def create_program(store: Store, **fields: Any) -> DrProgramRow:
    row = DrProgramRow(**fields)
    await row_queries.insert_under(store, [row], DeviceGroupRow, fields["group_id"], "group")
    return row


async def program(store: Store, program_id: int) -> DrProgramRow | None:
    return await row_queries.get(store, DrProgramRow, program_id)


async def update_program(store: Store, program_id: int, **fields: Any) -> DrProgramRow | None:
    return await row_queries.update(store, DrProgramRow, program_id, fields)


async def delete_program(store: Store, program_id: int) -> bool:
    return await row_queries.remove(store, DrProgramRow, program_id)


async def list_programs(store: Store, *, group_id: int | None = None, start: int = 0, limit: int = 100) -> Page:
    query = select(DrProgramRow)
    if group_id is not None:
        query = query.where(DrProgramRow.group_id == group_id)
    return await row_queries.page(store, query, [DrProgramRow.id], start, limit)


async def programs_of_groups(store: Store, group_ids: Sequence[int], start: int = 0, limit: int | None = None) -> Page:
    """Programs of the given groups, in program list order: primacy, then mRID."""
    if not group_ids:
        return Page(0, [])
    query = select(DrProgramRow).where(DrProgramRow.group_id.in_(group_ids))
    return await row_queries.page(store, query, [DrProgramRow.primacy, DrProgramRow.mrid], start, limit)


# -- EndDeviceControls ------------------------------------------------------------------------------


async def create_control(store: Store, **fields: Any) -> DrControlRow:
    row = DrControlRow(**fields)
    await row_queries.insert_under(store, [row], DrProgramRow, fields["program_id"], "DR program")
    return row


async def control(store: Store, control_id: int) -> DrControlRow | None:
    return await row_queries.get(store, DrControlRow, control_id)


async def control_by_mrid(store: Store, mrid: str) -> DrControlRow | None:
    return await row_queries.by_mrid(store, DrControlRow, mrid)


async def controls_of_program(store: Store, program_id: int) -> list[DrControlRow]:
    """Every control of a program (the event rules need them all to tell each one's status)."""
    return await row_queries.children(store, DrControlRow, DrControlRow.program_id, program_id)


async def list_controls(store: Store, *, program_id: int | None = None, start: int = 0, limit: int = 100) -> Page:
    """Controls for the utility, newest first."""
    query = (
        select(DrControlRow)
        if program_id is None
        else select(DrControlRow).where(DrControlRow.program_id == program_id)
    )
    return await row_queries.page(store, query, [DrControlRow.id.desc()], start, limit)


async def cancel_control(store: Store, control_id: int, when: int, randomized: bool) -> DrControlRow | None:
    """Mark a control cancelled (once: a second cancel keeps the first time)."""
    return await row_queries.cancel_event(store, DrControlRow, control_id, when, randomized)


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
        row_queries.cancel(old, when, randomized)
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
