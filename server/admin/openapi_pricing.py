"""The OpenAPI description of the pricing admin routes (:mod:`gridhan.server.admin.pricing`), merged into the
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
PRICE = {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1,
         "description": "Int32, x 10^price_power_of_ten of the profile, per unit of the ReadingType"}  # fmt: skip
AMOUNT = {"type": "string", "description": "the price in currency, exact decimal (price x 10^multiplier)"}
START = {"anyOf": [TIME, {"type": "string", "format": "date-time"}]}


def _op(summary: str, responses: dict[str, Any], body: str | None = None, params: list | None = None) -> dict:
    op: dict[str, Any] = {"summary": summary, "responses": responses, "tags": ["pricing"]}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if params:
        op["parameters"] = params
    return op


def _created(name: str) -> dict[str, Any]:
    return {**_json(_ref(name), "created"), "headers": {"Location": {"schema": {"type": "string"}}}}


def _page_of(name: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["total", "items"],
        "properties": {"total": {"type": "integer"}, "items": {"type": "array", "items": _ref(name)}},
    }


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
    block_out = {
        "type": "object",
        "required": ["start_value", "price", "amount"],
        "properties": {"start_value": {"type": "integer"}, "price": _nullable(PRICE), "amount": _nullable(AMOUNT)},
    }
    block_in = {
        "type": "object",
        "additionalProperties": False,
        "required": ["start_value", "price"],
        "properties": {"start_value": {"type": "integer", "minimum": 0, "maximum": 2**48 - 1}, "price": PRICE},
    }
    entry = {
        "tier": {"type": "integer", "minimum": 0, "maximum": 15, "description": "TOUType: 0 n/a, 1..15 tiers A..O"},
        "price": PRICE,
        "blocks": {
            "type": "array",
            "minItems": 1,
            "maxItems": 16,
            "items": block_in,
            "description": "block prices: the first start_value 0, each greater than the one before",
        },
    }
    event = {
        "description": _nullable({"type": "string", "maxLength": 32}),
        "response_required": _nullable({"type": "string", "pattern": "^[0-9A-Fa-f]{1,2}$"}),
        "randomize_start": _nullable({"type": "integer", "minimum": -3600, "maximum": 3600}),
        "randomize_duration": _nullable({"type": "integer", "minimum": -3600, "maximum": 3600}),
    }
    price_view = {
        "type": "object",
        "required": ["interval_id", "mrid", "tier", "start", "end", "price", "amount", "display", "blocks"],
        "properties": {
            "interval_id": ID,
            "mrid": {"type": "string"},
            "tier": {"type": "integer"},
            "start": TIME,
            "end": TIME,
            "price": _nullable(PRICE),
            "amount": _nullable(AMOUNT),
            "display": _nullable({"type": "string", "description": "the price to 0.01 of the currency"}),
            "blocks": {"type": "array", "items": block_out},
        },
    }
    profile_fields = {
        "currency": {"type": "integer", "minimum": 1, "maximum": 999, "description": "ISO 4217 numeric code"},
        "price_power_of_ten": {"type": "integer", "minimum": -9, "maximum": 9},
        "primacy": {"type": "integer", "minimum": 0, "maximum": 255},
        "rate_code": _nullable({"type": "string", "maxLength": 20}),
        "service_category_kind": {"type": "integer", "minimum": 0, "maximum": 6, "description": "0 electricity"},
        "description": _nullable({"type": "string", "maxLength": 32}),
    }
    profile = {
        "type": "object",
        "required": ["id", "href", "group_id", "mrid", "currency", "price_power_of_ten", "primacy", "version"],
        "properties": {
            "id": ID,
            "href": {"type": "string"},
            "group_id": ID,
            "mrid": {"type": "string"},
            **profile_fields,
            "version": {"type": "integer"},
            "created_time": TIME,
        },
    }
    return {
        "TariffProfile": profile,
        "TariffProfileList": _page_of("TariffProfile"),
        "TariffProfileCreate": {
            "type": "object",
            "additionalProperties": False,
            "required": ["group_id", "currency", "price_power_of_ten", "primacy"],
            "properties": {"group_id": ID, **profile_fields},
        },
        "TariffProfilePatch": {
            "type": "object",
            "additionalProperties": False,
            "properties": {k: profile_fields[k] for k in ("primacy", "rate_code", "description")},
        },
        "RateComponent": {
            "type": "object",
            "required": ["id", "href", "profile_id", "mrid", "role_flags", "direction", "reading_type"],
            "properties": {
                "id": ID,
                "href": {"type": "string"},
                "profile_id": ID,
                "mrid": {"type": "string"},
                "description": _nullable({"type": "string"}),
                "role_flags": {"type": "string"},
                "direction": _nullable({"enum": ["import", "export"]}),
                "reading_type": STRUCT,
                "flow_rate_start_limit": _nullable(STRUCT),
                "flow_rate_end_limit": _nullable(STRUCT),
                "version": {"type": "integer"},
                "created_time": TIME,
            },
        },
        "RateComponentList": _page_of("RateComponent"),
        "RateComponentCreate": {
            "type": "object",
            "additionalProperties": False,
            "required": ["profile_id", "reading_type"],
            "properties": {
                "profile_id": ID,
                "description": _nullable({"type": "string", "maxLength": 32}),
                "role_flags": {"type": "string", "pattern": "^[0-9A-Fa-f]{1,4}$", "description": "RoleFlagsType"},
                "reading_type": {
                    **STRUCT,
                    "description": "a ReadingType with flowDirection (1 import, 19 export) and uom, e.g. "
                    '{"flowDirection": 1, "uom": 72, "powerOfTenMultiplier": 3, "numberOfTouTiers": 4}',
                },
                "flow_rate_start_limit": _nullable({**STRUCT, "description": "UnitValueType"}),
                "flow_rate_end_limit": _nullable({**STRUCT, "description": "UnitValueType; needs the start"}),
            },
        },
        "RateComponentPatch": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"description": _nullable({"type": "string", "maxLength": 32})},
        },
        "TariffInterval": {
            "type": "object",
            "required": ["id", "href", "mrid", "rate_component_id", "start", "duration", "tier", "blocks", "status"],
            "properties": {
                "id": ID,
                "href": {"type": "string"},
                "mrid": {"type": "string"},
                "rate_component_id": ID,
                "profile_id": ID,
                "description": _nullable({"type": "string"}),
                "creation_time": TIME,
                "start": TIME,
                "duration": {"type": "integer"},
                "tier": {"type": "integer"},
                "blocks": {"type": "array", "items": block_out},
                "randomize_start": _nullable({"type": "integer"}),
                "randomize_duration": _nullable({"type": "integer"}),
                "response_required": _nullable({"type": "string"}),
                "cancelled_time": _nullable(TIME),
                "cancel_randomized": {"type": "boolean"},
                "status": _nullable(status),
                "superseded_by": {"type": "array", "items": {"type": "string"}},
                "responses": {"type": "string", "description": "where the PriceResponses are tallied"},
            },
        },
        "TariffIntervalList": _page_of("TariffInterval"),
        "TariffIntervalCreate": {
            "type": "object",
            "additionalProperties": False,
            "required": ["start", "duration", "tier"],
            "description": "exactly one of price and blocks",
            "properties": {"start": START, "duration": {"type": "integer", "minimum": 1}, **entry, **event},
        },
        "TariffSchedule": {
            "type": "object",
            "additionalProperties": False,
            "required": ["start", "intervals"],
            "properties": {
                "start": START,
                "interval_length": {"type": "integer", "minimum": 60, "maximum": 86400, "default": 3600},
                "intervals": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 1000,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["tier"],
                        "description": "exactly one of price and blocks; start and duration default to "
                        "the previous entry's end and interval_length",
                        "properties": {**entry, "start": START, "duration": {"type": "integer", "minimum": 1}},
                    },
                },
                **event,
            },
        },
        "TariffScheduleResult": {
            "type": "object",
            "required": ["rate_component_id", "total", "items"],
            "properties": {
                "rate_component_id": ID,
                "total": {"type": "integer"},
                "items": {"type": "array", "items": _ref("TariffInterval")},
            },
        },
        "TariffCancel": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"randomized": {"type": "boolean"}},
        },
        "GroupPrices": {
            "type": "object",
            "required": ["group_id", "time", "profiles"],
            "properties": {
                "group_id": ID,
                "time": TIME,
                "profiles": {
                    "type": "array",
                    "items": {
                        "allOf": [_ref("TariffProfile")],
                        "required": ["rate_components"],
                        "properties": {
                            "rate_components": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["rate_component_id", "mrid", "direction", "current", "next"],
                                    "properties": {
                                        "rate_component_id": ID,
                                        "mrid": {"type": "string"},
                                        "description": _nullable({"type": "string"}),
                                        "direction": _nullable({"enum": ["import", "export"]}),
                                        "current": _nullable(price_view),
                                        "next": _nullable(
                                            {
                                                "type": "object",
                                                "required": ["at", "price"],
                                                "properties": {"at": TIME, "price": _nullable(price_view)},
                                            }
                                        ),
                                    },
                                },
                            }
                        },
                    },
                },
            },
        },
    }


def paths() -> dict[str, Any]:
    return {
        f"{API}/tariff-profiles": {
            "post": _op(
                "Create a TariffProfile for a group (2030.5 10.5)",
                {"201": _created("TariffProfile"), **_errors(*BODY_ERRORS)},
                body="TariffProfileCreate",
            ),
            "get": _op(
                "List tariff profiles",
                {"200": _json(_ref("TariffProfileList"), "a page"), **_errors(400, 401)},
                params=[*PAGE, {"name": "group", "in": "query", "schema": ID}],
            ),
        },
        f"{API}/tariff-profiles/{{id}}": {
            "parameters": PATH_ID,
            "get": _op("A tariff profile", {"200": _json(_ref("TariffProfile"), "the profile"), **_errors(401, 404)}),
            "patch": _op(
                "Change a profile's primacy, rate code or description",
                {"200": _json(_ref("TariffProfile"), "changed"), **_errors(*BODY_ERRORS, 404)},
                body="TariffProfilePatch",
            ),
            "delete": _op(
                "Delete a profile with its rate components and intervals",
                {"204": {"description": "deleted"}, **_errors(401, 404)},
            ),
        },
        f"{API}/rate-components": {
            "post": _op(
                "Create a RateComponent (what is priced: import or export energy, ...)",
                {"201": _created("RateComponent"), **_errors(*BODY_ERRORS)},
                body="RateComponentCreate",
            ),
            "get": _op(
                "List rate components",
                {"200": _json(_ref("RateComponentList"), "a page"), **_errors(400, 401)},
                params=[*PAGE, {"name": "profile", "in": "query", "schema": ID}],
            ),
        },
        f"{API}/rate-components/{{id}}": {
            "parameters": PATH_ID,
            "get": _op("A rate component", {"200": _json(_ref("RateComponent"), "it"), **_errors(401, 404)}),
            "patch": _op(
                "Change a rate component's description",
                {"200": _json(_ref("RateComponent"), "changed"), **_errors(*BODY_ERRORS, 404)},
                body="RateComponentPatch",
            ),
            "delete": _op(
                "Delete a rate component with its intervals", {"204": {"description": "deleted"}, **_errors(401, 404)}
            ),
        },
        f"{API}/rate-components/{{id}}/schedule": {
            "parameters": PATH_ID,
            "post": _op(
                "Publish a schedule (day-ahead 24 x 1 h, real-time 96 x 15 min, TOU periods) in one request",
                {"201": _json(_ref("TariffScheduleResult"), "published"), **_errors(*BODY_ERRORS, 404, 409)},
                body="TariffSchedule",
            ),
        },
        f"{API}/rate-components/{{id}}/intervals": {
            "parameters": PATH_ID,
            "post": _op(
                "Publish one interval (e.g. a critical peak, superseding what it overlaps)",
                {"201": _created("TariffInterval"), **_errors(*BODY_ERRORS, 404, 409)},
                body="TariffIntervalCreate",
            ),
            "get": _op(
                "The rate component's intervals with their status now (Table 42 order)",
                {"200": _json(_ref("TariffIntervalList"), "a page"), **_errors(400, 401, 404)},
                params=PAGE,
            ),
        },
        f"{API}/tariff-intervals/{{id}}": {
            "parameters": PATH_ID,
            "get": _op(
                "A tariff interval with its status now",
                {"200": _json(_ref("TariffInterval"), "the interval"), **_errors(401, 404)},
            ),
        },
        f"{API}/tariff-intervals/{{id}}/cancel": {
            "parameters": PATH_ID,
            "post": _op(
                "Cancel a tariff interval (with randomization when asked)",
                {"200": _json(_ref("TariffInterval"), "cancelled"), **_errors(*BODY_ERRORS, 404)},
                body="TariffCancel",
            ),
        },
        f"{API}/groups/{{id}}/prices": {
            "parameters": PATH_ID,
            "get": _op(
                "The price in force now and the next change, per rate component of the group's tariffs",
                {"200": _json(_ref("GroupPrices"), "current and next prices"), **_errors(401, 404)},
            ),
        },
    }
