"""Metering and Metering Mirror function sets (IEEE 2030.5-2018 clauses 10.4 and 10.11).

Metering (10.4): a UsagePoint (a point where a commodity is measured) has MeterReadings; each names its
ReadingType (what is measured and how: commodity, unit, multiplier, interval ...) and links its latest
Reading and its ReadingSets (blocks of interval Readings).

Metering Mirror (10.11): a device that cannot serve its own readings POSTs a MirrorUsagePoint, with
MirrorMeterReadings that carry their ReadingType and readings inline, to the server's
MirrorUsagePointList; the server then publishes them as an ordinary UsagePoint.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridhan.schemas.sep2.base import IdentifiedObject, Link, List, ListLink, Resource, SubscribableList, sep
from gridhan.schemas.sep2.events import DateTimeInterval
from gridhan.schemas.sep2.types import (
    AccumulationBehaviourType,
    Boolean,
    CommodityType,
    ConsumptionBlockType,
    DataQualifierType,
    FlowDirectionType,
    HexBinary16,
    HexBinary160,
    Int32,
    Int48,
    KindType,
    PhaseCode,
    PowerOfTenMultiplierType,
    RoleFlagsType,
    ServiceKind,
    SubscribableType,
    TimeType,
    TOUType,
    UInt8,
    UInt32,
    UInt48,
    UomType,
    UsagePointStatusType,
)
from gridhan.schemas.xmlcodec import XmlResource, attr, elem


@sep()
@dataclass(kw_only=True)
class UnitValueType(XmlResource):
    multiplier: int = elem(PowerOfTenMultiplierType)
    unit: int = elem(UomType)
    value: int = elem(Int32)


@sep()
@dataclass(kw_only=True)
class SignedRealEnergy(XmlResource):
    multiplier: int = elem(PowerOfTenMultiplierType)
    value: int = elem(Int48)


@sep()
@dataclass(kw_only=True)
class ReadingType(Resource):
    accumulationBehaviour: int | None = elem(AccumulationBehaviourType, required=False)
    calorificValue: UnitValueType | None = elem(UnitValueType, required=False)
    commodity: int | None = elem(CommodityType, required=False)
    conversionFactor: UnitValueType | None = elem(UnitValueType, required=False)
    dataQualifier: int | None = elem(DataQualifierType, required=False)
    flowDirection: int | None = elem(FlowDirectionType, required=False)
    #: Seconds.
    intervalLength: int | None = elem(UInt32, required=False)
    kind: int | None = elem(KindType, required=False)
    maxNumberOfIntervals: int | None = elem(UInt8, required=False)
    numberOfConsumptionBlocks: int | None = elem(UInt8, required=False)
    numberOfTouTiers: int | None = elem(UInt8, required=False)
    phase: int | None = elem(PhaseCode, required=False)
    powerOfTenMultiplier: int | None = elem(PowerOfTenMultiplierType, required=False)
    subIntervalLength: int | None = elem(UInt32, required=False)
    supplyLimit: int | None = elem(UInt48, required=False)
    tieredConsumptionBlocks: bool | None = elem(Boolean, required=False)
    uom: int | None = elem(UomType, required=False)


@sep()
@dataclass(kw_only=True)
class ReadingBase(Resource):
    consumptionBlock: int | None = elem(ConsumptionBlockType, required=False)
    #: Bit field, hex: 0 valid, 1 manually edited, 2 estimated using reference day, 3 estimated using
    #: linear interpolation, 4 questionable, 5 derived, 6 projected.
    qualityFlags: str | None = elem(HexBinary16, required=False)
    timePeriod: DateTimeInterval | None = elem(DateTimeInterval, required=False)
    touTier: int | None = elem(TOUType, required=False)
    value: int | None = elem(Int48, required=False)


@sep()
@dataclass(kw_only=True)
class Reading(ReadingBase):
    localID: str | None = elem(HexBinary16, required=False)
    subscribable: int | None = attr(SubscribableType)


@sep()
@dataclass(kw_only=True)
class ReadingList(SubscribableList):
    Reading: list[Reading] = elem(Reading, many=True)


@sep()
@dataclass(kw_only=True)
class ReadingSetBase(IdentifiedObject):
    timePeriod: DateTimeInterval = elem(DateTimeInterval)


@sep()
@dataclass(kw_only=True)
class ReadingSet(ReadingSetBase):
    ReadingListLink: ListLink | None = elem(ListLink, required=False)


@sep()
@dataclass(kw_only=True)
class ReadingSetList(SubscribableList):
    ReadingSet: list[ReadingSet] = elem(ReadingSet, many=True)


@sep()
@dataclass(kw_only=True)
class MeterReadingBase(IdentifiedObject):
    pass


@sep()
@dataclass(kw_only=True)
class MeterReading(MeterReadingBase):
    RateComponentListLink: ListLink | None = elem(ListLink, required=False)
    ReadingLink: Link | None = elem(Link, required=False)
    ReadingSetListLink: ListLink | None = elem(ListLink, required=False)
    ReadingTypeLink: Link = elem(Link)


@sep()
@dataclass(kw_only=True)
class MeterReadingList(SubscribableList):
    MeterReading: list[MeterReading] = elem(MeterReading, many=True)


@sep()
@dataclass(kw_only=True)
class UsagePointBase(IdentifiedObject):
    #: Bit field, hex: 0 mirror, 1 premises aggregation point, 2 PEV, 3 DER, 4 revenue quality, 5 DC,
    #: 6 submeter.
    roleFlags: str = elem(RoleFlagsType)
    serviceCategoryKind: int = elem(ServiceKind)
    #: 0 off, 1 on.
    status: int = elem(UsagePointStatusType)


@sep()
@dataclass(kw_only=True)
class UsagePoint(UsagePointBase):
    deviceLFDI: str | None = elem(HexBinary160, required=False)
    MeterReadingListLink: ListLink | None = elem(ListLink, required=False)


@sep()
@dataclass(kw_only=True)
class UsagePointList(SubscribableList):
    UsagePoint: list[UsagePoint] = elem(UsagePoint, many=True)
    pollRate: int | None = attr(UInt32)


@sep()
@dataclass(kw_only=True)
class MirrorReadingSet(ReadingSetBase):
    Reading: list[Reading] = elem(Reading, many=True)


@sep()
@dataclass(kw_only=True)
class MirrorMeterReading(MeterReadingBase):
    lastUpdateTime: int | None = elem(TimeType, required=False)
    MirrorReadingSet: list[MirrorReadingSet] = elem(MirrorReadingSet, many=True)
    nextUpdateTime: int | None = elem(TimeType, required=False)
    Reading: Reading | None = elem(Reading, required=False)
    ReadingType: ReadingType | None = elem(ReadingType, required=False)


@sep()
@dataclass(kw_only=True)
class MirrorMeterReadingList(List):
    MirrorMeterReading: list[MirrorMeterReading] = elem(MirrorMeterReading, many=True)


@sep()
@dataclass(kw_only=True)
class MirrorUsagePoint(UsagePointBase):
    deviceLFDI: str = elem(HexBinary160)
    MirrorMeterReading: list[MirrorMeterReading] = elem(MirrorMeterReading, many=True)
    postRate: int | None = elem(UInt32, required=False)


@sep()
@dataclass(kw_only=True)
class MirrorUsagePointList(List):
    MirrorUsagePoint: list[MirrorUsagePoint] = elem(MirrorUsagePoint, many=True)
    pollRate: int | None = attr(UInt32)
