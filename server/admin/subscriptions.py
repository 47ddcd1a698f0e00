"""Subscriptions and the notification outbox as the utility sees them (IEEE 2030.5-2018 clause 8.7).

* ``GET /api/v1/devices/{id}/subscriptions``: the Subscriptions an EndDevice holds, each with its
  notifications counted by delivery state.
* ``GET /api/v1/notifications?status=&device=``: notifications newest first, with their delivery state
  (``pending``, ``delivered``, ``failed``, ``cancelled``), attempts, the subscriber's last answer and error.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gridhan.server.admin.devices import device_or_404
from gridhan.server.admin.serialize import API
from gridhan.server.admin.validation import bad_request, page_params, path_id, query_int
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


def setup(app: web.Application) -> None:
    app.router.add_get(f"{API}/devices/{{id}}/subscriptions", list_device_subscriptions)
    app.router.add_get(f"{API}/notifications", list_notifications)
