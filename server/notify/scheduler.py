"""The event-boundary scheduler: notifications for changes nobody writes to the database.

A DERControl's EventStatus is computed from the server's clock (clause 10.2.3, sep.xsd EventStatus;
:mod:`gridhan.schemas.event_rules`): it turns Active at the control's start, a superseded control turns
Superseded when the newer one starts, and the ActiveDERControlList gains and loses controls at their starts and
ends. Those resources change although no row does, so their subscribers must be told at that moment.

For each DERProgram the scheduler keeps ``notified_until`` (table ``event_boundary``, written with the
notifications it causes, in one transaction) and asks :func:`~gridhan.schemas.event_rules.next_transition` for
the first instant after it at which something observable changes. When the server's clock reaches that
instant, the scheduler compares the program's controls then and at ``notified_until`` and hands the resources
that changed (a control, the DERControlList, the ActiveDERControlList, the DERProgram and its group's
DERProgramList) to the outbox, which notifies their subscribers. A program's boundaries are computed again
after every committed change of its controls (the outbox listener reports them) and at start-up; boundaries
that passed while the server was down are notified at start-up, so a crash delays them and loses none.

It reads the server's clock (``AppContext.clock``): with a manual clock in tests, :meth:`EventScheduler.kick`
after moving the clock makes it look at once; otherwise it sleeps until the next boundary, at most
``notify_poll_interval`` seconds (so a clock that jumps is noticed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gridhan.schemas.event_rules import active_controls, next_transition
from gridhan.server.context import AppContext
from gridhan.server.notify.outbox import OutboxListener
from gridhan.server.sep2.der import event_spec, statuses
from gridhan.server.store import pubsub as pubsub_store
from gridhan.server.store.tables import DerControlRow, DerProgramRow, EventBoundaryRow

log = logging.getLogger("gridhan.notify")


@dataclass
class _Program:
    row: DerProgramRow
    controls: list[DerControlRow]
    notified_until: int
    next_at: int | None = None

    def compute_next(self) -> None:
        specs = [event_spec(c, self.row) for c in self.controls]
        self.next_at = next_transition(specs, self.notified_until) if specs else None


def _default_watermark(program: DerProgramRow, controls: list[DerControlRow]) -> int:
    """For a program that predates the watermark table: its last change (what was notified then)."""
    times = [program.created_time]
    for c in controls:
        times.append(c.creation_time)
        if c.cancelled_time is not None:
            times.append(c.cancelled_time)
    return max(times)


def changed_topics(program: DerProgramRow, controls: list[DerControlRow], since: int, now: int) -> set[str]:
    """The subscribable resources of ``program`` whose representation differs between ``since`` and ``now``
    because time passed (controls created in between are compared from their creation)."""
    p = program.id
    topics: set[str] = set()
    after = statuses(controls, program, now)
    for c in controls:
        if c.creation_time > now:
            continue
        before = statuses(controls, program, max(since, c.creation_time)).get(c.mrid)
        if before != after.get(c.mrid):
            topics.update((f"/derp/{p}/derc/{c.id}", f"/derp/{p}/derc"))

    def active(t: int) -> list[str]:
        specs = [event_spec(c, program) for c in controls if c.creation_time <= t]
        return [s.mrid for s in active_controls(specs, t)]

    if active(since) != active(now):
        topics.update((f"/derp/{p}/actderc", f"/derp/{p}", f"/fsa/{program.group_id}/derp"))
    return topics


class EventScheduler:
    """Notifies the subscribers of DER resources whose state changes with time (see the module text)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._programs: dict[int, _Program] = {}
        self._stale: set[int] = set()
        self._load_all = True
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        """Look at the clock now (tests call this after moving a manual clock)."""
        self._wake.set()

    def reschedule(self, program_ids: Iterable[int]) -> None:
        """These programs' controls changed: compute their next boundary again."""
        self._stale.update(program_ids)
        self._wake.set()

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

    async def _load(self, program_ids: set[int] | None) -> None:
        store = self.ctx.store
        async with store.session() as s:
            query = select(DerProgramRow)
            controls = select(DerControlRow).order_by(DerControlRow.id)
            if program_ids is not None:
                query = query.where(DerProgramRow.id.in_(sorted(program_ids)))
                controls = controls.where(DerControlRow.program_id.in_(sorted(program_ids)))
            programs = {p.id: p for p in (await s.execute(query)).scalars().all()}
            by_program: dict[int, list[DerControlRow]] = {p: [] for p in programs}  # type: ignore[misc]
            for c in (await s.execute(controls)).scalars().all():
                by_program.setdefault(c.program_id, []).append(c)
        marks = await pubsub_store.boundary_watermarks(store)
        if program_ids is None:
            self._programs.clear()
        else:
            for p in program_ids - set(programs):  # deleted
                self._programs.pop(p, None)
        for pid, row in programs.items():
            rows = by_program.get(pid, [])  # type: ignore[arg-type]
            mark = marks.get(pid)  # type: ignore[arg-type]
            state = _Program(row, rows, mark if mark is not None else _default_watermark(row, rows))
            state.compute_next()
            self._programs[pid] = state  # type: ignore[index]

    async def _fire(self, program: _Program, now: int) -> None:
        topics = changed_topics(program.row, program.controls, program.notified_until, now)
        pid = program.row.id
        try:
            async with self.ctx.store.session() as s, s.begin():
                OutboxListener.changes(s.sync_session).topics.update(topics)
                mark = await s.get(EventBoundaryRow, pid)
                if mark is None:
                    s.add(EventBoundaryRow(program_id=pid, notified_until=now))  # type: ignore[arg-type]
                else:
                    mark.notified_until = now
        except IntegrityError:  # the program was deleted meanwhile
            self._programs.pop(pid, None)  # type: ignore[arg-type]
            return
        if topics:
            log.info("DERProgram %s: event boundary at %d changed %s", pid, now, ", ".join(sorted(topics)))
        program.notified_until = now
        program.compute_next()
