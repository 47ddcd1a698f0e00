"""Row queries every function set's store module shares: insert under an existing parent, get, find by
mRID, update with the resource's version bumped, delete, page, and cancel an event. Each function is one
transaction on the given :class:`~gridhan.server.store.repo.Store`; ``cls`` is a table class."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from gridhan.server.store.repo import Conflict, Page, Store

#: ``version`` is a sep.xsd VersionType (UInt16): it wraps.
VERSIONS = 65536


def bump_version(row: Any) -> None:
    row.version = (row.version + 1) % VERSIONS


async def insert_under(store: Store, rows: Sequence[Any], parent: type, parent_id: int, parent_name: str) -> None:
    """Insert ``rows`` whose parent (``parent`` with id ``parent_id``) must exist, in one transaction:
    ``KeyError`` names a missing parent, :class:`Conflict` an mRID that is taken; nothing is written then."""
    try:
        async with store.session() as s, s.begin():
            if await s.get(parent, parent_id) is None:
                raise KeyError(f"no {parent_name} with id {parent_id}")
            s.add_all(rows)
    except IntegrityError:
        if len(rows) == 1:
            name = type(rows[0]).__name__.removesuffix("Row")
            raise Conflict(f"a {name} with mRID {rows[0].mrid} already exists") from None
        raise Conflict("an mRID is already taken") from None


async def get(store: Store, cls: type, row_id: int) -> Any:
    async with store.session() as s:
        return await s.get(cls, row_id)


async def by_mrid(store: Store, cls: Any, mrid: str) -> Any:
    async with store.session() as s:
        return (await s.execute(select(cls).where(cls.mrid == mrid))).scalar_one_or_none()


async def update(store: Store, cls: type, row_id: int, fields: dict[str, Any]) -> Any:
    """Set ``fields`` and bump the row's version; None when there is no such row."""
    async with store.session() as s, s.begin():
        row = await s.get(cls, row_id)
        if row is None:
            return None
        for key, value in fields.items():
            setattr(row, key, value)
        bump_version(row)
    return row


async def remove(store: Store, cls: Any, row_id: int) -> bool:
    async with store.session() as s, s.begin():
        result = await s.execute(delete(cls).where(cls.id == row_id))
        return result.rowcount > 0


async def page(store: Store, query: Any, order: Sequence[Any], start: int, limit: int | None) -> Page:
    """The rows of ``query`` in ``order`` from ``start`` (at most ``limit``), with the total count."""
    async with store.session() as s:
        total = (await s.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        query = query.order_by(*order).offset(start)
        if limit is not None:
            query = query.limit(limit)
        rows = (await s.execute(query)).scalars().all()
    return Page(total, rows)


async def children(store: Store, cls: Any, parent_column: Any, parent_id: int) -> list[Any]:
    """Every row under one parent, oldest first (the event rules need all of a program's events)."""
    async with store.session() as s:
        result = await s.execute(select(cls).where(parent_column == parent_id).order_by(cls.id))
        return list(result.scalars().all())


def cancel(row: Any, when: int, randomized: bool) -> None:
    """Mark an event row cancelled (IEEE 2030.5-2018 10.2.3: only its status changes)."""
    row.cancelled_time = when
    row.cancel_randomized = randomized
    bump_version(row)


async def cancel_event(store: Store, cls: type, row_id: int, when: int, randomized: bool) -> Any:
    """Cancel an event once (a second cancel keeps the first time); None when there is no such row."""
    async with store.session() as s, s.begin():
        row = await s.get(cls, row_id)
        if row is None:
            return None
        if row.cancelled_time is None:
            cancel(row, when, randomized)
    return row
