"""Prepayment for the utility (IEEE 2030.5-2018 clause 10.8), pushed by the operator.

* ``POST/GET /api/v1/prepayments``; ``GET/DELETE /api/v1/prepayments/{id}``.
* ``PUT /api/v1/prepayments/{id}/balance`` (AccountBalance), ``PUT .../operation-status``
  (PrepayOperationStatus).
* ``POST/GET /api/v1/prepayments/{id}/credit-registers`` (GET lists the devices' credit requests too).
* ``POST /api/v1/prepayments/{id}/supply-interruption-overrides``;
  ``DELETE /api/v1/supply-interruption-overrides/{id}``.

AccountingUnits (balance, levels, credit amounts) must be in the account's currency, with a multiplier
in -9..9: the standard asks that the levels' units match availableCredit's.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from aiohttp import web

from gridhan.schemas.dictcodec import to_dict
from gridhan.schemas.sep2.prepayment import (
    AccountBalance,
    AccountingUnit,
    CreditRegister,
    PrepayOperationStatus,
)
from gridhan.schemas.xmlcodec import decode, encode
from gridhan.server.admin.readings import TIME_MAX, from_json
from gridhan.server.admin.serialize import API
from gridhan.server.admin.validation import (
    Member,
    bad_request,
    identifier,
    integer,
    not_found,
    page_params,
    path_id,
    read_json_object,
    read_members,
    string,
)
from gridhan.server.context import CONTEXT, AppContext
from gridhan.server.mrid import new_mrid
from gridhan.server.sep2.prepayment import prepayment_href
from gridhan.server.store import billing as billing_store
from gridhan.server.store import prepayment as prepayment_store
from gridhan.server.store.tables import (
    CreditRegisterRow,
    CustomerAccountRow,
    CustomerAgreementRow,
    MirrorUsagePointRow,
    PrepaymentRow,
    SupplyInterruptionOverrideRow,
)


def _any(_name: str, value: Any) -> Any:
    return value


LEVELS = ("credit_expiry_level", "low_credit_warning_level", "low_emergency_credit_warning_level")
PREPAYMENT_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "account_id": Member(identifier),
        "agreement_id": Member(identifier, nullable=True),
        "usage_point_id": Member(identifier, nullable=True),
        "description": Member(string(32), nullable=True),
        "prepay_mode": Member(integer(0, 3)),
        "account_balance": Member(_any),
        "operation_status": Member(_any),
        **{name: Member(_any, nullable=True) for name in LEVELS},
    }
)
REGISTER_MEMBERS: Mapping[str, Member] = MappingProxyType({"register": Member(_any)})
OVERRIDE_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "description": Member(string(32), nullable=True),
        "start": Member(integer(0, TIME_MAX)),
        "duration": Member(integer(-(2**31), 2**32 - 1)),
    }
)


def _check_unit(unit: AccountingUnit | None, path: str, currency: int) -> None:
    if unit is not None and unit.monetaryUnit != currency:
        raise bad_request(f"{path}/monetaryUnit: {unit.monetaryUnit} is not the account's currency ({currency})")


def _balance(data: Any, currency: int) -> AccountBalance:
    balance = from_json(AccountBalance, data, "account_balance")
    _check_unit(balance.availableCredit, "account_balance/availableCredit", currency)
    _check_unit(balance.emergencyCredit, "account_balance/emergencyCredit", currency)
    return balance


def prepayment_json(row: PrepaymentRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "href": prepayment_href(row.id),  # type: ignore[arg-type]
        "account_id": row.account_id,
        "agreement_id": row.agreement_id,
        "usage_point_id": row.usage_point_id,
        "mrid": row.mrid,
        "description": row.description,
        "version": row.version,
        "prepay_mode": row.prepay_mode,
        "account_balance": to_dict(decode(bytes(row.account_balance), AccountBalance)),
        "operation_status": to_dict(decode(bytes(row.operation_status), PrepayOperationStatus)),
        **{
            name: to_dict(decode(bytes(value), AccountingUnit)) if (value := getattr(row, name)) is not None else None
            for name in LEVELS
        },
        "updated_time": row.updated_time,
    }


def register_json(row: CreditRegisterRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "href": f"{prepayment_href(row.prepayment_id)}/cr/{row.id}",
        "prepayment_id": row.prepayment_id,
        "mrid": row.mrid,
        "effective_time": row.effective_time,
        "credit_type": row.credit_type,
        "token": row.token,
        "credit_amount": to_dict(decode(bytes(row.credit_amount), AccountingUnit)),
        "device_id": row.device_id,
        "received_time": row.received_time,
    }


async def create_prepayment(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    body = read_members(await read_json_object(request), PREPAYMENT_MEMBERS,
                        required=("account_id", "prepay_mode", "account_balance", "operation_status"))  # fmt: skip
    account = await billing_store.get(ctx.store, CustomerAccountRow, body["account_id"])
    if account is None:
        raise bad_request(f"account_id: no account with id {body['account_id']}")
    if body.get("agreement_id") is not None:
        agreement = await billing_store.get(ctx.store, CustomerAgreementRow, body["agreement_id"])
        if agreement is None or agreement.account_id != account.id:
            raise bad_request(f"agreement_id: account {account.id} has no agreement with id {body['agreement_id']}")
    balance = _balance(body["account_balance"], account.currency)
    status = from_json(PrepayOperationStatus, body["operation_status"], "operation_status")
    levels = {}
    for name in LEVELS:
        unit = from_json(AccountingUnit, body[name], name, ()) if body.get(name) is not None else None
        _check_unit(unit, name, account.currency)
        levels[name] = encode(unit) if unit is not None else None
    row = PrepaymentRow(
        account_id=account.id,  # type: ignore[arg-type]
        agreement_id=body.get("agreement_id"),
        usage_point_id=body.get("usage_point_id"),
        mrid=new_mrid(ctx.settings.manufacturer_pen),
        description=body.get("description"),
        prepay_mode=body["prepay_mode"],
        account_balance=encode(balance),
        operation_status=encode(status),
        updated_time=ctx.now(),
        **levels,
    )
    try:
        await billing_store.insert(
            ctx.store,
            row,
            [(CustomerAccountRow, account.id, "account_id"), (MirrorUsagePointRow, body.get("usage_point_id"),
                                                              "usage_point_id")],
        )  # fmt: skip
    except KeyError as exc:
        raise bad_request(str(exc.args[0])) from None
    return web.json_response(prepayment_json(row), status=201, headers={"Location": f"{API}/prepayments/{row.id}"})


async def list_prepayments(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    offset, limit = page_params(request)
    page = await billing_store.page_of(ctx.store, PrepaymentRow, PrepaymentRow.id > 0, [PrepaymentRow.id], offset,
                                       limit)  # fmt: skip
    return web.json_response({"total": page.total, "items": [prepayment_json(r) for r in page.rows]})


async def _prepayment_or_404(ctx: AppContext, prepayment_id: int) -> PrepaymentRow:
    row = await billing_store.get(ctx.store, PrepaymentRow, prepayment_id)
    if row is None:
        raise not_found(f"no prepayment with id {prepayment_id}")
    return row


async def get_prepayment(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    return web.json_response(prepayment_json(await _prepayment_or_404(ctx, path_id(request, "prepayment"))))


async def delete_prepayment(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    prepayment_id = path_id(request, "prepayment")
    if not await billing_store.remove(ctx.store, PrepaymentRow, prepayment_id):
        raise not_found(f"no prepayment with id {prepayment_id}")
    return web.Response(status=204)


async def _currency(ctx: AppContext, row: PrepaymentRow) -> int:
    account = await billing_store.get(ctx.store, CustomerAccountRow, row.account_id)
    return account.currency


async def put_balance(request: web.Request) -> web.Response:
    """Replace the AccountBalance (availableCredit, creditStatus, emergency credit)."""
    ctx = request.app[CONTEXT]
    row = await _prepayment_or_404(ctx, path_id(request, "prepayment"))
    balance = _balance(await read_json_object(request), await _currency(ctx, row))
    updated = await billing_store.update(ctx.store, PrepaymentRow, row.id, {"account_balance": encode(balance),  # type: ignore[arg-type]
                                                                           "updated_time": ctx.now()})  # fmt: skip
    if updated is None:
        raise not_found(f"no prepayment with id {row.id}")
    return web.json_response(prepayment_json(updated))


async def put_operation_status(request: web.Request) -> web.Response:
    """Replace the PrepayOperationStatus (serviceStatus, scheduled service or credit type changes)."""
    ctx = request.app[CONTEXT]
    row = await _prepayment_or_404(ctx, path_id(request, "prepayment"))
    status = from_json(PrepayOperationStatus, await read_json_object(request), "PrepayOperationStatus")
    updated = await billing_store.update(ctx.store, PrepaymentRow, row.id, {"operation_status": encode(status),  # type: ignore[arg-type]
                                                                           "updated_time": ctx.now()})  # fmt: skip
    if updated is None:
        raise not_found(f"no prepayment with id {row.id}")
    return web.json_response(prepayment_json(updated))


async def create_credit_register(request: web.Request) -> web.Response:
    """Record credit added (or, negative, taken) by the utility: a CreditRegister without href/mRID."""
    ctx = request.app[CONTEXT]
    row = await _prepayment_or_404(ctx, path_id(request, "prepayment"))
    data = await read_json_object(request)
    mrid = new_mrid(ctx.settings.manufacturer_pen)
    for member in ("href", "mRID"):
        if member in data:
            raise bad_request(f"CreditRegister/{member}: set by the server, not in the request")
    register = from_json(CreditRegister, {**data, "mRID": mrid}, "CreditRegister", ())
    _check_unit(register.creditAmount, "CreditRegister/creditAmount", await _currency(ctx, row))
    created = CreditRegisterRow(
        prepayment_id=row.id,  # type: ignore[arg-type]
        mrid=mrid,
        description=register.description,
        effective_time=register.effectiveTime,
        credit_type=register.creditType,
        token=register.token,
        credit_amount=encode(register.creditAmount),
        received_time=ctx.now(),
    )
    try:
        await billing_store.insert(ctx.store, created, [(PrepaymentRow, row.id, "prepayment")])
    except KeyError:
        raise not_found(f"no prepayment with id {row.id}") from None
    return web.json_response(register_json(created), status=201)


async def list_credit_registers(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    row = await _prepayment_or_404(ctx, path_id(request, "prepayment"))
    offset, limit = page_params(request)
    page = await prepayment_store.credit_registers(ctx.store, row.id, offset, limit)  # type: ignore[arg-type]
    return web.json_response({"total": page.total, "items": [register_json(r) for r in page.rows]})


async def create_override(request: web.Request) -> web.Response:
    """An interval in which supply is not interrupted even with credit exhausted."""
    ctx = request.app[CONTEXT]
    row = await _prepayment_or_404(ctx, path_id(request, "prepayment"))
    body = read_members(await read_json_object(request), OVERRIDE_MEMBERS, required=("start", "duration"))
    if body["duration"] <= 0:
        raise bad_request(f"duration: {body['duration']} is not positive; an override lasts some time")
    item = SupplyInterruptionOverrideRow(prepayment_id=row.id, **body)  # type: ignore[arg-type]
    try:
        await billing_store.insert(ctx.store, item, [(PrepaymentRow, row.id, "prepayment")])
    except KeyError:
        raise not_found(f"no prepayment with id {row.id}") from None
    return web.json_response(
        {"id": item.id, "href": f"{prepayment_href(row.id)}/si/{item.id}", "prepayment_id": row.id,  # type: ignore[arg-type]
         "description": item.description, "start": item.start, "duration": item.duration},
        status=201,
    )  # fmt: skip


async def delete_override(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    override_id = path_id(request, "supply interruption override")
    if not await billing_store.remove(ctx.store, SupplyInterruptionOverrideRow, override_id):
        raise not_found(f"no supply interruption override with id {override_id}")
    return web.Response(status=204)


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post(f"{API}/prepayments", create_prepayment)
    r.add_get(f"{API}/prepayments", list_prepayments)
    r.add_get(f"{API}/prepayments/{{id}}", get_prepayment)
    r.add_delete(f"{API}/prepayments/{{id}}", delete_prepayment)
    r.add_put(f"{API}/prepayments/{{id}}/balance", put_balance)
    r.add_put(f"{API}/prepayments/{{id}}/operation-status", put_operation_status)
    r.add_post(f"{API}/prepayments/{{id}}/credit-registers", create_credit_register)
    r.add_get(f"{API}/prepayments/{{id}}/credit-registers", list_credit_registers)
    r.add_post(f"{API}/prepayments/{{id}}/supply-interruption-overrides", create_override)
    r.add_delete(f"{API}/supply-interruption-overrides/{{id}}", delete_override)
