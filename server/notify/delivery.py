"""Delivery of notifications (IEEE 2030.5-2018 clause 8.7.3.2): POST to each subscription's notificationURI.

A :class:`DeliveryWorker` claims due rows of the outbox (a claim with an expiry: a crashed worker's rows are
claimed again once it lapses, so a crash delays notifications and loses none), renders them, POSTs them and
records the outcome. Rendering happens now, not when the change was committed: the Notification carries what a
GET of the subscribed resource by the subscribing EndDevice gives at delivery time (8.7.3.2), limited by the
subscription's ``limit`` (sep.xsd Subscription.limit: a list holds at most ``limit`` entries, results=0 for
0; a non-list resource is left out for 0). Several pending rows of one subscription in one batch are
delivered as one Notification, since each would carry that same current representation, and a
representation that reads exactly as the last one sent to that subscription is not sent again (the row is
cancelled): a change that did not alter what the subscriber sees costs a rendering, not a POST. Delivery is
at least once: a worker stopped between a POST and its record sends it again.

* Subscribers that see the same groups share one rendering of a DER program resource; per-device resources
  (an EndDevice, its FunctionSetAssignments) are rendered per subscriber.
* A resource the subscriber can no longer GET (deleted, or out of its scope) is reported with status 4
  ("subscription canceled, resource deleted") and the subscription is removed.
* POSTs use HTTPS with the server's own certificate and trust anchors (TLS 1.2, ECDHE-ECDSA-AES128-CCM8,
  :func:`gridhan.certs.tls.client_context`); the listener must present a certificate chaining to a trust
  anchor. Host names play no part (2030.5 certificates carry none), so the listener's certificate is not
  matched to the subscriber: an aggregator may host its devices' notification listeners.

Outcomes (the standard's retrievable text says nothing about delivery failures; these are gridhan's rules):
2xx delivered. 404 or 410: the notificationURI names nothing, the notification fails at once and the
subscription is removed. Another 4xx (except 408 and 429): the subscriber refused this notification; it
fails at once, the subscription stays. 408, 429, 5xx, a network or TLS error, a timeout: retried after
``notify_backoff`` seconds, doubling each time up to ``notify_backoff_max``, until ``notify_max_attempts``
attempts were made; then failed.

Retention: settled notifications (delivered, failed, cancelled) are deleted ``notify_retention`` seconds
after their last attempt was due (``next_attempt_at``, wall clock like every time of the outbox), by the
worker's own loop: one bounded DELETE at most every ``min(notify_poll_interval, notify_retention)`` seconds,
repeated at once while batches come back full. A process that only queues (``notify_deliver`` false) leaves
pruning to the one that delivers.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import secrets
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import aiohttp
from aiohttp import web

from gridhan.schemas.sep2 import CONTENT_TYPE, Notification
from gridhan.schemas.xmlcodec import XmlResource, decode, encode
from gridhan.server.context import AppContext
from gridhan.server.identity import Principal
from gridhan.server.notify.outbox import STATUS_DEFAULT, STATUS_DELETED
from gridhan.server.notify.topics import Subscribable, render_limit, subscribable_at
from gridhan.server.notify.uris import refusal
from gridhan.server.sep2.pubsub import digest, owner_principal, render_get
from gridhan.server.store import pubsub as store

log = logging.getLogger("gridhan.notify")

#: Answers after which the notification is not retried.
GONE = frozenset({404, 410})
RETRYABLE_4XX = frozenset({408, 429})
#: Settled notifications deleted by one statement (retention).
PRUNE_BATCH = 1000


@dataclass(eq=False)
class Unit:
    """One POST: the rows it settles, where it goes and what it says."""

    rows: list[Any]  # notification rows (columns as attributes)
    uri: str
    status: int
    subscription: Any = None  # its subscription row, for status 0
    entry: Subscribable | None = None
    body: bytes = b""
    resource: XmlResource | None = None
    error: str | None = None  # why it failed (before or during the POST)
    retry: bool = False  # whether that failure is worth another attempt
    http: int | None = None  # the subscriber's answer
    delete_subscription: bool = False
    digest: str | None = None  # of the representation sent (status 0)
    unchanged: bool = False  # the representation is the one last sent: nothing to send

    @property
    def ids(self) -> list[int]:
        return [r.id for r in self.rows]  # type: ignore[misc]


@dataclass
class _Batch:
    outcomes: list[store.Outcome] = field(default_factory=list)
    gone_subscriptions: set[int] = field(default_factory=set)
    digests: dict[int, str] = field(default_factory=dict)  # subscription -> representation delivered


class DeliveryWorker:
    """Claims, renders and POSTs notifications until stopped; :meth:`kick` wakes it at once."""

    def __init__(
        self,
        ctx: AppContext,
        app: web.Application,
        ssl_context: ssl.SSLContext,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.ctx = ctx
        self.app = app
        self.settings = ctx.settings
        self.ssl_context = ssl_context
        self.wall_clock = wall_clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._prefix = secrets.token_hex(8)
        #: stands for the subscriptionURI in shared encodings (a URI no subscription can have)
        self._placeholder = f"urn:uuid:{uuid.uuid4()}"
        self._claims = itertools.count(1)
        self.prune_batch = PRUNE_BATCH
        self._next_prune = 0.0  # wall clock

    @property
    def batch_size(self) -> int:
        return max(1, self.settings.notify_batch)

    @property
    def claim_ttl(self) -> float:
        """How long a claim lasts: the setting, or longer when a batch whose POSTs all time out could take
        longer (a claim must not lapse while its worker is still at it)."""
        settings = self.settings
        waves = math.ceil(self.batch_size / max(1, settings.notify_concurrency)) + 1
        return max(settings.notify_claim_ttl, waves * settings.notify_timeout)

    def kick(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        limit = max(1, self.settings.notify_concurrency)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=self.ssl_context, limit=limit, limit_per_host=limit),
            skip_auto_headers=("User-Agent",),
        )
        self._task = asyncio.create_task(self._run(), name="gridhan-notify-delivery")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
            try:
                await store.release(self.ctx.store, self._prefix)
            except Exception:  # the claims lapse on their own
                log.exception("could not release the notification claims of this worker")
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        poll = max(0.01, self.settings.notify_poll_interval)
        while True:
            self._wake.clear()
            try:
                claimed = await self.run_once()
            except Exception:
                log.exception("notification delivery failed; retrying")
                claimed = 0
                await asyncio.sleep(min(poll, 1.0))
            if await self.prune_if_due() or claimed >= self.batch_size:
                continue
            try:
                due = await store.next_due(self.ctx.store)
            except Exception:
                log.exception("cannot read the notification outbox")
                due = None
            delay = poll if due is None else min(poll, max(0.0, due - self.wall_clock()))
            if delay > 0:
                try:
                    await asyncio.wait_for(self._wake.wait(), delay)
                except TimeoutError:
                    pass

    async def prune_if_due(self) -> bool:
        """Delete one batch of notifications older than ``notify_retention``, when it is time to look;
        whether the batch was full (more may be waiting)."""
        now = self.wall_clock()
        if now < self._next_prune:
            return False
        retention = max(0.0, self.settings.notify_retention)
        try:
            deleted = await store.prune_notifications(self.ctx.store, now - retention, self.prune_batch)
        except Exception:
            log.exception("could not prune the notification outbox")
            deleted = 0
        full = deleted >= self.prune_batch
        if deleted:
            log.debug("pruned %d settled notification(s)", deleted)
        self._next_prune = now if full else now + max(0.01, min(self.settings.notify_poll_interval, retention))
        return full

    async def run_once(self) -> int:
        """Claim one batch of due notifications, deliver it, record the outcomes; how many were claimed."""
        token = f"{self._prefix}-{next(self._claims)}"
        rows = await store.claim(self.ctx.store, token, self.wall_clock(), self.claim_ttl, self.batch_size)
        if not rows:
            return 0
        batch = _Batch()
        units = await self._prepare(rows, batch)
        # a resource gone for its subscriber: the subscription is cancelled before it is told so (status 4)
        ended = {u.subscription.id for u in units if u.delete_subscription and u.subscription is not None}
        await store.delete_subscriptions(self.ctx.store, ended)  # type: ignore[arg-type]
        send: list[Unit] = []
        for unit in units:
            if unit.error is not None:
                continue
            if (
                unit.subscription is not None
                and unit.digest is not None
                and unit.digest == unit.subscription.last_digest
            ):
                unit.unchanged = True
                batch.outcomes.append(_cancelled(unit.rows, "the representation is the one last notified"))
            else:
                send.append(unit)
        await self._send_all(send)
        now = self.wall_clock()
        for unit in units:
            if not unit.unchanged:
                self._settle(unit, now, batch)
        if batch.gone_subscriptions:
            await store.delete_subscriptions(self.ctx.store, batch.gone_subscriptions)
        await store.settle(self.ctx.store, token, batch.outcomes, batch.digests)
        return len(rows)

    # -- rendering ---------------------------------------------------------------------------------

    async def _prepare(self, rows: list[Any], batch: _Batch) -> list[Unit]:
        """Turn claimed rows into POSTs: final notifications (status 1, 4) as they are, the others grouped
        by subscription and rendered as the subscribing EndDevice's GET."""
        units: list[Unit] = []
        by_subscription: dict[int, list[Any]] = {}
        for row in rows:
            if row.status != STATUS_DEFAULT:
                units.append(Unit([row], row.notification_uri, row.status))
            elif row.subscription_id is None:
                batch.outcomes.append(_cancelled([row], "the subscription was deleted"))
            else:
                by_subscription.setdefault(row.subscription_id, []).append(row)
        subs = await store.subscriptions_by_id(self.ctx.store, by_subscription)
        owners = await store.devices_by_id(self.ctx.store, (s.device_id for s in subs.values()))
        live: list[Unit] = []
        for sub_id, group in by_subscription.items():
            sub = subs.get(sub_id)
            owner = owners.get(sub.device_id) if sub is not None else None
            if sub is None or owner is None:
                batch.outcomes.append(_cancelled(group, "the subscription was deleted"))
            elif owner.revoked:
                batch.outcomes.append(_cancelled(group, "the subscribing EndDevice is revoked"))
            else:
                entry = subscribable_at(sub.subscribed_resource)
                unit = Unit(group, sub.notification_uri, STATUS_DEFAULT, sub, entry)
                if entry is None:
                    unit.error = f"{sub.subscribed_resource} is no longer subscribable"
                live.append(unit)
        await self._render(live, owners)
        units.extend(live)
        templates: dict[tuple[int, str, int], bytes] = {}
        for unit in units:
            if unit.error is None:
                unit.body = self._notification(unit, templates)
        return units

    async def _render(self, units: list[Unit], owners: dict[int, Any]) -> None:
        principals = {d: owner_principal(row) for d, row in owners.items()}
        shared = [u for u in units if u.error is None and u.entry is not None and not u.entry.per_device]
        scopes = await self._visible_groups({u.subscription.device_id for u in shared}, principals)  # type: ignore[union-attr]
        renders: dict[tuple[Any, ...], tuple[XmlResource, str] | str | None] = {}
        for unit in units:
            if unit.error is not None:
                continue
            sub, entry = unit.subscription, unit.entry
            assert sub is not None and entry is not None
            who = principals[sub.device_id]
            limit = render_limit(entry, sub.item_limit, self.settings.max_page_size)
            scope: Any = (who.kind, scopes[sub.device_id]) if not entry.per_device else sub.device_id
            key = (sub.subscribed_resource, limit, scope)
            if key not in renders:
                renders[key] = await self._render_one(who, sub.subscribed_resource, limit, entry)
            found = renders[key]
            if isinstance(found, str):
                unit.error, unit.retry = found, True
            elif found is None:
                unit.status = STATUS_DELETED
                unit.delete_subscription = True
            else:
                resource, unit.digest = found
                if entry.is_list or sub.item_limit > 0:
                    unit.resource = resource

    async def _render_one(
        self, who: Principal, path: str, limit: int, entry: Subscribable
    ) -> tuple[XmlResource, str] | str | None:
        """The resource and its digest; None when it does not exist for ``who``; why it failed (a str)."""
        try:
            response = await render_get(self.app, who, path, limit)
            if response is None:
                return None
            body: bytes = response.body  # type: ignore[assignment]
            return decode(body, entry.cls), digest(body)
        except Exception as exc:
            log.exception("rendering %s for EndDevice %s failed", path, who.device_id)
            return f"rendering failed: {exc}"

    async def _visible_groups(self, devices: set[int], principals: dict[int, Principal]) -> dict[int, frozenset[int]]:
        """The groups each subscribing EndDevice sees through the devices it may see (8.6: what a device
        sees of the DER function set depends on its groups only)."""
        aggregators = [d for d in devices if principals[d].kind == "aggregator"]
        managed = await store.managed_by(self.ctx.store, aggregators)
        visible = {d: managed.get(d, [d]) for d in devices}
        every = sorted({x for ids in visible.values() for x in ids})
        groups = await self.ctx.store.group_ids_by_device(every) if every else {}
        return {d: frozenset(g for x in ids for g in groups.get(x, ())) for d, ids in visible.items()}

    def _notification(self, unit: Unit, templates: dict[tuple[int, str, int], bytes]) -> bytes:
        """The Notification of ``unit``. Subscribers sharing a rendering share one encoding too: it is made
        once with a placeholder subscriptionURI, which is then replaced by each subscription's own."""
        row = max(unit.rows, key=lambda r: r.id or 0)
        key = (id(unit.resource), row.subscribed_resource, unit.status)
        template = templates.get(key)
        if template is None:
            doc = Notification(
                subscribedResource=row.subscribed_resource,
                Resource=unit.resource,
                status=unit.status,
                subscriptionURI=self._placeholder,
            )
            template = templates[key] = encode(doc)
            validator = self.ctx.validator
            if validator is not None:
                errors = validator.errors(template)
                if errors:
                    log.error(
                        "Notification for %s violates %s: %s", row.subscribed_resource, validator.path.name, errors
                    )
        return template.replace(self._placeholder.encode(), xml_escape(row.subscription_uri).encode())

    # -- sending -----------------------------------------------------------------------------------

    async def _send_all(self, units: list[Unit]) -> None:
        semaphore = asyncio.Semaphore(max(1, self.settings.notify_concurrency))
        settings = self.settings
        allowed = settings.notify_allowed_hosts

        async def send(unit: Unit) -> None:
            reason = refusal(unit.uri, allowed, settings.notify_allow_http)
            if reason is not None:
                unit.error = f"not sent: {reason}"
                return
            async with semaphore:
                await self._post(unit)

        await asyncio.gather(*(send(u) for u in units))

    async def _post(self, unit: Unit) -> None:
        """POST one notification; sets ``unit.http``, and ``unit.error`` and ``unit.retry`` on failure."""
        assert self._session is not None
        timeout = aiohttp.ClientTimeout(total=self.settings.notify_timeout)
        try:
            async with self._session.post(
                unit.uri, data=unit.body, headers={"Content-Type": CONTENT_TYPE}, timeout=timeout
            ) as resp:
                await resp.read()
                unit.http = resp.status
        except (aiohttp.ClientError, OSError, TimeoutError, ssl.SSLError) as exc:
            unit.error, unit.retry = f"{type(exc).__name__}: {exc}"[:255], True
            return
        if not 200 <= unit.http < 300:
            unit.error = f"HTTP {unit.http}"
            unit.retry = unit.http >= 500 or unit.http in RETRYABLE_4XX

    def _settle(self, unit: Unit, now: float, batch: _Batch) -> None:
        ids = tuple(unit.ids)
        status = unit.status if unit.status != STATUS_DEFAULT else None
        if unit.http in GONE and unit.subscription is not None and not unit.delete_subscription:
            batch.gone_subscriptions.add(unit.subscription.id)  # type: ignore[arg-type]
        attempts = max(r.attempts for r in unit.rows) + 1
        if unit.error is None:
            if unit.digest is not None and unit.subscription is not None:
                batch.digests[unit.subscription.id] = unit.digest  # type: ignore[index]
            batch.outcomes.append(
                store.Outcome(ids, store.DELIVERED, attempts, delivered_at=now, http_status=unit.http, status=status)
            )
            return
        if unit.retry and attempts < self.settings.notify_max_attempts:
            delay = min(self.settings.notify_backoff * 2 ** (attempts - 1), self.settings.notify_backoff_max)
            batch.outcomes.append(
                store.Outcome(
                    ids,
                    store.PENDING,
                    attempts,
                    next_attempt_at=now + delay,
                    http_status=unit.http,
                    error=unit.error,
                    status=status,
                )
            )
            return
        log.warning("notification to %s failed after %d attempt(s): %s", unit.uri, attempts, unit.error)
        batch.outcomes.append(
            store.Outcome(ids, store.FAILED, attempts, http_status=unit.http, error=unit.error, status=status)
        )


def _cancelled(rows: list[Any], why: str) -> store.Outcome:
    return store.Outcome(tuple(r.id for r in rows), store.CANCELLED, error=why)  # type: ignore[misc]
