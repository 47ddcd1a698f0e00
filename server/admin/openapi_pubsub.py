"""The OpenAPI description of the subscription and notification admin routes
(:mod:`gridhan.server.admin.subscriptions`), merged into the document of :mod:`gridhan.server.admin.openapi`."""

from __future__ import annotations

from typing import Any

from gridhan.server.admin.apidoc import ID, PAGE, TIME
from gridhan.server.admin.apidoc import errors as _errors
from gridhan.server.admin.apidoc import json_content as _json
from gridhan.server.admin.apidoc import nullable as _nullable
from gridhan.server.admin.apidoc import ref as _ref
from gridhan.server.admin.serialize import API
from gridhan.server.store.pubsub import STATES

WALL = {"type": "number", "description": "seconds since 1970-01-01T00:00:00Z (the server host's clock)"}


def schemas() -> dict[str, Any]:
    tally = {
        "type": "object",
        "description": "this subscription's notifications by delivery state",
        "required": list(STATES),
        "properties": {s: {"type": "integer", "minimum": 0} for s in STATES},
    }
    subscription = {
        "type": "object",
        "description": "A Subscription (IEEE 2030.5-2018 clause 8.7) an EndDevice holds",
        "required": [
            "id",
            "href",
            "device_id",
            "subscribed_resource",
            "notification_uri",
            "encoding",
            "level",
            "limit",
            "created_time",
            "notifications",
        ],
        "properties": {
            "id": ID,
            "href": {"type": "string", "description": "its 2030.5 address, /edev/{device}/sub/{id}"},
            "device_id": ID,
            "subscribed_resource": {"type": "string"},
            "notification_uri": {"type": "string"},
            "encoding": {"type": "integer", "description": "0: application/sep+xml"},
            "level": {"type": "string"},
            "limit": {"type": "integer", "minimum": 0},
            "created_time": TIME,
            "notifications": tally,
        },
    }
    notification = {
        "type": "object",
        "description": "A Notification in the outbox and what became of it",
        "required": [
            "id",
            "subscription_id",
            "device_id",
            "subscribed_resource",
            "subscription_uri",
            "notification_uri",
            "notification_status",
            "status",
            "attempts",
            "enqueued_at",
            "next_attempt_at",
            "delivered_at",
            "last_http_status",
            "last_error",
        ],
        "properties": {
            "id": ID,
            "subscription_id": _nullable({**ID, "description": "null once the subscription is gone"}),
            "device_id": ID,
            "subscribed_resource": {"type": "string"},
            "subscription_uri": {"type": "string"},
            "notification_uri": {"type": "string"},
            "notification_status": {
                "type": "integer",
                "minimum": 0,
                "maximum": 4,
                "description": "Notification.status: 0 default, 1 subscription cancelled, 4 resource deleted",
            },
            "status": {"enum": list(STATES), "description": "delivery state"},
            "attempts": {"type": "integer", "minimum": 0},
            "enqueued_at": WALL,
            "next_attempt_at": _nullable({**WALL, "description": "when a pending notification is next tried"}),
            "delivered_at": _nullable(WALL),
            "last_http_status": _nullable({"type": "integer"}),
            "last_error": _nullable({"type": "string"}),
        },
    }
    return {
        "Subscription": subscription,
        "SubscriptionPage": {
            "type": "object",
            "required": ["total", "items"],
            "properties": {"total": {"type": "integer"}, "items": {"type": "array", "items": _ref("Subscription")}},
        },
        "Notification": notification,
        "NotificationPage": {
            "type": "object",
            "required": ["total", "items"],
            "properties": {"total": {"type": "integer"}, "items": {"type": "array", "items": _ref("Notification")}},
        },
    }


def paths() -> dict[str, Any]:
    return {
        f"{API}/devices/{{id}}/subscriptions": {
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "get": {
                "summary": "The Subscriptions an EndDevice holds, with their notifications by delivery state",
                "tags": ["subscriptions"],
                "parameters": PAGE,
                "responses": {"200": _json(_ref("SubscriptionPage"), "a page"), **_errors(400, 401, 404)},
            },
        },
        f"{API}/subscriptions/{{id}}": {
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "delete": {
                "summary": "End a subscription: its subscriber is sent a Notification with status 1",
                "description": (
                    "The subscription is deleted and, in the same transaction, a Notification with status 1 "
                    "(subscription canceled, no additional information) is queued for its notificationURI; "
                    "its pending notifications are cancelled."
                ),
                "tags": ["subscriptions"],
                "responses": {"204": {"description": "ended"}, **_errors(401, 404)},
            },
        },
        f"{API}/notifications/{{id}}/retry": {
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "post": {
                "summary": "Put a failed notification back in the outbox, due now, its attempts reset",
                "description": (
                    "Only a failed notification can be retried (409 otherwise). A notification whose "
                    "subscription is gone meanwhile is then cancelled rather than sent, unless it is a "
                    "final one (status 1 or 4)."
                ),
                "tags": ["subscriptions"],
                "responses": {"200": _json(_ref("Notification"), "pending again"), **_errors(401, 404, 409)},
            },
        },
        f"{API}/notifications": {
            "get": {
                "summary": "Notifications newest first, with their delivery state (2030.5 clause 8.7)",
                "tags": ["subscriptions"],
                "parameters": [
                    *PAGE,
                    {"name": "status", "in": "query", "schema": {"enum": list(STATES)}},
                    {"name": "device", "in": "query", "schema": ID},
                ],
                "responses": {"200": _json(_ref("NotificationPage"), "a page"), **_errors(400, 401)},
            },
        },
    }
