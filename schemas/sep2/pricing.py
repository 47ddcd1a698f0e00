"""Pricing function set (IEEE 2030.5-2018 clause 10.5).

A TariffProfile (currency, price multiplier, primacy, service kind) holds RateComponents, one per kind of
reading priced (its ReadingType link). Each RateComponent has TimeTariffInterval events (the full list and
its "active" subset): a time-of-use tier for an interval. Each interval has ConsumptionTariffIntervals:
the price of each consumption block, starting at ``startValue`` (block pricing), optionally with
EnvironmentalCosts. Flat, time-of-use, block, hourly and real-time tariffs are all expressed this way;
critical peak pricing is one more TOU tier.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridhan.schemas.sep2.base import IdentifiedObject, Link, List, ListLink, Resource, SubscribableList, sep
from gridhan.schemas.sep2.events import RandomizableEvent
from gridhan.schemas.sep2.metering import UnitValueType
from gridhan.schemas.sep2.types import (
    ConsumptionBlockType,
    CostKindType,
    CurrencyCode,
    Int32,
    PowerOfTenMultiplierType,
    PrimacyType,
    RoleFlagsType,
    ServiceKind,
    String20,
    TOUType,
    UInt8,
    UInt32,
    UInt48,
)
from gridhan.schemas.xmlcodec import XmlResource, attr, elem


@sep()
@dataclass(kw_only=True)
class EnvironmentalCost(XmlResource):
    amount: int = elem(UInt32)
    costKind: int = elem(CostKindType)
    #: Relative level, 0 (lowest) .. numCostLevels - 1.
    costLevel: int = elem(UInt8)
    numCostLevels: int = elem(UInt8)


@sep()
@dataclass(kw_only=True)
class ConsumptionTariffInterval(Resource):
    consumptionBlock: int = elem(ConsumptionBlockType)
    EnvironmentalCost: list[EnvironmentalCost] = elem(EnvironmentalCost, many=True)
    #: Per unit of the rate component's ReadingType, x 10^pricePowerOfTenMultiplier of the TariffProfile.
    price: int | None = elem(Int32, required=False)
    #: The block starts above this consumption (the first block of an interval at 0).
    startValue: int = elem(UInt48)


@sep()
@dataclass(kw_only=True)
class ConsumptionTariffIntervalList(List):
    ConsumptionTariffInterval: list[ConsumptionTariffInterval] = elem(ConsumptionTariffInterval, many=True)


@sep()
@dataclass(kw_only=True)
class TimeTariffInterval(RandomizableEvent):
    ConsumptionTariffIntervalListLink: ListLink | None = elem(ListLink, required=False)
    touTier: int = elem(TOUType)


@sep()
@dataclass(kw_only=True)
class TimeTariffIntervalList(SubscribableList):
    TimeTariffInterval: list[TimeTariffInterval] = elem(TimeTariffInterval, many=True)


@sep()
@dataclass(kw_only=True)
class RateComponent(IdentifiedObject):
    ActiveTimeTariffIntervalListLink: ListLink | None = elem(ListLink, required=False)
    flowRateEndLimit: UnitValueType | None = elem(UnitValueType, required=False)
    flowRateStartLimit: UnitValueType | None = elem(UnitValueType, required=False)
    ReadingTypeLink: Link = elem(Link)
    #: Bit field, hex: the usage point roles the rate applies to.
    roleFlags: str = elem(RoleFlagsType)
    TimeTariffIntervalListLink: ListLink = elem(ListLink)


@sep()
@dataclass(kw_only=True)
class RateComponentList(List):
    RateComponent: list[RateComponent] = elem(RateComponent, many=True)


@sep()
@dataclass(kw_only=True)
class TariffProfile(IdentifiedObject):
    currency: int | None = elem(CurrencyCode, required=False)
    pricePowerOfTenMultiplier: int | None = elem(PowerOfTenMultiplierType, required=False)
    primacy: int = elem(PrimacyType)
    rateCode: str | None = elem(String20, required=False)
    RateComponentListLink: ListLink | None = elem(ListLink, required=False)
    serviceCategoryKind: int = elem(ServiceKind)


@sep()
@dataclass(kw_only=True)
class TariffProfileList(SubscribableList):
    TariffProfile: list[TariffProfile] = elem(TariffProfile, many=True)
    pollRate: int | None = attr(UInt32)
