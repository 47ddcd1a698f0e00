"""Queries of the Subscription/Notification function set (IEEE 2030.5-2018 clause 8.7): subscriptions, the
notification outbox (claimed by delivery workers, reported to the operator) and the event-boundary watermark.

Each function is one transaction on the given :class:`~gridhan.server.store.repo.Store`. Writes to
subscriptions go through ORM sessions, so the store's listeners (the SubscriptionListLink counts, the outbox)
see them; the delivery workers' bookkeeping on notification rows goes straight to a connection (it changes
nothing a 2030.5 client can read, and must not disturb the read cache).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select, update

from gridhan.server.notify.outbox import STATUS_CANCELLED, notification_row
from gridhan.server.store.repo import Page, Store
from gridhan.server.store.tables import EndDeviceRow, EventWatermarkRow, NotificationRow, SubscriptionRow

#: Delivery states of a notification row.
PENDING, DELIVERED, FAILED, CANCELLED = "pending", "delivered", "failed", "cancelled"
STATES = (PENDING, DELIVERED, FAILED, CANCELLED)
#: The states nothing happens to any more: kept ``notify_retention`` seconds, then pruned.
SETTLED = (DELIVERED, FAILED, CANCELLED)


class LimitReached(Exception):
    """The EndDevice holds as many subscriptions as the server allows (sep.xsd Error reasonCode 2)."""


# -- subscriptions ------------------------------------------------------------------------------------


async def create_subscription(store: Store, *, max_per_device: int, **fields: Any) -> tuple[SubscriptionRow, bool]:
    """Store a subscription; when the EndDevice already holds one for the same resource and notificationURI,
    change that one instead (Annex C, Table C.7: entries modified rather than created). Returns the row and
    whether it was created. :class:`LimitReached` when the device holds ``max_per_device`` already."""
    async with store.session() as s, s.begin():
        existing = (
            await s.execute(
                select(SubscriptionRow).where(
                    SubscriptionRow.device_id == fields["device_id"],
                    SubscriptionRow.subscribed_resource == fields["subscribed_resource"],
                    SubscriptionRow.notification_uri == fields["notification_uri"],
                )
            )
        ).scalar_one_or_none()
        if existing is not None:
            for key in ("encoding", "level", "item_limit", "origin", "last_digest"):
                setattr(existing, key, fields[key])
            return existing, False
        count = (
            await s.execute(
                select(func.count())
                .select_from(SubscriptionRow)
                .where(SubscriptionRow.device_id == fields["device_id"])
            )
        ).scalar_one()
        if count >= max_per_device:
            raise LimitReached(f"this EndDevice holds {count} subscriptions, the most this server keeps")
        row = SubscriptionRow(**fields)
        s.add(row)
    return row, True


async def subscription(store: Store, device_id: int, subscription_id: int) -> SubscriptionRow | None:
    async with store.session() as s:
        row = await s.get(SubscriptionRow, subscription_id)
    return row if row is not None and row.device_id == device_id else None


async def subscriptions_of_device(store: Store, device_id: int) -> list[SubscriptionRow]:
    async with store.session() as s:
        result = await s.execute(
            select(SubscriptionRow).where(SubscriptionRow.device_id == device_id).order_by(SubscriptionRow.id)
        )
        return list(result.scalars().all())


async def delete_subscription(store: Store, device_id: int, subscription_id: int) -> bool:
    """Delete one subscription of an EndDevice (its pending notifications are then cancelled)."""
    async with store.session() as s, s.begin():
        row = await s.get(SubscriptionRow, subscription_id)
        if row is None or row.device_id != device_id:
            return False
        await s.delete(row)
    return True


async def cancel_subscription(store: Store, subscription_id: int) -> SubscriptionRow | None:
    """The operator ends a subscription: it is deleted and, in the same transaction, a status 1
    ("subscription canceled, no additional information", sep.xsd Notification.status) notification is
    enqueued for its subscriber; its pending notifications are then cancelled. None when there is no such
    subscription."""
    async with store.session() as s, s.begin():
        row = await s.get(SubscriptionRow, subscription_id)
        if row is None:
            return None
        final = notification_row(row, STATUS_CANCELLED, store.outbox.wall_clock())
        store.outbox.changes(s.sync_session).captured.append(final)
        await s.delete(row)
    return row


async def delete_subscriptions(store: Store, subscription_ids: Iterable[int]) -> None:
    """Delete subscriptions (the delivery worker's, after a status 4 notification or a 404/410 answer)."""
    ids = sorted(set(subscription_ids))
    if ids:
        async with store.session() as s, s.begin():
            await s.execute(delete(SubscriptionRow).where(SubscriptionRow.id.in_(ids)))


async def subscription_counts(store: Store, device_ids: Sequence[int]) -> dict[int, int]:
    """Subscriptions per EndDevice, for the ``all`` of SubscriptionListLink (served from the read cache)."""
    return await store.counts_per_device(store.cache.subscriptions, SubscriptionRow.device_id, device_ids)


async def subscriptions_by_id(store: Store, ids: Iterable[int]) -> dict[int, Any]:
    """Subscription rows (read-only, columns as attributes) by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(SubscriptionRow).where(SubscriptionRow.id.in_(wanted)))).all()
    return {r.id: r for r in rows}


async def devices_by_id(store: Store, ids: Iterable[int]) -> dict[int, Any]:
    """EndDevice rows (read-only, columns as attributes) by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(EndDeviceRow).where(EndDeviceRow.id.in_(wanted)))).all()
    return {r.id: r for r in rows}


async def managed_by(store: Store, aggregator_ids: Iterable[int]) -> dict[int, list[int]]:
    """The devices each aggregator manages (its own id first), in one query."""
    wanted = sorted(set(aggregator_ids))
    found: dict[int, list[int]] = {a: [a] for a in wanted}
    if wanted:
        async with store.session() as s:
            rows = await s.execute(
                select(EndDeviceRow.aggregator_id, EndDeviceRow.id)
                .where(EndDeviceRow.aggregator_id.in_(wanted))
                .order_by(EndDeviceRow.id)
            )
            for aggregator, device in rows.all():
                found[aggregator].append(device)
    return found


async def admin_subscriptions(store: Store, device_id: int, start: int, limit: int) -> tuple[Page, dict[int, dict]]:
    """A page of a device's subscriptions with, per subscription, its notifications by delivery state."""
    async with store.session() as s:
        where = SubscriptionRow.device_id == device_id
        total = (await s.execute(select(func.count()).select_from(SubscriptionRow).where(where))).scalar_one()
        rows = (
            (
                await s.execute(
                    select(SubscriptionRow).where(where).order_by(SubscriptionRow.id).offset(start).limit(limit)
                )
            )
            .scalars()
            .all()
        )
        tallies: dict[int, dict[str, int]] = {r.id: dict.fromkeys(STATES, 0) for r in rows}  # type: ignore[misc]
        if tallies:
            counted = await s.execute(
                select(NotificationRow.subscription_id, NotificationRow.state, func.count())
                .where(NotificationRow.subscription_id.in_(list(tallies)))
                .group_by(NotificationRow.subscription_id, NotificationRow.state)
            )
            for sub_id, state, count in counted.all():
                tallies[sub_id][state] = count
    return Page(total, rows), tallies


# -- the outbox -------------------------------------------------------------------------------------


async def list_notifications(store: Store, *, state: str | None, device_id: int | None, start: int, limit: int) -> Page:
    """Notifications, newest first, optionally of one delivery state and one EndDevice."""
    conditions = []
    if state is not None:
        conditions.append(NotificationRow.state == state)
    if device_id is not None:
        conditions.append(NotificationRow.device_id == device_id)
    async with store.session() as s:
        count = select(func.count()).select_from(NotificationRow).where(*conditions)
        total = (await s.execute(count)).scalar_one()
        query = (
            select(NotificationRow).where(*conditions).order_by(NotificationRow.id.desc()).offset(start).limit(limit)
        )
        rows = (await s.execute(query)).scalars().all()
    return Page(total, rows)


def _ready(now: float) -> Any:
    return and_(
        NotificationRow.state == PENDING,
        NotificationRow.next_attempt_at <= now,
        or_(NotificationRow.claim_expires_at.is_(None), NotificationRow.claim_expires_at < now),
    )


async def claim(store: Store, token: str, now: float, ttl: float, limit: int) -> list[Any]:
    """Claim up to ``limit`` notifications that are due and not held by a live claim, for ``ttl`` seconds.

    PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` then UPDATE, in one transaction, so several server
    processes can share one outbox. SQLite (one writer at a time): a single UPDATE whose subquery picks the
    rows. Either way a claim lapses after ``ttl``: a crashed worker's rows are picked up again."""
    values = {"claimed_by": token, "claim_expires_at": now + ttl}
    async with store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            ids = (
                (
                    await conn.execute(
                        select(NotificationRow.id)
                        .where(_ready(now))
                        .order_by(NotificationRow.id)
                        .limit(limit)
                        .with_for_update(skip_locked=True)
                    )
                )
                .scalars()
                .all()
            )
            if not ids:
                return []
            await conn.execute(update(NotificationRow).where(NotificationRow.id.in_(ids)).values(**values))
        else:
            chosen = select(NotificationRow.id).where(_ready(now)).order_by(NotificationRow.id).limit(limit)
            await conn.execute(update(NotificationRow).where(NotificationRow.id.in_(chosen)).values(**values))
        rows = (
            await conn.execute(
                select(NotificationRow).where(NotificationRow.claimed_by == token).order_by(NotificationRow.id)
            )
        ).all()
    return list(rows)  # rows with the columns as attributes (building ORM objects would cost more than the rest)


@dataclass(frozen=True)
class Outcome:
    """What became of claimed notification rows (all rows of one outcome get the same values)."""

    ids: tuple[int, ...]
    state: str
    attempts: int | None = None  # None: unchanged
    next_attempt_at: float | None = None
    delivered_at: float | None = None
    http_status: int | None = None
    error: str | None = None
    status: int | None = None  # Notification.status, when it changed (a resource found deleted: 4)


async def settle(store: Store, token: str, outcomes: Sequence[Outcome], digests: dict[int, str] | None = None) -> None:
    """Record what became of claimed rows and release the claim, in one transaction; a row whose claim was
    lost (it lapsed and another worker took it) is left to that worker. ``digests``: subscription id -> the
    digest of the representation just delivered to it."""
    async with store.engine.begin() as conn:
        by_digest: dict[str, list[int]] = {}
        for sub_id, digest in (digests or {}).items():
            by_digest.setdefault(digest, []).append(sub_id)
        for digest, ids in by_digest.items():
            await conn.execute(
                update(SubscriptionRow).where(SubscriptionRow.id.in_(sorted(ids))).values(last_digest=digest)
            )
        for o in outcomes:
            if not o.ids:
                continue
            values: dict[str, Any] = {"state": o.state, "claimed_by": None, "claim_expires_at": None}
            if o.attempts is not None:
                values["attempts"] = o.attempts
            if o.next_attempt_at is not None:
                values["next_attempt_at"] = o.next_attempt_at
            if o.delivered_at is not None:
                values["delivered_at"] = o.delivered_at
            if o.status is not None:
                values["status"] = o.status
            values["last_http_status"] = o.http_status
            values["last_error"] = o.error[:255] if o.error else None
            await conn.execute(
                update(NotificationRow)
                .where(NotificationRow.id.in_(o.ids), NotificationRow.claimed_by == token)
                .values(**values)
            )


async def release(store: Store, token_prefix: str) -> None:
    """Give back the claims of a worker that stops (tokens ``{prefix}-n``): its rows are due again at once
    rather than when the claims lapse. A row it had sent but not yet recorded is sent again (delivery is at
    least once)."""
    async with store.engine.begin() as conn:
        await conn.execute(
            update(NotificationRow)
            .where(NotificationRow.claimed_by.like(token_prefix + "-%"), NotificationRow.state == PENDING)
            .values(claimed_by=None, claim_expires_at=None)
        )


async def retry_notification(store: Store, notification_id: int, now: float) -> tuple[str, Any]:
    """Put a failed notification back in the outbox, due at ``now`` with its attempts reset (its last answer
    and error are kept until the next attempt). One conditional UPDATE, so a row that changed meanwhile is
    left alone. (``"retried"``, the row), (``"conflict"``, the row) when it is not failed, (``"missing"``,
    None)."""
    async with store.engine.begin() as conn:
        done = await conn.execute(
            update(NotificationRow)
            .where(NotificationRow.id == notification_id, NotificationRow.state == FAILED)
            .values(
                state=PENDING,
                attempts=0,
                next_attempt_at=now,
                delivered_at=None,
                claimed_by=None,
                claim_expires_at=None,
            )
        )
        row = (await conn.execute(select(NotificationRow).where(NotificationRow.id == notification_id))).first()
    if row is None:
        return "missing", None
    return ("retried" if done.rowcount else "conflict"), row


async def prune_notifications(store: Store, before: float, limit: int) -> int:
    """Delete up to ``limit`` settled notifications (delivered, failed, cancelled) whose last attempt was due
    before ``before`` (wall-clock seconds, as ``next_attempt_at``); how many were deleted. The rows are
    found through the (state, next_attempt_at) index, so this costs next to nothing when none is old
    enough."""
    old = and_(NotificationRow.state.in_(SETTLED), NotificationRow.next_attempt_at < before)
    chosen = select(NotificationRow.id).where(old).limit(limit)
    async with store.engine.begin() as conn:
        # the conditions are repeated on the DELETE itself: a row retried meanwhile is not deleted
        result = await conn.execute(delete(NotificationRow).where(NotificationRow.id.in_(chosen), old))
    return int(result.rowcount or 0)


async def next_due(store: Store) -> float | None:
    """When the earliest pending notification can next be claimed: its retry time, or the expiry of the
    claim holding it if that is later."""
    due_at = case(
        (
            and_(
                NotificationRow.claim_expires_at.is_not(None),
                NotificationRow.claim_expires_at > NotificationRow.next_attempt_at,
            ),
            NotificationRow.claim_expires_at,
        ),
        else_=NotificationRow.next_attempt_at,
    )
    async with store.engine.connect() as conn:
        return (
            await conn.execute(select(func.min(due_at)).where(NotificationRow.state == PENDING))
        ).scalar_one_or_none()


# -- event boundaries -------------------------------------------------------------------------------


async def boundary_watermarks(store: Store) -> dict[tuple[str, int], int]:
    """Every program's watermark, by (function set, program id)."""
    async with store.session() as s:
        w = EventWatermarkRow
        rows = (await s.execute(select(w.function_set, w.program_id, w.notified_until))).all()
    return {(f, p): t for f, p, t in rows}
