"""The OpenAPI description of the messaging admin routes (:mod:`gridhan.server.admin.messaging`), merged
into the document of :mod:`gridhan.server.admin.openapi`."""

from __future__ import annotations

from typing import Any

from gridhan.server.admin.apidoc import BODY_ERRORS, ID, PAGE, PATH_ID, TIME
from gridhan.server.admin.apidoc import errors as _errors
from gridhan.server.admin.apidoc import json_content as _json
from gridhan.server.admin.apidoc import nullable as _nullable
from gridhan.server.admin.apidoc import ref as _ref
from gridhan.server.admin.serialize import API

LOCALE = {"type": "string", "maxLength": 42, "description": "RFC 4646 language[-Script][-REGION], e.g. en-US"}
PRIORITY = {
    "anyOf": [
        {"type": "integer", "minimum": 0, "maximum": 3},
        {"enum": ["low", "normal", "medium", "high", "critical"]},
    ],
    "description": "PriorityType: 0 low, 1 normal (medium), 2 high, 3 critical",
}
START = {"anyOf": [TIME, {"type": "string", "format": "date-time"}]}


def _op(summary: str, responses: dict[str, Any], body: str | None = None, params: list | None = None) -> dict:
    op: dict[str, Any] = {"summary": summary, "responses": responses, "tags": ["messaging"]}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if params:
        op["parameters"] = params
    return op


def schemas() -> dict[str, Any]:
    status = {
        "type": "object",
        "required": ["current_status", "name", "date_time", "potentially_superseded"],
        "properties": {
            "current_status": {"type": "integer", "minimum": 0, "maximum": 4},
            "name": {"type": "string"},
            "date_time": TIME,
            "potentially_superseded": {"type": "boolean"},
            "potentially_superseded_time": _nullable(TIME),
        },
    }
    text = {
        "type": "object",
        "required": ["locale", "text", "mrid", "program_id", "href", "responses"],
        "properties": {
            "locale": LOCALE,
            "text": {"type": "string"},
            "mrid": {"type": "string"},
            "program_id": ID,
            "href": {"type": "string", "description": "the TextMessage's 2030.5 href"},
            "responses": {"type": "string", "description": "where the TextResponses to it are tallied"},
        },
    }
    message = {
        "type": "object",
        "required": ["id", "group_id", "public", "priority", "priority_name", "start", "duration", "status", "texts"],
        "properties": {
            "id": ID,
            "group_id": _nullable(ID),
            "public": {"type": "boolean"},
            "priority": {"type": "integer", "minimum": 0, "maximum": 3},
            "priority_name": {"enum": ["low", "normal", "high", "critical"]},
            "originator": _nullable({"type": "string"}),
            "description": _nullable({"type": "string"}),
            "creation_time": TIME,
            "start": TIME,
            "duration": {"type": "integer"},
            "response_required": _nullable({"type": "string"}),
            "cancelled_time": _nullable(TIME),
            "version": {"type": "integer"},
            "status": _nullable(status),
            "texts": {"type": "array", "items": text},
        },
    }
    return {
        "Message": message,
        "MessageList": {
            "type": "object",
            "required": ["total", "items"],
            "properties": {"total": {"type": "integer"}, "items": {"type": "array", "items": message}},
        },
        "MessageCreate": {
            "type": "object",
            "additionalProperties": False,
            "required": ["texts", "priority"],
            "description": "exactly one of duration and end; no group_id (or null): a public message",
            "properties": {
                "texts": {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": {"type": "string", "minLength": 1},
                    "description": 'the text by locale, e.g. {"en-US": "...", "fr-CA": "..."}',
                },
                "priority": PRIORITY,
                "originator": _nullable({"type": "string", "maxLength": 20}),
                "description": _nullable({"type": "string", "maxLength": 32}),
                "start": {**START, "description": "default: now"},
                "duration": {"type": "integer", "minimum": 1},
                "end": START,
                "group_id": _nullable(ID),
                "response_required": _nullable({"type": "string", "pattern": "^[0-9A-Fa-f]{1,2}$"}),
                "primacy": {"type": "integer", "minimum": 0, "maximum": 255},
            },
        },
        "MessagePrune": {
            "type": "object",
            "required": ["deleted", "cutoff"],
            "properties": {"deleted": {"type": "integer", "minimum": 0}, "cutoff": TIME},
        },
        "DeviceLocale": {
            "type": "object",
            "required": ["device_id", "locale"],
            "properties": {"device_id": ID, "locale": _nullable(LOCALE)},
        },
        "DeviceLocalePut": {
            "type": "object",
            "additionalProperties": False,
            "required": ["locale"],
            "properties": {"locale": LOCALE},
        },
    }


def paths() -> dict[str, Any]:
    created = {**_json(_ref("Message"), "published"), "headers": {"Location": {"schema": {"type": "string"}}}}
    return {
        f"{API}/messages": {
            "post": _op(
                "Publish a text message in several locales, public or for a group (2030.5 10.6)",
                {"201": created, **_errors(*BODY_ERRORS)},
                body="MessageCreate",
            ),
            "get": _op(
                "List messages, newest first",
                {"200": _json(_ref("MessageList"), "a page"), **_errors(400, 401)},
                params=[*PAGE, {"name": "group", "in": "query", "schema": ID}],
            ),
        },
        f"{API}/messages/prune": {
            "post": _op(
                "Delete now the messages past message_retention",
                {"200": _json(_ref("MessagePrune"), "pruned"), **_errors(401)},
            ),
        },
        f"{API}/messages/{{id}}": {
            "parameters": PATH_ID,
            "get": _op("A message with its status now", {"200": _json(_ref("Message"), "it"), **_errors(401, 404)}),
        },
        f"{API}/messages/{{id}}/cancel": {
            "parameters": PATH_ID,
            "post": _op(
                "Cancel a message in every locale", {"200": _json(_ref("Message"), "cancelled"), **_errors(401, 404)}
            ),
        },
        f"{API}/devices/{{id}}/locale": {
            "parameters": PATH_ID,
            "get": _op(
                "The locale a device's customer prefers",
                {"200": _json(_ref("DeviceLocale"), "it (null: none)"), **_errors(401, 404)},
            ),
            "put": _op(
                "Set the locale a device's customer prefers",
                {"200": _json(_ref("DeviceLocale"), "set"), **_errors(*BODY_ERRORS, 404)},
                body="DeviceLocalePut",
            ),
            "delete": _op(
                "Forget the device's preferred locale", {"204": {"description": "forgotten"}, **_errors(401, 404)}
            ),
        },
    }
