"""The OpenAPI description of the software download and firmware campaign routes
(:mod:`gridhan.server.admin.files`), merged into the document of :mod:`gridhan.server.admin.openapi`."""

from __future__ import annotations

from typing import Any

from gridhan.server.admin.apidoc import BODY_ERRORS, ID, PAGE, PATH_ID, TIME
from gridhan.server.admin.apidoc import errors as _errors
from gridhan.server.admin.apidoc import json_content as _json
from gridhan.server.admin.apidoc import nullable as _nullable
from gridhan.server.admin.apidoc import ref as _ref
from gridhan.server.admin.files import STATUS_NAMES, TYPE_NAMES
from gridhan.server.admin.serialize import API

LFDI = {"type": "string", "pattern": "^[0-9A-Fa-f]{40}$"}
TIME_IN = {"anyOf": [TIME, {"type": "string", "format": "date-time"}]}
COUNTS = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}


def _op(summary: str, responses: dict[str, Any], body: str | None = None, params: list | None = None) -> dict:
    op: dict[str, Any] = {"summary": summary, "responses": responses, "tags": ["files"]}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if params:
        op["parameters"] = params
    return op


def _located(name: str, description: str) -> dict[str, Any]:
    return {**_json(_ref(name), description), "headers": {"Location": {"schema": {"type": "string"}}}}


def _list(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["total", "items"],
        "properties": {"total": {"type": "integer"}, "items": {"type": "array", "items": _ref(item)}},
    }


def schemas() -> dict[str, Any]:
    target_properties = {
        "group_ids": {"type": "array", "items": ID},
        "device_ids": {"type": "array", "items": ID},
        "lfdis": {"type": "array", "items": LFDI},
        "everyone": {"type": "boolean"},
    }
    target = {
        "type": "object",
        "additionalProperties": False,
        "description": "who the stage adds: at least one group, device or LFDI, or everyone",
        "properties": target_properties,
    }
    stage = {
        "type": "object",
        "required": ["stage", "added_time", "group_ids", "device_ids", "everyone"],
        "properties": {"stage": {"type": "integer", "minimum": 1}, "added_time": TIME, **target_properties},
    }
    status = {
        "type": "object",
        "required": ["device_id", "status", "status_name", "statusTime", "received_time"],
        "properties": {
            "device_id": ID,
            "status": {"type": "integer", "minimum": 0, "maximum": 8},
            "status_name": {"enum": list(STATUS_NAMES)},
            "statusTime": TIME,
            "received_time": TIME,
            "loadPercent": {"type": "integer", "minimum": 0, "maximum": 100},
            "request503Count": {"type": "integer"},
            "requestFailCount": {"type": "integer"},
            "nextRequestAttempt": TIME,
            "activateTime": _nullable(TIME),
        },
    }
    return {
        "FileImage": {
            "type": "object",
            "required": ["id", "sha256", "size", "uploaded_time"],
            "properties": {
                "id": ID,
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "size": {"type": "integer", "minimum": 1},
                "name": _nullable({"type": "string"}),
                "uploaded_time": TIME,
            },
        },
        "FileImageList": _list("FileImage"),
        "File": {
            "type": "object",
            "required": [
                "id",
                "href",
                "fileURI",
                "image_id",
                "sha256",
                "size",
                "mfID",
                "mfModel",
                "mfVer",
                "type",
                "stages",
                "warnings",
            ],
            "properties": {
                "id": ID,
                "href": {"type": "string", "description": "the File's 2030.5 address"},
                "fileURI": {"type": "string"},
                "image_id": ID,
                "sha256": {"type": "string"},
                "size": {"type": "integer"},
                "mfID": {"type": "integer"},
                "mfModel": {"type": "string"},
                "mfVer": {"type": "string"},
                "mfHwVer": _nullable({"type": "string"}),
                "mfSerNum": _nullable({"type": "string"}),
                "type": {"type": "string", "pattern": "^[0-9A-F]{4}$"},
                "activateTime": _nullable(TIME),
                "lFDI": _nullable({"type": "string"}),
                "description": _nullable({"type": "string"}),
                "created_time": TIME,
                "withdrawn_time": _nullable(TIME),
                "stages": {"type": "array", "items": stage},
                "warnings": {"type": "array", "items": {"type": "string"}},
                "status": {"type": "string", "description": "where the campaign status is"},
            },
        },
        "FileList": _list("File"),
        "FileCreate": {
            "type": "object",
            "additionalProperties": False,
            "required": ["image_id", "mfID", "mfModel", "mfVer", "target"],
            "properties": {
                "image_id": ID,
                "mfID": {"type": "integer", "minimum": 0, "maximum": 2**32 - 1, "description": "IANA PEN"},
                "mfModel": {"type": "string", "minLength": 1, "maxLength": 32},
                "mfVer": {"type": "string", "minLength": 1, "maxLength": 16},
                "mfHwVer": _nullable({"type": "string", "minLength": 1, "maxLength": 32}),
                "mfSerNum": _nullable({"type": "string", "minLength": 1, "maxLength": 32}),
                "type": {
                    "type": "string",
                    "description": f"hex (0000, 0001, 0002, 0003, 8000-FFFF) or one of {', '.join(TYPE_NAMES)}",
                },
                "activateTime": _nullable(TIME_IN),
                "lFDI": _nullable(LFDI),
                "description": _nullable({"type": "string", "maxLength": 64}),
                "target": target,
            },
        },
        "FilePatch": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "activateTime": _nullable(TIME_IN),
                "description": _nullable({"type": "string", "maxLength": 64}),
            },
        },
        "FileStage": target,
        "FileStatusReport": status,
        "FileStatusHistory": _list("FileStatusReport"),
        "FileCampaign": {
            "type": "object",
            "required": ["file_id", "href", "targeted", "reported", "not_reported", "by_status", "stages", "devices"],
            "properties": {
                "file_id": ID,
                "href": {"type": "string"},
                "mfVer": {"type": "string"},
                "withdrawn": {"type": "boolean"},
                "targeted": {"type": "integer"},
                "reported": {"type": "integer"},
                "not_reported": {"type": "integer"},
                "activated": {"type": "integer"},
                "failed": {"type": "integer"},
                "by_status": COUNTS,
                "request503_total": {"type": "integer"},
                "running_versions": {**COUNTS, "description": "DeviceInformation swVer -> devices"},
                "stages": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["stage", "targeted", "by_status"],
                        "properties": {
                            "stage": {"type": "integer"},
                            "targeted": {"type": "integer"},
                            "by_status": COUNTS,
                        },
                    },
                },
                "devices": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "lfdi", "stage", "status"],
                        "properties": {
                            "id": ID,
                            "lfdi": {"type": "string"},
                            "stage": {"type": "integer"},
                            "swVer": _nullable({"type": "string"}),
                            "status": _nullable(status),
                        },
                    },
                },
            },
        },
    }


def paths() -> dict[str, Any]:
    upload = {
        "summary": "Upload a file image (the raw body, streamed to disk; at most file_max_bytes)",
        "tags": ["files"],
        "parameters": [{"name": "name", "in": "query", "schema": {"type": "string", "maxLength": 128}}],
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        },
        "responses": {
            "201": _located("FileImage", "stored"),
            "200": _located("FileImage", "an image with these bytes exists already"),
            **_errors(400, 401, 413, 415),
        },
    }
    return {
        f"{API}/file-images": {
            "post": upload,
            "get": _op(
                "List file images", {"200": _json(_ref("FileImageList"), "a page"), **_errors(400, 401)}, params=PAGE
            ),
        },
        f"{API}/file-images/{{id}}": {
            "parameters": PATH_ID,
            "get": _op("A file image", {"200": _json(_ref("FileImage"), "the image"), **_errors(401, 404)}),
            "delete": _op(
                "Delete a file image no File offers", {"204": {"description": "deleted"}, **_errors(401, 404, 409)}
            ),
        },
        f"{API}/files": {
            "post": _op(
                "Announce a File (2030.5 9.8) for an image, with the first stage of its campaign",
                {"201": _located("File", "created"), **_errors(*BODY_ERRORS)},
                body="FileCreate",
            ),
            "get": _op(
                "List Files",
                {"200": _json(_ref("FileList"), "a page"), **_errors(400, 401)},
                params=[*PAGE, {"name": "withdrawn", "in": "query", "schema": {"enum": [0, 1], "default": 1}}],
            ),
        },
        f"{API}/files/{{id}}": {
            "parameters": PATH_ID,
            "get": _op("A File and its campaign stages", {"200": _json(_ref("File"), "the File"), **_errors(401, 404)}),
            "patch": _op(
                "Set or clear activateTime (activate on command or at a set time), or the description",
                {"200": _json(_ref("File"), "changed"), **_errors(*BODY_ERRORS, 404, 409)},
                body="FilePatch",
            ),
        },
        f"{API}/files/{{id}}/stages": {
            "parameters": PATH_ID,
            "post": _op(
                "Widen the campaign: the next stage's targets",
                {"200": _json(_ref("File"), "widened"), **_errors(*BODY_ERRORS, 404, 409)},
                body="FileStage",
            ),
        },
        f"{API}/files/{{id}}/withdraw": {
            "parameters": PATH_ID,
            "post": _op(
                "Withdraw a File: devices no longer see it or its content",
                {"200": _json(_ref("File"), "withdrawn"), **_errors(401, 404)},
            ),
        },
        f"{API}/files/{{id}}/status": {
            "parameters": PATH_ID,
            "get": _op(
                "Campaign status: FileStatus tallies per load status and stage, devices that never reported",
                {"200": _json(_ref("FileCampaign"), "the campaign"), **_errors(401, 404)},
            ),
        },
        f"{API}/files/{{id}}/history": {
            "parameters": PATH_ID,
            "get": _op(
                "Every FileStatus reported about the File, newest first",
                {"200": _json(_ref("FileStatusHistory"), "a page"), **_errors(400, 401, 404)},
                params=[*PAGE, {"name": "device", "in": "query", "schema": ID}],
            ),
        },
    }
