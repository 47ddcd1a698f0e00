"""Queries of the Billing function set (IEEE 2030.5-2018 clause 10.7) and of the Prepayment function set
(10.8) that hangs off its accounts. Each function is one transaction on the given
:class:`~gridhan.server.store.repo.Store`; a refused write leaves nothing behind.

Who reads an account: the devices the operator linked to it and the members of the groups linked to it
(an aggregator through the devices it manages). Queries serving a 2030.5 client take those device ids.

List orders (Table 45): CustomerAccount by customerName ascending then mRID descending; CustomerAgreement
by serviceLocation ascending then mRID descending. BillingPeriods are given newest first
(interval.start descending), billing meter readings by mRID descending, their reading sets by
timePeriod.start then mRID descending and their readings by time, consumption block and tier ascending,
as the corresponding Metering lists are ordered (Table 39).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gridhan.server.store import rows as row_queries
from gridhan.server.store.repo import Conflict, Page, Store
from gridhan.server.store.tables import (
    AccountDeviceRow,
    AccountGroupRow,
    BillingMeterReadingRow,
    BillingPeriodRow,
    BillingReadingRow,
    BillingReadingSetRow,
    CustomerAccountRow,
    CustomerAgreementRow,
    DeviceGroupRow,
    EndDeviceRow,
    GroupMemberRow,
    MirrorUsagePointRow,
)

KINDS = ("historical", "projection", "target")


async def page_of(store: Store, model: type, condition: Any, order: Sequence[Any], start: int, limit: int) -> Page:
    """One page of ``model`` rows matching ``condition`` in ``order``, with the count of all of them."""
    return await row_queries.page(store, select(model).where(condition), order, start, limit)


async def counts(store: Store, column: Any, ids: Sequence[int]) -> dict[int, int]:
    """Rows per value of ``column`` (a parent id) for each of ``ids``."""
    if not ids:
        return {}
    async with store.session() as s:
        result = await s.execute(select(column, func.count()).where(column.in_(list(ids))).group_by(column))
        found = dict(result.all())
    return {i: found.get(i, 0) for i in ids}


async def get(store: Store, model: type, row_id: int) -> Any:
    async with store.session() as s:
        return await s.get(model, row_id)


async def insert(store: Store, row: Any, parents: Sequence[tuple[type, int | None, str]] = ()) -> Any:
    """Insert ``row`` after checking that each (model, id, field name) parent exists (``KeyError`` names
    the first missing one); :class:`Conflict` for a taken mRID."""
    try:
        async with store.session() as s, s.begin():
            await _check_parents(s, parents)
            s.add(row)
    except IntegrityError:
        raise Conflict(f"mRID {getattr(row, 'mrid', '?')} is already taken") from None
    return row


async def _check_parents(s: AsyncSession, parents: Sequence[tuple[type, int | None, str]]) -> None:
    for model, parent_id, name in parents:
        if parent_id is not None and await s.get(model, parent_id) is None:
            raise KeyError(f"{name}: no such id {parent_id}")


async def update(
    store: Store, model: type, row_id: int, fields: dict[str, Any], parents: Sequence[tuple[type, int | None, str]] = ()
) -> Any:
    """Change the given fields of a row (its ``version`` moves on when it has one); None when missing."""
    async with store.session() as s, s.begin():
        row = await s.get(model, row_id)
        if row is None:
            return None
        await _check_parents(s, parents)
        for key, value in fields.items():
            setattr(row, key, value)
        if hasattr(row, "version"):
            row_queries.bump_version(row)
    return row


async def remove(store: Store, model: type, row_id: int) -> bool:
    async with store.session() as s, s.begin():
        result = await s.execute(delete(model).where(model.id == row_id))
        return result.rowcount > 0


# -- accounts and who reads them -------------------------------------------------------------------


async def set_audience(store: Store, account_id: int, device_ids: list[int], group_ids: list[int]) -> bool:
    """Replace the devices and groups that read an account, all or nothing; False when the account is
    gone, ``KeyError`` for an unknown device or group."""
    async with store.session() as s, s.begin():
        if await s.get(CustomerAccountRow, account_id) is None:
            return False
        known = set((await s.execute(select(EndDeviceRow.id).where(EndDeviceRow.id.in_(device_ids)))).scalars())
        for d in device_ids:
            if d not in known:
                raise KeyError(f"device_ids: no device with id {d}")
        groups = set((await s.execute(select(DeviceGroupRow.id).where(DeviceGroupRow.id.in_(group_ids)))).scalars())
        for g in group_ids:
            if g not in groups:
                raise KeyError(f"group_ids: no group with id {g}")
        await s.execute(delete(AccountDeviceRow).where(AccountDeviceRow.account_id == account_id))
        await s.execute(delete(AccountGroupRow).where(AccountGroupRow.account_id == account_id))
        s.add_all(AccountDeviceRow(account_id=account_id, device_id=d) for d in device_ids)
        s.add_all(AccountGroupRow(account_id=account_id, group_id=g) for g in group_ids)
    return True


async def audience(store: Store, account_id: int) -> tuple[list[int], list[int]]:
    """The device ids and group ids linked to an account."""
    async with store.session() as s:
        devices = (
            await s.execute(
                select(AccountDeviceRow.device_id)
                .where(AccountDeviceRow.account_id == account_id)
                .order_by(AccountDeviceRow.device_id)
            )
        ).scalars()
        groups = (
            await s.execute(
                select(AccountGroupRow.group_id)
                .where(AccountGroupRow.account_id == account_id)
                .order_by(AccountGroupRow.group_id)
            )
        ).scalars()
        return list(devices), list(groups)


def visible_condition(device_ids: Sequence[int]) -> Any:
    ids = list(device_ids)
    by_device = select(AccountDeviceRow.account_id).where(AccountDeviceRow.device_id.in_(ids))
    by_group = (
        select(AccountGroupRow.account_id)
        .join(GroupMemberRow, GroupMemberRow.group_id == AccountGroupRow.group_id)
        .where(GroupMemberRow.device_id.in_(ids))
    )
    return or_(CustomerAccountRow.id.in_(by_device), CustomerAccountRow.id.in_(by_group))


async def visible_accounts(store: Store, device_ids: Sequence[int], start: int, limit: int) -> Page:
    """The accounts the devices read, in CustomerAccountList order (Table 45)."""
    if not device_ids:
        return Page(0, [])
    order = (
        CustomerAccountRow.customer_name.is_(None),
        CustomerAccountRow.customer_name,
        CustomerAccountRow.mrid.desc(),
    )
    return await page_of(store, CustomerAccountRow, visible_condition(device_ids), order, start, limit)


async def visible_account(store: Store, account_id: int, device_ids: Sequence[int]) -> CustomerAccountRow | None:
    if not device_ids:
        return None
    async with store.session() as s:
        query = select(CustomerAccountRow).where(CustomerAccountRow.id == account_id, visible_condition(device_ids))
        return (await s.execute(query)).scalar_one_or_none()


async def list_accounts(store: Store, start: int, limit: int) -> Page:
    return await page_of(store, CustomerAccountRow, CustomerAccountRow.id > 0, [CustomerAccountRow.id], start, limit)


# -- agreements, billing periods -------------------------------------------------------------------


def agreement_parents(fields: dict[str, Any]) -> list[tuple[type, int | None, str]]:
    return [(MirrorUsagePointRow, fields.get("usage_point_id"), "usage_point_id")]


async def agreements(store: Store, account_id: int, start: int, limit: int) -> Page:
    order = (
        CustomerAgreementRow.service_location.is_(None),
        CustomerAgreementRow.service_location,
        CustomerAgreementRow.mrid.desc(),
    )
    return await page_of(
        store, CustomerAgreementRow, CustomerAgreementRow.account_id == account_id, order, start, limit
    )


async def periods(store: Store, agreement_id: int, start: int, limit: int, active_at: int | None = None) -> Page:
    """An agreement's BillingPeriods, newest first; with ``active_at``, only those whose interval holds it."""
    condition: Any = BillingPeriodRow.agreement_id == agreement_id
    if active_at is not None:
        condition = (
            condition
            & (BillingPeriodRow.start <= active_at)
            & (BillingPeriodRow.start + BillingPeriodRow.duration > active_at)
        )
    order = (BillingPeriodRow.start.desc(), BillingPeriodRow.id.desc())
    return await page_of(store, BillingPeriodRow, condition, order, start, limit)


# -- historical, projection and target readings ----------------------------------------------------


async def billing_meter_readings(store: Store, agreement_id: int, kind: str, start: int, limit: int) -> Page:
    condition = (BillingMeterReadingRow.agreement_id == agreement_id) & (BillingMeterReadingRow.kind == kind)
    order = (BillingMeterReadingRow.mrid.desc(), BillingMeterReadingRow.id.desc())
    return await page_of(store, BillingMeterReadingRow, condition, order, start, limit)


async def reading_sets(store: Store, meter_reading_id: int, start: int, limit: int) -> Page:
    order = (BillingReadingSetRow.start.desc(), BillingReadingSetRow.mrid.desc(), BillingReadingSetRow.id.desc())
    condition = BillingReadingSetRow.meter_reading_id == meter_reading_id
    return await page_of(store, BillingReadingSetRow, condition, order, start, limit)


async def readings(store: Store, reading_set_id: int, start: int, limit: int) -> Page:
    order = (
        BillingReadingRow.start,
        BillingReadingRow.consumption_block,
        BillingReadingRow.tou_tier,
        BillingReadingRow.id,
    )
    condition = BillingReadingRow.reading_set_id == reading_set_id
    return await page_of(store, BillingReadingRow, condition, order, start, limit)


async def put_reading_set(
    store: Store, meter_reading_id: int, mrid: str, fields: dict[str, Any], rows: Sequence[dict[str, Any]]
) -> tuple[BillingReadingSetRow, bool] | None:
    """Add a BillingReadingSet with its readings, or (same mRID) replace that set's data, in one
    transaction; None when the billing meter reading is gone. Returns the set and whether it is new."""
    async with store.session() as s, s.begin():
        if await s.get(BillingMeterReadingRow, meter_reading_id) is None:
            return None
        found = (
            await s.execute(
                select(BillingReadingSetRow).where(
                    BillingReadingSetRow.meter_reading_id == meter_reading_id, BillingReadingSetRow.mrid == mrid
                )
            )
        ).scalar_one_or_none()
        if found is None:
            found = BillingReadingSetRow(meter_reading_id=meter_reading_id, mrid=mrid, **fields)
            s.add(found)
            await s.flush()
            created = True
        else:
            for key, value in fields.items():
                setattr(found, key, value)
            row_queries.bump_version(found)
            await s.execute(delete(BillingReadingRow).where(BillingReadingRow.reading_set_id == found.id))
            created = False
        s.add_all(BillingReadingRow(reading_set_id=found.id, **r) for r in rows)
    return found, created


__all__ = [
    "KINDS",
    "agreement_parents",
    "agreements",
    "audience",
    "billing_meter_readings",
    "counts",
    "get",
    "insert",
    "list_accounts",
    "page_of",
    "periods",
    "put_reading_set",
    "reading_sets",
    "readings",
    "remove",
    "set_audience",
    "update",
    "visible_account",
    "visible_accounts",
    "visible_condition",
]
