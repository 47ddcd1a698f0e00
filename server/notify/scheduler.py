"""The event-boundary scheduler: notifications for changes nobody writes to the database.

An event's EventStatus (a DERControl's, an EndDeviceControl's) is computed from the server's clock (clause
10.2.3, sep.xsd EventStatus; :mod:`gridhan.schemas.event_rules`): it turns Active at the event's start, a
superseded event turns Superseded when the newer one starts, and the active list (ActiveDERControlList,
ActiveEndDeviceControlList) gains and loses events at their starts and ends. Those resources change although
no row does, so their subscribers must be told at that moment.

The scheduler works on every event-bearing function set declared in :mod:`gridhan.server.notify.families`
whose 2030.5 module gave the event rules' view of its rows (``FunctionSets.event_specs``), with the same code
for all. For each program it keeps ``notified_until`` (table ``event_watermark``, keyed by function set and
program, written with the notifications it causes, in one transaction) and asks
:func:`~gridhan.schemas.event_rules.next_transition` for the first instant after it at which something
observable changes. When the server's clock reaches that instant, the scheduler compares the program's events
then and at ``notified_until`` and hands the resources that changed (an event, the event list, the active
list, the program when it is subscribable and its group's program list, which embeds it) to the outbox, which
notifies their subscribers. A program's boundaries are computed again after every committed change of its
events (the outbox listener reports them) and at start-up; boundaries that passed while the server was down
are notified at start-up, so a crash delays them and loses none.

It reads the server's clock (``AppContext.clock``): with a manual clock in tests, :meth:`EventScheduler.kick`
after moving the clock makes it look at once; otherwise it sleeps until the next boundary, at most
``notify_poll_interval`` seconds (so a clock that jumps is noticed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from gridhan.schemas.event_rules import EventSpec, Status, active_controls, event_statuses, next_transition
from gridhan.server.context import AppContext
from gridhan.server.notify.families import EVENT_FAMILIES, EventFamily, ProgramKey
from gridhan.server.notify.outbox import OutboxListener
from gridhan.server.store import pubsub as pubsub_store
from gridhan.server.store.tables import EventWatermarkRow

log = logging.getLogger("gridhan.notify")

#: The event rules' view of one stored event of a program (``event_spec(row, program)`` of its 2030.5 module).
SpecOf = Callable[[Any, Any], EventSpec]


@dataclass
class _Program:
    family: EventFamily
    spec: SpecOf
    row: Any
    events: list[Any]
    notified_until: int
    next_at: int | None = None

    @property
    def key(self) -> ProgramKey:
        return (self.family.name, self.row.id)

    def compute_next(self) -> None:
        specs = [self.spec(c, self.row) for c in self.events]
        self.next_at = next_transition(specs, self.notified_until) if specs else None


def _default_watermark(program: Any, events: list[Any]) -> int:
    """For a program without a watermark row: its last change (what was notified then)."""
    times = [program.created_time]
    for c in events:
        times.append(c.creation_time)
        if c.cancelled_time is not None:
            times.append(c.cancelled_time)
    return max(times)


def _statuses(spec: SpecOf, program: Any, events: list[Any], now: int) -> dict[str, Status]:
    """EventStatus of every event of one program at ``now`` (events created later are left out)."""
    specs = [spec(c, program) for c in events if c.creation_time <= now]
    return event_statuses(specs, now)


def changed_topics(
    family: EventFamily, spec: SpecOf, program: Any, events: list[Any], since: int, now: int
) -> set[str]:
    """The subscribable resources of ``program`` whose representation differs between ``since`` and ``now``
    because time passed (events created in between are compared from their creation)."""
    p = program.id
    topics: set[str] = set()
    after = _statuses(spec, program, events, now)
    # one status computation per distinct "before" instant: every event created by ``since`` shares one
    by_time: dict[int, dict[str, Status]] = {}
    for c in events:
        if c.creation_time > now:
            continue
        at = max(since, c.creation_time)
        if at not in by_time:
            by_time[at] = _statuses(spec, program, events, at)
        before = by_time[at].get(c.mrid)
        if before != after.get(c.mrid):
            topics.update((family.event_path.format(p=p, c=c.id), family.event_list.format(p=p)))

    def active(t: int) -> list[str]:
        specs = [spec(c, program) for c in events if c.creation_time <= t]
        return [s.mrid for s in active_controls(specs, t)]

    if active(since) != active(now):
        topics.add(family.active_list.format(p=p))
        topics.update(family.program_topics(p, program.group_id))
    return topics


class EventScheduler:
    """Notifies the subscribers of event resources whose state changes with time (see the module text)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._programs: dict[ProgramKey, _Program] = {}
        self._stale: set[ProgramKey] = set()
        self._load_all = True
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        """Look at the clock now (tests call this after moving a manual clock)."""
        self._wake.set()

    def reschedule(self, programs: Iterable[ProgramKey]) -> None:
        """These programs' events changed: compute their next boundary again."""
        self._stale.update(programs)
        self._wake.set()

    def _specs(self) -> Mapping[str, SpecOf]:
        """The function sets served whose events have boundaries (those the 2030.5 application set up)."""
        function_sets = self.ctx.function_sets
        return function_sets.event_specs if function_sets is not None else {}

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gridhan-event-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        poll = max(0.01, self.ctx.settings.notify_poll_interval)
        while True:
            self._wake.clear()
            try:
                await self.run_once()
            except Exception:
                log.exception("event-boundary scheduling failed; retrying")
                self._load_all = True
                await asyncio.sleep(min(poll, 1.0))
            upcoming = [p.next_at for p in self._programs.values() if p.next_at is not None]
            delay = poll if not upcoming else min(poll, max(0.0, min(upcoming) - self.ctx.clock.now()))
            if delay > 0:
                try:
                    await asyncio.wait_for(self._wake.wait(), delay)
                except TimeoutError:
                    pass

    async def run_once(self) -> None:
        """Reload what changed, then notify every boundary the clock has reached."""
        if self._load_all:
            self._load_all = False
            self._stale.clear()
            await self._load(None)
        elif self._stale:
            stale, self._stale = self._stale, set()
            await self._load(stale)
        now = self.ctx.now()
        for program in list(self._programs.values()):
            if program.next_at is not None and program.next_at <= now:
                await self._fire(program, now)

    async def _load(self, keys: set[ProgramKey] | None) -> None:
        store = self.ctx.store
        specs = self._specs()
        loaded: list[_Program] = []
        marks = await pubsub_store.boundary_watermarks(store)
        async with store.session() as s:
            for family in EVENT_FAMILIES:
                spec = specs.get(family.name)
                if spec is None:
                    continue
                ids = None if keys is None else sorted(p for f, p in keys if f == family.name)
                if ids is not None and not ids:
                    continue
                query = select(family.program)
                events = select(family.event).order_by(family.event.id)
                if ids is not None:
                    query = query.where(family.program.id.in_(ids))
                    events = events.where(family.event.program_id.in_(ids))
                programs = {p.id: p for p in (await s.execute(query)).scalars().all()}
                by_program: dict[int, list[Any]] = {p: [] for p in programs}
                for c in (await s.execute(events)).scalars().all():
                    by_program.setdefault(c.program_id, []).append(c)
                for pid, row in programs.items():
                    rows = by_program[pid]
                    mark = marks.get((family.name, pid))
                    notified = mark if mark is not None else _default_watermark(row, rows)
                    loaded.append(_Program(family, spec, row, rows, notified))
        if keys is None:
            self._programs.clear()
        else:
            for key in keys:  # deleted ones stay out
                self._programs.pop(key, None)
        for program in loaded:
            program.compute_next()
            self._programs[program.key] = program

    async def _fire(self, program: _Program, now: int) -> None:
        family, pid = program.family, program.row.id
        topics = changed_topics(family, program.spec, program.row, program.events, program.notified_until, now)
        async with self.ctx.store.session() as s, s.begin():
            if await s.get(family.program, pid) is None:  # deleted meanwhile (its watermark went with it)
                self._programs.pop(program.key, None)
                return
            OutboxListener.changes(s.sync_session).topics.update(topics)
            mark = await s.get(EventWatermarkRow, (family.name, pid))
            if mark is None:
                s.add(EventWatermarkRow(function_set=family.name, program_id=pid, notified_until=now))
            else:
                mark.notified_until = now
        if topics:
            log.info("%s program %s: event boundary at %d changed %s", family.name, pid, now, ", ".join(sorted(topics)))
        program.notified_until = now
        program.compute_next()
