"""The OpenAPI description of the DER admin routes (:mod:`gridhan.server.admin.der`), merged into the
document of :mod:`gridhan.server.admin.openapi`."""

from __future__ import annotations

from typing import Any

from gridhan.server.admin.apidoc import BODY_ERRORS, ID, PAGE, PATH_ID, TIME
from gridhan.server.admin.apidoc import errors as _errors
from gridhan.server.admin.apidoc import json_content as _json
from gridhan.server.admin.apidoc import nullable as _nullable
from gridhan.server.admin.apidoc import ref as _ref
from gridhan.server.admin.serialize import API

STRUCT = {"type": "object", "description": "a 2030.5 structure in JSON, with the schema's member names"}


def _op(summary: str, responses: dict[str, Any], body: str | None = None, params: list | None = None) -> dict:
    op: dict[str, Any] = {"summary": summary, "responses": responses, "tags": ["der"]}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if params:
        op["parameters"] = params
    return op


def _created(name: str) -> dict[str, Any]:
    return {**_json(_ref(name), "created"), "headers": {"Location": {"schema": {"type": "string"}}}}


def schemas() -> dict[str, Any]:
    status = {
        "type": "object",
        "required": ["current_status", "name", "date_time", "potentially_superseded"],
        "properties": {
            "current_status": {"type": "integer", "minimum": 0, "maximum": 4},
            "name": {"enum": ["scheduled", "active", "cancelled", "cancelled_with_randomization", "superseded"]},
            "date_time": TIME,
            "potentially_superseded": {"type": "boolean"},
            "potentially_superseded_time": _nullable(TIME),
        },
    }
    program = {
        "type": "object",
        "required": ["id", "href", "group_id", "mrid", "primacy", "version", "created_time"],
        "properties": {
            "id": ID,
            "href": {"type": "string"},
            "group_id": ID,
            "mrid": {"type": "string"},
            "description": _nullable({"type": "string"}),
            "primacy": {"type": "integer"},
            "version": {"type": "integer"},
            "created_time": TIME,
        },
    }
    control = {
        "type": "object",
        "required": ["id", "href", "mrid", "program_id", "group_id", "start", "duration", "base", "modes", "status"],
        "properties": {
            "id": ID,
            "href": {"type": "string"},
            "mrid": {"type": "string"},
            "program_id": ID,
            "group_id": ID,
            "description": _nullable({"type": "string"}),
            "creation_time": TIME,
            "start": TIME,
            "duration": {"type": "integer"},
            "randomize_start": _nullable({"type": "integer"}),
            "randomize_duration": _nullable({"type": "integer"}),
            "response_required": _nullable({"type": "string"}),
            "base": STRUCT,
            "modes": {"type": "array", "items": {"type": "string"}},
            "cancelled_time": _nullable(TIME),
            "cancel_randomized": {"type": "boolean"},
            "status": _nullable(status),
            "superseded_by": {"type": "array", "items": {"type": "string"}},
            "responses": {"type": "string", "description": "where the Responses to this control are tallied"},
        },
    }
    return {
        "DerProgram": program,
        "DerProgramList": {
            "type": "object",
            "required": ["total", "items"],
            "properties": {"total": {"type": "integer"}, "items": {"type": "array", "items": program}},
        },
        "DerProgramCreate": {
            "type": "object",
            "additionalProperties": False,
            "required": ["group_id", "primacy"],
            "properties": {
                "group_id": ID,
                "primacy": {"type": "integer", "minimum": 0, "maximum": 255},
                "description": _nullable({"type": "string", "maxLength": 32}),
            },
        },
        "DerProgramPatch": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "primacy": {"type": "integer", "minimum": 0, "maximum": 255},
                "description": _nullable({"type": "string", "maxLength": 32}),
            },
        },
        "DerDefaultControl": {
            "type": "object",
            "required": ["mrid", "version", "updated_time", "control"],
            "properties": {
                "mrid": {"type": "string"},
                "version": {"type": "integer"},
                "updated_time": TIME,
                "control": STRUCT,
            },
        },
        "DerDefaultControlPut": {**STRUCT, "description": "a DefaultDERControl without href, mRID, version"},
        "DerCurve": {
            "type": "object",
            "required": ["id", "href", "program_id", "mrid", "creation_time", "curve"],
            "properties": {
                "id": ID,
                "href": {"type": "string"},
                "program_id": ID,
                "mrid": {"type": "string"},
                "creation_time": TIME,
                "curve": STRUCT,
            },
        },
        "DerCurveList": {
            "type": "object",
            "required": ["total", "items"],
            "properties": {"total": {"type": "integer"}, "items": {"type": "array", "items": _ref("DerCurve")}},
        },
        "DerCurveCreate": {**STRUCT, "description": "a DERCurve without href, mRID, creationTime"},
        "DerControl": control,
        "DerControlList": {
            "type": "object",
            "required": ["total", "items"],
            "properties": {"total": {"type": "integer"}, "items": {"type": "array", "items": control}},
        },
        "DerControlCreate": {
            "type": "object",
            "additionalProperties": False,
            "required": ["start", "duration", "base"],
            "description": "exactly one of program_id, group_id and device_ids",
            "properties": {
                "program_id": ID,
                "group_id": ID,
                "device_ids": {"type": "array", "items": ID},
                "primacy": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 255,
                    "description": "of the program made for a group or devices that had none",
                },
                "start": {"anyOf": [TIME, {"type": "string", "format": "date-time"}]},
                "duration": {"type": "integer", "minimum": 1},
                "randomize_start": _nullable({"type": "integer", "minimum": -3600, "maximum": 3600}),
                "randomize_duration": _nullable({"type": "integer", "minimum": -3600, "maximum": 3600}),
                "description": _nullable({"type": "string", "maxLength": 32}),
                "response_required": _nullable({"type": "string", "pattern": "^[0-9A-Fa-f]{1,2}$"}),
                "base": {
                    **STRUCT,
                    "description": 'DERControlBase, e.g. {"opModExpLimW": {"value": 5000, "multiplier": 0}}',
                },
            },
        },
        "DerCancel": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"randomized": {"type": "boolean"}},
        },
    }


def paths() -> dict[str, Any]:
    return {
        f"{API}/der-programs": {
            "post": _op(
                "Create a DERProgram for a group (2030.5 10.10)",
                {"201": _created("DerProgram"), **_errors(*BODY_ERRORS)},
                body="DerProgramCreate",
            ),
            "get": _op(
                "List DER programs",
                {"200": _json(_ref("DerProgramList"), "a page"), **_errors(400, 401)},
                params=[*PAGE, {"name": "group", "in": "query", "schema": ID}],
            ),
        },
        f"{API}/der-programs/{{id}}": {
            "parameters": PATH_ID,
            "get": _op("A DER program", {"200": _json(_ref("DerProgram"), "the program"), **_errors(401, 404)}),
            "patch": _op(
                "Change a program's primacy or description",
                {"200": _json(_ref("DerProgram"), "changed"), **_errors(*BODY_ERRORS, 404)},
                body="DerProgramPatch",
            ),
            "delete": _op(
                "Delete a program with its controls, default control and curves",
                {"204": {"description": "deleted"}, **_errors(401, 404)},
            ),
        },
        f"{API}/der-programs/{{id}}/default-control": {
            "parameters": PATH_ID,
            "get": _op("The DefaultDERControl", {"200": _json(_ref("DerDefaultControl"), "it"), **_errors(401, 404)}),
            "put": _op(
                "Set the DefaultDERControl",
                {"200": _json(_ref("DerDefaultControl"), "set"), **_errors(*BODY_ERRORS, 404)},
                body="DerDefaultControlPut",
            ),
            "delete": _op("Remove the DefaultDERControl", {"204": {"description": "removed"}, **_errors(401, 404)}),
        },
        f"{API}/der-programs/{{id}}/curves": {
            "parameters": PATH_ID,
            "get": _op(
                "The program's DERCurves",
                {"200": _json(_ref("DerCurveList"), "a page"), **_errors(400, 401, 404)},
                params=PAGE,
            ),
            "post": _op(
                "Add a DERCurve", {"201": _created("DerCurve"), **_errors(*BODY_ERRORS, 404)}, body="DerCurveCreate"
            ),
        },
        f"{API}/der-curves/{{id}}": {
            "parameters": PATH_ID,
            "delete": _op("Delete a DERCurve", {"204": {"description": "deleted"}, **_errors(401, 404)}),
        },
        f"{API}/der-controls": {
            "post": _op(
                "Create a DERControl for a program, a group or a list of devices",
                {"201": _created("DerControl"), **_errors(*BODY_ERRORS, 409)},
                body="DerControlCreate",
            ),
            "get": _op(
                "List DER controls, newest first",
                {"200": _json(_ref("DerControlList"), "a page"), **_errors(400, 401)},
                params=[*PAGE, {"name": "program", "in": "query", "schema": ID}],
            ),
        },
        f"{API}/der-controls/{{id}}": {
            "parameters": PATH_ID,
            "get": _op(
                "A DER control with its status now",
                {"200": _json(_ref("DerControl"), "the control"), **_errors(401, 404)},
            ),
        },
        f"{API}/der-controls/{{id}}/cancel": {
            "parameters": PATH_ID,
            "post": _op(
                "Cancel a DER control (with randomization when asked)",
                {"200": _json(_ref("DerControl"), "cancelled"), **_errors(*BODY_ERRORS, 404)},
                body="DerCancel",
            ),
        },
    }
