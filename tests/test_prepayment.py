"""Prepayment function set end to end (IEEE 2030.5-2018 clause 10.8): the operator pushes a prepayment
with its balance, credit registers and supply interruption overrides; the premise's display reads them
and may POST a credit request with its token; another premise's device gets 404; bad input stores nothing."""

from __future__ import annotations

import pytest
from helpers import register
from sep_client import AdminClient, SepClient
from test_openapi import DocumentedAdmin

from gridhan.schemas.clock import ManualClock
from gridhan.schemas.sep2 import DeviceCapability
from gridhan.schemas.sep2.prepayment import (
    AccountBalance,
    AccountingUnit,
    CreditRegister,
    CreditRegisterList,
    Prepayment,
    PrepaymentList,
    PrepayOperationStatus,
    SupplyInterruptionOverrideList,
)

T0 = 1_800_000_000
BALANCE = {"availableCredit": {"monetaryUnit": 36, "multiplier": -2, "value": 1234}, "creditStatus": 1}


@pytest.fixture
async def env(make_server, pki, optional_sep_schemas):
    server = await make_server(clock=ManualClock(T0))
    raw = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    dev1 = SepClient(server.sep2_url, pki, "dev1", optional_sep_schemas)
    dev2 = SepClient(server.sep2_url, pki, "dev2", optional_sep_schemas)
    id1 = await register(raw, dev1)
    await register(raw, dev2)
    admin = DocumentedAdmin(raw)
    status, account = await admin.post("/accounts", {"currency": 36, "price_power_of_ten_multiplier": -2})
    assert status == 201
    assert (await admin.put(f"/accounts/{account['id']}/audience", {"device_ids": [id1]}))[0] == 200
    yield admin, dev1, dev2, account
    await dev1.close()
    await dev2.close()
    await raw.close()


async def make_prepayment(admin, account) -> dict:
    status, made = await admin.post(
        "/prepayments",
        {"account_id": account["id"], "prepay_mode": 0, "account_balance": BALANCE,
         "operation_status": {"serviceStatus": 0},
         "low_credit_warning_level": {"monetaryUnit": 36, "multiplier": -2, "value": 500}},
    )  # fmt: skip
    assert status == 201, made
    return made


async def test_display_reads_balance_credit_and_overrides(env):
    admin, dev1, dev2, account = env
    made = await make_prepayment(admin, account)
    for when, cents in ((T0 - 3600, 2000), (T0 - 60, 1000)):
        status, reg = await admin.post(f"/prepayments/{made['id']}/credit-registers",
                                       {"creditAmount": {"monetaryUnit": 36, "multiplier": -2, "value": cents},
                                        "effectiveTime": when, "token": f"T{cents}"})  # fmt: skip
        assert status == 201, reg
    status, _ = await admin.post(f"/prepayments/{made['id']}/supply-interruption-overrides",
                                 {"start": T0 - 60, "duration": 3600, "description": "heatwave"})  # fmt: skip
    assert status == 201
    status, _ = await admin.post(f"/prepayments/{made['id']}/supply-interruption-overrides",
                                 {"start": T0 + 86400, "duration": 3600})  # fmt: skip
    assert status == 201

    dcap = (await dev1.get("/dcap")).parse(DeviceCapability)
    assert (dcap.PrepaymentListLink.href, dcap.PrepaymentListLink.all) == ("/ppy", 1)
    (prepayment,) = (await dev1.get("/ppy?l=5")).parse(PrepaymentList).Prepayment
    assert prepayment.lowCreditWarningLevel.value == 500
    balance = (await dev1.get(prepayment.AccountBalanceLink.href)).parse(AccountBalance)
    assert (balance.availableCredit.value, balance.creditStatus) == (1234, 1)
    status = (await dev1.get(prepayment.PrepayOperationStatusLink.href)).parse(PrepayOperationStatus)
    assert status.serviceStatus == 0
    registers = (await dev1.get(prepayment.CreditRegisterListLink.href + "?l=5")).parse(CreditRegisterList)
    assert [r.token for r in registers.CreditRegister] == ["T1000", "T2000"]  # effectiveTime descending
    overrides = (await dev1.get(prepayment.SupplyInterruptionOverrideListLink.href + "?l=5")).parse(
        SupplyInterruptionOverrideList
    )
    assert overrides.all == 2
    active = (await dev1.get(prepayment.ActiveSupplyInterruptionOverrideListLink.href + "?l=5")).parse(
        SupplyInterruptionOverrideList
    )
    assert [o.description for o in active.SupplyInterruptionOverride] == ["heatwave"]

    # the display asks for credit with a payment token
    request = CreditRegister(mRID="C0FFEE", creditAmount=AccountingUnit(monetaryUnit=36, multiplier=-2, value=5000),
                             effectiveTime=T0, token="1234-5678-9012")  # fmt: skip
    reply = await dev1.post(prepayment.CreditRegisterListLink.href, request)
    assert reply.status == 201, reply.text
    assert (await dev1.post(prepayment.CreditRegisterListLink.href, request)).status == 409
    wrong = CreditRegister(mRID="C0FFEF", creditAmount=AccountingUnit(monetaryUnit=840, multiplier=-2, value=5),
                           effectiveTime=T0, token="x")  # fmt: skip
    reply = await dev1.post(prepayment.CreditRegisterListLink.href, wrong)
    assert reply.status == 400 and "monetaryUnit" in reply.text
    status, listed = await admin.get(f"/prepayments/{made['id']}/credit-registers")
    assert listed["total"] == 3 and any(r["device_id"] for r in listed["items"])

    # another premise
    assert (await dev2.get("/ppy?l=5")).parse(PrepaymentList).all == 0
    for href in (prepayment.href, prepayment.AccountBalanceLink.href, prepayment.CreditRegisterListLink.href,
                 registers.CreditRegister[0].href, prepayment.SupplyInterruptionOverrideListLink.href):  # fmt: skip
        assert (await dev2.get(href)).status == 404, href
    assert (await dev2.post(prepayment.CreditRegisterListLink.href, request)).status == 404
    assert (await dev1.get(prepayment.href)).parse(Prepayment).mRID == made["mrid"]


async def test_bad_prepayments_store_nothing(env):
    admin, _dev1, _dev2, account = env
    wrong_currency = {**BALANCE, "availableCredit": {"monetaryUnit": 840, "multiplier": -2, "value": 1}}
    base = {"account_id": account["id"], "prepay_mode": 0, "operation_status": {"serviceStatus": 0}}
    for body, message in (
        ({**base, "account_balance": wrong_currency}, "availableCredit/monetaryUnit: 840 is not the account's"),
        ({**base, "account_balance": {"availableCredit": {"monetaryUnit": 36, "multiplier": 11, "value": 1}}},
         "multiplier"),
        ({**base, "prepay_mode": 7, "account_balance": BALANCE}, "prepay_mode: 7 is out of range"),
        ({**base, "account_balance": BALANCE, "operation_status": {"serviceStatus": 9}}, "serviceStatus"),
    ):  # fmt: skip
        status, reply = await admin.post("/prepayments", body)
        assert status == 400 and message in reply["error"], reply
    status, listed = await admin.get("/prepayments")
    assert listed["total"] == 0
    made = await make_prepayment(admin, account)
    status, reply = await admin.post(f"/prepayments/{made['id']}/supply-interruption-overrides",
                                     {"start": T0, "duration": -10})  # fmt: skip
    assert status == 400 and "duration" in reply["error"]
    status, reply = await admin.put(f"/prepayments/{made['id']}/balance", wrong_currency)
    assert status == 400
    status, again = await admin.get(f"/prepayments/{made['id']}")
    assert again["account_balance"]["availableCredit"]["value"] == 1234
