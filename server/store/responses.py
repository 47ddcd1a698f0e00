"""Queries of the Response function set (IEEE 2030.5-2018 clause 8.8). Each function is one transaction on
the given :class:`~gridhan.server.store.repo.Store`; queries serving a 2030.5 client take the caller's
scope (the EndDevice ids it may see) as an argument."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from gridhan.server.store.repo import Page, Store
from gridhan.server.store.tables import ResponseRow

#: When a Response happened: its createdDateTime, or (when the device left it out) when it arrived.
WHEN = func.coalesce(ResponseRow.created_date_time, ResponseRow.received_time)


async def add_response(store: Store, **fields: Any) -> ResponseRow:
    row = ResponseRow(**fields)
    async with store.session() as s, s.begin():
        s.add(row)
    return row


async def responses_in_scope(
    store: Store, set_id: int, device_ids: Sequence[int], start: int, limit: int, after: int | None = None
) -> Page:
    """The Responses of one set from the given devices, ordered as Table 26 asks: createdDateTime
    descending, then endDeviceLFDI ascending (then newest first); ``after`` keeps those at or after it."""
    conditions = [ResponseRow.set_id == set_id, ResponseRow.device_id.in_(list(device_ids))]
    if after is not None:
        conditions.append(WHEN >= after)
    async with store.session() as s:
        total = (await s.execute(select(func.count()).select_from(ResponseRow).where(*conditions))).scalar_one()
        query = (
            select(ResponseRow)
            .where(*conditions)
            .order_by(WHEN.desc(), ResponseRow.end_device_lfdi, ResponseRow.id.desc())
            .offset(start)
            .limit(limit)
        )
        rows = (await s.execute(query)).scalars().all()
    return Page(total, rows)


async def count_in_scope(store: Store, device_ids: Sequence[int]) -> dict[int, int]:
    """Responses per set from the given devices (sets without any are absent)."""
    async with store.session() as s:
        result = await s.execute(
            select(ResponseRow.set_id, func.count())
            .where(ResponseRow.device_id.in_(list(device_ids)))
            .group_by(ResponseRow.set_id)
        )
        return {set_id: count for set_id, count in result.all()}


async def response(store: Store, set_id: int, response_id: int) -> ResponseRow | None:
    async with store.session() as s:
        row = await s.get(ResponseRow, response_id)
    return row if row is not None and row.set_id == set_id else None


async def responses_about(store: Store, subject: str) -> list[ResponseRow]:
    """Every Response about one event, oldest first."""
    async with store.session() as s:
        result = await s.execute(
            select(ResponseRow).where(ResponseRow.subject == subject).order_by(WHEN, ResponseRow.id)
        )
        return list(result.scalars().all())


async def responses_of_device(store: Store, device_id: int, start: int, limit: int, subject: str | None = None) -> Page:
    """A device's Responses, newest first; ``subject`` keeps those about one event."""
    conditions = [ResponseRow.device_id == device_id]
    if subject is not None:
        conditions.append(ResponseRow.subject == subject)
    async with store.session() as s:
        total = (await s.execute(select(func.count()).select_from(ResponseRow).where(*conditions))).scalar_one()
        query = (
            select(ResponseRow)
            .where(*conditions)
            .order_by(WHEN.desc(), ResponseRow.id.desc())
            .offset(start)
            .limit(limit)
        )
        rows = (await s.execute(query)).scalars().all()
    return Page(total, rows)


__all__ = [
    "add_response",
    "count_in_scope",
    "response",
    "responses_about",
    "responses_in_scope",
    "responses_of_device",
]
