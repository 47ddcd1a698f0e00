"""Queries of the Messaging function set (IEEE 2030.5-2018 clause 10.6): programs per locale, messages in
several locales, device locales, pruning. Each function is one transaction on the given Store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select

from gridhan.server.store import rows as row_queries
from gridhan.server.store.repo import Page, Store
from gridhan.server.store.tables import (
    DeviceGroupRow,
    DeviceLocaleRow,
    EndDeviceRow,
    GroupMemberRow,
    MessageRow,
    MessagingProgramRow,
    TextMessageRow,
)


@dataclass(frozen=True)
class Published:
    """A message and its TextMessages, each with the program (locale) holding it."""

    message: MessageRow
    texts: list[tuple[TextMessageRow, MessagingProgramRow]]


# -- programs ---------------------------------------------------------------------------------------


async def program(store: Store, program_id: int) -> MessagingProgramRow | None:
    async with store.session() as s:
        return await s.get(MessagingProgramRow, program_id)


async def programs(
    store: Store, group_id: int | None, locales: Sequence[str] | None = None
) -> list[MessagingProgramRow]:
    """The public programs (``group_id`` None) or one group's, of ``locales`` (None: every locale), in
    MessagingProgramList order: mRID descending (Table 44)."""
    async with store.session() as s:
        where = MessagingProgramRow.group_id.is_(None) if group_id is None else MessagingProgramRow.group_id == group_id
        query = select(MessagingProgramRow).where(where)
        if locales is not None:
            query = query.where(MessagingProgramRow.locale.in_(list(locales)))
        rows = (await s.execute(query.order_by(MessagingProgramRow.mrid.desc()))).scalars().all()
    return list(rows)


async def texts_of_program(store: Store, program_id: int) -> list[tuple[TextMessageRow, MessageRow]]:
    """Every TextMessage of a program with its message (the event rules need them all)."""
    async with store.session() as s:
        result = await s.execute(
            select(TextMessageRow, MessageRow)
            .join(MessageRow, MessageRow.id == TextMessageRow.message_id)
            .where(TextMessageRow.program_id == program_id)
            .order_by(TextMessageRow.id)
        )
        return [(t, m) for t, m in result.all()]


async def text_by_mrid(store: Store, mrid: str) -> tuple[TextMessageRow, MessageRow] | None:
    async with store.session() as s:
        result = await s.execute(
            select(TextMessageRow, MessageRow)
            .join(MessageRow, MessageRow.id == TextMessageRow.message_id)
            .where(TextMessageRow.mrid == mrid)
        )
        row = result.first()
    return (row[0], row[1]) if row else None


async def registered_device_ids(store: Store) -> list[int]:
    """Every unrevoked EndDevice that is not an aggregator's own (whom a public message addresses)."""
    async with store.session() as s:
        result = await s.execute(
            select(EndDeviceRow.id).where(EndDeviceRow.is_aggregator.is_(False), EndDeviceRow.revoked.is_(False))
        )
        return sorted(result.scalars().all())


# -- publishing -------------------------------------------------------------------------------------


async def publish(
    store: Store,
    *,
    message: dict[str, Any],
    texts: dict[str, str],
    mrids: dict[str, str],
    program_fields: dict[str, Any],
) -> Published:
    """Store one message with its text in each locale of ``texts``, in one transaction: each goes into the
    program of that locale for the message's group (or the public one), made on the way when missing.
    ``mrids``: the TextMessage mRID per locale, and the mRID of any program made (key ``program:<locale>``).
    ``KeyError`` names a missing group."""
    group_id = message.get("group_id")
    async with store.session() as s, s.begin():
        if group_id is not None and await s.get(DeviceGroupRow, group_id) is None:
            raise KeyError(f"no group with id {group_id}")
        row = MessageRow(**message)
        s.add(row)
        await s.flush()
        where = MessagingProgramRow.group_id.is_(None) if group_id is None else MessagingProgramRow.group_id == group_id
        existing = {
            p.locale: p
            for p in (await s.execute(select(MessagingProgramRow).where(where).order_by(MessagingProgramRow.id.desc())))
            .scalars()
            .all()
        }
        out = []
        for locale, text in texts.items():
            holder = existing.get(locale)
            if holder is None:
                holder = MessagingProgramRow(
                    group_id=group_id, locale=locale, mrid=mrids[f"program:{locale}"], **program_fields
                )
                s.add(holder)
                await s.flush()
            item = TextMessageRow(message_id=row.id, program_id=holder.id, mrid=mrids[locale], text=text)
            s.add(item)
            out.append((item, holder))
    return Published(row, out)


async def published(store: Store, message_id: int) -> Published | None:
    async with store.session() as s:
        row = await s.get(MessageRow, message_id)
        if row is None:
            return None
        result = await s.execute(
            select(TextMessageRow, MessagingProgramRow)
            .join(MessagingProgramRow, MessagingProgramRow.id == TextMessageRow.program_id)
            .where(TextMessageRow.message_id == message_id)
            .order_by(MessagingProgramRow.locale)
        )
        return Published(row, [(t, p) for t, p in result.all()])


async def list_messages(store: Store, start: int = 0, limit: int = 100, group_id: int | None = None) -> Page:
    """Messages, newest first."""
    async with store.session() as s:
        query = select(MessageRow.id)
        if group_id is not None:
            query = query.where(MessageRow.group_id == group_id)
        total = (await s.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        ids = (await s.execute(query.order_by(MessageRow.id.desc()).offset(start).limit(limit))).scalars().all()
    items = [await published(store, i) for i in ids]
    return Page(total, [p for p in items if p is not None])


async def cancel(store: Store, message_id: int, when: int) -> bool | None:
    """Cancel a message in every locale (once; a second cancel keeps the first time). None: no such
    message; False: it was already cancelled."""
    async with store.session() as s, s.begin():
        row = await s.get(MessageRow, message_id)
        if row is None:
            return None
        if row.cancelled_time is not None:
            return False
        row.cancelled_time = when
        row.end_time = min(row.end_time, when)
        row_queries.bump_version(row)
    return True


async def prune(store: Store, cutoff: int) -> int:
    """Delete the messages (their TextMessages with them) that ended before ``cutoff``; their number."""
    async with store.session() as s, s.begin():
        ids = (await s.execute(select(MessageRow.id).where(MessageRow.end_time < cutoff))).scalars().all()
        if not ids:
            return 0
        await s.execute(delete(TextMessageRow).where(TextMessageRow.message_id.in_(ids)))
        await s.execute(delete(MessageRow).where(MessageRow.id.in_(ids)))
    return len(ids)


# -- locales ----------------------------------------------------------------------------------------


async def device_locales(store: Store, device_ids: Sequence[int]) -> dict[int, str]:
    if not device_ids:
        return {}
    async with store.session() as s:
        result = await s.execute(select(DeviceLocaleRow).where(DeviceLocaleRow.device_id.in_(list(device_ids))))
        return {r.device_id: r.locale for r in result.scalars().all()}


async def set_device_locale(store: Store, device_id: int, locale: str | None) -> bool:
    """Set (or, with None, forget) a device's preferred locale; False when there is no such device."""
    async with store.session() as s, s.begin():
        if await s.get(EndDeviceRow, device_id) is None:
            return False
        row = await s.get(DeviceLocaleRow, device_id)
        if locale is None:
            if row is not None:
                await s.delete(row)
        elif row is None:
            s.add(DeviceLocaleRow(device_id=device_id, locale=locale))
        else:
            row.locale = locale
    return True


async def group_ids_of(store: Store, device_ids: Sequence[int]) -> list[int]:
    if not device_ids:
        return []
    async with store.session() as s:
        result = await s.execute(
            select(GroupMemberRow.group_id).where(GroupMemberRow.device_id.in_(list(device_ids))).distinct()
        )
        return sorted(result.scalars().all())
