"""Billing function set end to end (IEEE 2030.5-2018 clause 10.7): the operator pushes an account, its
agreement, billing periods and billing readings through the admin API; the premise's display (dev1) walks
from DeviceCapability and its FunctionSetAssignments to them over mutual TLS; a device of another premise
(dev2) gets 404 everywhere; bad input is refused with the field named and nothing stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from helpers import register
from sep_client import AdminClient, SepClient
from test_openapi import DocumentedAdmin

from gridhan.schemas.clock import ManualClock
from gridhan.schemas.sep2 import DeviceCapability, EndDevice, FunctionSetAssignmentsList
from gridhan.schemas.sep2.billing import (
    BillingPeriodList,
    BillingReadingList,
    BillingReadingSetList,
    CustomerAccount,
    CustomerAccountList,
    CustomerAgreementList,
    HistoricalReadingList,
    ProjectionReadingList,
    ServiceSupplier,
)
from gridhan.schemas.sep2.metering import ReadingType

DAY = 86400
BILL_DATE = 1_800_000_000
T0 = BILL_DATE + 10 * DAY + 3600


@dataclass
class Env:
    clock: ManualClock
    admin: DocumentedAdmin
    dev1: SepClient
    dev2: SepClient
    ids: dict[str, int]


@pytest.fixture
async def env(make_server, pki, optional_sep_schemas) -> AsyncIterator[Env]:
    clock = ManualClock(T0)
    server = await make_server(clock=clock)
    raw = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    dev1 = SepClient(server.sep2_url, pki, "dev1", optional_sep_schemas)
    dev2 = SepClient(server.sep2_url, pki, "dev2", optional_sep_schemas)
    ids = {"dev1": await register(raw, dev1), "dev2": await register(raw, dev2)}
    yield Env(clock, DocumentedAdmin(raw), dev1, dev2, ids)
    for client in (dev1, dev2):
        await client.close()
    await raw.close()


async def make_account(env: Env) -> dict[str, Any]:
    status, account = await env.admin.post(
        "/accounts",
        {
            "currency": 840,
            "price_power_of_ten_multiplier": -3,
            "customer_name": "J. Doe",
            "customer_account": "981273648",
            "supplier": {"description": "Watts R Us", "phone": "888.555.1212", "providerID": 58726},
        },
    )
    assert status == 201, account
    status, group = await env.admin.post("/groups", {"name": "premise-12", "description": "premise 12"})
    assert status == 201
    status, _ = await env.admin.put(f"/groups/{group['id']}/members", {"device_ids": [env.ids["dev1"]]})
    assert status in (200, 204)
    status, linked = await env.admin.put(f"/accounts/{account['id']}/audience", {"group_ids": [group["id"]]})
    assert status == 200 and linked["group_ids"] == [group["id"]], linked
    return account


async def populate(env: Env) -> dict[str, Any]:
    account = await make_account(env)
    status, agreement = await env.admin.post(
        f"/accounts/{account['id']}/agreements", {"service_location": "12 Main St", "service_account": "A-1"}
    )
    assert status == 201, agreement
    # last month's period, and the current one (30 days from the bill date): $41.234 so far, at day 10
    for start, to_date, last in ((BILL_DATE - 30 * DAY, 118_000, 120_500), (BILL_DATE, 41_234, 118_000)):
        status, period = await env.admin.post(
            f"/agreements/{agreement['id']}/billing-periods",
            {"start": start, "duration": 30 * DAY, "bill_to_date": to_date, "bill_last_period": last,
             "status_time_stamp": min(start + 10 * DAY, T0)},
        )  # fmt: skip
        assert status == 201, period
    reading_type = {"uom": 72, "powerOfTenMultiplier": 0, "kind": 12, "flowDirection": 1, "intervalLength": DAY}
    made = {}
    for kind in ("historical", "projection"):
        status, reading = await env.admin.post(
            f"/agreements/{agreement['id']}/billing-readings",
            {"kind": kind, "description": f"{kind} kWh", "reading_type": reading_type},
        )
        assert status == 201, reading
        made[kind] = reading
    days = [
        {"timePeriod": {"start": BILL_DATE - 30 * DAY + i * DAY, "duration": DAY}, "value": 12_000 + i,
         "Charge": [{"kind": 0, "value": 3_900}]}
        for i in range(30)
    ]  # fmt: skip
    status, pushed = await env.admin.post(
        f"/billing-readings/{made['historical']['id']}/reading-sets",
        {"mrid": "0A0B", "description": "last month", "start": BILL_DATE - 30 * DAY, "duration": 30 * DAY,
         "readings": days},
    )  # fmt: skip
    assert status == 201 and pushed["readings"] == 30, pushed
    return {"account": account, "agreement": agreement, **made}


async def test_display_walks_to_its_bill(env: Env):
    made = await populate(env)
    dev = env.dev1
    dcap = (await dev.get("/dcap")).parse(DeviceCapability)
    assert (dcap.CustomerAccountListLink.href, dcap.CustomerAccountListLink.all) == ("/bill", 1)
    # the group's FunctionSetAssignments point there too (Annex C.16)
    edev = (await dev.get(f"/edev/{env.ids['dev1']}")).parse(EndDevice)
    fsal = (await dev.get(edev.FunctionSetAssignmentsListLink.href + "?l=5")).parse(FunctionSetAssignmentsList)
    assert fsal.FunctionSetAssignments[0].CustomerAccountListLink.href == "/bill"

    accounts = (await dev.get("/bill?l=5")).parse(CustomerAccountList)
    (account,) = accounts.CustomerAccount
    assert (account.currency, account.pricePowerOfTenMultiplier, account.customerName) == (840, -3, "J. Doe")
    assert account.href == made["account"]["href"]
    supplier = (await dev.get(account.ServiceSupplierLink.href)).parse(ServiceSupplier)
    assert (supplier.description, supplier.providerID) == ("Watts R Us", 58726)
    agreements = (await dev.get(account.CustomerAgreementListLink.href + "?l=5")).parse(CustomerAgreementList)
    (agreement,) = agreements.CustomerAgreement
    assert agreement.serviceLocation == "12 Main St"
    assert agreement.BillingPeriodListLink.all == 2 and agreement.ActiveBillingPeriodListLink.all == 1

    # the current period: month to date and its projection (linear: $41.234 after 10 of 30 days)
    active = (await dev.get(agreement.ActiveBillingPeriodListLink.href + "?l=5")).parse(BillingPeriodList)
    (current,) = active.BillingPeriod
    assert (current.interval.start, current.billToDate, current.billLastPeriod) == (BILL_DATE, 41_234, 118_000)
    every = (await dev.get(agreement.BillingPeriodListLink.href + "?l=5")).parse(BillingPeriodList)
    assert [p.interval.start for p in every.BillingPeriod] == [BILL_DATE, BILL_DATE - 30 * DAY]
    status, summary = await env.admin.get(f"/accounts/{made['account']['id']}/summary")
    assert status == 200, summary
    figures = summary["agreements"][0]["current_period"]
    assert (figures["bill_to_date"], figures["projected_bill"], figures["bill_last_period"]) == (
        "41.23", "123.70", "118.00"
    )  # fmt: skip

    # after the bill date of the next period, the month-to-date figures start again
    env.clock.set(BILL_DATE + 30 * DAY + 60)
    active = (await dev.get(agreement.ActiveBillingPeriodListLink.href + "?l=5")).parse(BillingPeriodList)
    assert active.all == 0
    status, summary = await env.admin.get(f"/accounts/{made['account']['id']}/summary")
    assert summary["agreements"][0]["current_period"] is None

    history = (await dev.get(agreement.HistoricalReadingListLink.href + "?l=5")).parse(HistoricalReadingList)
    (historical,) = history.HistoricalReading
    reading_type = (await dev.get(historical.ReadingTypeLink.href)).parse(ReadingType)
    assert (reading_type.uom, reading_type.intervalLength) == (72, DAY)
    sets = (await dev.get(historical.BillingReadingSetListLink.href + "?l=5")).parse(BillingReadingSetList)
    (month,) = sets.BillingReadingSet
    readings = (await dev.get(month.BillingReadingListLink.href + "?l=100")).parse(BillingReadingList)
    assert readings.all == 30 and readings.BillingReading[0].value == 12_000
    assert readings.BillingReading[0].Charge[0].value == 3_900
    assert (await dev.get(readings.BillingReading[3].href)).status == 200
    projection = (await dev.get(agreement.ProjectionReadingListLink.href + "?l=5")).parse(ProjectionReadingList)
    assert projection.all == 1

    # dev2, of another premise, sees nothing of it: every resource answers like a missing one
    dcap2 = (await env.dev2.get("/dcap")).parse(DeviceCapability)
    assert dcap2.CustomerAccountListLink.all == 0
    assert (await env.dev2.get("/bill?l=5")).parse(CustomerAccountList).all == 0
    hrefs = [account.href, account.ServiceSupplierLink.href, agreement.href, agreement.BillingPeriodListLink.href]
    hrefs += [current.href, historical.href, month.href, readings.BillingReading[0].href]
    hrefs += [historical.ReadingTypeLink.href]
    for href in hrefs:
        reply = await env.dev2.get(href)
        assert reply.status == 404, href
    assert (await env.dev1.get(account.href.replace("/bill/", "/bill/9"))).status == 404


async def test_reading_set_replaced_by_its_mrid(env: Env):
    made = await populate(env)
    one_day = [{"timePeriod": {"start": BILL_DATE - 30 * DAY, "duration": DAY}, "value": 1}]
    status, again = await env.admin.post(
        f"/billing-readings/{made['historical']['id']}/reading-sets",
        {"mrid": "0A0B", "start": BILL_DATE - 30 * DAY, "duration": 30 * DAY, "readings": one_day},
    )
    assert status == 200 and again["replaced"], again
    listed = (await env.dev1.get(again["href"] + "/r?l=50")).parse(BillingReadingList)
    assert listed.all == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"currency": 999, "price_power_of_ten_multiplier": -2}, "currency: 999 is not an ISO 4217"),
        ({"currency": 840, "price_power_of_ten_multiplier": 10}, "price_power_of_ten_multiplier: 10 is out of range"),
        ({"currency": 840, "price_power_of_ten_multiplier": -10}, "out of range (-9..9)"),
        ({"currency": 840}, "price_power_of_ten_multiplier: required"),
        ({"currency": 840, "price_power_of_ten_multiplier": 0, "supplier": {"mRID": "AB"}}, "supplier/mRID"),
        ({"currency": 840, "price_power_of_ten_multiplier": 0, "colour": 1}, "colour: unknown field"),
    ],
)
async def test_bad_accounts_are_refused_and_nothing_is_stored(env: Env, body, message):
    status, reply = await env.admin.post("/accounts", body)
    assert status == 400 and message in reply["error"], reply
    status, listed = await env.admin.get("/accounts")
    assert listed["total"] == 0


async def test_bad_periods_and_reading_sets(env: Env):
    made = await populate(env)
    agreement_id = made["agreement"]["id"]
    status, reply = await env.admin.post(f"/agreements/{agreement_id}/billing-periods",
                                         {"start": BILL_DATE, "duration": -5})  # fmt: skip
    assert status == 400 and "duration: -5 is not positive" in reply["error"]
    path = f"/billing-readings/{made['projection']['id']}/reading-sets"
    outside = {"start": BILL_DATE, "duration": DAY,
               "readings": [{"timePeriod": {"start": BILL_DATE + DAY, "duration": 3600}, "value": 5}]}  # fmt: skip
    status, reply = await env.admin.post(path, outside)
    assert status == 400 and "readings[0]/timePeriod" in reply["error"] and "outside" in reply["error"], reply
    status, reply = await env.admin.post(path, {**outside, "duration": -1})
    assert status == 400 and "duration: -1 is negative" in reply["error"], reply
    status, reply = await env.admin.post(path, {**outside, "readings": [{"value": 2**48}]})
    assert status == 400 and "readings[0]/value" in reply["error"], reply
    status, reply = await env.admin.post(path, {**outside, "readings": []})
    assert status == 400 and "at least one reading" in reply["error"], reply
    projection = (await env.dev1.get(f"{made['projection']['href']}/rs?l=5")).parse(BillingReadingSetList)
    assert projection.all == 0  # nothing half-written
    status, reply = await env.admin.put(f"/accounts/{made['account']['id']}/audience", {"device_ids": [99999]})
    assert status == 400 and "device_ids: no device with id 99999" in reply["error"]
    assert (await env.dev1.get("/bill?l=5")).parse(CustomerAccountList).all == 1  # the old audience stands


async def test_account_linked_to_a_device_directly(env: Env):
    account = await make_account(env)
    status, _ = await env.admin.put(f"/accounts/{account['id']}/audience", {"device_ids": [env.ids["dev2"]]})
    assert status == 200
    assert (await env.dev2.get(account["href"])).parse(CustomerAccount).mRID == account["mrid"]
    assert (await env.dev1.get(account["href"])).status == 404
    status, _ = await env.admin.delete(f"/accounts/{account['id']}")
    assert status == 204
    assert (await env.dev2.get(account["href"])).status == 404
