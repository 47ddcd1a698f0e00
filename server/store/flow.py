"""Queries of the Flow Reservation function set (IEEE 2030.5-2018 clause 10.9): group capacities, requests,
responses and the holds they put on capacity. Each function is one transaction on the given Store.

Allocation is race-free on both databases: a transaction that may hold capacity first *writes* the
capacity rows of the device's groups (``allocations + 1``), which takes their row locks on PostgreSQL and
the database write lock on SQLite, then reads the holds, decides and writes. Two devices asking for the
last kilowatts of a group are therefore decided one after the other, never both from the same reading.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gridhan.schemas.flow_allocation import Capacity, Grant, Hold, fits
from gridhan.server.store.repo import Conflict, Page, Store
from gridhan.server.store.tables import (
    DeviceGroupRow,
    FlowCapacityRow,
    FlowHoldRow,
    FlowRequestRow,
    FlowResponseRow,
    GroupMemberRow,
)

#: (capacities with their holds) -> the grant, or None to leave the request to the operator.
Decider = Callable[[Sequence[tuple[Capacity, Sequence[Hold]]]], Grant | None]


class NotPending(Exception):
    """The request was already decided or cancelled."""


class OverCapacity(Exception):
    """A grant that would take some slot of a group past its capacity."""


@dataclass(frozen=True)
class Decided:
    request: FlowRequestRow
    response: FlowResponseRow | None


# -- capacities -------------------------------------------------------------------------------------


async def put_capacity(store: Store, group_id: int, **fields: Any) -> FlowCapacityRow:
    async with store.session() as s, s.begin():
        if await s.get(DeviceGroupRow, group_id) is None:
            raise KeyError(f"no group with id {group_id}")
        row = await s.get(FlowCapacityRow, group_id)
        if row is None:
            row = FlowCapacityRow(group_id=group_id, **fields)
            s.add(row)
        else:
            for key, value in fields.items():
                setattr(row, key, value)
    return row


async def capacities(store: Store) -> list[FlowCapacityRow]:
    async with store.session() as s:
        return list((await s.execute(select(FlowCapacityRow).order_by(FlowCapacityRow.group_id))).scalars().all())


async def capacity(store: Store, group_id: int) -> FlowCapacityRow | None:
    async with store.session() as s:
        return await s.get(FlowCapacityRow, group_id)


async def delete_capacity(store: Store, group_id: int) -> bool:
    async with store.session() as s, s.begin():
        result = await s.execute(delete(FlowCapacityRow).where(FlowCapacityRow.group_id == group_id))
        return result.rowcount > 0


async def held(store: Store, group_id: int, start: int, end: int) -> list[Hold]:
    """The holds on a group's capacity that touch [start, end)."""
    async with store.session() as s:
        return await _holds(s, group_id, start, end)


async def _holds(s: AsyncSession, group_id: int, start: int, end: int) -> list[Hold]:
    result = await s.execute(
        select(FlowResponseRow.start, FlowResponseRow.duration, FlowResponseRow.power_w)
        .join(FlowHoldRow, FlowHoldRow.response_id == FlowResponseRow.id)
        .where(
            FlowHoldRow.group_id == group_id,
            FlowResponseRow.cancelled_time.is_(None),
            FlowResponseRow.start < end,
            FlowResponseRow.start + FlowResponseRow.duration > start,
        )
    )
    return [Hold(start=a, duration=d, power_w=p) for a, d, p in result.all()]


async def _lock_capacities(
    s: AsyncSession, device_id: int, start: int, end: int
) -> list[tuple[FlowCapacityRow, Capacity, list[Hold]]]:
    """Write-lock the capacities of the device's groups (see the module docstring), then read their holds
    over [start, end)."""
    groups = select(GroupMemberRow.group_id).where(GroupMemberRow.device_id == device_id)
    await s.execute(
        update(FlowCapacityRow)
        .where(FlowCapacityRow.group_id.in_(groups))
        .values(allocations=FlowCapacityRow.allocations + 1)
        .execution_options(synchronize_session=False)
    )
    rows = (
        (
            await s.execute(
                select(FlowCapacityRow)
                .where(FlowCapacityRow.group_id.in_(groups))
                .order_by(FlowCapacityRow.group_id)
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    out = []
    for row in rows:
        cap = Capacity(slot_seconds=row.slot_seconds, capacity_w=row.capacity_w, policy=row.policy)
        out.append((row, cap, await _holds(s, row.group_id, start, end)))
    return out


async def _respond(
    s: AsyncSession,
    request: FlowRequestRow,
    grant: Grant,
    start: int,
    duration: int,
    mrid: str,
    now: int,
    group_ids: Sequence[int],
    response_required: str | None,
) -> FlowResponseRow:
    response = FlowResponseRow(
        request_id=request.id,  # type: ignore[arg-type]
        device_id=request.device_id,
        mrid=mrid,
        creation_time=now,
        start=start,
        duration=duration,
        power_w=grant.power_w,
        energy_wh=grant.energy_wh,
        response_required=response_required,
    )
    s.add(response)
    await s.flush()
    if grant.energy_wh > 0 and grant.power_w > 0:  # a charge holds capacity; a discharge or refusal does not
        s.add_all(FlowHoldRow(response_id=response.id, group_id=g) for g in group_ids)  # type: ignore[arg-type]
    request.state = "refused" if grant.refused else "granted"
    return response


# -- requests ---------------------------------------------------------------------------------------


async def add_request(
    store: Store, fields: dict[str, Any], decide: Decider, response_mrid: str, now: int, response_required: str | None
) -> Decided:
    """Store a device's request and, unless ``decide`` leaves it to the operator, its response, in one
    transaction. :class:`Conflict` when the device already sent a request with that mRID."""
    try:
        async with store.session() as s, s.begin():
            end = fields["start"] + fields["duration"]
            locked = await _lock_capacities(s, fields["device_id"], fields["start"], end)
            request = FlowRequestRow(**fields, state="pending")
            s.add(request)
            await s.flush()
            grant = decide([(cap, holds) for _, cap, holds in locked])
            response = None
            if grant is not None:
                response = await _respond(
                    s, request, grant, request.start, request.duration, response_mrid, now,
                    [row.group_id for row, _, _ in locked], response_required,
                )  # fmt: skip
    except IntegrityError:
        raise Conflict(f"this EndDevice already sent a FlowReservationRequest with mRID {fields['mrid']}") from None
    return Decided(request, response)


async def decide_request(
    store: Store,
    request_id: int,
    grant: Grant,
    start: int,
    duration: int,
    response_mrid: str,
    now: int,
    response_required: str | None,
) -> Decided | None:
    """The operator's decision on a pending request, held to the groups' capacity like an automatic one:
    :class:`OverCapacity` if some slot lacks the power, :class:`NotPending` if it was already decided."""
    async with store.session() as s, s.begin():
        # claim the request first (a write: two operators deciding at once cannot both find it pending)
        claimed = await s.execute(
            update(FlowRequestRow)
            .where(FlowRequestRow.id == request_id, FlowRequestRow.state == "pending")
            .values(state="deciding")
            .execution_options(synchronize_session=False)
        )
        request = await s.get(FlowRequestRow, request_id, populate_existing=True)
        if request is None:
            return None
        if claimed.rowcount != 1:
            raise NotPending(f"FlowReservationRequest {request_id} is {request.state}, not pending")
        locked = await _lock_capacities(s, request.device_id, start, start + duration)
        if grant.energy_wh > 0 and not fits([(c, h) for _, c, h in locked], start, duration, grant.power_w):
            raise OverCapacity(f"{grant.power_w} W over that interval exceeds the capacity left in a group's slot")
        groups = [row.group_id for row, _, _ in locked]
        response = await _respond(s, request, grant, start, duration, response_mrid, now, groups, response_required)
    return Decided(request, response)


async def cancel_request(store: Store, request_id: int, now: int, document: bytes) -> FlowRequestRow | None:
    """The device cancelled its request (RequestStatus 1): the request and its responses are cancelled,
    releasing the capacity they held."""
    async with store.session() as s, s.begin():
        request = await s.get(FlowRequestRow, request_id)
        if request is None:
            return None
        if request.request_status != 1:
            request.request_status = 1
            request.status_time = now
            request.state = "cancelled"
            request.document = document
            await s.execute(
                update(FlowResponseRow)
                .where(FlowResponseRow.request_id == request_id, FlowResponseRow.cancelled_time.is_(None))
                .values(cancelled_time=now, version=(FlowResponseRow.version + 1) % 65536)
                .execution_options(synchronize_session=False)
            )
    return request


async def request(store: Store, request_id: int) -> FlowRequestRow | None:
    async with store.session() as s:
        return await s.get(FlowRequestRow, request_id)


async def requests_of_device(store: Store, device_id: int) -> list[FlowRequestRow]:
    async with store.session() as s:
        result = await s.execute(select(FlowRequestRow).where(FlowRequestRow.device_id == device_id))
        return list(result.scalars().all())


async def list_requests(store: Store, state: str | None, start: int = 0, limit: int = 100) -> Page:
    """Requests, oldest first (the operator works through pending ones in the order they came)."""
    async with store.session() as s:
        query = select(FlowRequestRow)
        if state is not None:
            query = query.where(FlowRequestRow.state == state)
        total = (await s.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = (await s.execute(query.order_by(FlowRequestRow.id).offset(start).limit(limit))).scalars().all()
    return Page(total, rows)


# -- responses --------------------------------------------------------------------------------------


async def responses_of_device(store: Store, device_id: int) -> list[FlowResponseRow]:
    async with store.session() as s:
        result = await s.execute(select(FlowResponseRow).where(FlowResponseRow.device_id == device_id))
        return list(result.scalars().all())


async def responses_of_request(store: Store, request_id: int) -> list[FlowResponseRow]:
    async with store.session() as s:
        result = await s.execute(
            select(FlowResponseRow).where(FlowResponseRow.request_id == request_id).order_by(FlowResponseRow.id)
        )
        return list(result.scalars().all())


async def response_by_mrid(store: Store, mrid: str) -> FlowResponseRow | None:
    async with store.session() as s:
        result = await s.execute(select(FlowResponseRow).where(FlowResponseRow.mrid == mrid))
        return result.scalar_one_or_none()


async def request_mrids(store: Store, request_ids: Sequence[int]) -> dict[int, str]:
    if not request_ids:
        return {}
    async with store.session() as s:
        result = await s.execute(
            select(FlowRequestRow.id, FlowRequestRow.mrid).where(FlowRequestRow.id.in_(list(request_ids)))
        )
        return {i: m for i, m in result.all()}


async def counts_by_device(store: Store, device_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(requests, responses) of each device, in two queries (for the links on an EndDeviceList)."""
    out = {d: (0, 0) for d in device_ids}
    if not device_ids:
        return out
    async with store.session() as s:
        ids = list(device_ids)
        requests = await s.execute(
            select(FlowRequestRow.device_id, func.count())
            .where(FlowRequestRow.device_id.in_(ids))
            .group_by(FlowRequestRow.device_id)
        )
        for device_id, n in requests.all():
            out[device_id] = (n, 0)
        responses = await s.execute(
            select(FlowResponseRow.device_id, func.count())
            .where(FlowResponseRow.device_id.in_(ids))
            .group_by(FlowResponseRow.device_id)
        )
        for device_id, n in responses.all():
            out[device_id] = (out[device_id][0], n)
    return out
