"""Subscriptions and the notification outbox as the utility sees them (IEEE 2030.5-2018 clause 8.7).

* ``GET /api/v1/devices/{id}/subscriptions``: the Subscriptions an EndDevice holds, each with its
  notifications counted by delivery state.
* ``GET /api/v1/notifications?status=&device=``: notifications newest first, with their delivery state
  (``pending``, ``delivered``, ``failed``, ``cancelled``), attempts, the subscriber's last answer and error.
* ``DELETE /api/v1/subscriptions/{id}``: the operator ends a subscription; its subscriber gets a Notification
  with status 1 ("subscription canceled, no additional information", sep.xsd Notification.status), enqueued in
  the transaction that deletes it.
* ``POST /api/v1/notifications/{id}/retry``: a failed notification goes back to pending, due now, attempts
  reset (409 when it is not failed).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gridhan.server.admin.devices import device_or_404
from gridhan.server.admin.serialize import API
from gridhan.server.admin.validation import bad_request, not_found, page_params, path_id, query_int
from gridhan.server.context import CONTEXT
from gridhan.server.notify.topics import subscription_href
from gridhan.server.store import pubsub as pubsub_store
from gridhan.server.store.tables import NotificationRow, SubscriptionRow


def subscription_json(row: SubscriptionRow, tally: dict[str, int]) -> dict[str, Any]:
    return {
        "id": row.id,
        "href": subscription_href(row.device_id, row.id),  # type: ignore[arg-type]
        "device_id": row.device_id,
        "subscribed_resource": row.subscribed_resource,
        "notification_uri": row.notification_uri,
        "encoding": row.encoding,
        "level": row.level,
        "limit": row.item_limit,
        "created_time": row.created_time,
        "notifications": tally,
    }


def notification_json(row: NotificationRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "subscription_id": row.subscription_id,
        "device_id": row.device_id,
        "subscribed_resource": row.subscribed_resource,
        "subscription_uri": row.subscription_uri,
        "notification_uri": row.notification_uri,
        "notification_status": row.status,
        "status": row.state,
        "attempts": row.attempts,
        "enqueued_at": row.enqueued_at,
        "next_attempt_at": row.next_attempt_at if row.state == pubsub_store.PENDING else None,
        "delivered_at": row.delivered_at,
        "last_http_status": row.last_http_status,
        "last_error": row.last_error,
    }


async def list_device_subscriptions(request: web.Request) -> web.Response:
    """The Subscriptions an EndDevice holds (its SubscriptionList, ``/edev/{id}/sub``)."""
    ctx = request.app[CONTEXT]
    device_id = path_id(request, "device")
    await device_or_404(ctx, device_id)
    offset, limit = page_params(request)
    page, tallies = await pubsub_store.admin_subscriptions(ctx.store, device_id, offset, limit)
    return web.json_response({"total": page.total, "items": [subscription_json(r, tallies[r.id]) for r in page.rows]})


async def list_notifications(request: web.Request) -> web.Response:
    """Notifications newest first; ``status`` keeps one delivery state, ``device`` one EndDevice's."""
    ctx = request.app[CONTEXT]
    state = request.query.get("status")
    if state is not None and state not in pubsub_store.STATES:
        raise bad_request(f"query parameter status={state!r}: one of {', '.join(pubsub_store.STATES)}")
    device_id = query_int(request, "device", None, lo=1)
    offset, limit = page_params(request)
    page = await pubsub_store.list_notifications(ctx.store, state=state, device_id=device_id, start=offset, limit=limit)
    return web.json_response({"total": page.total, "items": [notification_json(r) for r in page.rows]})


async def delete_subscription(request: web.Request) -> web.Response:
    """End a subscription (its subscriber is notified with status 1). 204; 404 when there is none."""
    ctx = request.app[CONTEXT]
    subscription_id = path_id(request, "subscription")
    if await pubsub_store.cancel_subscription(ctx.store, subscription_id) is None:
        raise not_found(f"no subscription with id {subscription_id}")
    return web.Response(status=204)


async def retry_notification(request: web.Request) -> web.Response:
    """A failed notification back to pending, due now, attempts reset. 200 with it; 404; 409 when it is not
    failed (a pending one is tried anyway, a delivered or cancelled one is done)."""
    ctx = request.app[CONTEXT]
    notification_id = path_id(request, "notification")
    outcome, row = await pubsub_store.retry_notification(ctx.store, notification_id, ctx.store.outbox.wall_clock())
    if outcome == "missing":
        raise not_found(f"no notification with id {notification_id}")
    if outcome == "conflict":
        raise web.HTTPConflict(text=f"notification {notification_id} is {row.state}, not failed: nothing to retry")
    if ctx.notify is not None:
        ctx.notify.kick()
    return web.json_response(notification_json(row))


def setup(app: web.Application) -> None:
    app.router.add_get(f"{API}/devices/{{id}}/subscriptions", list_device_subscriptions)
    app.router.add_delete(f"{API}/subscriptions/{{id}}", delete_subscription)
    app.router.add_get(f"{API}/notifications", list_notifications)
    app.router.add_post(f"{API}/notifications/{{id}}/retry", retry_notification)
