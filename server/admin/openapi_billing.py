"""The OpenAPI description of the billing, prepayment and pushed-usage-point admin routes
(:mod:`gridhan.server.admin.billing`, :mod:`~gridhan.server.admin.prepayment`,
:mod:`~gridhan.server.admin.usage_points`), merged into :mod:`gridhan.server.admin.openapi`."""

from __future__ import annotations

from typing import Any

from gridhan.server.admin.apidoc import BODY_ERRORS, ID, PAGE, PATH_ID, TIME
from gridhan.server.admin.apidoc import errors as _errors
from gridhan.server.admin.apidoc import json_content as _json
from gridhan.server.admin.apidoc import nullable as _nullable
from gridhan.server.admin.apidoc import ref as _ref
from gridhan.server.admin.serialize import API

STRUCT = {"type": "object", "description": "a 2030.5 structure in JSON, with the schema's member names"}
_STR = {"type": "string"}
_INT = {"type": "integer"}


def _op(tag: str, summary: str, responses: dict[str, Any], body: str | None = None, params: list | None = None) -> dict:
    op: dict[str, Any] = {"summary": summary, "responses": responses, "tags": [tag]}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if params:
        op["parameters"] = params
    return op


def _created(name: str) -> dict[str, Any]:
    return {**_json(_ref(name), "created"), "headers": {"Location": {"schema": _STR}}}


def _obj(required: list[str], properties: dict[str, Any], closed: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "required": required, "properties": properties}
    if closed:
        schema["additionalProperties"] = False
    return schema


def _list(item: str) -> dict[str, Any]:
    return _obj(["total", "items"], {"total": _INT, "items": {"type": "array", "items": _ref(item)}})


def _deleted(tag: str, what: str) -> dict[str, Any]:
    return _op(tag, f"Delete {what}", {"204": {"description": "deleted"}, **_errors(401, 404)})


def schemas() -> dict[str, Any]:
    power = {"type": "integer", "minimum": -9, "maximum": 9}
    amount = _nullable({"type": "integer", "description": "x 10^price_power_of_ten_multiplier"})
    reading_set_in = _obj(
        ["start", "duration", "readings"],
        {
            "mrid": {"type": "string", "pattern": "^[0-9A-Fa-f]{1,32}$", "description": "the same again replaces"},
            "description": _nullable({"type": "string", "maxLength": 32}),
            "start": TIME,
            "duration": {"type": "integer", "minimum": 0},
            "readings": {"type": "array", "minItems": 1, "maxItems": 1440, "items": STRUCT},
        },
        closed=True,
    )
    return {
        "Account": _obj(
            ["id", "href", "mrid", "currency", "price_power_of_ten_multiplier", "device_ids", "group_ids"],
            {
                "id": ID,
                "href": _STR,
                "mrid": _STR,
                "description": _nullable(_STR),
                "version": _INT,
                "currency": {"type": "integer", "description": "ISO 4217 numeric code"},
                "price_power_of_ten_multiplier": power,
                "customer_name": _nullable(_STR),
                "customer_account": _nullable(_STR),
                "supplier": _nullable(STRUCT),
                "device_ids": {"type": "array", "items": ID},
                "group_ids": {"type": "array", "items": ID},
            },
        ),
        "AccountList": _list("Account"),
        "AccountIn": _obj(
            [],
            {
                "currency": {"type": "integer", "minimum": 1, "maximum": 999},
                "price_power_of_ten_multiplier": power,
                "customer_name": _nullable({"type": "string", "maxLength": 42}),
                "customer_account": _nullable({"type": "string", "maxLength": 42}),
                "description": _nullable({"type": "string", "maxLength": 32}),
                "supplier": _nullable({**STRUCT, "description": "a ServiceSupplier without href, mRID"}),
            },
            closed=True,
        ),
        "AccountAudience": _obj(
            [], {"device_ids": {"type": "array", "items": ID}, "group_ids": {"type": "array", "items": ID}}, True
        ),
        "AccountSummary": _obj(
            ["account_id", "currency", "time", "agreements"],
            {
                "account_id": ID,
                "currency": _INT,
                "time": TIME,
                "agreements": {
                    "type": "array",
                    "items": _obj(
                        ["agreement_id", "current_period"],
                        {
                            "agreement_id": ID,
                            "current_period": _nullable(
                                _obj(
                                    ["billing_period_id", "start", "end", "bill_to_date", "projected_bill"],
                                    {
                                        "billing_period_id": ID,
                                        "start": TIME,
                                        "end": TIME,
                                        "bill_to_date": _nullable({**_STR, "description": "to the cent"}),
                                        "projected_bill": _nullable({**_STR, "description": "linear, to the cent"}),
                                        "bill_last_period": _nullable(_STR),
                                    },
                                )
                            ),
                        },
                    ),
                },
            },
        ),
        "Agreement": _obj(
            ["id", "href", "account_id", "mrid"],
            {
                "id": ID,
                "href": _STR,
                "account_id": ID,
                "mrid": _STR,
                "description": _nullable(_STR),
                "service_account": _nullable(_STR),
                "service_location": _nullable(_STR),
                "usage_point_id": _nullable(ID),
                "tariff_profile_href": _nullable(_STR),
            },
        ),
        "AgreementIn": _obj(
            [],
            {
                "description": _nullable({"type": "string", "maxLength": 32}),
                "service_account": _nullable({"type": "string", "maxLength": 42}),
                "service_location": _nullable({"type": "string", "maxLength": 42}),
                "usage_point_id": _nullable(ID),
                "tariff_profile_href": _nullable({"type": "string", "pattern": "^/"}),
            },
            closed=True,
        ),
        "BillingPeriod": _obj(
            ["id", "href", "agreement_id", "start", "duration"],
            {
                "id": ID,
                "href": _STR,
                "agreement_id": ID,
                "start": TIME,
                "duration": _INT,
                "bill_to_date": amount,
                "bill_last_period": amount,
                "status_time_stamp": _nullable(TIME),
            },
        ),
        "BillingPeriodIn": _obj(
            [],
            {
                "start": TIME,
                "duration": {"type": "integer", "minimum": 1},
                "bill_to_date": amount,
                "bill_last_period": amount,
                "status_time_stamp": _nullable(TIME),
            },
            closed=True,
        ),
        "BillingReading": _obj(
            ["id", "href", "agreement_id", "kind", "mrid"],
            {
                "id": ID,
                "href": _STR,
                "agreement_id": ID,
                "kind": {"enum": ["historical", "projection", "target"]},
                "mrid": _STR,
                "description": _nullable(_STR),
                "reading_type": _nullable(STRUCT),
            },
        ),
        "BillingReadingIn": _obj(
            ["kind"],
            {
                "kind": {"enum": ["historical", "projection", "target"]},
                "description": _nullable({"type": "string", "maxLength": 32}),
                "reading_type": _nullable({**STRUCT, "description": "a ReadingType without href"}),
            },
            closed=True,
        ),
        "ReadingSetIn": reading_set_in,
        "ReadingSetPushed": _obj(
            ["id", "href", "mrid", "start", "duration", "readings", "replaced"],
            {
                "id": ID,
                "href": _STR,
                "mrid": _STR,
                "start": TIME,
                "duration": _INT,
                "readings": _INT,
                "replaced": {"type": "boolean"},
            },
        ),
        "UsagePoint": _obj(
            ["id", "href", "mrid", "role_flags", "service_category_kind", "status"],
            {
                "id": ID,
                "href": _STR,
                "mrid": _STR,
                "description": _nullable(_STR),
                "device_id": _nullable(ID),
                "group_id": _nullable(ID),
                "role_flags": _STR,
                "service_category_kind": _INT,
                "status": _INT,
                "device_lfdi": _nullable(_STR),
            },
        ),
        "UsagePointList": _list("UsagePoint"),
        "UsagePointIn": _obj(
            ["service_category_kind"],
            {
                "device_id": ID,
                "group_id": ID,
                "description": _nullable({"type": "string", "maxLength": 32}),
                "role_flags": {"type": "string", "pattern": "^[0-9A-Fa-f]{1,4}$", "description": "bit 0 clear"},
                "service_category_kind": {"type": "integer", "minimum": 0, "maximum": 6},
                "status": {"type": "integer", "minimum": 0, "maximum": 1},
                "device_lfdi": _nullable({"type": "string", "pattern": "^[0-9A-Fa-f]{40}$"}),
            },
            closed=True,
        ),
        "MeterReading": _obj(
            ["id", "href", "usage_point_id", "mrid", "reading_type"],
            {
                "id": ID,
                "href": _STR,
                "usage_point_id": ID,
                "mrid": _STR,
                "description": _nullable(_STR),
                "reading_type": STRUCT,
            },
        ),
        "MeterReadingIn": _obj(
            ["reading_type"],
            {"description": _nullable({"type": "string", "maxLength": 32}), "reading_type": STRUCT},
            closed=True,
        ),
        "Prepayment": _obj(
            ["id", "href", "account_id", "mrid", "prepay_mode", "account_balance", "operation_status"],
            {
                "id": ID,
                "href": _STR,
                "account_id": ID,
                "agreement_id": _nullable(ID),
                "usage_point_id": _nullable(ID),
                "mrid": _STR,
                "description": _nullable(_STR),
                "version": _INT,
                "prepay_mode": _INT,
                "account_balance": STRUCT,
                "operation_status": STRUCT,
                "credit_expiry_level": _nullable(STRUCT),
                "low_credit_warning_level": _nullable(STRUCT),
                "low_emergency_credit_warning_level": _nullable(STRUCT),
                "updated_time": TIME,
            },
        ),
        "PrepaymentList": _list("Prepayment"),
        "PrepaymentIn": _obj(
            ["account_id", "prepay_mode", "account_balance", "operation_status"],
            {
                "account_id": ID,
                "agreement_id": _nullable(ID),
                "usage_point_id": _nullable(ID),
                "description": _nullable({"type": "string", "maxLength": 32}),
                "prepay_mode": {"type": "integer", "minimum": 0, "maximum": 3},
                "account_balance": {**STRUCT, "description": "an AccountBalance"},
                "operation_status": {**STRUCT, "description": "a PrepayOperationStatus"},
                "credit_expiry_level": _nullable(STRUCT),
                "low_credit_warning_level": _nullable(STRUCT),
                "low_emergency_credit_warning_level": _nullable(STRUCT),
            },
            closed=True,
        ),
        "CreditRegister": _obj(
            ["id", "href", "prepayment_id", "mrid", "effective_time", "token", "credit_amount"],
            {
                "id": ID,
                "href": _STR,
                "prepayment_id": ID,
                "mrid": _STR,
                "effective_time": TIME,
                "credit_type": _nullable(_INT),
                "token": _STR,
                "credit_amount": STRUCT,
                "device_id": _nullable({**ID, "description": "set when a device posted it"}),
                "received_time": TIME,
            },
        ),
        "CreditRegisterList": _list("CreditRegister"),
        "SupplyInterruptionOverride": _obj(
            ["id", "href", "prepayment_id", "start", "duration"],
            {
                "id": ID,
                "href": _STR,
                "prepayment_id": ID,
                "description": _nullable(_STR),
                "start": TIME,
                "duration": _INT,
            },
        ),
        "SupplyInterruptionOverrideIn": _obj(
            ["start", "duration"],
            {
                "description": _nullable({"type": "string", "maxLength": 32}),
                "start": TIME,
                "duration": {"type": "integer", "minimum": 1},
            },
            closed=True,
        ),
        "Struct": STRUCT,
    }


def paths() -> dict[str, Any]:
    b, p, u = "billing", "prepayment", "usage-points"
    return {
        f"{API}/accounts": {
            "post": _op(
                b,
                "Create a CustomerAccount (2030.5 10.7)",
                {"201": _created("Account"), **_errors(*BODY_ERRORS)},
                "AccountIn",
            ),
            "get": _op(
                b, "List accounts", {"200": _json(_ref("AccountList"), "a page"), **_errors(400, 401)}, params=PAGE
            ),
        },
        f"{API}/accounts/{{id}}": {
            "parameters": PATH_ID,
            "get": _op(b, "An account", {"200": _json(_ref("Account"), "it"), **_errors(401, 404)}),
            "patch": _op(
                b,
                "Change an account",
                {"200": _json(_ref("Account"), "changed"), **_errors(*BODY_ERRORS, 404)},
                "AccountIn",
            ),
            "delete": _deleted(b, "an account with its agreements, periods, readings and prepayments"),
        },
        f"{API}/accounts/{{id}}/audience": {
            "parameters": PATH_ID,
            "put": _op(
                b,
                "Set the devices and groups that read the account",
                {"200": _json(_ref("Account"), "set"), **_errors(*BODY_ERRORS, 404)},
                "AccountAudience",
            ),
        },
        f"{API}/accounts/{{id}}/summary": {
            "parameters": PATH_ID,
            "get": _op(
                b,
                "The display's figures: bill to date and projected bill of each agreement",
                {"200": _json(_ref("AccountSummary"), "the figures"), **_errors(401, 404)},
            ),
        },
        f"{API}/accounts/{{id}}/agreements": {
            "parameters": PATH_ID,
            "post": _op(
                b,
                "Add a CustomerAgreement",
                {"201": _created("Agreement"), **_errors(*BODY_ERRORS, 404)},
                "AgreementIn",
            ),
        },
        f"{API}/agreements/{{id}}": {
            "parameters": PATH_ID,
            "get": _op(b, "An agreement", {"200": _json(_ref("Agreement"), "it"), **_errors(401, 404)}),
            "delete": _deleted(b, "an agreement"),
        },
        f"{API}/agreements/{{id}}/billing-periods": {
            "parameters": PATH_ID,
            "post": _op(
                b,
                "Add a BillingPeriod",
                {"201": _created("BillingPeriod"), **_errors(*BODY_ERRORS, 404)},
                "BillingPeriodIn",
            ),
        },
        f"{API}/billing-periods/{{id}}": {
            "parameters": PATH_ID,
            "patch": _op(
                b,
                "Update a BillingPeriod (bill to date ...)",
                {"200": _json(_ref("BillingPeriod"), "it"), **_errors(*BODY_ERRORS, 404)},
                "BillingPeriodIn",
            ),
            "delete": _deleted(b, "a billing period"),
        },
        f"{API}/agreements/{{id}}/billing-readings": {
            "parameters": PATH_ID,
            "post": _op(
                b,
                "Add a HistoricalReading, ProjectionReading or TargetReading",
                {"201": _created("BillingReading"), **_errors(*BODY_ERRORS, 404, 409)},
                "BillingReadingIn",
            ),
        },
        f"{API}/billing-readings/{{id}}": {"parameters": PATH_ID, "delete": _deleted(b, "a billing reading")},
        f"{API}/billing-readings/{{id}}/reading-sets": {
            "parameters": PATH_ID,
            "post": _op(
                b,
                "Push a BillingReadingSet with its BillingReadings",
                {
                    "201": _json(_ref("ReadingSetPushed"), "added"),
                    "200": _json(_ref("ReadingSetPushed"), "replaced (same mrid)"),
                    **_errors(*BODY_ERRORS, 404),
                },
                "ReadingSetIn",
            ),
        },
        f"{API}/usage-points": {
            "post": _op(
                u,
                "Publish a UsagePoint of the utility for a device or a group (2030.5 10.4)",
                {"201": _created("UsagePoint"), **_errors(*BODY_ERRORS)},
                "UsagePointIn",
            ),
            "get": _op(
                u,
                "The utility's UsagePoints",
                {"200": _json(_ref("UsagePointList"), "a page"), **_errors(400, 401)},
                params=PAGE,
            ),
        },
        f"{API}/usage-points/{{id}}": {
            "parameters": PATH_ID,
            "get": _op(u, "A UsagePoint of the utility", {"200": _json(_ref("UsagePoint"), "it"), **_errors(401, 404)}),
            "delete": _deleted(u, "a UsagePoint of the utility with its data"),
        },
        f"{API}/usage-points/{{id}}/meter-readings": {
            "parameters": PATH_ID,
            "post": _op(
                u,
                "Add a MeterReading with its ReadingType",
                {"201": _json(_ref("MeterReading"), "added"), **_errors(*BODY_ERRORS, 404)},
                "MeterReadingIn",
            ),
        },
        f"{API}/meter-readings/{{id}}/reading-sets": {
            "parameters": PATH_ID,
            "post": _op(
                u,
                "Push a ReadingSet with all its Readings (e.g. 96 quarter-hours)",
                {
                    "201": _json(_ref("ReadingSetPushed"), "added"),
                    "200": _json(_ref("ReadingSetPushed"), "replaced (same mrid)"),
                    **_errors(*BODY_ERRORS, 404),
                },
                "ReadingSetIn",
            ),
        },
        f"{API}/prepayments": {
            "post": _op(
                p,
                "Create a Prepayment for an account (2030.5 10.8)",
                {"201": _created("Prepayment"), **_errors(*BODY_ERRORS)},
                "PrepaymentIn",
            ),
            "get": _op(
                p,
                "List prepayments",
                {"200": _json(_ref("PrepaymentList"), "a page"), **_errors(400, 401)},
                params=PAGE,
            ),
        },
        f"{API}/prepayments/{{id}}": {
            "parameters": PATH_ID,
            "get": _op(p, "A prepayment", {"200": _json(_ref("Prepayment"), "it"), **_errors(401, 404)}),
            "delete": _deleted(p, "a prepayment"),
        },
        f"{API}/prepayments/{{id}}/balance": {
            "parameters": PATH_ID,
            "put": _op(
                p,
                "Replace the AccountBalance",
                {"200": _json(_ref("Prepayment"), "set"), **_errors(*BODY_ERRORS, 404)},
                "Struct",
            ),
        },
        f"{API}/prepayments/{{id}}/operation-status": {
            "parameters": PATH_ID,
            "put": _op(
                p,
                "Replace the PrepayOperationStatus",
                {"200": _json(_ref("Prepayment"), "set"), **_errors(*BODY_ERRORS, 404)},
                "Struct",
            ),
        },
        f"{API}/prepayments/{{id}}/credit-registers": {
            "parameters": PATH_ID,
            "post": _op(
                p,
                "Record credit (a CreditRegister without href, mRID)",
                {"201": _json(_ref("CreditRegister"), "recorded"), **_errors(*BODY_ERRORS, 404)},
                "Struct",
            ),
            "get": _op(
                p,
                "Credit registers, the devices' credit requests included",
                {"200": _json(_ref("CreditRegisterList"), "a page"), **_errors(400, 401, 404)},
                params=PAGE,
            ),
        },
        f"{API}/prepayments/{{id}}/supply-interruption-overrides": {
            "parameters": PATH_ID,
            "post": _op(
                p,
                "Add a SupplyInterruptionOverride",
                {"201": _json(_ref("SupplyInterruptionOverride"), "added"), **_errors(*BODY_ERRORS, 404)},
                "SupplyInterruptionOverrideIn",
            ),
        },
        f"{API}/supply-interruption-overrides/{{id}}": {
            "parameters": PATH_ID,
            "delete": _deleted(p, "a supply interruption override"),
        },
    }
