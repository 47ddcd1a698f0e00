"""The admin API described as an OpenAPI 3.1 document, served at ``GET /api/v1/openapi.json``.

``tests/test_openapi.py`` keeps it true: every route of the application is here and nothing else, the
document is valid OpenAPI, and the tests' real responses match the schemas given here.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gridhan.server.admin import (
    openapi_billing,
    openapi_der,
    openapi_drlc,
    openapi_files,
    openapi_flow,
    openapi_messaging,
    openapi_pricing,
    openapi_pubsub,
    responses,
    telemetry,
)
from gridhan.server.admin.apidoc import BODY_ERRORS
from gridhan.server.admin.apidoc import errors as _errors
from gridhan.server.admin.apidoc import json_content as _json
from gridhan.server.admin.apidoc import nullable as _nullable
from gridhan.server.admin.apidoc import ref as _ref
from gridhan.server.admin.serialize import API
from gridhan.server.admin.validation import INT32_MAX
from gridhan.server.context import POLLED_RESOURCES


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _schemas() -> dict[str, Any]:
    """The JSON schemas (JSON Schema 2020-12, the dialect of OpenAPI 3.1) of every body."""
    id_ = _id()
    time_ = {"type": "integer", "description": "TimeType: seconds since 1970-01-01T00:00:00Z"}
    device_fields: dict[str, Any] = {
        "pin": _nullable(
            {
                "type": "integer",
                "minimum": 0,
                "maximum": 999999,
                "description": "Registration.pIN (clause 8.5): at most six digits, the last being the check "
                "digit of the others (the digit making the sum of all digits a multiple of 10)",
            }
        ),
        "groups": {"type": "array", "items": id_, "description": "ids of the groups the device is in"},
        "aggregator_id": _nullable({**id_, "description": "id of the aggregator managing the device"}),
        "label": _nullable({"type": "string", "maxLength": 64}),
        "device_category": _nullable(
            {
                "type": "string",
                "pattern": "^[0-9A-Fa-f]{1,8}$",
                "description": "EndDevice.deviceCategory bitmap as hexadecimal "
                "(kept upper-case, padded to whole octets)",
            }
        ),
        "enabled": {"type": "boolean", "description": "EndDevice.enabled"},
        "post_rate": _nullable(
            {
                "type": "integer",
                "minimum": 1,
                "maximum": INT32_MAX,
                "description": "EndDevice.postRate (seconds)",
            }
        ),
    }

    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "additionalProperties": False,
            "properties": {"error": {"type": "string", "description": "what was wrong; nothing was changed"}},
        },
        "Health": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"const": "ok"}},
        },
        "Device": {
            "type": "object",
            "description": "An EndDevice (IEEE 2030.5-2018 clause 8.5)",
            "additionalProperties": False,
            "required": [
                "id",
                "href",
                "lfdi",
                "sfdi",
                "label",
                "device_category",
                "enabled",
                "changed_time",
                "post_rate",
                "pin",
                "registered_time",
                "is_aggregator",
                "aggregator_id",
                "self_signed",
                "revoked",
                "created_by",
                "groups",
            ],
            "properties": {
                "id": id_,
                "href": {
                    "type": "string",
                    "pattern": "^/edev/[0-9]+$",
                    "description": "its 2030.5 EndDevice href",
                },
                "lfdi": {"type": "string", "pattern": "^[0-9A-F]{40}$", "description": "LFDI (clause 6.3.4)"},
                "sfdi": {"type": "string", "pattern": "^[0-9]{12}$", "description": "SFDI (clause 6.3.4)"},
                "label": _nullable({"type": "string", "maxLength": 64}),
                "device_category": _nullable({"type": "string", "pattern": "^([0-9A-F]{2}){1,4}$"}),
                "enabled": {"type": "boolean"},
                "changed_time": {**time_, "description": "EndDevice.changedTime"},
                "post_rate": _nullable({"type": "integer"}),
                "pin": _nullable({"type": "integer", "minimum": 0, "maximum": 999999}),
                "registered_time": _nullable({**time_, "description": "Registration.dateTimeRegistered"}),
                "is_aggregator": {"type": "boolean"},
                "aggregator_id": _nullable(id_),
                "self_signed": {
                    "type": "boolean",
                    "description": "registered with a self-signed certificate, trusted for this device",
                },
                "revoked": {"type": "boolean"},
                "created_by": {"enum": ["admin", "in-band"]},
                "groups": {"type": "array", "items": id_},
            },
        },
        "DeviceList": {
            "type": "object",
            "required": ["total", "items"],
            "additionalProperties": False,
            "properties": {
                "total": {"type": "integer", "minimum": 0},
                "items": {"type": "array", "items": _ref("Device")},
            },
        },
        "DeviceCreate": {
            "type": "object",
            "description": "Exactly one of lfdi and certificate.",
            "additionalProperties": False,
            "oneOf": [{"required": ["lfdi"]}, {"required": ["certificate"]}],
            "properties": {
                "lfdi": {"type": "string", "pattern": "^[0-9A-Fa-f]{40}$"},
                "certificate": {
                    "type": "string",
                    "description": "PEM device certificate; the LFDI is computed from it",
                },
                "is_aggregator": {"type": "boolean"},
                **device_fields,
            },
        },
        "DevicePatch": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                **device_fields,
                "pin": _nullable(
                    {
                        "type": "integer",
                        "minimum": 0,
                        "maximum": 999999,
                        "description": "null removes the Registration",
                    }
                ),
            },
        },
        "DeviceIds": {
            "type": "object",
            "required": ["device_ids"],
            "additionalProperties": False,
            "properties": {"device_ids": {"type": "array", "items": id_}},
        },
        "Records": {
            "type": "object",
            "required": ["kind", "current", "total", "history"],
            "additionalProperties": False,
            "properties": {
                "kind": {"enum": ["DeviceInformation", "DeviceStatus", "PowerStatus"]},
                "current": _nullable(
                    {"type": "object", "description": "the newest document, fields under their 2030.5 names"}
                ),
                "total": {"type": "integer", "minimum": 0},
                "history": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["received_time", "document"],
                        "additionalProperties": False,
                        "properties": {"received_time": time_, "document": {"type": "object"}},
                    },
                },
            },
        },
        "LogEvent": {
            "type": "object",
            "description": "A LogEvent (Log Event function set)",
            "additionalProperties": False,
            "required": [
                "id",
                "created_date_time",
                "details",
                "extended_data",
                "function_set",
                "log_event_code",
                "log_event_id",
                "log_event_pen",
                "profile_id",
                "received_time",
            ],
            "properties": {
                "id": id_,
                "created_date_time": time_,
                "details": _nullable({"type": "string"}),
                "extended_data": _nullable({"type": "integer"}),
                "function_set": {"type": "integer"},
                "log_event_code": {"type": "integer"},
                "log_event_id": {"type": "integer"},
                "log_event_pen": {"type": "integer"},
                "profile_id": {"type": "integer"},
                "received_time": time_,
            },
        },
        "LogEventList": {
            "type": "object",
            "required": ["total", "items"],
            "additionalProperties": False,
            "properties": {
                "total": {"type": "integer", "minimum": 0},
                "items": {"type": "array", "items": _ref("LogEvent")},
            },
        },
        "Group": {
            "type": "object",
            "description": "A group: a FunctionSetAssignments (clause 8.6)",
            "additionalProperties": False,
            "required": ["id", "name", "mrid", "description", "version", "members"],
            "properties": {
                "id": id_,
                "name": {"type": "string", "minLength": 1, "maxLength": 64},
                "mrid": {"type": "string", "pattern": "^[0-9A-F]{32}$"},
                "description": _nullable({"type": "string", "maxLength": 32}),
                "version": {"type": "integer", "minimum": 0, "maximum": 65535},
                "members": {"type": "array", "items": id_},
            },
        },
        "GroupList": {
            "type": "object",
            "required": ["total", "items"],
            "additionalProperties": False,
            "properties": {
                "total": {"type": "integer", "minimum": 0},
                "items": {"type": "array", "items": _ref("Group")},
            },
        },
        "GroupCreate": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 64},
                "description": _nullable({"type": "string", "maxLength": 32}),
            },
        },
        "GroupPatch": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 64},
                "description": _nullable({"type": "string", "maxLength": 32}),
            },
        },
        "PollRates": {
            "type": "object",
            "additionalProperties": False,
            "description": "pollRate (seconds) of each polled resource",
            "properties": {name: {"type": "integer", "minimum": 1, "maximum": INT32_MAX} for name in POLLED_RESOURCES},
        },
        "Settings": {
            "type": "object",
            "additionalProperties": False,
            "required": ["poll_rates", "post_rate", "timezone", "time_quality", "inband_registration"],
            "properties": {
                "poll_rates": {**_ref("PollRates"), "required": list(POLLED_RESOURCES)},
                "post_rate": {"type": "integer", "minimum": 1},
                "timezone": {
                    "type": "string",
                    "description": "IANA time zone of the Time resource (Time function set)",
                },
                "time_quality": {"type": "integer", "minimum": 3, "maximum": 7},
                "inband_registration": {"type": "boolean"},
            },
        },
        "SettingsPatch": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "poll_rates": _ref("PollRates"),
                "post_rate": {"type": "integer", "minimum": 1, "maximum": INT32_MAX},
                "timezone": {"type": "string"},
                "time_quality": {"type": "integer", "minimum": 3, "maximum": 7},
                "inband_registration": {"type": "boolean"},
            },
        },
    }


def _op(
    summary: str,
    responses: dict[str, Any],
    *,
    body: str | None = None,
    params: list[Any] | None = None,
    tags: tuple[str, ...] = (),
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if tags:
        operation["tags"] = list(tags)
    if body is not None:
        operation["requestBody"] = _body(body)
    if params:
        operation["parameters"] = params
    return operation


def _id() -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "maximum": INT32_MAX}


def _list_params() -> list[dict[str, str]]:
    return [{"$ref": "#/components/parameters/offset"}, {"$ref": "#/components/parameters/limit"}]


def _path_id() -> list[dict[str, str]]:
    return [{"$ref": "#/components/parameters/id"}]


def _created(name: str, description: str) -> dict[str, Any]:
    location = {"Location": {"description": "the new resource", "schema": {"type": "string"}}}
    return {**_json(_ref(name), description), "headers": location}


def _public(operation: dict[str, Any]) -> dict[str, Any]:
    return {**operation, "security": []}


def _paths() -> dict[str, Any]:
    """Every route of the admin application, by path and method."""
    return {
        f"{API}/health": {
            "get": _public(_op("Liveness", {"200": _json(_ref("Health"), "the server is running")}, tags=("server",))),
        },
        f"{API}/openapi.json": {
            "get": _public(
                _op(
                    "This document",
                    {"200": _json({"type": "object"}, "OpenAPI 3.1 document")},
                    tags=("server",),
                )
            ),
        },
        f"{API}/devices": {
            "post": _op(
                "Pre-register a device by LFDI or certificate (2030.5 clause 8.5)",
                {"201": _created("Device", "registered"), **_errors(*BODY_ERRORS, 409)},
                body="DeviceCreate",
                tags=("devices",),
            ),
            "get": _op(
                "List devices",
                {"200": _json(_ref("DeviceList"), "a page of devices"), **_errors(400, 401)},
                params=[
                    *_list_params(),
                    {
                        "name": "group",
                        "in": "query",
                        "schema": _id(),
                        "description": "only the members of this group",
                    },
                    {
                        "name": "aggregator",
                        "in": "query",
                        "schema": _id(),
                        "description": "only the devices this aggregator manages",
                    },
                ],
                tags=("devices",),
            ),
        },
        f"{API}/devices/{{id}}": {
            "parameters": _path_id(),
            "get": _op(
                "A device",
                {"200": _json(_ref("Device"), "the device"), **_errors(401, 404)},
                tags=("devices",),
            ),
            "patch": _op(
                "Change a device (all or nothing)",
                {"200": _json(_ref("Device"), "the changed device"), **_errors(*BODY_ERRORS, 404)},
                body="DevicePatch",
                tags=("devices",),
            ),
            "delete": _op(
                "Forget a device", {"204": {"description": "deleted"}, **_errors(401, 404)}, tags=("devices",)
            ),
        },
        f"{API}/devices/{{id}}/revoke": {
            "parameters": _path_id(),
            "post": _op(
                "Revoke the device's certificate (refused from its next handshake)",
                {"200": _json(_ref("Device"), "the revoked device"), **_errors(401, 404)},
                tags=("devices",),
            ),
        },
        f"{API}/devices/{{id}}/reinstate": {
            "parameters": _path_id(),
            "post": _op(
                "Undo a revocation",
                {"200": _json(_ref("Device"), "the reinstated device"), **_errors(401, 404)},
                tags=("devices",),
            ),
        },
        f"{API}/devices/{{id}}/records/{{kind}}": {
            "parameters": [
                *_path_id(),
                {
                    "name": "kind",
                    "in": "path",
                    "required": True,
                    "schema": {"enum": ["device-information", "device-status", "power-status"]},
                },
            ],
            "get": _op(
                "DeviceInformation, DeviceStatus or PowerStatus the device reported (clause 8.5)",
                {
                    "200": _json(_ref("Records"), "current document and history, newest first"),
                    **_errors(400, 401, 404),
                },
                params=_list_params(),
                tags=("devices",),
            ),
        },
        f"{API}/devices/{{id}}/log-events": {
            "parameters": _path_id(),
            "get": _op(
                "LogEvents the device posted (Log Event function set)",
                {"200": _json(_ref("LogEventList"), "newest first"), **_errors(400, 401, 404)},
                params=_list_params(),
                tags=("devices",),
            ),
        },
        f"{API}/aggregators": {
            "post": _op(
                "Register an aggregator (a device with is_aggregator true)",
                {"201": _created("Device", "registered"), **_errors(*BODY_ERRORS, 409)},
                body="DeviceCreate",
                tags=("aggregators",),
            ),
            "get": _op(
                "List aggregators",
                {"200": _json(_ref("DeviceList"), "a page of aggregators"), **_errors(400, 401)},
                params=_list_params(),
                tags=("aggregators",),
            ),
        },
        f"{API}/aggregators/{{id}}/devices": {
            "parameters": _path_id(),
            "get": _op(
                "Devices the aggregator manages",
                {"200": _json(_ref("DeviceList"), "a page of managed devices"), **_errors(400, 401, 404)},
                params=_list_params(),
                tags=("aggregators",),
            ),
            "put": _op(
                "Set exactly the devices the aggregator manages (one transaction)",
                {"200": _json(_ref("DeviceList"), "the managed devices"), **_errors(*BODY_ERRORS, 404)},
                body="DeviceIds",
                tags=("aggregators",),
            ),
        },
        f"{API}/groups": {
            "get": _op(
                "List groups",
                {"200": _json(_ref("GroupList"), "a page of groups"), **_errors(400, 401)},
                params=_list_params(),
                tags=("groups",),
            ),
            "post": _op(
                "Create a group (a FunctionSetAssignments, clause 8.6)",
                {"201": _created("Group", "created"), **_errors(*BODY_ERRORS, 409)},
                body="GroupCreate",
                tags=("groups",),
            ),
        },
        f"{API}/groups/{{id}}": {
            "parameters": _path_id(),
            "get": _op("A group", {"200": _json(_ref("Group"), "the group"), **_errors(401, 404)}, tags=("groups",)),
            "patch": _op(
                "Rename a group or change its description (bumps its version)",
                {"200": _json(_ref("Group"), "the changed group"), **_errors(*BODY_ERRORS, 404, 409)},
                body="GroupPatch",
                tags=("groups",),
            ),
            "delete": _op("Delete a group", {"204": {"description": "deleted"}, **_errors(401, 404)}, tags=("groups",)),
        },
        f"{API}/groups/{{id}}/members": {
            "parameters": _path_id(),
            "put": _op(
                "Replace the members of a group (one transaction; bumps its version)",
                {"200": _json(_ref("Group"), "the group"), **_errors(*BODY_ERRORS, 404)},
                body="DeviceIds",
                tags=("groups",),
            ),
        },
        f"{API}/settings": {
            "get": _op(
                "Run-time settings",
                {"200": _json(_ref("Settings"), "the settings in force"), **_errors(401)},
                tags=("settings",),
            ),
            "patch": _op(
                "Change run-time settings (checked whole, persisted, applied at once)",
                {"200": _json(_ref("Settings"), "the settings in force"), **_errors(*BODY_ERRORS)},
                body="SettingsPatch",
                tags=("settings",),
            ),
        },
    }


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the admin API (a new object on every call)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "gridhan admin API",
            "version": "1",
            "description": "The utility's administration of its IEEE 2030.5 server: devices and their "
            "certificates, aggregators, groups (FunctionSetAssignments) and run-time settings. "
            'Errors are {"error": message} with a 4xx status, and a refused request changes '
            "nothing.",
        },
        "security": [{"bearer": []}],
        "tags": [
            {"name": t}
            for t in (
                "devices",
                "aggregators",
                "groups",
                "settings",
                "der",
                "drlc",
                "files",
                "pricing",
                "responses",
                "telemetry",
                "subscriptions",
                "messaging",
                "flow",
                "server",
            )
        ],
        "paths": {
            **_paths(),
            **openapi_der.paths(),
            **openapi_drlc.paths(),
            **openapi_files.paths(),
            **openapi_pricing.paths(),
            **responses.paths(),
            **telemetry.paths(),
            **openapi_pubsub.paths(),
            **openapi_messaging.paths(),
            **openapi_flow.paths(),
            **openapi_billing.paths(),
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "the operator token (setting admin_token, or data_dir/admin-token)",
                },
            },
            "parameters": {
                "id": {"name": "id", "in": "path", "required": True, "schema": _id()},
                "offset": {
                    "name": "offset",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0, "maximum": INT32_MAX, "default": 0},
                },
                "limit": {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                },
            },
            "responses": {
                name: _json(_ref("Error"), description)
                for name, description in (
                    ("BadRequest", "the request is not valid (the message names the field)"),
                    ("Unauthorized", "the operator token is missing or wrong"),
                    ("NotFound", "no such resource"),
                    ("Conflict", "the change conflicts with what exists (an LFDI or a name is taken)"),
                    ("TooLarge", "the request body is too large"),
                    ("UnsupportedMediaType", "the request body is not application/json"),
                )
            },
            "schemas": {
                **_schemas(),
                **openapi_der.schemas(),
                **openapi_drlc.schemas(),
                **openapi_files.schemas(),
                **openapi_pricing.schemas(),
                **responses.schemas(),
                **telemetry.schemas(),
                **openapi_pubsub.schemas(),
                **openapi_messaging.schemas(),
                **openapi_flow.schemas(),
                **openapi_billing.schemas(),
            },
        },
    }


OPENAPI_DOCUMENT = web.AppKey("gridhan_admin_openapi", dict)


async def get_openapi(request: web.Request) -> web.Response:
    """This API's OpenAPI 3.1 document (no token needed)."""
    return web.json_response(request.app[OPENAPI_DOCUMENT])


def setup(app: web.Application) -> None:
    app[OPENAPI_DOCUMENT] = document()
    app.router.add_get(f"{API}/openapi.json", get_openapi)
