"""The notification machinery of one running server: the delivery worker and the event-boundary scheduler,
woken by the store's outbox listener after every commit that enqueued notifications or changed the events of a
program (DER, DRLC) (IEEE 2030.5-2018 clause 8.7)."""

from __future__ import annotations

import ssl

from aiohttp import web

from gridhan.server.context import AppContext
from gridhan.server.notify.delivery import DeliveryWorker
from gridhan.server.notify.scheduler import EventScheduler
from gridhan.server.notify.topics import Changes


class NotifyService:
    """Started and stopped with the server (``AppContext.notify``). With ``notify_deliver`` off the
    scheduler still enqueues, and another process on the same database delivers."""

    def __init__(self, ctx: AppContext, app: web.Application, ssl_context: ssl.SSLContext) -> None:
        self.ctx = ctx
        self.scheduler = EventScheduler(ctx)
        self.delivery = DeliveryWorker(ctx, app, ssl_context) if ctx.settings.notify_deliver else None

    def _committed(self, changes: Changes, enqueued: int) -> None:
        if enqueued and self.delivery is not None:
            self.delivery.kick()
        programs = changes.event_programs()
        if programs:
            self.scheduler.reschedule(programs)

    def kick(self) -> None:
        """Look at the clock and the outbox now (tests call this after moving a manual clock)."""
        self.scheduler.kick()
        if self.delivery is not None:
            self.delivery.kick()

    async def start(self) -> None:
        self.ctx.store.outbox.on_commit.append(self._committed)
        await self.scheduler.start()
        if self.delivery is not None:
            await self.delivery.start()

    async def stop(self) -> None:
        if self._committed in self.ctx.store.outbox.on_commit:
            self.ctx.store.outbox.on_commit.remove(self._committed)
        await self.scheduler.stop()
        if self.delivery is not None:
            await self.delivery.stop()
