"""Queries of the Prepayment function set (IEEE 2030.5-2018 clause 10.8). A Prepayment is read by the
devices of its customer account (:mod:`gridhan.server.store.billing`). List orders (Table 46): Prepayment
by mRID descending; CreditRegister by effectiveTime then mRID descending; SupplyInterruptionOverride by
interval.start then interval.duration ascending."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from gridhan.server.store.billing import page_of, visible_condition
from gridhan.server.store.repo import Page, Store
from gridhan.server.store.tables import (
    CreditRegisterRow,
    CustomerAccountRow,
    PrepaymentRow,
    SupplyInterruptionOverrideRow,
)


def _visible(device_ids: Sequence[int]) -> object:
    accounts = select(CustomerAccountRow.id).where(visible_condition(device_ids))
    return PrepaymentRow.account_id.in_(accounts)


async def visible_prepayments(store: Store, device_ids: Sequence[int], start: int, limit: int) -> Page:
    if not device_ids:
        return Page(0, [])
    order = (PrepaymentRow.mrid.desc(), PrepaymentRow.id.desc())
    return await page_of(store, PrepaymentRow, _visible(device_ids), order, start, limit)


async def visible_prepayment(store: Store, prepayment_id: int, device_ids: Sequence[int]) -> PrepaymentRow | None:
    if not device_ids:
        return None
    async with store.session() as s:
        query = select(PrepaymentRow).where(PrepaymentRow.id == prepayment_id, _visible(device_ids))
        return (await s.execute(query)).scalar_one_or_none()


async def prepayment_of_agreement(store: Store, agreement_id: int) -> PrepaymentRow | None:
    async with store.session() as s:
        query = select(PrepaymentRow).where(PrepaymentRow.agreement_id == agreement_id).order_by(PrepaymentRow.id)
        return (await s.execute(query.limit(1))).scalar_one_or_none()


async def credit_registers(store: Store, prepayment_id: int, start: int, limit: int) -> Page:
    order = (CreditRegisterRow.effective_time.desc(), CreditRegisterRow.mrid.desc(), CreditRegisterRow.id.desc())
    return await page_of(store, CreditRegisterRow, CreditRegisterRow.prepayment_id == prepayment_id, order, start,
                         limit)  # fmt: skip


async def overrides(store: Store, prepayment_id: int, start: int, limit: int, active_at: int | None = None) -> Page:
    """A prepayment's SupplyInterruptionOverrides; with ``active_at``, those whose interval holds it."""
    row = SupplyInterruptionOverrideRow
    condition = row.prepayment_id == prepayment_id
    if active_at is not None:
        condition = condition & (row.start <= active_at) & (row.start + row.duration > active_at)
    return await page_of(store, row, condition, (row.start, row.duration, row.id), start, limit)


__all__ = [
    "credit_register_by_mrid",
    "credit_registers",
    "overrides",
    "prepayment_of_agreement",
    "visible_prepayment",
    "visible_prepayments",
]


async def credit_register_by_mrid(store: Store, prepayment_id: int, mrid: str) -> CreditRegisterRow | None:
    async with store.session() as s:
        query = select(CreditRegisterRow).where(
            CreditRegisterRow.prepayment_id == prepayment_id, CreditRegisterRow.mrid == mrid
        )
        return (await s.execute(query.limit(1))).scalar_one_or_none()
