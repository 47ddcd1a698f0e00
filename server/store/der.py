"""Queries of the DER function set (IEEE 2030.5-2018 clause 10.10): programs, controls, default controls
and curves. Each function is one transaction on the given :class:`~gridhan.server.store.repo.Store`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select

from gridhan.server.store import rows as row_queries
from gridhan.server.store.repo import Page, Store
from gridhan.server.store.tables import (
    DerControlRow,
    DerCurveRow,
    DerDefaultControlRow,
    DerProgramRow,
    DeviceGroupRow,
    EndDeviceRow,
    GroupMemberRow,
)

# -- programs ---------------------------------------------------------------------------------------


async def create_program(store: Store, **fields: Any) -> DerProgramRow:
    row = DerProgramRow(**fields)
    await row_queries.insert_under(store, [row], DeviceGroupRow, fields["group_id"], "group")
    return row


async def program(store: Store, program_id: int) -> DerProgramRow | None:
    return await row_queries.get(store, DerProgramRow, program_id)


async def update_program(store: Store, program_id: int, **fields: Any) -> DerProgramRow | None:
    return await row_queries.update(store, DerProgramRow, program_id, fields)


async def delete_program(store: Store, program_id: int) -> bool:
    return await row_queries.remove(store, DerProgramRow, program_id)


async def list_programs(store: Store, *, group_id: int | None = None, start: int = 0, limit: int = 100) -> Page:
    query = (
        select(DerProgramRow) if group_id is None else select(DerProgramRow).where(DerProgramRow.group_id == group_id)
    )
    return await row_queries.page(store, query, [DerProgramRow.id], start, limit)


async def programs_of_groups(store: Store, group_ids: Sequence[int], start: int = 0, limit: int | None = None) -> Page:
    """Programs of the given groups, in program list order: primacy, then mRID."""
    if not group_ids:
        return Page(0, [])
    query = select(DerProgramRow).where(DerProgramRow.group_id.in_(group_ids))
    return await row_queries.page(store, query, [DerProgramRow.primacy, DerProgramRow.mrid], start, limit)


async def group_ids_of_devices(store: Store, device_ids: Sequence[int]) -> list[int]:
    if not device_ids:
        return []
    async with store.session() as s:
        result = await s.execute(
            select(GroupMemberRow.group_id).where(GroupMemberRow.device_id.in_(device_ids)).distinct()
        )
        return sorted(result.scalars().all())


async def create_target_group(store: Store, *, device_ids: list[int], **fields: Any) -> DeviceGroupRow:
    """A group of exactly ``device_ids`` (for a control aimed at a list of devices), in one transaction;
    ``KeyError`` names an unknown device."""
    async with store.session() as s, s.begin():
        known = set((await s.execute(select(EndDeviceRow.id).where(EndDeviceRow.id.in_(device_ids)))).scalars())
        missing = [d for d in device_ids if d not in known]
        if missing:
            raise KeyError(f"no device with id {missing[0]}")
        group = DeviceGroupRow(**fields)
        s.add(group)
        await s.flush()
        s.add_all(GroupMemberRow(group_id=group.id, device_id=d) for d in device_ids)
    return group


# -- controls ---------------------------------------------------------------------------------------


async def create_control(store: Store, **fields: Any) -> DerControlRow:
    row = DerControlRow(**fields)
    await row_queries.insert_under(store, [row], DerProgramRow, fields["program_id"], "DER program")
    return row


async def control(store: Store, control_id: int) -> DerControlRow | None:
    return await row_queries.get(store, DerControlRow, control_id)


async def control_by_mrid(store: Store, mrid: str) -> DerControlRow | None:
    return await row_queries.by_mrid(store, DerControlRow, mrid)


async def controls_of_program(store: Store, program_id: int) -> list[DerControlRow]:
    """Every control of a program (the event rules need them all to tell each one's status)."""
    return await row_queries.children(store, DerControlRow, DerControlRow.program_id, program_id)


async def list_controls(store: Store, *, program_id: int | None = None, start: int = 0, limit: int = 100) -> Page:
    """Controls for the utility, newest first."""
    query = (
        select(DerControlRow)
        if program_id is None
        else select(DerControlRow).where(DerControlRow.program_id == program_id)
    )
    return await row_queries.page(store, query, [DerControlRow.id.desc()], start, limit)


async def cancel_control(store: Store, control_id: int, when: int, randomized: bool) -> DerControlRow | None:
    """Mark a control cancelled (once: a second cancel keeps the first time)."""
    return await row_queries.cancel_event(store, DerControlRow, control_id, when, randomized)


# -- default controls and curves --------------------------------------------------------------------


async def default_control(store: Store, program_id: int) -> DerDefaultControlRow | None:
    async with store.session() as s:
        return await s.get(DerDefaultControlRow, program_id)


async def put_default_control(
    store: Store, program_id: int, mrid: str, document: bytes, when: int
) -> DerDefaultControlRow:
    async with store.session() as s, s.begin():
        if await s.get(DerProgramRow, program_id) is None:
            raise KeyError(f"no DER program with id {program_id}")
        row = await s.get(DerDefaultControlRow, program_id)
        if row is None:
            row = DerDefaultControlRow(program_id=program_id, mrid=mrid, document=document, updated_time=when)
            s.add(row)
        else:
            row.document = document
            row.updated_time = when
            row_queries.bump_version(row)
    return row


async def delete_default_control(store: Store, program_id: int) -> bool:
    async with store.session() as s, s.begin():
        result = await s.execute(delete(DerDefaultControlRow).where(DerDefaultControlRow.program_id == program_id))
        return result.rowcount > 0


async def create_curve(store: Store, **fields: Any) -> DerCurveRow:
    row = DerCurveRow(**fields)
    await row_queries.insert_under(store, [row], DerProgramRow, fields["program_id"], "DER program")
    return row


async def curve(store: Store, curve_id: int) -> DerCurveRow | None:
    async with store.session() as s:
        return await s.get(DerCurveRow, curve_id)


async def curves_of_program(store: Store, program_id: int, start: int = 0, limit: int | None = None) -> Page:
    """A program's curves, by creationTime descending then mRID (the DERCurveList order)."""
    async with store.session() as s:
        where = DerCurveRow.program_id == program_id
        total = (await s.execute(select(func.count()).select_from(DerCurveRow).where(where))).scalar_one()
        query = (
            select(DerCurveRow).where(where).order_by(DerCurveRow.creation_time.desc(), DerCurveRow.mrid).offset(start)
        )
        if limit is not None:
            query = query.limit(limit)
        rows = (await s.execute(query)).scalars().all()
    return Page(total, rows)


async def delete_curve(store: Store, curve_id: int) -> bool:
    async with store.session() as s, s.begin():
        result = await s.execute(delete(DerCurveRow).where(DerCurveRow.id == curve_id))
        return result.rowcount > 0


async def curve_count(store: Store, program_id: int) -> int:
    """A program's DERCurves (the ``all`` of its DERCurveListLink)."""
    async with store.session() as s:
        where = DerCurveRow.program_id == program_id
        return (await s.execute(select(func.count()).select_from(DerCurveRow).where(where))).scalar_one()
