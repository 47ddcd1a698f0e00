"""Queries of the File Download function set (IEEE 2030.5-2018 clause 9.8) and of firmware campaigns.
Each function is one transaction on the given :class:`~gridhan.server.store.repo.Store`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from gridhan.server.store.repo import Conflict, Page, Store
from gridhan.server.store.tables import (
    DeviceRecordRow,
    EndDeviceRow,
    FileImageRow,
    FileRow,
    FileStatusRow,
    FileTargetRow,
    GroupMemberRow,
)


@dataclass(frozen=True)
class Targets:
    """Who a stage of a campaign adds: groups, devices (by id), or every device."""

    group_ids: tuple[int, ...] = ()
    device_ids: tuple[int, ...] = ()
    everyone: bool = False

    def __bool__(self) -> bool:
        return bool(self.group_ids or self.device_ids or self.everyone)


class InUse(Exception):
    """An image a File still offers cannot be deleted."""


# -- images -----------------------------------------------------------------------------------------


async def create_image(store: Store, **fields: Any) -> FileImageRow:
    """A new image row; :class:`Conflict` when an image of that SHA-256 exists already."""
    row = FileImageRow(**fields)
    try:
        async with store.session() as s, s.begin():
            s.add(row)
    except IntegrityError:
        raise Conflict(f"an image with SHA-256 {fields['sha256']} exists already") from None
    return row


async def image(store: Store, image_id: int) -> FileImageRow | None:
    async with store.session() as s:
        return await s.get(FileImageRow, image_id)


async def image_by_sha256(store: Store, sha256: str) -> FileImageRow | None:
    async with store.session() as s:
        return (await s.execute(select(FileImageRow).where(FileImageRow.sha256 == sha256))).scalar_one_or_none()


async def list_images(store: Store, start: int = 0, limit: int = 100) -> Page:
    async with store.session() as s:
        total = (await s.execute(select(func.count()).select_from(FileImageRow))).scalar_one()
        query = select(FileImageRow).order_by(FileImageRow.id).offset(start).limit(limit)
        rows = (await s.execute(query)).scalars().all()
    return Page(total, rows)


async def delete_image(store: Store, image_id: int) -> FileImageRow | None:
    """Delete an image row (its bytes are the caller's to remove); :class:`InUse` while a File uses it."""
    async with store.session() as s, s.begin():
        row = await s.get(FileImageRow, image_id)
        if row is None:
            return None
        users = (await s.execute(select(FileRow.id).where(FileRow.image_id == image_id).limit(1))).scalars().all()
        if users:
            raise InUse(f"File {users[0]} uses image {image_id}")
        await s.delete(row)
    return row


# -- Files and their campaign stages -----------------------------------------------------------------


def _target_rows(file_id: int, stage: int, targets: Targets, when: int) -> list[FileTargetRow]:
    rows = [FileTargetRow(file_id=file_id, stage=stage, group_id=g, added_time=when) for g in targets.group_ids]
    rows += [FileTargetRow(file_id=file_id, stage=stage, device_id=d, added_time=when) for d in targets.device_ids]
    if targets.everyone:
        rows.append(FileTargetRow(file_id=file_id, stage=stage, everyone=True, added_time=when))
    return rows


async def create_file(store: Store, targets: Targets, **fields: Any) -> FileRow:
    """A File and the first stage of its campaign, in one transaction; ``KeyError`` names a missing image."""
    async with store.session() as s, s.begin():
        if await s.get(FileImageRow, fields["image_id"]) is None:
            raise KeyError(f"no image with id {fields['image_id']}")
        row = FileRow(**fields)
        s.add(row)
        await s.flush()
        s.add_all(_target_rows(row.id, 1, targets, fields["created_time"]))  # type: ignore[arg-type]
    return row


async def file(store: Store, file_id: int) -> FileRow | None:
    async with store.session() as s:
        return await s.get(FileRow, file_id)


async def list_files(store: Store, start: int = 0, limit: int = 100, withdrawn: bool = True) -> Page:
    async with store.session() as s:
        query = select(FileRow)
        if not withdrawn:
            query = query.where(FileRow.withdrawn_time.is_(None))
        total = (await s.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = (await s.execute(query.order_by(FileRow.id).offset(start).limit(limit))).scalars().all()
    return Page(total, rows)


async def update_file(store: Store, file_id: int, **fields: Any) -> FileRow | None:
    async with store.session() as s, s.begin():
        row = await s.get(FileRow, file_id)
        if row is None:
            return None
        for key, value in fields.items():
            setattr(row, key, value)
    return row


async def withdraw_file(store: Store, file_id: int, when: int) -> FileRow | None:
    """Withdraw a File (once: a second withdrawal keeps the first time)."""
    async with store.session() as s, s.begin():
        row = await s.get(FileRow, file_id)
        if row is not None and row.withdrawn_time is None:
            row.withdrawn_time = when
    return row


async def add_stage(store: Store, file_id: int, targets: Targets, when: int) -> int:
    """Widen a campaign: the next stage's targets, in one transaction. Returns the stage's number."""
    async with store.session() as s, s.begin():
        last = (
            await s.execute(select(func.max(FileTargetRow.stage)).where(FileTargetRow.file_id == file_id))
        ).scalar_one()
        stage = (last or 0) + 1
        s.add_all(_target_rows(file_id, stage, targets, when))
    return stage


async def targets_of_file(store: Store, file_id: int) -> list[FileTargetRow]:
    async with store.session() as s:
        query = (
            select(FileTargetRow)
            .where(FileTargetRow.file_id == file_id)
            .order_by(FileTargetRow.stage, FileTargetRow.id)
        )
        return list((await s.execute(query)).scalars().all())


# -- what devices see ---------------------------------------------------------------------------------


def _reaches(device_ids: Sequence[int], group_ids: Sequence[int]) -> Any:
    """A File has a target reaching one of ``device_ids`` (directly, through a group, or everyone)."""
    return exists().where(
        FileTargetRow.file_id == FileRow.id,
        or_(
            FileTargetRow.everyone.is_(True),
            FileTargetRow.device_id.in_(device_ids),
            FileTargetRow.group_id.in_(group_ids),
        ),
    )


async def _scope(s: Any, device_ids: Sequence[int]) -> tuple[list[int], list[str]]:
    groups = (
        await s.execute(select(GroupMemberRow.group_id).where(GroupMemberRow.device_id.in_(device_ids)).distinct())
    ).scalars()
    lfdis = (await s.execute(select(EndDeviceRow.lfdi).where(EndDeviceRow.id.in_(device_ids)))).scalars()
    return list(groups), list(lfdis)


async def files_for_devices(store: Store, device_ids: Sequence[int], group_id: int | None = None) -> list[FileRow]:
    """The Files offered to any of ``device_ids`` (not withdrawn; a File naming an lFDI only to that
    device); with ``group_id``, only those the campaign aims at that group (its FunctionSetAssignments)."""
    if not device_ids:
        return []
    async with store.session() as s:
        groups, lfdis = await _scope(s, device_ids)
        if group_id is not None:
            reach = exists().where(FileTargetRow.file_id == FileRow.id, FileTargetRow.group_id == group_id)
        else:
            reach = _reaches(device_ids, groups)
        query = select(FileRow).where(
            FileRow.withdrawn_time.is_(None), or_(FileRow.lfdi.is_(None), FileRow.lfdi.in_(lfdis)), reach
        )
        return list((await s.execute(query)).scalars().all())


async def file_for_devices(store: Store, file_id: int, device_ids: Sequence[int]) -> FileRow | None:
    """The File ``file_id`` if it is offered to one of ``device_ids``."""
    if not device_ids:
        return None
    async with store.session() as s:
        groups, lfdis = await _scope(s, device_ids)
        query = select(FileRow).where(
            FileRow.id == file_id,
            FileRow.withdrawn_time.is_(None),
            or_(FileRow.lfdi.is_(None), FileRow.lfdi.in_(lfdis)),
            _reaches(device_ids, groups),
        )
        return (await s.execute(query)).scalar_one_or_none()


async def file_counts_of_groups(store: Store, group_ids: Sequence[int]) -> dict[int, int]:
    """Files (not withdrawn) a campaign aims at each group, for the FunctionSetAssignments' FileListLink."""
    counts = dict.fromkeys(group_ids, 0)
    if not group_ids:
        return counts
    async with store.session() as s:
        query = (
            select(FileTargetRow.group_id, func.count(func.distinct(FileTargetRow.file_id)))
            .join(FileRow, FileRow.id == FileTargetRow.file_id)
            .where(FileTargetRow.group_id.in_(group_ids), FileRow.withdrawn_time.is_(None))
            .group_by(FileTargetRow.group_id)
        )
        for group, count in (await s.execute(query)).all():
            counts[group] = count
    return counts


# -- FileStatus -----------------------------------------------------------------------------------------


async def put_status(store: Store, **fields: Any) -> FileStatusRow:
    row = FileStatusRow(**fields)
    async with store.session() as s, s.begin():
        s.add(row)
    return row


async def latest_status(store: Store, device_id: int) -> FileStatusRow | None:
    async with store.session() as s:
        query = select(FileStatusRow).where(FileStatusRow.device_id == device_id).order_by(FileStatusRow.id.desc())
        return (await s.execute(query.limit(1))).scalar_one_or_none()


async def status_history(
    store: Store, file_id: int, device_id: int | None = None, start: int = 0, limit: int = 100
) -> Page:
    """The FileStatus reports about a File, newest first (of one device, or of all)."""
    async with store.session() as s:
        where = [FileStatusRow.file_id == file_id]
        if device_id is not None:
            where.append(FileStatusRow.device_id == device_id)
        total = (await s.execute(select(func.count()).select_from(FileStatusRow).where(*where))).scalar_one()
        query = select(FileStatusRow).where(*where).order_by(FileStatusRow.id.desc()).offset(start).limit(limit)
        rows = (await s.execute(query)).scalars().all()
    return Page(total, rows)


# -- campaign status -------------------------------------------------------------------------------------


@dataclass
class Campaign:
    """The devices a File's campaign reaches (with the stage that first reached each), their newest
    FileStatus about it, and the software version each last reported in its DeviceInformation."""

    devices: dict[int, EndDeviceRow] = field(default_factory=dict)
    stage_of: dict[int, int] = field(default_factory=dict)
    status_of: dict[int, FileStatusRow] = field(default_factory=dict)
    information_of: dict[int, bytes] = field(default_factory=dict)


async def campaign(store: Store, row: FileRow) -> Campaign:
    out = Campaign()
    async with store.session() as s:
        targets = (
            (
                await s.execute(
                    select(FileTargetRow).where(FileTargetRow.file_id == row.id).order_by(FileTargetRow.stage)
                )
            )
            .scalars()
            .all()
        )
        for target in targets:
            query = select(EndDeviceRow).where(EndDeviceRow.revoked.is_(False))
            if target.group_id is not None:
                query = query.join(GroupMemberRow, GroupMemberRow.device_id == EndDeviceRow.id).where(
                    GroupMemberRow.group_id == target.group_id
                )
            elif target.device_id is not None:
                query = query.where(EndDeviceRow.id == target.device_id)
            else:
                query = query.where(EndDeviceRow.is_aggregator.is_(False))
            if row.lfdi is not None:
                query = query.where(EndDeviceRow.lfdi == row.lfdi)
            for device in (await s.execute(query)).scalars():
                if device.id not in out.devices:
                    out.devices[device.id] = device
                    out.stage_of[device.id] = target.stage
        newest = (
            select(func.max(FileStatusRow.id))
            .where(FileStatusRow.file_id == row.id)
            .group_by(FileStatusRow.device_id)
            .scalar_subquery()
        )
        for status in (await s.execute(select(FileStatusRow).where(FileStatusRow.id.in_(newest)))).scalars():
            out.status_of[status.device_id] = status
        info = (
            select(func.max(DeviceRecordRow.id))
            .where(DeviceRecordRow.kind == "DeviceInformation")
            .group_by(DeviceRecordRow.device_id)
            .scalar_subquery()
        )
        query = select(DeviceRecordRow).where(
            and_(DeviceRecordRow.id.in_(info), DeviceRecordRow.device_id.in_(list(out.devices)))
        )
        for record in (await s.execute(query)).scalars():
            out.information_of[record.device_id] = record.document
    return out
