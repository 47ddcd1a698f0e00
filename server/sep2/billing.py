"""Billing function set, utility side (IEEE 2030.5-2018 clause 10.7): what a premise's display reads about
its account (Annex C.16 walks the same path). Paths follow the schema's sample paths:

* ``/bill`` CustomerAccountList (linked from DeviceCapability, and from the FunctionSetAssignments of a
  group the operator linked to an account), ``/bill/{a}`` CustomerAccount, ``/bill/{a}/ss`` its
  ServiceSupplier.
* ``/bill/{a}/ca`` CustomerAgreementList, ``/bill/{a}/ca/{g}`` CustomerAgreement (UsagePointLink,
  TariffProfileLink and PrepaymentLink when set).
* ``.../bp`` BillingPeriodList, ``.../actbp`` ActiveBillingPeriodList (the periods whose interval holds
  the present), ``.../bp/{p}`` BillingPeriod.
* ``.../ver`` HistoricalReadingList, ``.../pro`` ProjectionReadingList, ``.../tar`` TargetReadingList,
  each ``/{r}`` with ``/rt`` ReadingType, ``/rs`` BillingReadingSetList, ``/rs/{s}`` BillingReadingSet,
  ``/rs/{s}/r`` BillingReadingList, ``/rs/{s}/r/{n}`` BillingReading.

Everything is GET only: the standard lets a client write none of it. An account is read by the devices
the operator linked to it (directly or through a group), and by their aggregator; to anyone else each of
these resources answers 404, exactly as one that does not exist.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gridhan.schemas.sep2 import Link, ListLink
from gridhan.schemas.sep2.billing import (
    BillingPeriod,
    BillingPeriodList,
    BillingReading,
    BillingReadingList,
    BillingReadingSet,
    BillingReadingSetList,
    CustomerAccount,
    CustomerAccountList,
    CustomerAgreement,
    CustomerAgreementList,
    HistoricalReading,
    HistoricalReadingList,
    ProjectionReading,
    ProjectionReadingList,
    ServiceSupplier,
    TargetReading,
    TargetReadingList,
)
from gridhan.schemas.sep2.events import DateTimeInterval
from gridhan.schemas.sep2.metering import ReadingType
from gridhan.schemas.xmlcodec import decode
from gridhan.server.context import CONTEXT
from gridhan.server.identity import Principal
from gridhan.server.sep2.http import paging, xml_response
from gridhan.server.sep2.registry import FunctionSets
from gridhan.server.sep2.scope import require_registered, visible_device_ids
from gridhan.server.store import billing as billing_store
from gridhan.server.store import prepayment as prepayment_store
from gridhan.server.store.tables import (
    AccountDeviceRow,
    AccountGroupRow,
    BillingMeterReadingRow,
    BillingPeriodRow,
    BillingReadingRow,
    BillingReadingSetRow,
    CustomerAccountRow,
    CustomerAgreementRow,
    DeviceGroupRow,
    GroupMemberRow,
)

PATH = "/bill"
MAX_ID_DIGITS = 9

#: Billing meter reading kind -> (path segment, resource class, list class).
READING_KINDS: dict[str, tuple[str, type, type]] = {
    "historical": ("ver", HistoricalReading, HistoricalReadingList),
    "projection": ("pro", ProjectionReading, ProjectionReadingList),
    "target": ("tar", TargetReading, TargetReadingList),
}


def account_href(account_id: int) -> str:
    return f"{PATH}/{account_id}"


def agreement_href(account_id: int, agreement_id: int) -> str:
    return f"{account_href(account_id)}/ca/{agreement_id}"


def path_id(request: web.Request, name: str, what: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit() or not raw.isascii() or len(raw) > MAX_ID_DIGITS:
        raise web.HTTPNotFound(text=f"no such {what}")
    return int(raw)


# -- scoping ---------------------------------------------------------------------------------------


async def account_in_scope(request: web.Request, what: str = "CustomerAccount") -> CustomerAccountRow:
    require_registered(request)
    account_id = path_id(request, "a", what)
    row = await billing_store.visible_account(request.app[CONTEXT].store, account_id, await visible_device_ids(request))
    if row is None:
        raise web.HTTPNotFound(text=f"no such {what}")
    return row


async def agreement_in_scope(request: web.Request, what: str = "CustomerAgreement") -> CustomerAgreementRow:
    account = await account_in_scope(request, what)
    row = await billing_store.get(request.app[CONTEXT].store, CustomerAgreementRow, path_id(request, "g", what))
    if row is None or row.account_id != account.id:
        raise web.HTTPNotFound(text=f"no such {what}")
    return row


async def _meter_reading_in_scope(request: web.Request, kind: str, what: str) -> BillingMeterReadingRow:
    agreement = await agreement_in_scope(request, what)
    row = await billing_store.get(request.app[CONTEXT].store, BillingMeterReadingRow, path_id(request, "r", what))
    if row is None or row.agreement_id != agreement.id or row.kind != kind:
        raise web.HTTPNotFound(text=f"no such {what}")
    return row


async def _reading_set_in_scope(request: web.Request, kind: str, what: str) -> tuple[BillingMeterReadingRow, Any]:
    meter_reading = await _meter_reading_in_scope(request, kind, what)
    row = await billing_store.get(request.app[CONTEXT].store, BillingReadingSetRow, path_id(request, "s", what))
    if row is None or row.meter_reading_id != meter_reading.id:
        raise web.HTTPNotFound(text=f"no such {what}")
    return meter_reading, row


# -- rendering -------------------------------------------------------------------------------------


def render_account(row: CustomerAccountRow, agreements: int) -> CustomerAccount:
    href = account_href(row.id)  # type: ignore[arg-type]
    return CustomerAccount(
        href=href,
        mRID=row.mrid,
        description=row.description,
        version=row.version,
        currency=row.currency,
        customerAccount=row.customer_account,
        CustomerAgreementListLink=ListLink(href=f"{href}/ca", all=agreements),
        customerName=row.customer_name,
        pricePowerOfTenMultiplier=row.price_power_of_ten_multiplier,
        ServiceSupplierLink=Link(href=f"{href}/ss") if row.supplier_mrid else None,
    )


async def render_agreement(request: web.Request, row: CustomerAgreementRow) -> CustomerAgreement:
    store = request.app[CONTEXT].store
    href = agreement_href(row.account_id, row.id)  # type: ignore[arg-type]
    periods = await billing_store.periods(store, row.id, 0, 0)  # type: ignore[arg-type]
    active = await billing_store.periods(store, row.id, 0, 0, active_at=request.app[CONTEXT].now())  # type: ignore[arg-type]
    readings = {}
    for kind in READING_KINDS:
        readings[kind] = (await billing_store.billing_meter_readings(store, row.id, kind, 0, 0)).total  # type: ignore[arg-type]
    prepayment = await prepayment_store.prepayment_of_agreement(store, row.id)  # type: ignore[arg-type]
    return CustomerAgreement(
        href=href,
        mRID=row.mrid,
        description=row.description,
        version=row.version,
        ActiveBillingPeriodListLink=ListLink(href=f"{href}/actbp", all=active.total),
        BillingPeriodListLink=ListLink(href=f"{href}/bp", all=periods.total),
        HistoricalReadingListLink=ListLink(href=f"{href}/ver", all=readings["historical"]),
        PrepaymentLink=Link(href=f"/ppy/{prepayment.id}") if prepayment is not None else None,
        ProjectionReadingListLink=ListLink(href=f"{href}/pro", all=readings["projection"]),
        serviceAccount=row.service_account,
        serviceLocation=row.service_location,
        TargetReadingListLink=ListLink(href=f"{href}/tar", all=readings["target"]),
        TariffProfileLink=Link(href=row.tariff_profile_href) if row.tariff_profile_href else None,
        UsagePointLink=Link(href=f"/upt/{row.usage_point_id}") if row.usage_point_id is not None else None,
    )


def render_period(row: BillingPeriodRow, base: str) -> BillingPeriod:
    return BillingPeriod(
        href=f"{base}/{row.id}",
        billLastPeriod=row.bill_last_period,
        billToDate=row.bill_to_date,
        interval=DateTimeInterval(duration=row.duration, start=row.start),
        statusTimeStamp=row.status_time_stamp,
    )


def render_billing_meter_reading(row: BillingMeterReadingRow, base: str, sets: int) -> Any:
    _segment, cls, _list = READING_KINDS[row.kind]
    href = f"{base}/{row.id}"
    return cls(
        href=href,
        mRID=row.mrid,
        description=row.description,
        version=row.version,
        BillingReadingSetListLink=ListLink(href=f"{href}/rs", all=sets),
        ReadingTypeLink=Link(href=f"{href}/rt") if row.reading_type is not None else None,
    )


def render_reading_set(row: BillingReadingSetRow, base: str, readings: int) -> BillingReadingSet:
    href = f"{base}/{row.id}"
    return BillingReadingSet(
        href=href,
        mRID=row.mrid,
        description=row.description,
        version=row.version,
        timePeriod=DateTimeInterval(duration=row.duration, start=row.start),
        BillingReadingListLink=ListLink(href=f"{href}/r", all=readings),
    )


def render_reading(row: BillingReadingRow, href: str) -> BillingReading:
    reading = decode(bytes(row.document), BillingReading)
    reading.href = href
    return reading


# -- accounts --------------------------------------------------------------------------------------


async def get_account_list(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    require_registered(request)
    page = paging(request)
    result = await billing_store.visible_accounts(ctx.store, await visible_device_ids(request), page.start, page.limit)
    agreements = await billing_store.counts(ctx.store, CustomerAgreementRow.account_id, [r.id for r in result.rows])
    items = [render_account(r, agreements[r.id]) for r in result.rows]
    return xml_response(
        CustomerAccountList(
            href=PATH,
            all=result.total,
            results=len(items),
            subscribable=0,
            pollRate=ctx.runtime.poll_rates.get("CustomerAccountList", ctx.settings.poll_rate),
            CustomerAccount=items,
        )
    )


async def get_account(request: web.Request) -> web.Response:
    row = await account_in_scope(request)
    agreements = await billing_store.counts(request.app[CONTEXT].store, CustomerAgreementRow.account_id, [row.id])  # type: ignore[list-item]
    return xml_response(render_account(row, agreements[row.id]))  # type: ignore[index]


async def get_supplier(request: web.Request) -> web.Response:
    row = await account_in_scope(request, "ServiceSupplier")
    if not row.supplier_mrid:
        raise web.HTTPNotFound(text="no such ServiceSupplier")
    return xml_response(
        ServiceSupplier(
            href=f"{account_href(row.id)}/ss",  # type: ignore[arg-type]
            mRID=row.supplier_mrid,
            description=row.supplier_description,
            email=row.supplier_email,
            phone=row.supplier_phone,
            providerID=row.supplier_provider_id,
            web=row.supplier_web,
        )
    )


# -- agreements and billing periods ----------------------------------------------------------------


async def get_agreement_list(request: web.Request) -> web.Response:
    account = await account_in_scope(request, "CustomerAgreementList")
    page = paging(request)
    result = await billing_store.agreements(request.app[CONTEXT].store, account.id, page.start, page.limit)  # type: ignore[arg-type]
    items = [await render_agreement(request, r) for r in result.rows]
    return xml_response(
        CustomerAgreementList(
            href=f"{account_href(account.id)}/ca",  # type: ignore[arg-type]
            all=result.total,
            results=len(items),
            subscribable=0,
            CustomerAgreement=items,
        )
    )


async def get_agreement(request: web.Request) -> web.Response:
    return xml_response(await render_agreement(request, await agreement_in_scope(request)))


async def _period_list(request: web.Request, active: bool) -> web.Response:
    ctx = request.app[CONTEXT]
    agreement = await agreement_in_scope(request, "BillingPeriodList")
    page = paging(request)
    result = await billing_store.periods(
        ctx.store,
        agreement.id,
        page.start,
        page.limit,
        active_at=ctx.now() if active else None,  # type: ignore[arg-type]
    )
    base = f"{agreement_href(agreement.account_id, agreement.id)}/bp"  # type: ignore[arg-type]
    items = [render_period(r, base) for r in result.rows]
    return xml_response(
        BillingPeriodList(href=request.path, all=result.total, results=len(items), subscribable=0, BillingPeriod=items)
    )


async def get_period_list(request: web.Request) -> web.Response:
    return await _period_list(request, active=False)


async def get_active_period_list(request: web.Request) -> web.Response:
    return await _period_list(request, active=True)


async def get_period(request: web.Request) -> web.Response:
    agreement = await agreement_in_scope(request, "BillingPeriod")
    row = await billing_store.get(request.app[CONTEXT].store, BillingPeriodRow, path_id(request, "p", "BillingPeriod"))
    if row is None or row.agreement_id != agreement.id:
        raise web.HTTPNotFound(text="no such BillingPeriod")
    return xml_response(render_period(row, f"{agreement_href(agreement.account_id, agreement.id)}/bp"))  # type: ignore[arg-type]


# -- historical, projection and target readings ----------------------------------------------------


def _reading_handlers(kind: str) -> dict[str, Any]:
    segment, cls, list_cls = READING_KINDS[kind]
    name = cls.XML_NAME

    async def get_list(request: web.Request) -> web.Response:
        ctx = request.app[CONTEXT]
        agreement = await agreement_in_scope(request, f"{name}List")
        page = paging(request)
        result = await billing_store.billing_meter_readings(ctx.store, agreement.id, kind, page.start, page.limit)  # type: ignore[arg-type]
        sets = await billing_store.counts(ctx.store, BillingReadingSetRow.meter_reading_id, [r.id for r in result.rows])
        base = f"{agreement_href(agreement.account_id, agreement.id)}/{segment}"  # type: ignore[arg-type]
        items = [render_billing_meter_reading(r, base, sets[r.id]) for r in result.rows]
        return xml_response(list_cls(href=base, all=result.total, results=len(items), **{name: items}))

    async def get_one(request: web.Request) -> web.Response:
        row = await _meter_reading_in_scope(request, kind, name)
        sets = await billing_store.counts(request.app[CONTEXT].store, BillingReadingSetRow.meter_reading_id, [row.id])  # type: ignore[list-item]
        return xml_response(render_billing_meter_reading(row, request.path.rsplit("/", 1)[0], sets[row.id]))  # type: ignore[index]

    async def get_reading_type(request: web.Request) -> web.Response:
        row = await _meter_reading_in_scope(request, kind, "ReadingType")
        if row.reading_type is None:
            raise web.HTTPNotFound(text="no such ReadingType")
        reading_type = decode(bytes(row.reading_type), ReadingType)
        reading_type.href = request.path
        return xml_response(reading_type)

    async def get_set_list(request: web.Request) -> web.Response:
        ctx = request.app[CONTEXT]
        row = await _meter_reading_in_scope(request, kind, "BillingReadingSetList")
        page = paging(request)
        result = await billing_store.reading_sets(ctx.store, row.id, page.start, page.limit)  # type: ignore[arg-type]
        readings = await billing_store.counts(ctx.store, BillingReadingRow.reading_set_id, [s.id for s in result.rows])
        items = [render_reading_set(s, request.path, readings[s.id]) for s in result.rows]
        return xml_response(
            BillingReadingSetList(
                href=request.path, all=result.total, results=len(items), subscribable=0, BillingReadingSet=items
            )
        )

    async def get_set(request: web.Request) -> web.Response:
        _row, reading_set = await _reading_set_in_scope(request, kind, "BillingReadingSet")
        readings = await billing_store.counts(
            request.app[CONTEXT].store, BillingReadingRow.reading_set_id, [reading_set.id]
        )
        return xml_response(render_reading_set(reading_set, request.path.rsplit("/", 1)[0], readings[reading_set.id]))

    async def get_readings(request: web.Request) -> web.Response:
        _row, reading_set = await _reading_set_in_scope(request, kind, "BillingReadingList")
        page = paging(request)
        result = await billing_store.readings(request.app[CONTEXT].store, reading_set.id, page.start, page.limit)
        items = [render_reading(r, f"{request.path}/{r.id}") for r in result.rows]
        return xml_response(
            BillingReadingList(href=request.path, all=result.total, results=len(items), BillingReading=items)
        )

    async def get_reading(request: web.Request) -> web.Response:
        _row, reading_set = await _reading_set_in_scope(request, kind, "BillingReading")
        row = await billing_store.get(
            request.app[CONTEXT].store, BillingReadingRow, path_id(request, "n", "BillingReading")
        )
        if row is None or row.reading_set_id != reading_set.id:
            raise web.HTTPNotFound(text="no such BillingReading")
        return xml_response(render_reading(row, request.path))

    return {
        "": get_list,
        "/{r}": get_one,
        "/{r}/rt": get_reading_type,
        "/{r}/rs": get_set_list,
        "/{r}/rs/{s}": get_set,
        "/{r}/rs/{s}/r": get_readings,
        "/{r}/rs/{s}/r/{n}": get_reading,
    }


# -- links -------------------------------------------------------------------------------------------


async def _visible_count(request: web.Request) -> int:
    store = request.app[CONTEXT].store
    ids = await visible_device_ids(request)

    async def count() -> int:
        return (await billing_store.visible_accounts(store, ids, 0, 0)).total

    tables = (CustomerAccountRow, AccountDeviceRow, AccountGroupRow, GroupMemberRow)
    return await store.derived(("CustomerAccountList", frozenset(ids)), tables, count)


async def _dcap_links(request: web.Request, who: Principal) -> dict[str, Any]:
    if not who.registered or who.device_id is None:
        return {}
    return {"CustomerAccountListLink": ListLink(href=PATH, all=await _visible_count(request))}


async def _fsa_links(request: web.Request, who: Principal, group: DeviceGroupRow) -> dict[str, Any]:
    """A group linked to an account points its members at their CustomerAccountList (Annex C.16's note:
    the client is directed to its account from its FunctionSetAssignments)."""
    linked = await billing_store.counts(request.app[CONTEXT].store, AccountGroupRow.group_id, [group.id])  # type: ignore[list-item]
    if not linked[group.id]:  # type: ignore[index]
        return {}
    return {"CustomerAccountListLink": ListLink(href=PATH, all=await _visible_count(request))}


def setup(app: web.Application, fs: FunctionSets) -> None:
    r = app.router
    account = PATH + "/{a}"
    agreement = account + "/ca/{g}"
    r.add_get(PATH, get_account_list, allow_head=True)
    r.add_get(account, get_account, allow_head=True)
    r.add_get(account + "/ss", get_supplier, allow_head=True)
    r.add_get(account + "/ca", get_agreement_list, allow_head=True)
    r.add_get(agreement, get_agreement, allow_head=True)
    r.add_get(agreement + "/bp", get_period_list, allow_head=True)
    r.add_get(agreement + "/actbp", get_active_period_list, allow_head=True)
    r.add_get(agreement + "/bp/{p}", get_period, allow_head=True)
    for kind, (segment, _cls, _list) in READING_KINDS.items():
        for suffix, handler in _reading_handlers(kind).items():
            r.add_get(f"{agreement}/{segment}{suffix}", handler, allow_head=True)
    fs.dcap_links.append(_dcap_links)
    fs.fsa_links.append(_fsa_links)
    fs.names += ["CustomerAccount", "CustomerAgreement", "BillingPeriod", "HistoricalReading", "ProjectionReading",
                 "TargetReading", "ServiceSupplier"]  # fmt: skip
