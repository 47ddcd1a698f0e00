"""The transactional outbox of the Subscription/Notification function set (IEEE 2030.5-2018 clause 8.7).

:class:`OutboxListener` listens to the store's own session class, like the read cache does: every flush
reports the rows a transaction inserted, updated or deleted, and bulk UPDATE/DELETE statements are looked at
(their rows read with the statement's own WHERE clause) before they run, so what a database cascade is about
to remove is still known. Just before the transaction commits, those changes are resolved into the
subscriptions they reach (:func:`gridhan.server.notify.topics.resolve`) and one notification row per
subscription is inserted *in the same transaction*: the change and its notifications commit together, or
neither does. No writer has to remember to notify; the admin API's DER writes, the 2030.5 handlers and the
event-boundary scheduler all go through it.

A deleted EndDevice takes its subscriptions with it (ON DELETE CASCADE); before the DELETE runs, a status 4
("subscription canceled, resource deleted") notification is prepared for every subscription to the device or
below it, and a status 1 ("subscription canceled") one for the device's other subscriptions, and the
subscriptions of other devices (an aggregator's) to the deleted device are removed.

After the commit, the listener tells its subscribers (the delivery workers, the scheduler) what happened.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, delete, event, insert, inspect, or_, select
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from gridhan.server.notify.families import EVENT_FAMILIES, EventFamily
from gridhan.server.notify.topics import Changes, Targets, programs_of_groups, resolve, subscription_href
from gridhan.server.store.cache import ReadCache
from gridhan.server.store.tables import (
    DerCurveRow,
    DerDefaultControlRow,
    DeviceGroupRow,
    EndDeviceRow,
    EventWatermarkRow,
    GroupMemberRow,
    LoadShedAvailabilityRow,
    LogEventRow,
    NotificationRow,
    SubscriptionRow,
)

_CHANGES = "gridhan_notify_changes"
_ENQUEUED = "gridhan_notify_enqueued"

#: Notification.status values (sep.xsd Notification).
STATUS_DEFAULT = 0
STATUS_CANCELLED = 1
STATUS_DELETED = 4

#: Called after a commit with the transaction's changes and the number of notification rows it enqueued.
CommitHook = Callable[[Changes, int], None]

#: Rows counted by a link on their EndDevice (LogEventListLink, LoadShedAvailabilityListLink ``all``).
_COUNTED_ON_DEVICE = (LogEventRow, LoadShedAvailabilityRow)
#: The rows and tables of the event-bearing function sets (gridhan.server.notify.families).
_FAMILY_OF_PROGRAM: Mapping[type, EventFamily] = MappingProxyType({f.program: f for f in EVENT_FAMILIES})
_FAMILY_OF_EVENT: Mapping[type, EventFamily] = MappingProxyType({f.event: f for f in EVENT_FAMILIES})
_PROGRAM_TABLES: Mapping[str, EventFamily] = MappingProxyType({f.program.__tablename__: f for f in EVENT_FAMILIES})
_EVENT_TABLES: Mapping[str, EventFamily] = MappingProxyType({f.event.__tablename__: f for f in EVENT_FAMILIES})


def notification_row(sub: Any, status: int, now: float) -> dict[str, Any]:
    """A pending outbox row for subscription ``sub`` (a row of the subscription table)."""
    return {
        "subscription_id": sub.id if status == STATUS_DEFAULT else None,
        "device_id": sub.device_id,
        "subscribed_resource": sub.subscribed_resource,
        "subscription_uri": sub.origin + subscription_href(sub.device_id, sub.id),
        "notification_uri": sub.notification_uri,
        "item_limit": sub.item_limit,
        "status": status,
        "state": "pending",
        "attempts": 0,
        "enqueued_at": now,
        "next_attempt_at": now,
    }


def _under(column: Any, prefix: str) -> Any:
    """``column`` is ``prefix`` or a path below it."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(column == prefix, column.like(escaped + "/%", escape="\\"))


def matching_subscriptions(conn: Connection, targets: Targets) -> dict[int, Any]:
    """The subscriptions ``targets`` reach, by id."""
    found: dict[int, Any] = {}

    def conditions(topics: set[str], prefixes: set[str]) -> list[Any]:
        out: list[Any] = []
        if topics:
            out.append(SubscriptionRow.topic.in_(sorted(topics)))
        out.extend(_under(SubscriptionRow.subscribed_resource, p) for p in sorted(prefixes))
        return out

    every = conditions(targets.topics, targets.prefixes)
    if every:
        for row in conn.execute(select(SubscriptionRow).where(or_(*every))).all():
            found[row.id] = row
    for owners, (topics, prefixes) in targets.scoped.items():
        some = conditions(topics, prefixes)
        if some:
            query = select(SubscriptionRow).where(SubscriptionRow.device_id.in_(sorted(owners)), or_(*some))
            for row in conn.execute(query).all():
                found[row.id] = row
    return found


class OutboxListener:
    """Turns the changes of each transaction of one store into notification rows, before it commits."""

    def __init__(self, cache: ReadCache, wall_clock: Callable[[], float] = time.time) -> None:
        self.wall_clock = wall_clock
        self.cache = cache
        self.on_commit: list[CommitHook] = []

    def attach(self, session_class: type[Session]) -> None:
        """Listen to the flushes, bulk statements and commits of sessions of ``session_class``."""
        event.listen(session_class, "before_flush", self._before_flush)
        event.listen(session_class, "after_flush", self._after_flush)
        event.listen(session_class, "do_orm_execute", self._on_execute)
        event.listen(session_class, "before_commit", self._before_commit)
        event.listen(session_class, "after_commit", self._after_commit)
        event.listen(session_class, "after_rollback", self._after_rollback)

    @staticmethod
    def changes(session: Session) -> Changes:
        """The changes collected so far in ``session``'s transaction (the scheduler adds explicit topics)."""
        return session.info.setdefault(_CHANGES, Changes())

    # -- collecting ------------------------------------------------------------------------------

    def _before_flush(self, session: Session, _flush: UOWTransaction, _instances: Any) -> None:
        """ORM deletes whose database cascades would hide what must be notified: read it first."""
        devices = [o.id for o in session.deleted if isinstance(o, EndDeviceRow) and o.id is not None]
        groups = [o.id for o in session.deleted if isinstance(o, DeviceGroupRow) and o.id is not None]
        if devices or groups:
            conn = session.connection()
            changes = self.changes(session)
            if devices:
                self._capture_device_deletion(conn, devices, changes)
            if groups:
                self._capture_group_deletion(conn, groups, changes)

    def _after_flush(self, session: Session, _flush: UOWTransaction) -> None:
        changes: Changes | None = None

        def ch() -> Changes:
            nonlocal changes
            if changes is None:
                changes = self.changes(session)
            return changes

        for kind, objects in (("new", session.new), ("dirty", session.dirty), ("deleted", session.deleted)):
            for obj in objects:
                if kind == "dirty" and not session.is_modified(obj, include_collections=False):
                    continue
                family = _FAMILY_OF_EVENT.get(type(obj))
                if family is not None:
                    ch().events.add((family.name, obj.program_id, obj.id))
                    continue
                family = _FAMILY_OF_PROGRAM.get(type(obj))
                if family is not None:
                    key = (family.name, obj.id)
                    target = {"new": ch().programs_added, "deleted": ch().programs_deleted}.get(kind)
                    if target is not None:
                        target[key] = obj.group_id
                        if kind == "new":
                            ch().program_created[key] = obj.created_time
                    else:
                        ch().programs_changed.add(key)
                    continue
                if isinstance(obj, DerDefaultControlRow):
                    ch().defaults.add(obj.program_id)
                elif isinstance(obj, DerCurveRow):
                    ch().curves.add(obj.program_id)
                elif isinstance(obj, DeviceGroupRow):
                    if kind == "dirty":
                        ch().groups_changed.add(obj.id)  # type: ignore[arg-type]
                elif isinstance(obj, GroupMemberRow):
                    if kind == "new":
                        ch().members_added.add((obj.group_id, obj.device_id))
                    elif kind == "deleted":
                        ch().members_removed.add((obj.group_id, obj.device_id))
                elif isinstance(obj, EndDeviceRow):
                    if kind == "dirty":
                        ch().devices_changed.add(obj.id)  # type: ignore[arg-type]
                        history = inspect(obj).attrs.aggregator_id.history
                        if history.deleted:
                            ch().aggregators_before.setdefault(obj.id, history.deleted[0])  # type: ignore[arg-type]
                elif isinstance(obj, _COUNTED_ON_DEVICE):
                    if kind == "new":
                        ch().devices_changed.add(obj.device_id)
                elif isinstance(obj, SubscriptionRow):
                    ch().subscription_devices.add(obj.device_id)

    def _on_execute(self, state: ORMExecuteState) -> None:
        """A bulk UPDATE or DELETE names no rows: read them with the statement's WHERE clause first."""
        if not (state.is_update or state.is_delete):
            return
        statement: Any = state.statement
        table = getattr(statement, "table", None)
        name = getattr(table, "name", None)
        if name not in _BULK and name not in _PROGRAM_TABLES and name not in _EVENT_TABLES:
            return
        where = statement.whereclause
        conn = state.session.connection()
        changes = self.changes(state.session)

        def rows(*columns: Any) -> list[Any]:
            query = select(*columns)
            return list(conn.execute(query.where(where) if where is not None else query).all())

        if name == "end_device":
            if state.is_delete:
                self._capture_device_deletion(conn, [r[0] for r in rows(EndDeviceRow.id)], changes)
            else:
                for device_id, aggregator_id in rows(EndDeviceRow.id, EndDeviceRow.aggregator_id):
                    changes.devices_changed.add(device_id)
                    changes.aggregators_before.setdefault(device_id, aggregator_id)
        elif name == "group_member" and state.is_delete:
            changes.members_removed.update((g, e) for g, e in rows(GroupMemberRow.group_id, GroupMemberRow.device_id))
        elif name == "device_group":
            ids = [r[0] for r in rows(DeviceGroupRow.id)]
            if state.is_delete:
                self._capture_group_deletion(conn, ids, changes)
            else:
                changes.groups_changed.update(ids)
        elif name in _PROGRAM_TABLES:
            family = _PROGRAM_TABLES[name]
            for program_id, group_id in rows(family.program.id, family.program.group_id):
                if state.is_delete:
                    changes.programs_deleted[(family.name, program_id)] = group_id
                else:
                    changes.programs_changed.add((family.name, program_id))
        elif name in _EVENT_TABLES:
            family = _EVENT_TABLES[name]
            changes.events.update((family.name, p, c) for p, c in rows(family.event.program_id, family.event.id))
        elif name == "der_default_control":
            changes.defaults.update(r[0] for r in rows(DerDefaultControlRow.program_id))
        elif name == "der_curve":
            changes.curves.update(r[0] for r in rows(DerCurveRow.program_id))
        elif name == "subscription":
            changes.subscription_devices.update(r[0] for r in rows(SubscriptionRow.device_id))

    def _capture_group_deletion(self, conn: Connection, groups: list[int], changes: Changes) -> None:
        """A group's programs and memberships go with it (cascade): note them while they are there."""
        if not groups:
            return
        members = conn.execute(
            select(GroupMemberRow.group_id, GroupMemberRow.device_id).where(GroupMemberRow.group_id.in_(groups))
        ).all()
        for g in groups:
            changes.groups_deleted[g] = [e for gg, e in members if gg == g]
        for group_id, keys in programs_of_groups(conn, groups).items():
            for key in keys:
                changes.programs_deleted[key] = group_id

    def _capture_device_deletion(self, conn: Connection, devices: list[int], changes: Changes) -> None:
        """Before EndDevices are deleted: the last notifications of the subscriptions that go with them."""
        if not devices:
            return
        changes.devices_deleted.update(devices)
        changes.subscription_devices.update(devices)
        below = [_under(SubscriptionRow.subscribed_resource, f"/edev/{e}") for e in devices]
        subs = conn.execute(select(SubscriptionRow).where(or_(SubscriptionRow.device_id.in_(devices), *below))).all()
        now = self.wall_clock()
        deleted_paths = tuple(f"/edev/{e}" for e in devices)
        others: list[int] = []
        for sub in subs:
            resource_gone = any(
                sub.subscribed_resource == p or sub.subscribed_resource.startswith(p + "/") for p in deleted_paths
            )
            status = STATUS_DELETED if resource_gone else STATUS_CANCELLED
            changes.captured.append(notification_row(sub, status, now))
            if sub.device_id not in devices:
                others.append(sub.id)
                changes.subscription_devices.add(sub.device_id)
        if others:
            conn.execute(delete(SubscriptionRow).where(SubscriptionRow.id.in_(others)))

    # -- enqueueing --------------------------------------------------------------------------------

    def _before_commit(self, session: Session) -> None:
        session.flush()  # pending objects are flushed after this hook: report them now
        changes: Changes | None = session.info.get(_CHANGES)
        if changes is None:
            return
        rows = list(changes.captured)
        conn = session.connection()
        if changes.touches_resources():
            now = self.wall_clock()
            for sub in matching_subscriptions(conn, resolve(conn, changes)).values():
                if sub.device_id not in changes.devices_deleted:
                    rows.append(notification_row(sub, STATUS_DEFAULT, now))
        if rows:
            conn.execute(insert(NotificationRow), rows)
        # a program's watermark goes with it; a new program's event boundaries are watched from its creation
        # (gridhan.server.notify.scheduler). A watermark left by a program that had the same id is replaced.
        stale = set(changes.programs_deleted) | set(changes.program_created)
        for f, p in sorted(stale):
            conn.execute(
                delete(EventWatermarkRow).where(EventWatermarkRow.function_set == f, EventWatermarkRow.program_id == p)
            )
        created = {k: t for k, t in changes.program_created.items() if k not in changes.programs_deleted}
        if created:
            conn.execute(
                insert(EventWatermarkRow),
                [{"function_set": f, "program_id": p, "notified_until": t} for (f, p), t in created.items()],
            )
        session.info[_ENQUEUED] = len(rows)

    def _after_commit(self, session: Session) -> None:
        changes: Changes | None = session.info.pop(_CHANGES, None)
        enqueued = session.info.pop(_ENQUEUED, 0)
        if changes is None:
            return
        touched = changes.subscription_devices | changes.devices_deleted
        if touched:
            self.cache.invalidate({("subscriptions", d) for d in touched})
        for hook in self.on_commit:
            hook(changes, enqueued)

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(_CHANGES, None)
        session.info.pop(_ENQUEUED, None)


#: Tables whose bulk statements the listener looks at.
_BULK = frozenset(
    {
        "end_device",
        "group_member",
        "device_group",
        "der_default_control",
        "der_curve",
        "subscription",
    }
)
