"""An in-process read cache of the hottest queries (a device's EndDevice row and the counts its list links
and DeviceCapability's mirror links carry), kept exact by the store's own session events rather than by
callers remembering to invalidate.

Every flush reports the rows it inserted, updated or deleted; when the transaction commits, the entries
those rows feed are dropped. A bulk UPDATE or DELETE, whose rows the ORM cannot name (and database
cascades, which the ORM does not see), drops everything. A read that raced with a commit is not stored:
each fill carries the generation it started in, and any invalidation moves the generation on.

Beside these, ``derived`` holds values a function set computes from whole tables (the ``all`` of the list
links DeviceCapability and EndDevice carry: files, messaging programs, accounts, ...). Each entry names the
tables it reads; a write to one of them drops it, and any deletion (which may cascade in the database to
tables the ORM never sees) drops them all.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from gridhan.server.store.tables import EndDeviceRow, GroupMemberRow, LogEventRow, MirrorUsagePointRow

_TOUCHED = "gridhan_touched"
_ALL = "all"
#: ("table", name) entries of the touched set; ("table", _ANY_TABLE) after a deletion
_TABLE = "table"
_ANY_TABLE = "*"
#: what ``get_derived`` answers for a value it does not hold
MISSING = object()


class ReadCache:
    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self.generation = 0
        self.devices: OrderedDict[int, EndDeviceRow] = OrderedDict()
        self.counts: OrderedDict[int, tuple[int, int]] = OrderedDict()
        #: MirrorUsagePoints per device (the ``all`` of DeviceCapability's mirror and UsagePoint links)
        self.mirrors: OrderedDict[int, int] = OrderedDict()
        #: Subscriptions per device (the ``all`` of SubscriptionListLink); the outbox listener, which sees
        #: every way a subscription goes (including those its own statements remove), invalidates them
        self.subscriptions: OrderedDict[int, int] = OrderedDict()
        #: values derived from whole tables, by key, and the keys that read each table
        self.derived: OrderedDict[Hashable, Any] = OrderedDict()
        self._readers: dict[str, set[Hashable]] = {}

    # -- reads -----------------------------------------------------------------------------------

    def get(self, table: OrderedDict[int, Any], key: int) -> Any:
        value = table.get(key)
        if value is not None:
            table.move_to_end(key)
        return value

    def put(self, table: OrderedDict[int, Any], key: int, value: Any, generation: int) -> None:
        """Store a value read during ``generation`` (ignored if anything was invalidated since)."""
        if generation != self.generation or value is None:
            return
        table[key] = value
        if len(table) > self.capacity:
            table.popitem(last=False)

    def get_derived(self, key: Hashable) -> Any:
        value = self.derived.get(key, MISSING)
        if value is not MISSING:
            self.derived.move_to_end(key)
        return value

    def put_derived(self, key: Hashable, tables: Iterable[str], value: Any, generation: int) -> None:
        """Store a value computed from ``tables`` during ``generation`` (ignored if anything was invalidated
        since)."""
        if generation != self.generation:
            return
        self.derived[key] = value
        for table in tables:
            self._readers.setdefault(table, set()).add(key)
        if len(self.derived) > self.capacity:
            self.derived.popitem(last=False)

    def _drop_derived(self, table: str) -> None:
        if table == _ANY_TABLE:
            self.derived.clear()
            self._readers.clear()
            return
        for key in self._readers.pop(table, ()):
            self.derived.pop(key, None)

    # -- invalidation ----------------------------------------------------------------------------

    def invalidate(self, touched: set[tuple[str, int]] | set[str]) -> None:
        self.generation += 1
        tables = {
            "device": self.devices,
            "counts": self.counts,
            "mirrors": self.mirrors,
            "subscriptions": self.subscriptions,
        }
        if _ALL in touched:
            for table in tables.values():
                table.clear()
            self._drop_derived(_ANY_TABLE)
            return
        for kind, key in touched:  # type: ignore[misc]
            if kind == _TABLE:
                self._drop_derived(key)
            else:
                tables[kind].pop(key, None)

    def attach(self, session_class: type[Session]) -> None:
        """Listen to the flushes, bulk statements and commits of sessions of ``session_class``."""
        event.listen(session_class, "after_flush", self._after_flush)
        event.listen(session_class, "do_orm_execute", self._on_execute)
        event.listen(session_class, "after_commit", self._after_commit)
        event.listen(session_class, "after_rollback", self._after_rollback)

    @staticmethod
    def _touched(session: Session) -> set[Any]:
        return session.info.setdefault(_TOUCHED, set())

    def _after_flush(self, session: Session, _flush: UOWTransaction) -> None:
        touched = self._touched(session)
        if session.deleted:
            touched.add((_TABLE, _ANY_TABLE))
        for obj in (*session.new, *session.dirty, *session.deleted):
            touched.add((_TABLE, type(obj).__tablename__))
            if isinstance(obj, EndDeviceRow):
                # deleting a device cascades in the database (memberships, managed devices released)
                touched.add(_ALL if obj in session.deleted else ("device", obj.id))
            elif isinstance(obj, LogEventRow | GroupMemberRow):
                touched.add(("counts", obj.device_id))
            elif isinstance(obj, MirrorUsagePointRow):
                touched.add(("mirrors", obj.device_id))

    def _on_execute(self, state: ORMExecuteState) -> None:
        if state.is_update or state.is_delete or state.is_insert:
            self._touched(state.session).add(_ALL)

    def _after_commit(self, session: Session) -> None:
        touched = session.info.pop(_TOUCHED, None)
        if touched:
            self.invalidate(touched)

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(_TOUCHED, None)
