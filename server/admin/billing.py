"""Billing for the utility (IEEE 2030.5-2018 clause 10.7): what a premise's display shows, pushed by the
operator.

* ``POST/GET /api/v1/accounts``; ``GET/PATCH/DELETE /api/v1/accounts/{id}``;
  ``PUT /api/v1/accounts/{id}/audience`` (the devices and groups of the premise, who alone read it);
  ``GET /api/v1/accounts/{id}/summary`` (the display's figures: bill to date, projected bill).
* ``POST /api/v1/accounts/{id}/agreements``; ``GET/DELETE /api/v1/agreements/{id}``.
* ``POST /api/v1/agreements/{id}/billing-periods``; ``PATCH/DELETE /api/v1/billing-periods/{id}``.
* ``POST /api/v1/agreements/{id}/billing-readings`` (a HistoricalReading, ProjectionReading or
  TargetReading: ``kind``); ``DELETE /api/v1/billing-readings/{id}``;
  ``POST /api/v1/billing-readings/{id}/reading-sets`` (a BillingReadingSet with its readings).

Amounts are integers x 10^pricePowerOfTenMultiplier of the account (-9..9), in its ISO 4217 currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from aiohttp import web

from gridhan.schemas.billing_math import CURRENCIES, Interval, bill_summary
from gridhan.schemas.dictcodec import to_dict
from gridhan.schemas.sep2.billing import BillingReading, ServiceSupplier
from gridhan.schemas.sep2.metering import ReadingType
from gridhan.schemas.xmlcodec import decode, encode
from gridhan.server.admin.readings import TIME_MAX, from_json, reading_set
from gridhan.server.admin.serialize import API
from gridhan.server.admin.validation import (
    Member,
    bad_request,
    identifier,
    identifier_list,
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
from gridhan.server.sep2.billing import READING_KINDS, account_href, agreement_href
from gridhan.server.store import billing as billing_store
from gridhan.server.store.repo import Conflict
from gridhan.server.store.tables import (
    BillingMeterReadingRow,
    BillingPeriodRow,
    CustomerAccountRow,
    CustomerAgreementRow,
    MirrorUsagePointRow,
)

AMOUNT = integer(-(2**47), 2**47 - 1)


def _currency(name: str, value: Any) -> int:
    code = integer(1, 999)(name, value)
    if code not in CURRENCIES:
        raise bad_request(f"{name}: {code} is not an ISO 4217 numeric currency code this server knows")
    return code


def _any(_name: str, value: Any) -> Any:
    return value


def _href(name: str, value: Any) -> str:
    text = string(255, min_length=1)(name, value)
    if not text.startswith("/"):
        raise bad_request(f"{name}: must be a path on this server (starting with /)")
    return text


ACCOUNT_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "currency": Member(_currency),
        "price_power_of_ten_multiplier": Member(integer(-9, 9)),
        "customer_name": Member(string(42), nullable=True),
        "customer_account": Member(string(42), nullable=True),
        "description": Member(string(32), nullable=True),
        "supplier": Member(_any, nullable=True),
    }
)
AUDIENCE_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {"device_ids": Member(identifier_list), "group_ids": Member(identifier_list)}
)
AGREEMENT_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "description": Member(string(32), nullable=True),
        "service_account": Member(string(42), nullable=True),
        "service_location": Member(string(42), nullable=True),
        "usage_point_id": Member(identifier, nullable=True),
        "tariff_profile_href": Member(_href, nullable=True),
    }
)
PERIOD_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "start": Member(integer(0, TIME_MAX)),
        "duration": Member(integer(-(2**31), 2**32 - 1)),
        "bill_to_date": Member(AMOUNT, nullable=True),
        "bill_last_period": Member(AMOUNT, nullable=True),
        "status_time_stamp": Member(integer(0, TIME_MAX), nullable=True),
    }
)
READING_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "kind": Member(lambda n, v: v if v in READING_KINDS else _bad_kind(n, v)),
        "description": Member(string(32), nullable=True),
        "reading_type": Member(_any, nullable=True),
    }
)


def _bad_kind(name: str, value: Any) -> Any:
    raise bad_request(f"{name}: {value!r} is not one of {', '.join(READING_KINDS)}")


# -- JSON shapes ------------------------------------------------------------------------------------


def account_json(row: CustomerAccountRow, devices: list[int], groups: list[int]) -> dict[str, Any]:
    supplier = None
    if row.supplier_mrid:
        supplier = {
            "mrid": row.supplier_mrid,
            "description": row.supplier_description,
            "email": row.supplier_email,
            "phone": row.supplier_phone,
            "providerID": row.supplier_provider_id,
            "web": row.supplier_web,
        }
    return {
        "id": row.id,
        "href": account_href(row.id),  # type: ignore[arg-type]
        "mrid": row.mrid,
        "description": row.description,
        "version": row.version,
        "currency": row.currency,
        "price_power_of_ten_multiplier": row.price_power_of_ten_multiplier,
        "customer_name": row.customer_name,
        "customer_account": row.customer_account,
        "supplier": supplier,
        "device_ids": devices,
        "group_ids": groups,
    }


def agreement_json(row: CustomerAgreementRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "href": agreement_href(row.account_id, row.id),  # type: ignore[arg-type]
        "account_id": row.account_id,
        "mrid": row.mrid,
        "description": row.description,
        "service_account": row.service_account,
        "service_location": row.service_location,
        "usage_point_id": row.usage_point_id,
        "tariff_profile_href": row.tariff_profile_href,
    }


def period_json(row: BillingPeriodRow, account_id: int) -> dict[str, Any]:
    return {
        "id": row.id,
        "href": f"{agreement_href(account_id, row.agreement_id)}/bp/{row.id}",
        "agreement_id": row.agreement_id,
        "start": row.start,
        "duration": row.duration,
        "bill_to_date": row.bill_to_date,
        "bill_last_period": row.bill_last_period,
        "status_time_stamp": row.status_time_stamp,
    }


def billing_reading_json(row: BillingMeterReadingRow, account_id: int) -> dict[str, Any]:
    segment = READING_KINDS[row.kind][0]
    return {
        "id": row.id,
        "href": f"{agreement_href(account_id, row.agreement_id)}/{segment}/{row.id}",
        "agreement_id": row.agreement_id,
        "kind": row.kind,
        "mrid": row.mrid,
        "description": row.description,
        "reading_type": to_dict(decode(bytes(row.reading_type), ReadingType)) if row.reading_type else None,
    }


# -- accounts ---------------------------------------------------------------------------------------


def _supplier_fields(data: Any, pen: int, existing: str | None) -> dict[str, Any]:
    if data is None:
        return {k: None for k in ("supplier_mrid", "supplier_description", "supplier_email", "supplier_phone",
                                  "supplier_provider_id", "supplier_web")}  # fmt: skip
    supplier = from_json(ServiceSupplier, {**data, "mRID": existing or new_mrid(pen)} if isinstance(data, dict)
                         else data, "supplier", ())  # fmt: skip
    return {
        "supplier_mrid": supplier.mRID,
        "supplier_description": supplier.description,
        "supplier_email": supplier.email,
        "supplier_phone": supplier.phone,
        "supplier_provider_id": supplier.providerID,
        "supplier_web": supplier.web,
    }


def _supplier_input(body: dict[str, Any], pen: int, existing: str | None) -> dict[str, Any]:
    if "supplier" not in body:
        return {}
    raw = body["supplier"]
    if isinstance(raw, dict):
        for member in ("href", "mRID", "version"):
            if member in raw:
                raise bad_request(f"supplier/{member}: set by the server, not in the request")
    return _supplier_fields(raw, pen, existing)


async def create_account(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    body = read_members(await read_json_object(request), ACCOUNT_MEMBERS,
                        required=("currency", "price_power_of_ten_multiplier"))  # fmt: skip
    fields = {k: v for k, v in body.items() if k != "supplier"}
    supplier = _supplier_input(body, ctx.settings.manufacturer_pen, None)
    row = CustomerAccountRow(mrid=new_mrid(ctx.settings.manufacturer_pen), created_time=ctx.now(), **fields,
                             **supplier)  # fmt: skip
    await billing_store.insert(ctx.store, row)
    return web.json_response(account_json(row, [], []), status=201, headers={"Location": f"{API}/accounts/{row.id}"})


async def _account_or_404(ctx: AppContext, account_id: int) -> CustomerAccountRow:
    row = await billing_store.get(ctx.store, CustomerAccountRow, account_id)
    if row is None:
        raise not_found(f"no account with id {account_id}")
    return row


async def _account_view(ctx: AppContext, row: CustomerAccountRow) -> dict[str, Any]:
    devices, groups = await billing_store.audience(ctx.store, row.id)  # type: ignore[arg-type]
    return account_json(row, devices, groups)


async def list_accounts(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    offset, limit = page_params(request)
    page = await billing_store.list_accounts(ctx.store, offset, limit)
    return web.json_response({"total": page.total, "items": [await _account_view(ctx, r) for r in page.rows]})


async def get_account(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    return web.json_response(await _account_view(ctx, await _account_or_404(ctx, path_id(request, "account"))))


async def patch_account(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    account_id = path_id(request, "account")
    body = read_members(await read_json_object(request), ACCOUNT_MEMBERS)
    existing = await _account_or_404(ctx, account_id)
    fields = {k: v for k, v in body.items() if k != "supplier"}
    fields.update(_supplier_input(body, ctx.settings.manufacturer_pen, existing.supplier_mrid))
    row = await billing_store.update(ctx.store, CustomerAccountRow, account_id, fields)
    if row is None:
        raise not_found(f"no account with id {account_id}")
    return web.json_response(await _account_view(ctx, row))


async def delete_account(request: web.Request) -> web.Response:
    """Delete an account with its agreements, periods, readings and prepayments."""
    ctx = request.app[CONTEXT]
    account_id = path_id(request, "account")
    if not await billing_store.remove(ctx.store, CustomerAccountRow, account_id):
        raise not_found(f"no account with id {account_id}")
    return web.Response(status=204)


async def put_audience(request: web.Request) -> web.Response:
    """Replace the devices and groups of the account's premise: they alone read the account."""
    ctx = request.app[CONTEXT]
    account_id = path_id(request, "account")
    body = read_members(await read_json_object(request), AUDIENCE_MEMBERS)
    try:
        found = await billing_store.set_audience(
            ctx.store, account_id, body.get("device_ids", []), body.get("group_ids", [])
        )
    except KeyError as exc:
        raise bad_request(str(exc.args[0])) from None
    if not found:
        raise not_found(f"no account with id {account_id}")
    return web.json_response(await _account_view(ctx, await _account_or_404(ctx, account_id)))


async def get_summary(request: web.Request) -> web.Response:
    """What the display shows for each agreement: the current billing period's bill to date and
    projected bill (linear over the period) to the cent, and the last bill."""
    ctx = request.app[CONTEXT]
    account = await _account_or_404(ctx, path_id(request, "account"))
    now = ctx.now()
    agreements = await billing_store.agreements(ctx.store, account.id, 0, 1000)  # type: ignore[arg-type]
    items = []
    for agreement in agreements.rows:
        current = await billing_store.periods(ctx.store, agreement.id, 0, 1, active_at=now)
        period = current.rows[0] if current.rows else None
        figures = None
        if period is not None:
            summary = bill_summary(
                Interval(period.start, period.duration),
                account.price_power_of_ten_multiplier,
                bill_to_date=period.bill_to_date,
                status_time=period.status_time_stamp,
                bill_last_period=period.bill_last_period,
                now=now,
            )
            figures = {
                "billing_period_id": period.id,
                "start": summary.period_start,
                "end": summary.period_end,
                "bill_to_date": _text(summary.bill_to_date),
                "projected_bill": _text(summary.projected_bill),
                "bill_last_period": _text(summary.bill_last_period),
            }
        items.append({"agreement_id": agreement.id, "current_period": figures})
    return web.json_response({"account_id": account.id, "currency": account.currency, "time": now,
                              "agreements": items})  # fmt: skip


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# -- agreements -------------------------------------------------------------------------------------


async def create_agreement(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    account = await _account_or_404(ctx, path_id(request, "account"))
    body = read_members(await read_json_object(request), AGREEMENT_MEMBERS)
    row = CustomerAgreementRow(account_id=account.id, mrid=new_mrid(ctx.settings.manufacturer_pen), **body)  # type: ignore[arg-type]
    try:
        await billing_store.insert(
            ctx.store,
            row,
            [(CustomerAccountRow, account.id, "account"), (MirrorUsagePointRow, body.get("usage_point_id"),
                                                           "usage_point_id")],
        )  # fmt: skip
    except KeyError as exc:
        if str(exc.args[0]).startswith("account"):
            raise not_found(f"no account with id {account.id}") from None
        raise bad_request(str(exc.args[0])) from None
    return web.json_response(agreement_json(row), status=201, headers={"Location": f"{API}/agreements/{row.id}"})


async def _agreement_or_404(ctx: AppContext, agreement_id: int) -> CustomerAgreementRow:
    row = await billing_store.get(ctx.store, CustomerAgreementRow, agreement_id)
    if row is None:
        raise not_found(f"no agreement with id {agreement_id}")
    return row


async def get_agreement(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    return web.json_response(agreement_json(await _agreement_or_404(ctx, path_id(request, "agreement"))))


async def delete_agreement(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    agreement_id = path_id(request, "agreement")
    if not await billing_store.remove(ctx.store, CustomerAgreementRow, agreement_id):
        raise not_found(f"no agreement with id {agreement_id}")
    return web.Response(status=204)


# -- billing periods --------------------------------------------------------------------------------


def _check_period(values: dict[str, Any]) -> None:
    if values.get("duration") is not None and values["duration"] <= 0:
        raise bad_request(f"duration: {values['duration']} is not positive; a billing period has a length")


async def create_period(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    agreement = await _agreement_or_404(ctx, path_id(request, "agreement"))
    body = read_members(await read_json_object(request), PERIOD_MEMBERS, required=("start", "duration"))
    _check_period(body)
    row = BillingPeriodRow(agreement_id=agreement.id, **body)  # type: ignore[arg-type]
    try:
        await billing_store.insert(ctx.store, row, [(CustomerAgreementRow, agreement.id, "agreement")])
    except KeyError:
        raise not_found(f"no agreement with id {agreement.id}") from None
    return web.json_response(period_json(row, agreement.account_id), status=201,
                             headers={"Location": f"{API}/billing-periods/{row.id}"})  # fmt: skip


async def patch_period(request: web.Request) -> web.Response:
    """Update a period (typically billToDate and statusTimeStamp as the bill grows)."""
    ctx = request.app[CONTEXT]
    period_id = path_id(request, "billing period")
    body = read_members(await read_json_object(request), PERIOD_MEMBERS)
    _check_period(body)
    row = await billing_store.update(ctx.store, BillingPeriodRow, period_id, body)
    if row is None:
        raise not_found(f"no billing period with id {period_id}")
    agreement = await _agreement_or_404(ctx, row.agreement_id)
    return web.json_response(period_json(row, agreement.account_id))


async def delete_period(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    period_id = path_id(request, "billing period")
    if not await billing_store.remove(ctx.store, BillingPeriodRow, period_id):
        raise not_found(f"no billing period with id {period_id}")
    return web.Response(status=204)


# -- historical, projection and target readings -----------------------------------------------------


async def create_billing_reading(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    agreement = await _agreement_or_404(ctx, path_id(request, "agreement"))
    body = read_members(await read_json_object(request), READING_MEMBERS, required=("kind",))
    reading_type = None
    if body.get("reading_type") is not None:
        reading_type = from_json(ReadingType, body["reading_type"], "reading_type")
    row = BillingMeterReadingRow(
        agreement_id=agreement.id,  # type: ignore[arg-type]
        kind=body["kind"],
        mrid=new_mrid(ctx.settings.manufacturer_pen),
        description=body.get("description"),
        reading_type=encode(reading_type) if reading_type is not None else None,
        power_of_ten_multiplier=reading_type.powerOfTenMultiplier if reading_type is not None else None,
        uom=reading_type.uom if reading_type is not None else None,
    )
    try:
        await billing_store.insert(ctx.store, row, [(CustomerAgreementRow, agreement.id, "agreement")])
    except KeyError:
        raise not_found(f"no agreement with id {agreement.id}") from None
    except Conflict as exc:
        raise web.HTTPConflict(text=str(exc)) from None
    return web.json_response(billing_reading_json(row, agreement.account_id), status=201,
                             headers={"Location": f"{API}/billing-readings/{row.id}"})  # fmt: skip


async def delete_billing_reading(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    reading_id = path_id(request, "billing reading")
    if not await billing_store.remove(ctx.store, BillingMeterReadingRow, reading_id):
        raise not_found(f"no billing reading with id {reading_id}")
    return web.Response(status=204)


async def push_billing_reading_set(request: web.Request) -> web.Response:
    """A BillingReadingSet with its BillingReadings (and their Charges); the same ``mrid`` again replaces
    the set's data. Each reading must lie inside the set's time period."""
    ctx = request.app[CONTEXT]
    reading_id = path_id(request, "billing reading")
    meter_reading = await billing_store.get(ctx.store, BillingMeterReadingRow, reading_id)
    if meter_reading is None:
        raise not_found(f"no billing reading with id {reading_id}")
    values, period, readings = reading_set(await read_json_object(request), BillingReading)
    rows = []
    for reading in readings:
        tp = reading.timePeriod
        rows.append({
            "start": tp.start if tp is not None else None,
            "duration": tp.duration if tp is not None else None,
            "value": reading.value,
            "consumption_block": reading.consumptionBlock,
            "tou_tier": reading.touTier,
            "document": encode(reading),
        })  # fmt: skip
    mrid = values.get("mrid") or new_mrid(ctx.settings.manufacturer_pen)
    fields = {"description": values.get("description"), "start": period.start, "duration": period.duration}
    result = await billing_store.put_reading_set(ctx.store, reading_id, mrid, fields, rows)
    if result is None:
        raise not_found(f"no billing reading with id {reading_id}")
    row, created = result
    agreement = await _agreement_or_404(ctx, meter_reading.agreement_id)
    segment = READING_KINDS[meter_reading.kind][0]
    href = f"{agreement_href(agreement.account_id, agreement.id)}/{segment}/{reading_id}/rs/{row.id}"  # type: ignore[arg-type]
    return web.json_response(
        {"id": row.id, "href": href, "mrid": row.mrid, "start": row.start, "duration": row.duration,
         "readings": len(rows), "replaced": not created},
        status=201 if created else 200,
    )  # fmt: skip


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post(f"{API}/accounts", create_account)
    r.add_get(f"{API}/accounts", list_accounts)
    r.add_get(f"{API}/accounts/{{id}}", get_account)
    r.add_patch(f"{API}/accounts/{{id}}", patch_account)
    r.add_delete(f"{API}/accounts/{{id}}", delete_account)
    r.add_put(f"{API}/accounts/{{id}}/audience", put_audience)
    r.add_get(f"{API}/accounts/{{id}}/summary", get_summary)
    r.add_post(f"{API}/accounts/{{id}}/agreements", create_agreement)
    r.add_get(f"{API}/agreements/{{id}}", get_agreement)
    r.add_delete(f"{API}/agreements/{{id}}", delete_agreement)
    r.add_post(f"{API}/agreements/{{id}}/billing-periods", create_period)
    r.add_patch(f"{API}/billing-periods/{{id}}", patch_period)
    r.add_delete(f"{API}/billing-periods/{{id}}", delete_period)
    r.add_post(f"{API}/agreements/{{id}}/billing-readings", create_billing_reading)
    r.add_delete(f"{API}/billing-readings/{{id}}", delete_billing_reading)
    r.add_post(f"{API}/billing-readings/{{id}}/reading-sets", push_billing_reading_set)
