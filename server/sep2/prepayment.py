"""Prepayment function set, utility side (IEEE 2030.5-2018 clause 10.8), at the schema's sample paths:

* ``/ppy`` PrepaymentList (linked from DeviceCapability, and from the FunctionSetAssignments of a group
  linked to an account), ``/ppy/{p}`` Prepayment.
* ``/ppy/{p}/ab`` AccountBalance, ``/ppy/{p}/os`` PrepayOperationStatus.
* ``/ppy/{p}/cr`` CreditRegisterList (GET; POST a CreditRegister), ``/ppy/{p}/cr/{c}`` CreditRegister.
* ``/ppy/{p}/si`` SupplyInterruptionOverrideList, ``/ppy/{p}/actsi`` the active ones (interval holding the
  present), ``/ppy/{p}/si/{i}`` SupplyInterruptionOverride.

A Prepayment is read by the devices of its customer account (10.8.1: clients that give customers a user
interface show the balance or ask for more credit); to anyone else it answers 404. The one thing a client
writes is a CreditRegister: a request for credit carrying a payment token (10.8.1; the token's format is
left to other standards). It must be in the account's currency and is recorded as the device's; the
balance is the utility's to change, through the admin API, once its back office has honoured the token.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gridhan.schemas.sep2 import Link, ListLink
from gridhan.schemas.sep2.events import DateTimeInterval
from gridhan.schemas.sep2.prepayment import (
    AccountBalance,
    AccountingUnit,
    CreditRegister,
    CreditRegisterList,
    Prepayment,
    PrepaymentList,
    PrepayOperationStatus,
    SupplyInterruptionOverride,
    SupplyInterruptionOverrideList,
)
from gridhan.schemas.xmlcodec import decode, encode
from gridhan.server.context import CONTEXT
from gridhan.server.identity import Principal
from gridhan.server.sep2.billing import path_id
from gridhan.server.sep2.http import created, paging, read_resource, xml_response
from gridhan.server.sep2.registry import FunctionSets
from gridhan.server.sep2.scope import require_registered, visible_device_ids
from gridhan.server.store import billing as billing_store
from gridhan.server.store import prepayment as prepayment_store
from gridhan.server.store.repo import Conflict
from gridhan.server.store.tables import (
    AccountDeviceRow,
    AccountGroupRow,
    CreditRegisterRow,
    CustomerAccountRow,
    DeviceGroupRow,
    GroupMemberRow,
    PrepaymentRow,
    SupplyInterruptionOverrideRow,
)

PATH = "/ppy"


def prepayment_href(prepayment_id: int) -> str:
    return f"{PATH}/{prepayment_id}"


async def prepayment_in_scope(request: web.Request, what: str = "Prepayment") -> PrepaymentRow:
    require_registered(request)
    prepayment_id = path_id(request, "p", what)
    row = await prepayment_store.visible_prepayment(
        request.app[CONTEXT].store, prepayment_id, await visible_device_ids(request)
    )
    if row is None:
        raise web.HTTPNotFound(text=f"no such {what}")
    return row


def _unit(data: bytes | None) -> AccountingUnit | None:
    return decode(bytes(data), AccountingUnit) if data is not None else None


async def render_prepayment(request: web.Request, row: PrepaymentRow) -> Prepayment:
    store = request.app[CONTEXT].store
    href = prepayment_href(row.id)  # type: ignore[arg-type]
    registers = await prepayment_store.credit_registers(store, row.id, 0, 0)  # type: ignore[arg-type]
    overrides = await prepayment_store.overrides(store, row.id, 0, 0)  # type: ignore[arg-type]
    active = await prepayment_store.overrides(store, row.id, 0, 0, active_at=request.app[CONTEXT].now())  # type: ignore[arg-type]
    return Prepayment(
        href=href,
        mRID=row.mrid,
        description=row.description,
        version=row.version,
        AccountBalanceLink=Link(href=f"{href}/ab"),
        ActiveSupplyInterruptionOverrideListLink=ListLink(href=f"{href}/actsi", all=active.total),
        creditExpiryLevel=_unit(row.credit_expiry_level),
        CreditRegisterListLink=ListLink(href=f"{href}/cr", all=registers.total),
        lowCreditWarningLevel=_unit(row.low_credit_warning_level),
        lowEmergencyCreditWarningLevel=_unit(row.low_emergency_credit_warning_level),
        prepayMode=row.prepay_mode,
        PrepayOperationStatusLink=Link(href=f"{href}/os"),
        SupplyInterruptionOverrideListLink=ListLink(href=f"{href}/si", all=overrides.total),
        UsagePoint=[],
        UsagePointLink=Link(href=f"/upt/{row.usage_point_id}") if row.usage_point_id is not None else None,
    )


def render_credit_register(row: CreditRegisterRow, base: str) -> CreditRegister:
    return CreditRegister(
        href=f"{base}/{row.id}",
        mRID=row.mrid,
        description=row.description,
        version=row.version,
        creditAmount=decode(bytes(row.credit_amount), AccountingUnit),
        creditType=row.credit_type,
        effectiveTime=row.effective_time,
        token=row.token,
    )


def render_override(row: SupplyInterruptionOverrideRow, base: str) -> SupplyInterruptionOverride:
    return SupplyInterruptionOverride(
        href=f"{base}/{row.id}",
        description=row.description,
        interval=DateTimeInterval(duration=row.duration, start=row.start),
    )


async def get_list(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    require_registered(request)
    page = paging(request)
    result = await prepayment_store.visible_prepayments(
        ctx.store, await visible_device_ids(request), page.start, page.limit
    )
    items = [await render_prepayment(request, r) for r in result.rows]
    return xml_response(
        PrepaymentList(
            href=PATH,
            all=result.total,
            results=len(items),
            subscribable=0,
            pollRate=ctx.runtime.poll_rates.get("PrepaymentList", ctx.settings.poll_rate),
            Prepayment=items,
        )
    )


async def get_one(request: web.Request) -> web.Response:
    return xml_response(await render_prepayment(request, await prepayment_in_scope(request)))


async def get_balance(request: web.Request) -> web.Response:
    row = await prepayment_in_scope(request, "AccountBalance")
    balance = decode(bytes(row.account_balance), AccountBalance)
    balance.href = request.path
    return xml_response(balance)


async def get_operation_status(request: web.Request) -> web.Response:
    row = await prepayment_in_scope(request, "PrepayOperationStatus")
    status = decode(bytes(row.operation_status), PrepayOperationStatus)
    status.href = request.path
    return xml_response(status)


async def get_credit_registers(request: web.Request) -> web.Response:
    row = await prepayment_in_scope(request, "CreditRegisterList")
    page = paging(request)
    result = await prepayment_store.credit_registers(request.app[CONTEXT].store, row.id, page.start, page.limit)  # type: ignore[arg-type]
    items = [render_credit_register(r, request.path) for r in result.rows]
    return xml_response(
        CreditRegisterList(href=request.path, all=result.total, results=len(items), CreditRegister=items)
    )


async def get_credit_register(request: web.Request) -> web.Response:
    row = await prepayment_in_scope(request, "CreditRegister")
    register = await billing_store.get(
        request.app[CONTEXT].store, CreditRegisterRow, path_id(request, "c", "CreditRegister")
    )
    if register is None or register.prepayment_id != row.id:
        raise web.HTTPNotFound(text="no such CreditRegister")
    return xml_response(render_credit_register(register, request.path.rsplit("/", 1)[0]))


async def post_credit_register(request: web.Request) -> web.Response:
    """A client's request for credit: a CreditRegister with its payment token (10.8.1). Its creditAmount
    must be in the account's currency; the mRID must be new within this Prepayment (409 otherwise)."""
    ctx = request.app[CONTEXT]
    who = require_registered(request)
    row = await prepayment_in_scope(request, "CreditRegisterList")
    body = await read_resource(request, CreditRegister)
    account = await billing_store.get(ctx.store, CustomerAccountRow, row.account_id)
    if body.creditAmount.monetaryUnit != account.currency:
        raise web.HTTPBadRequest(
            text=f"CreditRegister/creditAmount/monetaryUnit: {body.creditAmount.monetaryUnit} is not the "
            f"account's currency ({account.currency})"
        )
    if not body.token.strip():
        raise web.HTTPBadRequest(text="CreditRegister/token: a credit request carries its payment token")
    existing = await prepayment_store.credit_register_by_mrid(ctx.store, row.id, body.mRID)  # type: ignore[arg-type]
    if existing is not None:
        raise web.HTTPConflict(text=f"CreditRegister/mRID: {body.mRID} is already recorded for this Prepayment")
    try:
        register = await billing_store.insert(
            ctx.store,
            CreditRegisterRow(
                prepayment_id=row.id,  # type: ignore[arg-type]
                mrid=body.mRID,
                description=body.description,
                version=body.version or 0,
                effective_time=body.effectiveTime,
                credit_type=body.creditType,
                token=body.token,
                credit_amount=encode(body.creditAmount),
                device_id=who.device_id,
                received_time=ctx.now(),
            ),
            [(PrepaymentRow, row.id, "Prepayment")],
        )
    except KeyError:
        raise web.HTTPNotFound(text="no such CreditRegisterList") from None
    except Conflict as exc:
        raise web.HTTPConflict(text=str(exc)) from None
    return created(f"{prepayment_href(row.id)}/cr/{register.id}")  # type: ignore[arg-type]


async def _overrides(request: web.Request, active: bool) -> web.Response:
    ctx = request.app[CONTEXT]
    row = await prepayment_in_scope(request, "SupplyInterruptionOverrideList")
    page = paging(request)
    result = await prepayment_store.overrides(
        ctx.store,
        row.id,
        page.start,
        page.limit,
        active_at=ctx.now() if active else None,  # type: ignore[arg-type]
    )
    base = f"{prepayment_href(row.id)}/si"  # type: ignore[arg-type]
    items = [render_override(r, base) for r in result.rows]
    return xml_response(
        SupplyInterruptionOverrideList(
            href=request.path, all=result.total, results=len(items), SupplyInterruptionOverride=items
        )
    )


async def get_overrides(request: web.Request) -> web.Response:
    return await _overrides(request, active=False)


async def get_active_overrides(request: web.Request) -> web.Response:
    return await _overrides(request, active=True)


async def get_override(request: web.Request) -> web.Response:
    row = await prepayment_in_scope(request, "SupplyInterruptionOverride")
    item = await billing_store.get(
        request.app[CONTEXT].store, SupplyInterruptionOverrideRow, path_id(request, "i", "SupplyInterruptionOverride")
    )
    if item is None or item.prepayment_id != row.id:
        raise web.HTTPNotFound(text="no such SupplyInterruptionOverride")
    return xml_response(render_override(item, f"{prepayment_href(row.id)}/si"))  # type: ignore[arg-type]


async def _visible_count(request: web.Request) -> int:
    store = request.app[CONTEXT].store
    ids = await visible_device_ids(request)

    async def count() -> int:
        return (await prepayment_store.visible_prepayments(store, ids, 0, 0)).total

    tables = (PrepaymentRow, CustomerAccountRow, AccountDeviceRow, AccountGroupRow, GroupMemberRow)
    return await store.derived(("PrepaymentList", frozenset(ids)), tables, count)


async def _dcap_links(request: web.Request, who: Principal) -> dict[str, Any]:
    if not who.registered or who.device_id is None:
        return {}
    return {"PrepaymentListLink": ListLink(href=PATH, all=await _visible_count(request))}


async def _fsa_links(request: web.Request, who: Principal, group: DeviceGroupRow) -> dict[str, Any]:
    linked = await billing_store.counts(request.app[CONTEXT].store, AccountGroupRow.group_id, [group.id])  # type: ignore[list-item]
    if not linked[group.id]:  # type: ignore[index]
        return {}
    return {"PrepaymentListLink": ListLink(href=PATH, all=await _visible_count(request))}


def setup(app: web.Application, fs: FunctionSets) -> None:
    r = app.router
    one = PATH + "/{p}"
    r.add_get(PATH, get_list, allow_head=True)
    r.add_get(one, get_one, allow_head=True)
    r.add_get(one + "/ab", get_balance, allow_head=True)
    r.add_get(one + "/os", get_operation_status, allow_head=True)
    r.add_get(one + "/cr", get_credit_registers, allow_head=True)
    r.add_post(one + "/cr", post_credit_register)
    r.add_get(one + "/cr/{c}", get_credit_register, allow_head=True)
    r.add_get(one + "/si", get_overrides, allow_head=True)
    r.add_get(one + "/actsi", get_active_overrides, allow_head=True)
    r.add_get(one + "/si/{i}", get_override, allow_head=True)
    fs.dcap_links.append(_dcap_links)
    fs.fsa_links.append(_fsa_links)
    fs.names += [
        "Prepayment",
        "AccountBalance",
        "CreditRegister",
        "SupplyInterruptionOverride",
        "PrepayOperationStatus",
    ]
