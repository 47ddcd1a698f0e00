"""The Responses devices sent about events (IEEE 2030.5-2018 clause 8.8, Response function set), as the
utility reads them.

* ``GET /api/v1/responses?subject=MRID``: one event's responses: a tally of the devices by the latest
  status each reported (Table 27), each responding device with its statuses in order, and the devices the
  event targets that never responded.
* ``GET /api/v1/devices/{id}/responses``: a device's Responses, newest first (``subject`` keeps one event's).

The admin API is an application of its own; it finds an event, and the devices it targets, through the
same event resolvers the 2030.5 application's Response function set uses: the registry the 2030.5
application publishes on the shared :class:`~gridhan.server.context.AppContext` (``function_sets``).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from gridhan.server.admin.apidoc import errors as _errors
from gridhan.server.admin.apidoc import json_content as _json
from gridhan.server.admin.apidoc import ref as _ref
from gridhan.server.admin.serialize import API
from gridhan.server.admin.validation import INT32_MAX, bad_request, not_found, page_params, path_id
from gridhan.server.context import CONTEXT
from gridhan.server.sep2.registry import resolve_event
from gridhan.server.sep2.response import STATUSES
from gridhan.server.store import responses as response_store
from gridhan.server.store.tables import ResponseRow

_MRID = re.compile(r"(?:[0-9A-Fa-f]{2}){1,16}")


def _subject(request: web.Request, *, required: bool) -> str | None:
    raw = request.query.get("subject")
    if raw is None:
        if required:
            raise bad_request("query parameter subject: required (the mRID of the event)")
        return None
    if not _MRID.fullmatch(raw):
        raise bad_request(
            f"query parameter subject={raw!r}: must be an mRID (2 to 32 hexadecimal digits, an even number)"
        )
    return raw.upper()


def response_json(row: ResponseRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "href": f"/rsps/{row.set_id}/rsp/{row.id}",
        "set_id": row.set_id,
        "kind": row.kind,
        "end_device_lfdi": row.end_device_lfdi,
        "subject": row.subject,
        "status": row.status,
        "status_text": STATUSES.get(row.status),
        "created_date_time": row.created_date_time,
        "received_time": row.received_time,
    }


async def event_responses(ctx: Any, subject: str) -> dict[str, Any] | None:
    """One event's Responses, as ``GET /api/v1/responses?subject=`` shows them (None when there is neither
    such an event nor a Response about one): ``tally`` counts the responding devices by the latest status
    each reported (so each device counts once), ``devices`` gives each responding device's statuses oldest
    first, and ``never_responded`` the devices the event targets that sent nothing. Other admin views of an
    event (a DR event's) embed this same object."""
    event = await resolve_event(ctx, subject)
    rows = await response_store.responses_about(ctx.store, subject)
    if event is None and not rows:
        return None
    by_device: dict[int, list[ResponseRow]] = {}
    for row in rows:  # oldest first
        by_device.setdefault(row.device_id, []).append(row)
    tally: dict[str, int] = {}
    devices = []
    for device_id, history in sorted(by_device.items()):
        latest = history[-1].status
        tally[str(latest)] = tally.get(str(latest), 0) + 1
        devices.append(
            {
                "device_id": device_id,
                "lfdi": history[-1].end_device_lfdi,
                "latest_status": latest,
                "latest_status_text": STATUSES.get(latest),
                "statuses": [r.status for r in history],
                "times": [
                    {"created_date_time": r.created_date_time, "received_time": r.received_time} for r in history
                ],
            }
        )
    targeted = sorted(event.device_ids) if event is not None else []
    return {
        "subject": subject,
        "event": None
        if event is None
        else {"function_set": event.function_set, "href": event.href, "targeted": len(targeted)},
        "tally": dict(sorted(tally.items(), key=lambda item: int(item[0]))),
        "devices": devices,
        "never_responded": [d for d in targeted if d not in by_device],
    }


async def get_event_responses(request: web.Request) -> web.Response:
    """One event's Responses (:func:`event_responses`)."""
    ctx = request.app[CONTEXT]
    subject = _subject(request, required=True)
    assert subject is not None
    found = await event_responses(ctx, subject)
    if found is None:
        raise not_found(f"no event with mRID {subject}, and no Response about one")
    return web.json_response(found)


async def get_device_responses(request: web.Request) -> web.Response:
    """The Responses a device sent (or its aggregator sent for it), newest first."""
    ctx = request.app[CONTEXT]
    device_id = path_id(request, "device")
    if await ctx.store.device(device_id) is None:
        raise not_found(f"no device with id {device_id}")
    offset, limit = page_params(request)
    subject = _subject(request, required=False)
    page = await response_store.responses_of_device(ctx.store, device_id, offset, limit, subject)
    return web.json_response({"total": page.total, "items": [response_json(r) for r in page.rows]})


def setup(app: web.Application) -> None:
    app.router.add_get(f"{API}/responses", get_event_responses)
    app.router.add_get(f"{API}/devices/{{id}}/responses", get_device_responses)


# -- OpenAPI description (merged into gridhan.server.admin.openapi) ----------------------------------


_ID = {"type": "integer", "minimum": 1, "maximum": INT32_MAX}
_TIME = {"type": "integer", "description": "TimeType: seconds since 1970-01-01T00:00:00Z"}
_STATUS = {
    "type": "integer",
    "enum": sorted(STATUSES),
    "description": "Response.status (IEEE 2030.5-2018 Table 27): "
    + "; ".join(f"{code} {text}" for code, text in STATUSES.items()),
}
_MRID_SCHEMA = {"type": "string", "pattern": "^([0-9A-Fa-f]{2}){1,16}$", "description": "an mRID"}


def schemas() -> dict[str, Any]:
    return {
        "Response": {
            "type": "object",
            "description": "A Response (IEEE 2030.5-2018 clause 8.8) a device sent about an event",
            "additionalProperties": False,
            "required": [
                "id",
                "href",
                "set_id",
                "kind",
                "end_device_lfdi",
                "subject",
                "status",
                "status_text",
                "created_date_time",
                "received_time",
            ],
            "properties": {
                "id": _ID,
                "href": {"type": "string", "pattern": "^/rsps/[0-9]+/rsp/[0-9]+$", "description": "its 2030.5 href"},
                "set_id": {**_ID, "description": "the ResponseSet (1: DER controls)"},
                "kind": {"type": "string", "description": "Response, DERControlResponse, DrResponse, ..."},
                "end_device_lfdi": {"type": "string", "pattern": "^[0-9A-F]{40}$"},
                "subject": {**_MRID_SCHEMA, "description": "the mRID of the event"},
                "status": _STATUS,
                "status_text": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                "created_date_time": {"anyOf": [{**_TIME, "description": "as the device sent it"}, {"type": "null"}]},
                "received_time": {**_TIME, "description": "when the server received it"},
            },
        },
        "ResponseList": {
            "type": "object",
            "required": ["total", "items"],
            "additionalProperties": False,
            "properties": {
                "total": {"type": "integer", "minimum": 0},
                "items": {"type": "array", "items": _ref("Response")},
            },
        },
        "EventResponses": {
            "type": "object",
            "description": "The Responses about one event",
            "additionalProperties": False,
            "required": ["subject", "event", "tally", "devices", "never_responded"],
            "properties": {
                "subject": {"type": "string", "pattern": "^([0-9A-F]{2}){1,16}$"},
                "event": {
                    "anyOf": [
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["function_set", "href", "targeted"],
                            "properties": {
                                "function_set": {"type": "string"},
                                "href": {"type": "string", "description": "the event's 2030.5 href"},
                                "targeted": {
                                    "type": "integer",
                                    "minimum": 0,
                                    "description": "how many devices it is addressed to",
                                },
                            },
                        },
                        {"type": "null", "description": "the event no longer exists"},
                    ]
                },
                "tally": {
                    "type": "object",
                    "description": "status -> number of devices whose latest Response carries it",
                    "propertyNames": {"pattern": "^[0-9]+$"},
                    "additionalProperties": {"type": "integer", "minimum": 1},
                },
                "devices": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["device_id", "lfdi", "latest_status", "latest_status_text", "statuses", "times"],
                        "properties": {
                            "device_id": _ID,
                            "lfdi": {"type": "string", "pattern": "^[0-9A-F]{40}$"},
                            "latest_status": _STATUS,
                            "latest_status_text": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                            "statuses": {
                                "type": "array",
                                "items": _STATUS,
                                "description": "every status reported, oldest first",
                            },
                            "times": {
                                "type": "array",
                                "description": "when each of those statuses happened and arrived",
                                "items": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["created_date_time", "received_time"],
                                    "properties": {
                                        "created_date_time": {"anyOf": [_TIME, {"type": "null"}]},
                                        "received_time": _TIME,
                                    },
                                },
                            },
                        },
                    },
                },
                "never_responded": {
                    "type": "array",
                    "items": _ID,
                    "description": "ids of the devices the event targets that sent no Response",
                },
            },
        },
    }


def paths() -> dict[str, Any]:
    subject = {"name": "subject", "in": "query", "schema": _MRID_SCHEMA}
    page = [{"$ref": "#/components/parameters/offset"}, {"$ref": "#/components/parameters/limit"}]
    return {
        f"{API}/responses": {
            "get": {
                "summary": "The Responses about one event (2030.5 clause 8.8): tally, devices, silent devices",
                "tags": ["responses"],
                "parameters": [{**subject, "required": True, "description": "the event's mRID"}],
                "responses": {
                    "200": _json(_ref("EventResponses"), "the event's responses"),
                    **_errors(400, 401, 404),
                },
            },
        },
        f"{API}/devices/{{id}}/responses": {
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "get": {
                "summary": "The Responses a device sent, newest first",
                "tags": ["responses"],
                "parameters": [*page, {**subject, "description": "only those about this event"}],
                "responses": {
                    "200": _json(_ref("ResponseList"), "a page of Responses"),
                    **_errors(400, 401, 404),
                },
            },
        },
    }
