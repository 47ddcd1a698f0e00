"""The OpenAPI description of the demand response admin routes (:mod:`gridhan.server.admin.drlc`), merged into
the document of :mod:`gridhan.server.admin.openapi`."""

from __future__ import annotations

from typing import Any

from gridhan.server.admin.apidoc import BODY_ERRORS, ID, PAGE, PATH_ID, TIME
from gridhan.server.admin.apidoc import errors as _errors
from gridhan.server.admin.apidoc import json_content as _json
from gridhan.server.admin.apidoc import nullable as _nullable
from gridhan.server.admin.apidoc import ref as _ref
from gridhan.server.admin.drlc import STATUS_NAMES
from gridhan.server.admin.serialize import API

STRUCT = {"type": "object", "description": "a 2030.5 structure in JSON, with the schema's member names"}
ACTIVE_POWER = {
    "type": "object",
    "additionalProperties": False,
    "required": ["multiplier", "value"],
    "description": "ActivePower: value x 10^multiplier W",
    "properties": {
        "multiplier": {"type": "integer", "minimum": -9, "maximum": 9},
        "value": {"type": "integer", "minimum": -32768, "maximum": 32767},
    },
}
TIME_IN = {"anyOf": [TIME, {"type": "string", "format": "date-time", "description": "ISO 8601 with a UTC offset"}]}
STATUS = {
    "type": "object",
    "description": "the EventStatus the server publishes now (sep.xsd EventStatus)",
    "required": ["current_status", "name", "date_time", "potentially_superseded"],
    "properties": {
        "current_status": {"type": "integer", "minimum": 0, "maximum": 4},
        "name": {"enum": ["scheduled", "active", "cancelled", "cancelled_with_randomization", "superseded"]},
        "date_time": TIME,
        "potentially_superseded": {"type": "boolean"},
        "potentially_superseded_time": _nullable(TIME),
    },
}
CATEGORY = {
    "type": "string",
    "pattern": "^[0-9A-Fa-f]{1,8}$",
    "description": "DeviceCategoryType bitmap in hexadecimal: bit 0 thermostat, 1 strip heaters, 2 baseboard "
    "heaters, 3 water heater, 4 pool pump, ... 13 load control switch, 14 EMS, ... 25 other storage; "
    "at least one of bits 0..25, no reserved bit",
}
CONTROLS = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": False,
    "description": "the EndDeviceControl's control structures, with the schema's member names, e.g. "
    '{"Offset": {"coolingOffset": 11}} (tenths of a degree C)',
    "properties": {
        name: STRUCT for name in ("ApplianceLoadReduction", "DutyCycle", "Offset", "SetPoint", "TargetReduction")
    },
}


def _op(summary: str, responses: dict[str, Any], body: str | None = None, params: list | None = None) -> dict:
    op: dict[str, Any] = {"summary": summary, "responses": responses, "tags": ["drlc"]}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if params:
        op["parameters"] = params
    return op


def _created(name: str) -> dict[str, Any]:
    return {**_json(_ref(name), "created"), "headers": {"Location": {"schema": {"type": "string"}}}}


def schemas() -> dict[str, Any]:
    program_fields = {
        "primacy": {"type": "integer", "minimum": 0, "maximum": 255},
        "description": _nullable({"type": "string", "maxLength": 32}),
        "availability_update_percent_change_threshold": _nullable(
            {"type": "integer", "minimum": 0, "maximum": 10000, "description": "PerCent (hundredths of a percent)"}
        ),
        "availability_update_power_change_threshold": _nullable(ACTIVE_POWER),
    }
    program = {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "href", "group_id", "mrid", "primacy", "version", "created_time"],
        "properties": {
            "id": ID,
            "href": {"type": "string"},
            "group_id": ID,
            "mrid": {"type": "string"},
            "version": {"type": "integer"},
            "created_time": TIME,
            **program_fields,
        },
    }
    responses = {
        "response_counts": {
            "type": "object",
            "description": "devices by the latest Response status they reported (Table 27), by name",
            "additionalProperties": False,
            "properties": {name: {"type": "integer", "minimum": 0} for name in STATUS_NAMES.values()},
        },
        "overrides": {
            "type": "array",
            "description": "overrides the devices reported (DrResponse.overrideDuration), oldest first",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["device_id", "status", "override_duration"],
                "properties": {
                    "device_id": ID,
                    "status": {"type": "integer"},
                    "override_duration": {"type": "integer", "description": "seconds"},
                },
            },
        },
        "responses": {
            **_nullable(_ref("EventResponses")),
            "description": "as GET /api/v1/responses?subject= gives it: tally, devices, never_responded",
        },
    }
    event = {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "id",
            "href",
            "mrid",
            "program_id",
            "group_id",
            "start",
            "end",
            "duration",
            "device_category",
            "controls",
            "status",
            "warnings",
            "responses",
            "response_counts",
            "overrides",
        ],
        "properties": {
            "id": ID,
            "href": {"type": "string", "description": "its 2030.5 EndDeviceControl href"},
            "mrid": {"type": "string"},
            "program_id": ID,
            "group_id": ID,
            "primacy": {"type": "integer"},
            "description": _nullable({"type": "string"}),
            "creation_time": TIME,
            "start": TIME,
            "end": TIME,
            "duration": {"type": "integer"},
            "randomize_start": _nullable({"type": "integer"}),
            "randomize_duration": _nullable({"type": "integer"}),
            "response_required": _nullable({"type": "string"}),
            "reply_to": _nullable({"type": "string"}),
            "device_category": {"type": "string", "pattern": "^([0-9A-F]{2}){1,4}$"},
            "device_category_bits": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 31}},
            "mandatory": {"type": "boolean"},
            "load_shift_forward": {"type": "boolean"},
            "override_duration": _nullable({"type": "integer"}),
            "controls": STRUCT,
            "cancelled_time": _nullable(TIME),
            "cancel_randomized": {"type": "boolean"},
            "status": _nullable(STATUS),
            "superseded_by": {"type": "array", "items": {"type": "string"}},
            "warnings": {
                "type": "array",
                "description": "notice rules of use case UC96, in the utility's time zone",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"enum": ["day_ahead_after_15", "day_of_after_10"]},
                        "message": {"type": "string"},
                    },
                },
            },
            **responses,
        },
    }
    interval = {
        "start": TIME_IN,
        "end": {**TIME_IN, "description": "give end or duration"},
        "duration": {"type": "integer", "minimum": 1, "description": "seconds; give end or duration"},
    }
    return {
        "DrProgram": program,
        "DrProgramList": {
            "type": "object",
            "required": ["total", "items"],
            "properties": {"total": {"type": "integer"}, "items": {"type": "array", "items": program}},
        },
        "DrProgramCreate": {
            "type": "object",
            "additionalProperties": False,
            "required": ["group_id", "primacy"],
            "properties": {"group_id": ID, **program_fields},
        },
        "DrProgramPatch": {"type": "object", "additionalProperties": False, "properties": program_fields},
        "LoadShedAvailabilityReports": {
            "type": "object",
            "required": ["total", "items"],
            "properties": {
                "total": {"type": "integer"},
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["device_id", "updated_time", "availability"],
                        "properties": {"device_id": ID, "updated_time": TIME, "availability": STRUCT},
                    },
                },
            },
        },
        "DrEvent": event,
        "DrEventList": {
            "type": "object",
            "required": ["total", "items"],
            "properties": {"total": {"type": "integer"}, "items": {"type": "array", "items": event}},
        },
        "DrEventCreate": {
            "type": "object",
            "additionalProperties": False,
            "required": ["start", "device_category", "controls"],
            "description": "exactly one of program_id and group_id; exactly one of end and duration",
            "properties": {
                "program_id": ID,
                "group_id": ID,
                "primacy": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 255,
                    "description": "of the program made for a group that had none",
                },
                **interval,
                "device_category": CATEGORY,
                "mandatory": {"type": "boolean", "description": "drProgramMandatory (default false: voluntary)"},
                "load_shift_forward": {"type": "boolean", "description": "default false"},
                "override_duration": _nullable({"type": "integer", "minimum": 0, "maximum": 65535}),
                "randomize_start": _nullable({"type": "integer", "minimum": -3600, "maximum": 3600}),
                "randomize_duration": _nullable({"type": "integer", "minimum": -3600, "maximum": 3600}),
                "description": _nullable({"type": "string", "maxLength": 32}),
                "response_required": _nullable({"type": "string", "pattern": "^[0-9A-Fa-f]{1,2}$"}),
                "controls": CONTROLS,
            },
        },
        "DrEventCancel": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"randomized": {"type": "boolean"}},
        },
        "DrEventReschedule": {
            "type": "object",
            "additionalProperties": False,
            "required": ["start"],
            "description": "exactly one of end and duration",
            "properties": {**interval, "randomized": {"type": "boolean", "description": "cancel with randomization"}},
        },
        "DrEventRescheduled": {
            "type": "object",
            "additionalProperties": False,
            "required": ["cancelled", "event"],
            "properties": {"cancelled": _ref("DrEvent"), "event": _ref("DrEvent")},
        },
    }


def paths() -> dict[str, Any]:
    return {
        f"{API}/dr-programs": {
            "post": _op(
                "Create a DemandResponseProgram for a group (2030.5 10.3)",
                {"201": _created("DrProgram"), **_errors(*BODY_ERRORS)},
                body="DrProgramCreate",
            ),
            "get": _op(
                "List DR programs",
                {"200": _json(_ref("DrProgramList"), "a page"), **_errors(400, 401)},
                params=[*PAGE, {"name": "group", "in": "query", "schema": ID}],
            ),
        },
        f"{API}/dr-programs/{{id}}": {
            "parameters": PATH_ID,
            "get": _op("A DR program", {"200": _json(_ref("DrProgram"), "the program"), **_errors(401, 404)}),
            "patch": _op(
                "Change a program's primacy, description or availability thresholds",
                {"200": _json(_ref("DrProgram"), "changed"), **_errors(*BODY_ERRORS, 404)},
                body="DrProgramPatch",
            ),
            "delete": _op("Delete a program with its events", {"204": {"description": "deleted"}, **_errors(401, 404)}),
        },
        f"{API}/dr-programs/{{id}}/load-shed-availability": {
            "parameters": PATH_ID,
            "get": _op(
                "The LoadShedAvailability the program's devices reported",
                {"200": _json(_ref("LoadShedAvailabilityReports"), "by device"), **_errors(401, 404)},
            ),
        },
        f"{API}/dr-events": {
            "post": _op(
                "Create an EndDeviceControl for a program or a group in one request",
                {"201": _created("DrEvent"), **_errors(*BODY_ERRORS, 409)},
                body="DrEventCreate",
            ),
            "get": _op(
                "List DR events, newest first",
                {"200": _json(_ref("DrEventList"), "a page"), **_errors(400, 401)},
                params=[*PAGE, {"name": "program", "in": "query", "schema": ID}],
            ),
        },
        f"{API}/dr-events/{{id}}": {
            "parameters": PATH_ID,
            "get": _op(
                "A DR event with its status, notice warnings and Responses (tally, silent devices)",
                {"200": _json(_ref("DrEvent"), "the event"), **_errors(401, 404)},
            ),
        },
        f"{API}/dr-events/{{id}}/cancel": {
            "parameters": PATH_ID,
            "post": _op(
                "Cancel a DR event (with randomization when asked)",
                {"200": _json(_ref("DrEvent"), "cancelled"), **_errors(*BODY_ERRORS, 404)},
                body="DrEventCancel",
            ),
        },
        f"{API}/dr-events/{{id}}/reschedule": {
            "parameters": PATH_ID,
            "post": _op(
                "Reschedule a DR event: cancel it and issue a copy with the new interval",
                {"201": _created("DrEventRescheduled"), **_errors(*BODY_ERRORS, 404, 409)},
                body="DrEventReschedule",
            ),
        },
    }
