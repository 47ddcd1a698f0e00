"""Building blocks of the admin API's OpenAPI 3.1 document, shared by the modules that describe their
routes (:mod:`gridhan.server.admin.openapi` merges them)."""

from __future__ import annotations

from typing import Any

from gridhan.server.admin.validation import INT32_MAX

#: Errors every operation with a JSON body may answer.
BODY_ERRORS = (400, 401, 413, 415)
ID: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": INT32_MAX}
TIME: dict[str, Any] = {"type": "integer", "description": "TimeType: seconds since 1970-01-01T00:00:00Z"}
PATH_ID = [{"$ref": "#/components/parameters/id"}]
PAGE = [{"$ref": "#/components/parameters/offset"}, {"$ref": "#/components/parameters/limit"}]
_ERROR_RESPONSES = {
    400: "BadRequest",
    401: "Unauthorized",
    404: "NotFound",
    409: "Conflict",
    413: "TooLarge",
    415: "UnsupportedMediaType",
}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def json_content(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors(*statuses: int) -> dict[str, Any]:
    return {str(s): {"$ref": f"#/components/responses/{_ERROR_RESPONSES[s]}"} for s in statuses}
