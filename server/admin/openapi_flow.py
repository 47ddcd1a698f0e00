"""The OpenAPI description of the flow reservation admin routes (:mod:`gridhan.server.admin.flow`), merged
into the document of :mod:`gridhan.server.admin.openapi`."""

from __future__ import annotations

from typing import Any

from gridhan.schemas.flow_allocation import POLICIES
from gridhan.server.admin.apidoc import BODY_ERRORS, ID, PAGE, PATH_ID, TIME
from gridhan.server.admin.apidoc import errors as _errors
from gridhan.server.admin.apidoc import json_content as _json
from gridhan.server.admin.apidoc import nullable as _nullable
from gridhan.server.admin.apidoc import ref as _ref
from gridhan.server.admin.serialize import API

STATES = ["pending", "deciding", "granted", "refused", "cancelled"]


def _op(summary: str, responses: dict[str, Any], body: str | None = None, params: list | None = None) -> dict:
    op: dict[str, Any] = {"summary": summary, "responses": responses, "tags": ["flow"]}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if params:
        op["parameters"] = params
    return op


def schemas() -> dict[str, Any]:
    capacity_fields = {
        "slot_seconds": {"type": "integer", "minimum": 60, "maximum": 86400},
        "capacity_w": {"type": "integer", "minimum": 0, "description": "watts the group may reserve per slot"},
        "policy": {"enum": list(POLICIES)},
    }
    capacity = {
        "type": "object",
        "required": ["group_id", "slot_seconds", "capacity_w", "policy"],
        "properties": {"group_id": ID, **capacity_fields},
    }
    response = {
        "type": "object",
        "required": ["id", "href", "mrid", "start", "duration", "power_w", "energy_wh", "cancelled_time"],
        "properties": {
            "id": ID,
            "href": {"type": "string"},
            "mrid": {"type": "string"},
            "creation_time": TIME,
            "start": TIME,
            "duration": {"type": "integer"},
            "power_w": {"type": "integer", "description": "0 with energy_wh 0: refused"},
            "energy_wh": {"type": "integer"},
            "cancelled_time": _nullable(TIME),
            "responses": {"type": "string"},
        },
    }
    request = {
        "type": "object",
        "required": ["id", "href", "device_id", "mrid", "start", "duration", "power_w", "energy_wh", "state",
                     "responses"],
        "properties": {
            "id": ID,
            "href": {"type": "string"},
            "device_id": ID,
            "mrid": {"type": "string"},
            "creation_time": TIME,
            "received_time": TIME,
            "start": TIME,
            "duration": {"type": "integer"},
            "power_w": {"type": "integer"},
            "energy_wh": {"type": "integer", "description": "positive: charge; negative: discharge"},
            "request_status": {"type": "integer", "description": "RequestStatus: 0 requested, 1 cancelled"},
            "state": {"enum": STATES},
            "responses": {"type": "array", "items": response},
        },
    }  # fmt: skip
    return {
        "FlowCapacity": capacity,
        "FlowCapacityList": {
            "type": "object",
            "required": ["total", "items"],
            "properties": {"total": {"type": "integer"}, "items": {"type": "array", "items": capacity}},
        },
        "FlowCapacityPut": {
            "type": "object",
            "additionalProperties": False,
            "required": ["slot_seconds", "capacity_w", "policy"],
            "properties": capacity_fields,
        },
        "FlowRequest": request,
        "FlowRequestList": {
            "type": "object",
            "required": ["total", "items"],
            "properties": {"total": {"type": "integer"}, "items": {"type": "array", "items": request}},
        },
        "FlowDecision": {
            "type": "object",
            "additionalProperties": False,
            "required": ["decision"],
            "description": "grant: power, energy and interval default to the request's; refuse: nothing else",
            "properties": {
                "decision": {"enum": ["grant", "refuse"]},
                "power_w": {"type": "integer", "minimum": 1},
                "energy_wh": {"type": "integer"},
                "start": {"anyOf": [TIME, {"type": "string", "format": "date-time"}]},
                "duration": {"type": "integer", "minimum": 1},
            },
        },
    }


def paths() -> dict[str, Any]:
    return {
        f"{API}/flow-capacities": {
            "get": _op(
                "Flow capacities of the groups", {"200": _json(_ref("FlowCapacityList"), "all"), **_errors(401)}
            ),
        },
        f"{API}/flow-capacities/{{id}}": {
            "parameters": PATH_ID,
            "get": _op("A group's flow capacity", {"200": _json(_ref("FlowCapacity"), "it"), **_errors(401, 404)}),
            "put": _op(
                "Set a group's capacity per slot and its policy (2030.5 10.9)",
                {"200": _json(_ref("FlowCapacity"), "set"), **_errors(*BODY_ERRORS, 404)},
                body="FlowCapacityPut",
            ),
            "delete": _op("Remove a group's flow capacity", {"204": {"description": "removed"}, **_errors(401, 404)}),
        },
        f"{API}/flow-requests": {
            "get": _op(
                "FlowReservationRequests, oldest first",
                {"200": _json(_ref("FlowRequestList"), "a page"), **_errors(400, 401)},
                params=[*PAGE, {"name": "state", "in": "query", "schema": {"enum": STATES}}],
            ),
        },
        f"{API}/flow-requests/{{id}}": {
            "parameters": PATH_ID,
            "get": _op("A request and its responses", {"200": _json(_ref("FlowRequest"), "it"), **_errors(401, 404)}),
        },
        f"{API}/flow-requests/{{id}}/decide": {
            "parameters": PATH_ID,
            "post": _op(
                "Grant or refuse a pending request (held to the groups' capacity)",
                {"200": _json(_ref("FlowRequest"), "decided"), **_errors(*BODY_ERRORS, 404, 409)},
                body="FlowDecision",
            ),
        },
    }
