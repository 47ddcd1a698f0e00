"""A 2030.5 device at work: the discovery walk, the client event scheduler and a reference device together.

One :class:`DeviceAgent` is one device. Each :meth:`DeviceAgent.step`:

1. walks the server (:mod:`gridhan.client.walk`; each resource at its pollRate, subscribed lists held
   until a notification replaces them) and syncs the device clock when Time was read afresh;
2. hands what it found to the client event scheduler (:mod:`gridhan.client.scheduler`), which resolves the
   controls, prices and messages in force for this device and the Responses due (clause 8.8);
3. advances the device model under that :class:`~gridhan.client.situation.Situation` and collects what the
   customer did (opt-outs, acknowledgements) back into the scheduler;
4. posts the Responses due, mirror readings at the server's postRate (clause 10.11), DER capability,
   settings, status and availability (clause 10.10), and subscribes to what the server lets it (8.7).

When the server cannot be reached the step still runs from the last walk: scheduled events start and end
on time, and Responses and readings wait in their queues with their original times until a later step
reaches the server again. Everything the agent does is told through ``say`` in plain words.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from gridhan.client.clock_sync import DeviceClock
from gridhan.client.der_reports import DerReporter
from gridhan.client.devices.grid import GridModel
from gridhan.client.feed import feed_walk
from gridhan.client.mirror import MirrorReporter
from gridhan.client.notifications import ListenerConfig, NotificationListener, Subscriptions
from gridhan.client.scheduler import ClientScheduler
from gridhan.client.session import DeviceCredentials, SepError, SepSession, Unreachable
from gridhan.client.situation import DeviceModel, Situation
from gridhan.client.walk import NotRegistered, RegistrationMismatch, Walker, WalkResult
from gridhan.schemas.clock import Clock, SystemClock
from gridhan.schemas.sep2 import Notification
from gridhan.schemas.sep2.response import RESPONSE_STATUSES

#: How long a subscribed list is trusted without a notification before it is read again (seconds).
SUBSCRIPTION_HOLD = 24 * 3600


@dataclass
class AgentConfig:
    dcap_url: str
    credentials: DeviceCredentials
    #: the Registration PIN the device was installed with (None: not checked)
    pin: int | None = None
    inband: bool = False
    #: run a notification listener and subscribe where the server offers it
    subscribe: bool = False
    listener: ListenerConfig = field(default_factory=ListenerConfig)
    locale: str = "en-US"
    #: seconds between steps when nothing is scheduled sooner
    tick: float = 5.0
    timeout: float = 30.0


@dataclass
class AgentStats:
    """What a fleet display shows per device."""

    connected: bool = False
    registered: bool = False
    events_in_force: int = 0
    responses_sent: int = 0
    readings_posted: int = 0
    notifications: int = 0
    errors: int = 0
    last_error: str = ""
    walks: int = 0


class DeviceAgent:
    """One device: ``model`` driven by what the server at ``config.dcap_url`` publishes for it."""

    def __init__(
        self,
        config: AgentConfig,
        model: DeviceModel,
        *,
        clock: Clock | None = None,
        say: Callable[[str], None] | None = None,
        grid: GridModel | None = None,
    ) -> None:
        self.config = config
        self.model = model
        self.clock = DeviceClock(clock or SystemClock())
        self.say = say or (lambda line: None)
        self.grid = grid
        self.session = SepSession(config.dcap_url, config.credentials, timeout=config.timeout)
        self.dcap_href = urlsplit(config.dcap_url).path or "/dcap"
        self.walker = Walker(self.session, pin=config.pin, inband=config.inband, local_clock=self.clock.clock.now)
        lfdi = config.credentials.lfdi
        self.scheduler = ClientScheduler(lfdi=lfdi, device_category=model.device_category, locale=config.locale)
        self.mirror = MirrorReporter(
            self.session, mrid=lfdi[:28] + "4D55", description=f"{model.kind} {lfdi[:8]}",
            der=hasattr(model, "capability"),
        )
        self.der = DerReporter(self.session)
        self.listener: NotificationListener | None = None
        self.subscriptions: Subscriptions | None = None
        self.stats = AgentStats()
        self.last_walk: WalkResult | None = None
        self.situation: Situation | None = None
        self._last_step: float | None = None
        self._wake = asyncio.Event()
        self._in_force: dict[str, str] = {}
        self.stopped_reason: str | None = None
        self._said_summary = ""

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        if self.config.subscribe and self.listener is None:
            creds = self.config.credentials
            self.listener = NotificationListener(
                creds.cert, creds.key, creds.trust_anchors, self._notified, config=self.config.listener
            )
            await self.listener.start()
            self.subscriptions = Subscriptions(self.session, self.listener)

    async def close(self) -> None:
        if self.subscriptions is not None:
            await self.subscriptions.cancel_all()
        if self.listener is not None:
            await self.listener.stop()
        await self.session.close()

    async def run(self, stop: asyncio.Event) -> None:
        """Step until ``stop`` is set (or the device must stop: wrong PIN), sleeping in between until the
        next scheduled change, a notification, or ``tick``."""
        await self.start()
        while not stop.is_set() and self.stopped_reason is None:
            await self.step()
            now = self.clock.now()
            wake = self.scheduler.next_wakeup(int(now))
            delay = self.config.tick if wake is None else max(0.05, min(self.config.tick, wake - now))
            self._wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()

    # -- one step ------------------------------------------------------------------------------------
    async def step(self) -> Situation:
        """Walk (if reachable), schedule, advance the device, report. Returns the Situation applied."""
        if self.stopped_reason is None:
            await self._walk()
        now = self.clock.now()
        situation = self.scheduler.situation(int(now))
        if self.grid is not None:
            readings = self.model.readings()
            # the site's net export raises the voltage at the point of connection
            export = readings.get("site_export_W", readings.get("W", 0.0))
            situation = self.grid.condition(situation, export, readings.get("var", 0.0))
        self._tell_changes(situation)
        dt = 0.0 if self._last_step is None else max(0.0, now - self._last_step)
        self._last_step = now
        for note in self.model.step(situation, dt):
            self.say(note)
        for response in self.model.customer_responses():
            self.scheduler.customer_response(response)
            self.say(f"customer: {RESPONSE_STATUSES.get(response.status, response.status)} for {response.event_mrid}")
        self.situation = situation
        self.stats.events_in_force = len(set(self._in_force.values()) - {"default"})
        if self.stats.registered and self.stopped_reason is None:
            await self._report(now)
        return situation

    async def _walk(self) -> None:
        try:
            result = await self.walker.walk(self.clock.now(), self.dcap_href)
        except Unreachable as exc:
            self._failed(f"server unreachable: {exc}", connected=False)
            return
        except RegistrationMismatch as exc:
            self.stopped_reason = str(exc)
            self._failed(f"stopping: {exc}")
            return
        except NotRegistered as exc:
            self.stats.connected, self.stats.registered = True, False
            self._failed(f"not registered: {exc}")
            return
        except SepError as exc:
            self._failed(f"server refused: {exc}")
            return
        if not self.stats.connected or not self.stats.registered:
            self.say(f"connected to {self.config.dcap_url} as {result.end_device.href}")
        self.stats.connected = self.stats.registered = True
        self.stats.walks += 1
        if result.time is not None and result.time_exchange is not None:
            step = self.clock.sync(result.time, *result.time_exchange)
            if abs(step) >= 1:
                self.say(f"clock corrected by {step:+.0f} s from the server's Time")
        summary = _summary(result)
        if summary != self._said_summary:
            self.say(f"walk: {summary}")
            self._said_summary = summary
        if result.changed:  # the scheduler already holds what an unchanged walk would hand over
            feed_walk(self.scheduler, result, int(self.clock.now()))
        self.last_walk = result
        await self._subscribe(result)

    async def _subscribe(self, result: WalkResult) -> None:
        link = result.end_device.SubscriptionListLink
        if self.subscriptions is None or link is None:
            return
        for href, page in result.lists.items():
            if getattr(page, "subscribable", 0) and href not in self.subscriptions.held:
                try:
                    if await self.subscriptions.ensure(link.href, href):
                        self.say(f"subscribed to {href}")
                except Unreachable:
                    return
            if href in self.subscriptions.held:
                self.walker.hold(href, self.clock.now() + SUBSCRIPTION_HOLD)

    def _notified(self, notification: Notification) -> None:
        self.stats.notifications += 1
        href = notification.subscribedResource
        if notification.status in (1, 2, 4):
            if self.subscriptions is not None:
                self.subscriptions.lapsed(href)
            self.walker.forget([href])
        elif notification.Resource is not None:
            self.walker.accept(href, notification.Resource, SUBSCRIPTION_HOLD)
        else:
            self.walker.forget([href])
        self.say(f"notified: {href} changed")
        self._wake.set()

    async def _report(self, now: float) -> None:
        walk = self.last_walk
        try:
            for pending in self.scheduler.due_responses(int(now)):
                await self.session.post(pending.reply_to, pending.response)
                self.scheduler.mark_posted(pending)
                self.stats.responses_sent += 1
                status = pending.response.status
                self.say(f"response {status} ({RESPONSE_STATUSES.get(status, '?')}) for {pending.response.subject}")
            if walk is None:
                return
            mirrors = walk.dcap.MirrorUsagePointListLink
            if mirrors is not None:
                if self.mirror.due(now):
                    self.mirror.record(int(now), self.model.readings())
                self.stats.readings_posted += await self.mirror.flush(mirrors.href)
            self._offer_der(now)
            await self.der.flush(walk.end_device)
        except Unreachable as exc:
            self._failed(f"server unreachable: {exc}", connected=False)
        except SepError as exc:
            self._failed(f"server refused: {exc}")

    def _offer_der(self, now: float) -> None:
        model: Any = self.model
        if not hasattr(model, "capability"):
            return
        self.der.offer("capability", model.capability(), now)
        self.der.offer("settings", model.settings(), now, ignore=("updatedTime",))
        self.der.offer("status", model.status(int(now)), now, ignore=("readingTime",))
        self.der.offer("availability", model.availability(int(now)), now, ignore=("readingTime",))

    def _tell_changes(self, situation: Situation) -> None:
        in_force: dict[str, str] = {}
        if situation.der is not None:
            in_force.update({f"der:{m}": s for m, s in situation.der.sources.items()})
        if situation.load_control is not None:
            in_force["drlc"] = situation.load_control.mRID
        if situation.price is not None:
            in_force["price"] = situation.price.interval_mrid
        for key in sorted(set(in_force) | set(self._in_force)):
            before, after = self._in_force.get(key), in_force.get(key)
            if before != after:
                self.say(f"{key}: {before or 'nothing'} -> {after or 'nothing'} in force")
        self._in_force = in_force

    def _failed(self, message: str, *, connected: bool = True) -> None:
        if message != self.stats.last_error:
            self.say(message)
        self.stats.errors += 1
        self.stats.last_error = message
        self.stats.connected = connected


def _summary(result: WalkResult) -> str:
    parts = [
        f"{len(result.der)} DER program(s)" if result.der else "",
        f"{len(result.dr)} DR program(s)" if result.dr else "",
        f"{len(result.tariffs)} tariff(s)" if result.tariffs else "",
        f"{len(result.messaging)} messaging program(s)" if result.messaging else "",
        f"{len(result.files)} file(s)" if result.files else "",
    ]
    return ", ".join(p for p in parts if p) or "no programs"
