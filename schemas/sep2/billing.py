"""Billing function set (IEEE 2030.5-2018).

A CustomerAccount (currency, price multiplier, its ServiceSupplier) holds CustomerAgreements, one per
service (its UsagePoint and TariffProfile). An agreement links its BillingPeriods (bill to date, last
bill) and three kinds of billing meter readings: HistoricalReadings (what was billed), ProjectionReadings
(what the bill is expected to be) and TargetReadings (a consumption goal). Each of these has
BillingReadingSets of BillingReadings, which may itemise their Charges.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridhan.schemas.sep2.base import (
    IdentifiedObject,
    Link,
    List,
    ListLink,
    Resource,
    SubscribableList,
    sep,
)
from gridhan.schemas.sep2.events import DateTimeInterval
from gridhan.schemas.sep2.metering import MeterReadingBase, ReadingBase, ReadingSetBase
from gridhan.schemas.sep2.types import (
    ChargeKind,
    CurrencyCode,
    Int32,
    Int48,
    PowerOfTenMultiplierType,
    String20,
    String32,
    String42,
    TimeType,
    UInt32,
)
from gridhan.schemas.xmlcodec import XmlResource, attr, elem


@sep()
@dataclass(kw_only=True)
class Charge(XmlResource):
    description: str | None = elem(String20, required=False)
    #: 0 consumption, 1 rebate, 2 auxiliary, 3 demand, 4 tax.
    kind: int | None = elem(ChargeKind, required=False)
    value: int = elem(Int32)


@sep()
@dataclass(kw_only=True)
class BillingReading(ReadingBase):
    Charge: list[Charge] = elem(Charge, many=True)


@sep()
@dataclass(kw_only=True)
class BillingReadingList(List):
    BillingReading: list[BillingReading] = elem(BillingReading, many=True)


@sep()
@dataclass(kw_only=True)
class BillingReadingSet(ReadingSetBase):
    BillingReadingListLink: ListLink | None = elem(ListLink, required=False)


@sep()
@dataclass(kw_only=True)
class BillingReadingSetList(SubscribableList):
    BillingReadingSet: list[BillingReadingSet] = elem(BillingReadingSet, many=True)


@sep()
@dataclass(kw_only=True)
class BillingMeterReadingBase(MeterReadingBase):
    BillingReadingSetListLink: ListLink | None = elem(ListLink, required=False)
    ReadingTypeLink: Link | None = elem(Link, required=False)


@sep()
@dataclass(kw_only=True)
class HistoricalReading(BillingMeterReadingBase):
    pass


@sep()
@dataclass(kw_only=True)
class HistoricalReadingList(List):
    HistoricalReading: list[HistoricalReading] = elem(HistoricalReading, many=True)


@sep()
@dataclass(kw_only=True)
class ProjectionReading(BillingMeterReadingBase):
    pass


@sep()
@dataclass(kw_only=True)
class ProjectionReadingList(List):
    ProjectionReading: list[ProjectionReading] = elem(ProjectionReading, many=True)


@sep()
@dataclass(kw_only=True)
class TargetReading(BillingMeterReadingBase):
    pass


@sep()
@dataclass(kw_only=True)
class TargetReadingList(List):
    TargetReading: list[TargetReading] = elem(TargetReading, many=True)


@sep()
@dataclass(kw_only=True)
class BillingPeriod(Resource):
    #: Amounts in the account's currency, x 10^pricePowerOfTenMultiplier.
    billLastPeriod: int | None = elem(Int48, required=False)
    billToDate: int | None = elem(Int48, required=False)
    interval: DateTimeInterval = elem(DateTimeInterval)
    statusTimeStamp: int | None = elem(TimeType, required=False)


@sep()
@dataclass(kw_only=True)
class BillingPeriodList(SubscribableList):
    BillingPeriod: list[BillingPeriod] = elem(BillingPeriod, many=True)


@sep()
@dataclass(kw_only=True)
class CustomerAgreement(IdentifiedObject):
    ActiveBillingPeriodListLink: ListLink | None = elem(ListLink, required=False)
    ActiveProjectionReadingListLink: ListLink | None = elem(ListLink, required=False)
    ActiveTargetReadingListLink: ListLink | None = elem(ListLink, required=False)
    BillingPeriodListLink: ListLink | None = elem(ListLink, required=False)
    HistoricalReadingListLink: ListLink | None = elem(ListLink, required=False)
    PrepaymentLink: Link | None = elem(Link, required=False)
    ProjectionReadingListLink: ListLink | None = elem(ListLink, required=False)
    serviceAccount: str | None = elem(String42, required=False)
    serviceLocation: str | None = elem(String42, required=False)
    TargetReadingListLink: ListLink | None = elem(ListLink, required=False)
    TariffProfileLink: Link | None = elem(Link, required=False)
    UsagePointLink: Link | None = elem(Link, required=False)


@sep()
@dataclass(kw_only=True)
class CustomerAgreementList(SubscribableList):
    CustomerAgreement: list[CustomerAgreement] = elem(CustomerAgreement, many=True)


@sep()
@dataclass(kw_only=True)
class CustomerAccount(IdentifiedObject):
    #: ISO 4217 numeric code (a plain UInt16 in the schema).
    currency: int = elem(CurrencyCode)
    customerAccount: str | None = elem(String42, required=False)
    CustomerAgreementListLink: ListLink | None = elem(ListLink, required=False)
    customerName: str | None = elem(String42, required=False)
    pricePowerOfTenMultiplier: int = elem(PowerOfTenMultiplierType)
    ServiceSupplierLink: Link | None = elem(Link, required=False)


@sep()
@dataclass(kw_only=True)
class CustomerAccountList(SubscribableList):
    CustomerAccount: list[CustomerAccount] = elem(CustomerAccount, many=True)
    pollRate: int | None = attr(UInt32)


@sep()
@dataclass(kw_only=True)
class ServiceSupplier(IdentifiedObject):
    email: str | None = elem(String32, required=False)
    phone: str | None = elem(String20, required=False)
    #: Identifies the supplier (e.g. an IANA private enterprise number).
    providerID: int | None = elem(UInt32, required=False)
    web: str | None = elem(String42, required=False)


@sep()
@dataclass(kw_only=True)
class ServiceSupplierList(List):
    ServiceSupplier: list[ServiceSupplier] = elem(ServiceSupplier, many=True)
