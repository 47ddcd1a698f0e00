"""Prepayment function set (IEEE 2030.5-2018).

A Prepayment (per customer agreement) names its mode (central wallet, ESI, local, credit) and warning
levels, and links its AccountBalance (credit and emergency credit left), its CreditRegisters (credit
added, each with its token), its SupplyInterruptionOverrides (intervals in which supply must not be
interrupted, the full list and its "active" subset) and its PrepayOperationStatus (supply status and
scheduled changes of supply or credit type). Amounts are AccountingUnits: money, optionally with energy.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridhan.schemas.sep2.base import IdentifiedObject, Link, List, ListLink, Resource, SubscribableList, sep
from gridhan.schemas.sep2.edev import RealEnergy
from gridhan.schemas.sep2.events import DateTimeInterval
from gridhan.schemas.sep2.metering import UsagePoint
from gridhan.schemas.sep2.types import (
    CreditStatusType,
    CreditTypeType,
    CurrencyCode,
    Int32,
    PowerOfTenMultiplierType,
    PrepayModeType,
    ServiceStatusType,
    String32,
    TimeType,
    UInt32,
)
from gridhan.schemas.xmlcodec import XmlResource, attr, elem


@sep()
@dataclass(kw_only=True)
class AccountingUnit(XmlResource):
    energyUnit: RealEnergy | None = elem(RealEnergy, required=False)
    monetaryUnit: int = elem(CurrencyCode)
    multiplier: int = elem(PowerOfTenMultiplierType)
    value: int = elem(Int32)


@sep()
@dataclass(kw_only=True)
class AccountBalance(Resource):
    availableCredit: AccountingUnit = elem(AccountingUnit)
    creditStatus: int | None = elem(CreditStatusType, required=False)
    emergencyCredit: AccountingUnit | None = elem(AccountingUnit, required=False)
    emergencyCreditStatus: int | None = elem(CreditStatusType, required=False)


@sep()
@dataclass(kw_only=True)
class CreditRegister(IdentifiedObject):
    creditAmount: AccountingUnit = elem(AccountingUnit)
    creditType: int | None = elem(CreditTypeType, required=False)
    effectiveTime: int = elem(TimeType)
    token: str = elem(String32)


@sep()
@dataclass(kw_only=True)
class CreditRegisterList(List):
    CreditRegister: list[CreditRegister] = elem(CreditRegister, many=True)


@sep()
@dataclass(kw_only=True)
class SupplyInterruptionOverride(Resource):
    description: str | None = elem(String32, required=False)
    interval: DateTimeInterval = elem(DateTimeInterval)


@sep()
@dataclass(kw_only=True)
class SupplyInterruptionOverrideList(List):
    SupplyInterruptionOverride: list[SupplyInterruptionOverride] = elem(SupplyInterruptionOverride, many=True)


@sep()
@dataclass(kw_only=True)
class CreditTypeChange(XmlResource):
    newType: int = elem(CreditTypeType)
    startTime: int = elem(TimeType)


@sep()
@dataclass(kw_only=True)
class ServiceChange(XmlResource):
    newStatus: int = elem(ServiceStatusType)
    startTime: int = elem(TimeType)


@sep()
@dataclass(kw_only=True)
class PrepayOperationStatus(Resource):
    creditTypeChange: CreditTypeChange | None = elem(CreditTypeChange, required=False)
    creditTypeInUse: int | None = elem(CreditTypeType, required=False)
    serviceChange: ServiceChange | None = elem(ServiceChange, required=False)
    serviceStatus: int = elem(ServiceStatusType)


@sep()
@dataclass(kw_only=True)
class Prepayment(IdentifiedObject):
    AccountBalanceLink: Link = elem(Link)
    ActiveCreditRegisterListLink: ListLink | None = elem(ListLink, required=False)
    ActiveSupplyInterruptionOverrideListLink: ListLink | None = elem(ListLink, required=False)
    creditExpiryLevel: AccountingUnit | None = elem(AccountingUnit, required=False)
    CreditRegisterListLink: ListLink = elem(ListLink)
    lowCreditWarningLevel: AccountingUnit | None = elem(AccountingUnit, required=False)
    lowEmergencyCreditWarningLevel: AccountingUnit | None = elem(AccountingUnit, required=False)
    prepayMode: int = elem(PrepayModeType)
    PrepayOperationStatusLink: Link = elem(Link)
    SupplyInterruptionOverrideListLink: ListLink = elem(ListLink)
    #: The schema lets a Prepayment carry UsagePoints inline (normally UsagePointLink is used).
    UsagePoint: list[UsagePoint] = elem(UsagePoint, many=True)
    UsagePointLink: Link | None = elem(Link, required=False)


@sep()
@dataclass(kw_only=True)
class PrepaymentList(SubscribableList):
    Prepayment: list[Prepayment] = elem(Prepayment, many=True)
    pollRate: int | None = attr(UInt32)
