"""The async repository: every query the server makes, each in its own transaction.

Callers never see a session. A method that writes commits before it returns, so whatever the server
acknowledges with a 2xx is durable; a method that fails leaves nothing behind (the transaction rolls
back). Queries that serve a 2030.5 client take the caller's scope as arguments, so the scoping is
visible at the call site.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from gridhan.server.notify.outbox import OutboxListener
from gridhan.server.store.cache import MISSING, ReadCache
from gridhan.server.store.db import create_engine, migrate
from gridhan.server.store.tables import (
    DeviceGroupRow,
    DeviceRecordRow,
    EndDeviceRow,
    GroupMemberRow,
    LogEventRow,
    ServerSettingRow,
)

T = TypeVar("T")


class Conflict(Exception):
    """A write that would break a uniqueness rule (an LFDI or group name that already exists)."""


@dataclass(frozen=True)
class Page:
    """One page of a list and the size of the whole list."""

    total: int
    rows: Sequence[Any]


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # A session class of this store's own, so its cache listens to its sessions only.
        session_class = type("StoreSession", (Session,), {})
        self.cache = ReadCache()
        self.cache.attach(session_class)
        # ... and its transactional outbox turns each transaction's changes into notifications (clause 8.7)
        self.outbox = OutboxListener(self.cache)
        self.outbox.attach(session_class)
        self._sessions = async_sessionmaker(
            engine, expire_on_commit=False, class_=AsyncSession, sync_session_class=session_class
        )

    @classmethod
    async def open(cls, url: str) -> Store:
        """Connect to ``url`` and bring its schema up to date."""
        engine = create_engine(url)
        await migrate(engine)
        return cls(engine)

    async def close(self) -> None:
        await self.engine.dispose()

    def session(self) -> AsyncSession:
        return self._sessions()

    # -- end devices --------------------------------------------------------------------------------

    async def derived(self, key: Hashable, tables: Iterable[type], load: Callable[[], Awaitable[T]]) -> T:
        """A value computed by ``load`` from the rows of ``tables`` (table classes), kept in the read cache
        under ``key`` until one of those tables is written or any row is deleted (see
        :class:`~gridhan.server.store.cache.ReadCache`). ``key`` must hold every other input of ``load``."""
        found = self.cache.get_derived(key)
        if found is not MISSING:
            return found  # type: ignore[no-any-return]
        generation = self.cache.generation
        value = await load()
        self.cache.put_derived(key, [table.__tablename__ for table in tables], value, generation)  # type: ignore[attr-defined]
        return value

    async def device(self, device_id: int) -> EndDeviceRow | None:
        """The EndDevice row (served from the read cache when it can be; treat it as read-only)."""
        cached = self.cache.get(self.cache.devices, device_id)
        if cached is not None:
            return cached
        generation = self.cache.generation
        async with self.session() as s:
            row = await s.get(EndDeviceRow, device_id)
        self.cache.put(self.cache.devices, device_id, row, generation)
        return row

    async def device_by_lfdi(self, lfdi: str) -> EndDeviceRow | None:
        async with self.session() as s:
            result = await s.execute(select(EndDeviceRow).where(EndDeviceRow.lfdi == lfdi))
            return result.scalar_one_or_none()

    async def create_device(self, **fields: Any) -> EndDeviceRow:
        """Insert an EndDevice; :class:`Conflict` when its LFDI is already known."""
        row = EndDeviceRow(**fields)
        try:
            async with self.session() as s, s.begin():
                s.add(row)
        except IntegrityError:
            raise Conflict(f"an EndDevice with LFDI {fields.get('lfdi')} already exists") from None
        return row

    async def update_device(self, device_id: int, **fields: Any) -> EndDeviceRow | None:
        async with self.session() as s, s.begin():
            row = await s.get(EndDeviceRow, device_id)
            if row is None:
                return None
            for key, value in fields.items():
                setattr(row, key, value)
        return row

    async def delete_device(self, device_id: int) -> bool:
        async with self.session() as s, s.begin():
            result = await s.execute(delete(EndDeviceRow).where(EndDeviceRow.id == device_id))
            return result.rowcount > 0

    async def devices_in_scope(
        self,
        scope_ids: Iterable[int] | None,
        start: int,
        limit: int,
        first_id: int | None = None,
        after: int | None = None,
    ) -> Page:
        """EndDevices ordered as clause 8.5.2 says (changedTime descending, SFDI, then href ascending),
        except that ``first_id`` (an aggregator's own EndDevice) comes first, as CSIP-AUS asks.

        ``scope_ids`` None: every device (the operator); otherwise only those ids. ``after`` (the ``a``
        query parameter) keeps devices whose changedTime is at or after that time.
        """
        order = [EndDeviceRow.changed_time.desc(), EndDeviceRow.sfdi, EndDeviceRow.id]
        if first_id is not None:
            order.insert(0, case((EndDeviceRow.id == first_id, 0), else_=1))
        async with self.session() as s:
            query = select(EndDeviceRow)
            count = select(func.count()).select_from(EndDeviceRow)
            if scope_ids is not None:
                ids = list(scope_ids)
                query = query.where(EndDeviceRow.id.in_(ids))
                count = count.where(EndDeviceRow.id.in_(ids))
            if after is not None:
                query = query.where(EndDeviceRow.changed_time >= after)
                count = count.where(EndDeviceRow.changed_time >= after)
            total = (await s.execute(count)).scalar_one()
            rows = (await s.execute(query.order_by(*order).offset(start).limit(limit))).scalars().all()
        return Page(total, rows)

    async def link_counts(self, device_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """(FunctionSetAssignments, LogEvents) counts per device, for the ``all`` of list links."""
        out = {d: c for d in device_ids if (c := self.cache.get(self.cache.counts, d)) is not None}
        missing = [d for d in device_ids if d not in out]
        if not missing:
            return out
        generation = self.cache.generation
        async with self.session() as s:
            fsa = dict(
                (
                    await s.execute(
                        select(GroupMemberRow.device_id, func.count())
                        .where(GroupMemberRow.device_id.in_(missing))
                        .group_by(GroupMemberRow.device_id)
                    )
                ).all()
            )
            logs = dict(
                (
                    await s.execute(
                        select(LogEventRow.device_id, func.count())
                        .where(LogEventRow.device_id.in_(missing))
                        .group_by(LogEventRow.device_id)
                    )
                ).all()
            )
        for d in missing:
            out[d] = (fsa.get(d, 0), logs.get(d, 0))
            self.cache.put(self.cache.counts, d, out[d], generation)
        return out

    async def counts_per_device(
        self, table: OrderedDict[int, int], column: Any, device_ids: Sequence[int]
    ) -> dict[int, int]:
        """Rows per device of ``column``'s table (``column`` is its device_id), through the read-cache
        ``table`` that the session events keep exact."""
        cache = self.cache
        out = {d: n for d in device_ids if (n := cache.get(table, d)) is not None}
        missing = [d for d in device_ids if d not in out]
        if missing:
            generation = cache.generation
            async with self.session() as s:
                query = select(column, func.count()).where(column.in_(missing)).group_by(column)
                found = dict((await s.execute(query)).all())
            for d in missing:
                out[d] = found.get(d, 0)
                cache.put(table, d, out[d], generation)
        return out

    async def managed_device_ids(self, aggregator_id: int) -> list[int]:
        """The aggregator's own EndDevice first, then the devices it manages."""
        async with self.session() as s:
            result = await s.execute(
                select(EndDeviceRow.id).where(EndDeviceRow.aggregator_id == aggregator_id).order_by(EndDeviceRow.id)
            )
            return [aggregator_id, *result.scalars().all()]

    async def list_devices(
        self,
        *,
        start: int = 0,
        limit: int = 100,
        aggregator_id: int | None = None,
        group_id: int | None = None,
        aggregators_only: bool = False,
    ) -> Page:
        """Admin listing, newest id first, with optional filters."""
        async with self.session() as s:
            query = select(EndDeviceRow)
            if aggregator_id is not None:
                query = query.where(EndDeviceRow.aggregator_id == aggregator_id)
            if aggregators_only:
                query = query.where(EndDeviceRow.is_aggregator.is_(True))
            if group_id is not None:
                query = query.join(GroupMemberRow, GroupMemberRow.device_id == EndDeviceRow.id).where(
                    GroupMemberRow.group_id == group_id
                )
            total = (await s.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
            rows = (await s.execute(query.order_by(EndDeviceRow.id).offset(start).limit(limit))).scalars().all()
        return Page(total, rows)

    async def trusted_self_signed_certificates(self) -> list[bytes]:
        """DER certificates of registered, unrevoked self-signed devices: extra TLS trust anchors."""
        async with self.session() as s:
            result = await s.execute(
                select(EndDeviceRow.certificate).where(
                    EndDeviceRow.self_signed.is_(True),
                    EndDeviceRow.revoked.is_(False),
                    EndDeviceRow.certificate.is_not(None),
                )
            )
            return [bytes(c) for c in result.scalars().all()]

    # -- groups and FunctionSetAssignments ------------------------------------------------------

    async def create_group(self, **fields: Any) -> DeviceGroupRow:
        row = DeviceGroupRow(**fields)
        try:
            async with self.session() as s, s.begin():
                s.add(row)
        except IntegrityError:
            raise Conflict(f"a group named {fields.get('name')!r} already exists") from None
        return row

    async def group(self, group_id: int) -> DeviceGroupRow | None:
        async with self.session() as s:
            return await s.get(DeviceGroupRow, group_id)

    async def update_group(self, group_id: int, **fields: Any) -> DeviceGroupRow | None:
        try:
            async with self.session() as s, s.begin():
                row = await s.get(DeviceGroupRow, group_id)
                if row is None:
                    return None
                for key, value in fields.items():
                    setattr(row, key, value)
                row.version = (row.version + 1) % 65536
        except IntegrityError:
            raise Conflict(f"a group named {fields.get('name')!r} already exists") from None
        return row

    async def delete_group(self, group_id: int) -> bool:
        async with self.session() as s, s.begin():
            result = await s.execute(delete(DeviceGroupRow).where(DeviceGroupRow.id == group_id))
            return result.rowcount > 0

    async def list_groups(self, start: int = 0, limit: int = 100) -> Page:
        async with self.session() as s:
            total = (await s.execute(select(func.count()).select_from(DeviceGroupRow))).scalar_one()
            rows = (
                (await s.execute(select(DeviceGroupRow).order_by(DeviceGroupRow.id).offset(start).limit(limit)))
                .scalars()
                .all()
            )
        return Page(total, rows)

    async def groups_of_device(self, device_id: int, start: int = 0, limit: int | None = None) -> Page:
        """A device's FunctionSetAssignments, mRID descending (clause 8.6.2, Table 23)."""
        async with self.session() as s:
            query = (
                select(DeviceGroupRow)
                .join(GroupMemberRow, GroupMemberRow.group_id == DeviceGroupRow.id)
                .where(GroupMemberRow.device_id == device_id)
            )
            total = (await s.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
            query = query.order_by(DeviceGroupRow.mrid.desc()).offset(start)
            if limit is not None:
                query = query.limit(limit)
            rows = (await s.execute(query)).scalars().all()
        return Page(total, rows)

    async def set_group_members(self, group_id: int, device_ids: Sequence[int]) -> None:
        """Replace a group's members (all in one transaction); unknown device ids raise ``KeyError``."""
        async with self.session() as s, s.begin():
            known = set(
                (await s.execute(select(EndDeviceRow.id).where(EndDeviceRow.id.in_(device_ids)))).scalars().all()
            )
            missing = sorted(set(device_ids) - known)
            if missing:
                raise KeyError(f"no device with id {missing[0]}")
            await s.execute(delete(GroupMemberRow).where(GroupMemberRow.group_id == group_id))
            s.add_all(GroupMemberRow(group_id=group_id, device_id=d) for d in dict.fromkeys(device_ids))
            await s.execute(
                update(DeviceGroupRow)
                .where(DeviceGroupRow.id == group_id)
                .values(version=(DeviceGroupRow.version + 1) % 65536)
            )

    async def set_device_groups(self, device_id: int, group_ids: Sequence[int]) -> None:
        """Replace the groups of one device; unknown group ids raise ``KeyError``."""
        async with self.session() as s, s.begin():
            known = set(
                (await s.execute(select(DeviceGroupRow.id).where(DeviceGroupRow.id.in_(group_ids)))).scalars().all()
            )
            missing = sorted(set(group_ids) - known)
            if missing:
                raise KeyError(f"no group with id {missing[0]}")
            await s.execute(delete(GroupMemberRow).where(GroupMemberRow.device_id == device_id))
            s.add_all(GroupMemberRow(group_id=g, device_id=device_id) for g in dict.fromkeys(group_ids))

    async def group_ids_of_device(self, device_id: int) -> list[int]:
        async with self.session() as s:
            result = await s.execute(
                select(GroupMemberRow.group_id)
                .where(GroupMemberRow.device_id == device_id)
                .order_by(GroupMemberRow.group_id)
            )
            return list(result.scalars().all())

    async def group_member_ids(self, group_id: int) -> list[int]:
        async with self.session() as s:
            result = await s.execute(
                select(GroupMemberRow.device_id)
                .where(GroupMemberRow.group_id == group_id)
                .order_by(GroupMemberRow.device_id)
            )
            return list(result.scalars().all())

    # -- documents devices PUT about themselves ------------------------------------------------

    async def put_record(self, device_id: int, kind: str, document: bytes, received_time: int) -> None:
        async with self.session() as s, s.begin():
            s.add(DeviceRecordRow(device_id=device_id, kind=kind, document=document, received_time=received_time))

    async def latest_record(self, device_id: int, kind: str) -> DeviceRecordRow | None:
        async with self.session() as s:
            result = await s.execute(
                select(DeviceRecordRow)
                .where(DeviceRecordRow.device_id == device_id, DeviceRecordRow.kind == kind)
                .order_by(DeviceRecordRow.id.desc())
                .limit(1)
            )
            return result.scalar_one_or_none()

    async def record_history(self, device_id: int, kind: str, start: int = 0, limit: int = 100) -> Page:
        async with self.session() as s:
            where = (DeviceRecordRow.device_id == device_id, DeviceRecordRow.kind == kind)
            total = (await s.execute(select(func.count()).select_from(DeviceRecordRow).where(*where))).scalar_one()
            rows = (
                (
                    await s.execute(
                        select(DeviceRecordRow)
                        .where(*where)
                        .order_by(DeviceRecordRow.id.desc())
                        .offset(start)
                        .limit(limit)
                    )
                )
                .scalars()
                .all()
            )
        return Page(total, rows)

    # -- log events ------------------------------------------------------------------------------

    async def add_log_event(self, device_id: int, **fields: Any) -> LogEventRow:
        row = LogEventRow(device_id=device_id, **fields)
        async with self.session() as s, s.begin():
            s.add(row)
        return row

    async def log_events(self, device_id: int, start: int, limit: int, after: int | None = None) -> Page:
        """A device's LogEvents, newest createdDateTime first, then logEventID, then href descending;
        ``after`` keeps those created at or after that time."""
        conditions = [LogEventRow.device_id == device_id]
        if after is not None:
            conditions.append(LogEventRow.created_date_time >= after)
        order = (LogEventRow.created_date_time.desc(), LogEventRow.log_event_id.desc(), LogEventRow.id.desc())
        async with self.session() as s:
            count = select(func.count()).select_from(LogEventRow).where(*conditions)
            total = (await s.execute(count)).scalar_one()
            query = select(LogEventRow).where(*conditions).order_by(*order).offset(start).limit(limit)
            rows = (await s.execute(query)).scalars().all()
        return Page(total, rows)

    async def log_event(self, device_id: int, event_id: int) -> LogEventRow | None:
        async with self.session() as s:
            row = await s.get(LogEventRow, event_id)
            return row if row is not None and row.device_id == device_id else None

    # -- run-time settings ---------------------------------------------------------------------

    async def runtime_settings(self) -> dict[str, Any]:
        async with self.session() as s:
            rows = (await s.execute(select(ServerSettingRow))).scalars().all()
            return {r.key: json.loads(r.value) for r in rows}

    async def put_runtime_settings(self, values: dict[str, Any]) -> None:
        async with self.session() as s, s.begin():
            for key, value in values.items():
                row = await s.get(ServerSettingRow, key)
                if row is None:
                    s.add(ServerSettingRow(key=key, value=json.dumps(value)))
                else:
                    row.value = json.dumps(value)

    # -- admin API: multi-step writes, each in one transaction ------------------------------------

    @staticmethod
    async def _check_aggregator(s: AsyncSession, aggregator_id: int, device_id: int | None) -> None:
        """Inside a transaction: ``aggregator_id`` names an aggregator other than ``device_id``.

        ``KeyError`` when no device has that id, ``ValueError`` when it is not an aggregator.
        """
        if aggregator_id == device_id:
            raise ValueError(f"device {device_id} cannot be its own aggregator")
        aggregator = await s.get(EndDeviceRow, aggregator_id)
        if aggregator is None:
            raise KeyError(f"no device with id {aggregator_id}")
        if not aggregator.is_aggregator:
            raise ValueError(f"device {aggregator_id} is not an aggregator")

    @staticmethod
    async def _check_groups(s: AsyncSession, group_ids: Sequence[int]) -> None:
        known = set(
            (await s.execute(select(DeviceGroupRow.id).where(DeviceGroupRow.id.in_(group_ids)))).scalars().all()
        )
        missing = [g for g in group_ids if g not in known]
        if missing:
            raise KeyError(f"no group with id {missing[0]}")

    async def create_device_in_groups(self, fields: dict[str, Any], group_ids: Sequence[int]) -> EndDeviceRow:
        """Insert an EndDevice and its group memberships together.

        :class:`Conflict` when the LFDI is known; ``KeyError`` for an unknown group or aggregator id;
        ``ValueError`` when ``aggregator_id`` names a device that is not an aggregator.
        """
        row = EndDeviceRow(**fields)
        try:
            async with self.session() as s, s.begin():
                if row.aggregator_id is not None:
                    await self._check_aggregator(s, row.aggregator_id, None)
                await self._check_groups(s, group_ids)
                s.add(row)
                await s.flush()
                s.add_all(GroupMemberRow(group_id=g, device_id=row.id) for g in dict.fromkeys(group_ids))
        except IntegrityError:
            raise Conflict(f"an EndDevice with LFDI {fields.get('lfdi')} already exists") from None
        return row

    async def update_device_and_groups(
        self, device_id: int, fields: dict[str, Any], group_ids: Sequence[int] | None = None
    ) -> EndDeviceRow | None:
        """Change an EndDevice's fields and (when ``group_ids`` is given) replace its groups, together.

        None when there is no such device; ``KeyError``/``ValueError`` as :meth:`create_device_in_groups`
        (an aggregator is not managed by another aggregator).
        """
        async with self.session() as s, s.begin():
            row = await s.get(EndDeviceRow, device_id)
            if row is None:
                return None
            if fields.get("aggregator_id") is not None:
                if row.is_aggregator:
                    raise ValueError(f"device {device_id} is an aggregator: it is not managed by another one")
                await self._check_aggregator(s, fields["aggregator_id"], device_id)
            if group_ids is not None:
                await self._check_groups(s, group_ids)
                await s.execute(delete(GroupMemberRow).where(GroupMemberRow.device_id == device_id))
                s.add_all(GroupMemberRow(group_id=g, device_id=device_id) for g in dict.fromkeys(group_ids))
            for key, value in fields.items():
                setattr(row, key, value)
        return row

    async def delete_device_releasing(self, device_id: int, changed_time: int) -> tuple[EndDeviceRow, list[str]] | None:
        """Delete an EndDevice (its records, log events and memberships go with it); the devices an
        aggregator managed are released (``aggregator_id`` NULL, ``changed_time`` set), not deleted.
        Returns the deleted row and the LFDIs of the released devices; None when there was no such
        device."""
        async with self.session() as s, s.begin():
            row = await s.get(EndDeviceRow, device_id)
            if row is None:
                return None
            released = list(
                (await s.execute(select(EndDeviceRow.lfdi).where(EndDeviceRow.aggregator_id == device_id)))
                .scalars()
                .all()
            )
            await s.execute(
                update(EndDeviceRow)
                .where(EndDeviceRow.aggregator_id == device_id)
                .values(aggregator_id=None, changed_time=changed_time)
            )
            await s.execute(delete(EndDeviceRow).where(EndDeviceRow.id == device_id))
        return row, released

    async def set_managed_devices(
        self, aggregator_id: int, device_ids: Sequence[int], changed_time: int
    ) -> list[str] | None:
        """Make ``device_ids`` exactly the devices the aggregator manages: they get its id, the others it
        managed are released. Returns the LFDIs of the devices whose aggregator changed; None when
        ``aggregator_id`` is not a device. ``ValueError`` when it is not an aggregator or a listed device
        is one; ``KeyError`` for an unknown device id."""
        async with self.session() as s, s.begin():
            aggregator = await s.get(EndDeviceRow, aggregator_id)
            if aggregator is None:
                return None
            if not aggregator.is_aggregator:
                raise ValueError(f"device {aggregator_id} is not an aggregator")
            wanted = list(dict.fromkeys(device_ids))
            rows = {
                r.id: r
                for r in (await s.execute(select(EndDeviceRow).where(EndDeviceRow.id.in_(wanted)))).scalars().all()
            }
            missing = [d for d in wanted if d not in rows]
            if missing:
                raise KeyError(f"no device with id {missing[0]}")
            aggregators = [d for d in wanted if rows[d].is_aggregator]
            if aggregators:
                raise ValueError(f"device {aggregators[0]} is an aggregator: it is not managed by another one")
            released = (
                (
                    await s.execute(
                        select(EndDeviceRow).where(
                            EndDeviceRow.aggregator_id == aggregator_id, EndDeviceRow.id.not_in(wanted)
                        )
                    )
                )
                .scalars()
                .all()
            )
            changed: list[str] = []
            for row in released:
                row.aggregator_id = None
                row.changed_time = changed_time
                changed.append(row.lfdi)
            for row in rows.values():
                if row.aggregator_id != aggregator_id:
                    row.aggregator_id = aggregator_id
                    row.changed_time = changed_time
                    changed.append(row.lfdi)
        return changed

    async def group_ids_by_device(self, device_ids: Sequence[int]) -> dict[int, list[int]]:
        """The group ids of each device (ascending), for listing many devices in one query."""
        found: dict[int, list[int]] = {d: [] for d in device_ids}
        if not device_ids:
            return found
        async with self.session() as s:
            result = await s.execute(
                select(GroupMemberRow.device_id, GroupMemberRow.group_id)
                .where(GroupMemberRow.device_id.in_(device_ids))
                .order_by(GroupMemberRow.device_id, GroupMemberRow.group_id)
            )
            for device_id, group_id in result.all():
                found[device_id].append(group_id)
        return found

    async def member_ids_by_group(self, group_ids: Sequence[int]) -> dict[int, list[int]]:
        """The member device ids of each group (ascending), for listing many groups in one query."""
        found: dict[int, list[int]] = {g: [] for g in group_ids}
        if not group_ids:
            return found
        async with self.session() as s:
            result = await s.execute(
                select(GroupMemberRow.group_id, GroupMemberRow.device_id)
                .where(GroupMemberRow.group_id.in_(group_ids))
                .order_by(GroupMemberRow.group_id, GroupMemberRow.device_id)
            )
            for group_id, device_id in result.all():
                found[group_id].append(device_id)
        return found

    async def replace_group_members(
        self, group_id: int, device_ids: Sequence[int], changed_time: int
    ) -> tuple[DeviceGroupRow, list[str]] | None:
        """Replace a group's members and bump its version, together; the devices that joined or left get
        ``changed_time``. Returns the group and the LFDIs of those devices; None when there is no such
        group; ``KeyError`` (nothing changed) for an unknown device id."""
        wanted = list(dict.fromkeys(device_ids))
        async with self.session() as s, s.begin():
            group = await s.get(DeviceGroupRow, group_id)
            if group is None:
                return None
            known = set((await s.execute(select(EndDeviceRow.id).where(EndDeviceRow.id.in_(wanted)))).scalars().all())
            missing = [d for d in wanted if d not in known]
            if missing:
                raise KeyError(f"no device with id {missing[0]}")
            before = set(
                (await s.execute(select(GroupMemberRow.device_id).where(GroupMemberRow.group_id == group_id)))
                .scalars()
                .all()
            )
            touched = sorted(before.symmetric_difference(wanted))
            await s.execute(delete(GroupMemberRow).where(GroupMemberRow.group_id == group_id))
            s.add_all(GroupMemberRow(group_id=group_id, device_id=d) for d in wanted)
            group.version = (group.version + 1) % 65536
            lfdis: list[str] = []
            if touched:
                lfdis = list(
                    (await s.execute(select(EndDeviceRow.lfdi).where(EndDeviceRow.id.in_(touched)))).scalars().all()
                )
                await s.execute(
                    update(EndDeviceRow).where(EndDeviceRow.id.in_(touched)).values(changed_time=changed_time)
                )
        return group, lfdis

    async def delete_group_of_members(self, group_id: int, changed_time: int) -> list[str] | None:
        """Delete a group; its former members get ``changed_time``. Returns their LFDIs; None when there
        was no such group."""
        async with self.session() as s, s.begin():
            if await s.get(DeviceGroupRow, group_id) is None:
                return None
            members = select(GroupMemberRow.device_id).where(GroupMemberRow.group_id == group_id)
            lfdis = list(
                (await s.execute(select(EndDeviceRow.lfdi).where(EndDeviceRow.id.in_(members)))).scalars().all()
            )
            await s.execute(update(EndDeviceRow).where(EndDeviceRow.id.in_(members)).values(changed_time=changed_time))
            await s.execute(delete(DeviceGroupRow).where(DeviceGroupRow.id == group_id))
        return lfdis


__all__ = ["Conflict", "Page", "Store"]
