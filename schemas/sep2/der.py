"""Distributed Energy Resources function set (IEEE 2030.5-2018 clause 10.10; sep.xsd "DER" package).

A server publishes DERPrograms, each with DERControl events (DERControlList and its "active" subset), a
DefaultDERControl applied when no event is active, and the DERCurves that curve-based modes link to. A
DER client describes itself under its EndDevice with a DER: its ratings (DERCapability), its current
settings (DERSettings), its status (DERStatus) and what it can still deliver (DERAvailability).

The CSIP-AUS 1.2 extension elements (:mod:`.csipaus`) are the last, optional fields of DERControlBase,
DERSettings and DERCapability, in the CSIP-AUS namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridhan.schemas.sep2.base import (
    CSIPAUS_NS,
    IdentifiedObject,
    Link,
    List,
    ListLink,
    Resource,
    SubscribableIdentifiedObject,
    SubscribableList,
    SubscribableResource,
    sep,
)
from gridhan.schemas.sep2.csipaus import CSIPAUS_PREFIXES, DOEControlType
from gridhan.schemas.sep2.edev import ActivePower
from gridhan.schemas.sep2.events import RandomizableEvent
from gridhan.schemas.sep2.types import (
    AbnormalCategoryType,
    Boolean,
    ConnectStatusValue,
    DERControlType,
    DERCurveType,
    DERType,
    DERUnitRefType,
    DeviceCategoryType,
    HexBinary32,
    Int16,
    Int32,
    InverterStatusValue,
    LocalControlModeStatusValue,
    NormalCategoryType,
    OperationalModeStatusValue,
    PerCent,
    PowerOfTenMultiplierType,
    PrimacyType,
    SignedPerCent,
    StorageModeStatusValue,
    String6,
    TimeType,
    UInt16,
    UInt32,
)
from gridhan.schemas.xmlcodec import XmlResource, attr, elem

# ---------------------------------------------------------------------------------------------------
# Quantities: a value and a power-of-ten multiplier (value x 10^multiplier, in the unit of the type)
# ---------------------------------------------------------------------------------------------------


@sep()
@dataclass(kw_only=True)
class AmpereHour(XmlResource):
    multiplier: int = elem(PowerOfTenMultiplierType)
    value: int = elem(UInt16)


@sep()
@dataclass(kw_only=True)
class ApparentPower(XmlResource):
    multiplier: int = elem(PowerOfTenMultiplierType)
    value: int = elem(UInt16)


@sep()
@dataclass(kw_only=True)
class CurrentRMS(XmlResource):
    multiplier: int = elem(PowerOfTenMultiplierType)
    value: int = elem(UInt16)


@sep()
@dataclass(kw_only=True)
class FixedPointType(XmlResource):
    multiplier: int = elem(PowerOfTenMultiplierType)
    value: int = elem(Int16)


@sep()
@dataclass(kw_only=True)
class UnsignedFixedPointType(XmlResource):
    multiplier: int = elem(PowerOfTenMultiplierType)
    value: int = elem(UInt16)


@sep()
@dataclass(kw_only=True)
class ReactivePower(XmlResource):
    multiplier: int = elem(PowerOfTenMultiplierType)
    value: int = elem(Int16)


@sep()
@dataclass(kw_only=True)
class ReactiveSusceptance(XmlResource):
    multiplier: int = elem(PowerOfTenMultiplierType)
    value: int = elem(UInt16)


@sep()
@dataclass(kw_only=True)
class VoltageRMS(XmlResource):
    multiplier: int = elem(PowerOfTenMultiplierType)
    value: int = elem(UInt16)


@sep()
@dataclass(kw_only=True)
class WattHour(XmlResource):
    multiplier: int = elem(PowerOfTenMultiplierType)
    value: int = elem(UInt16)


@sep()
@dataclass(kw_only=True)
class PowerFactor(XmlResource):
    #: cos(theta) x 10^multiplier.
    displacement: int = elem(UInt16)
    multiplier: int = elem(PowerOfTenMultiplierType)


@sep()
@dataclass(kw_only=True)
class PowerFactorWithExcitation(XmlResource):
    displacement: int = elem(UInt16)
    #: False: over-excited, true: under-excited.
    excitation: bool = elem(Boolean)
    multiplier: int = elem(PowerOfTenMultiplierType)


@sep()
@dataclass(kw_only=True)
class FixedVar(XmlResource):
    refType: int = elem(DERUnitRefType)
    value: int = elem(SignedPerCent)


@sep()
@dataclass(kw_only=True)
class FreqDroopType(XmlResource):
    dBOF: int = elem(UInt32)
    dBUF: int = elem(UInt32)
    kOF: int = elem(UInt16)
    kUF: int = elem(UInt16)
    openLoopTms: int = elem(UInt16)


# ---------------------------------------------------------------------------------------------------
# Controls and programs
# ---------------------------------------------------------------------------------------------------


@sep(prefixes=CSIPAUS_PREFIXES)
@dataclass(kw_only=True)
class DERControlBase(XmlResource):
    """The modes of a control; curve modes hold a link to a DERCurve (a Link)."""

    opModConnect: bool | None = elem(Boolean, required=False)
    opModEnergize: bool | None = elem(Boolean, required=False)
    opModFixedPFAbsorbW: PowerFactorWithExcitation | None = elem(PowerFactorWithExcitation, required=False)
    opModFixedPFInjectW: PowerFactorWithExcitation | None = elem(PowerFactorWithExcitation, required=False)
    opModFixedVar: FixedVar | None = elem(FixedVar, required=False)
    opModFixedW: int | None = elem(SignedPerCent, required=False)
    opModFreqDroop: FreqDroopType | None = elem(FreqDroopType, required=False)
    opModFreqWatt: Link | None = elem(Link, required=False)
    opModHFRTMayTrip: Link | None = elem(Link, required=False)
    opModHFRTMustTrip: Link | None = elem(Link, required=False)
    opModHVRTMayTrip: Link | None = elem(Link, required=False)
    opModHVRTMomentaryCessation: Link | None = elem(Link, required=False)
    opModHVRTMustTrip: Link | None = elem(Link, required=False)
    opModLFRTMayTrip: Link | None = elem(Link, required=False)
    opModLFRTMustTrip: Link | None = elem(Link, required=False)
    opModLVRTMayTrip: Link | None = elem(Link, required=False)
    opModLVRTMomentaryCessation: Link | None = elem(Link, required=False)
    opModLVRTMustTrip: Link | None = elem(Link, required=False)
    opModMaxLimW: int | None = elem(PerCent, required=False)
    opModTargetVar: ReactivePower | None = elem(ReactivePower, required=False)
    opModTargetW: ActivePower | None = elem(ActivePower, required=False)
    opModVoltVar: Link | None = elem(Link, required=False)
    opModVoltWatt: Link | None = elem(Link, required=False)
    opModWattPF: Link | None = elem(Link, required=False)
    opModWattVar: Link | None = elem(Link, required=False)
    rampTms: int | None = elem(UInt16, required=False)
    # CSIP-AUS 1.2 dynamic operating envelope (site import / export, generation / load limits).
    opModImpLimW: ActivePower | None = elem(ActivePower, namespace=CSIPAUS_NS, required=False)
    opModExpLimW: ActivePower | None = elem(ActivePower, namespace=CSIPAUS_NS, required=False)
    opModGenLimW: ActivePower | None = elem(ActivePower, namespace=CSIPAUS_NS, required=False)
    opModLoadLimW: ActivePower | None = elem(ActivePower, namespace=CSIPAUS_NS, required=False)


@sep()
@dataclass(kw_only=True)
class DERControl(RandomizableEvent):
    DERControlBase: DERControlBase = elem(DERControlBase)
    deviceCategory: str | None = elem(DeviceCategoryType, required=False)


@sep()
@dataclass(kw_only=True)
class DERControlList(SubscribableList):
    DERControl: list[DERControl] = elem(DERControl, many=True)


@sep()
@dataclass(kw_only=True)
class DefaultDERControl(SubscribableIdentifiedObject):
    DERControlBase: DERControlBase = elem(DERControlBase)
    setESDelay: int | None = elem(UInt32, required=False)
    setESHighFreq: int | None = elem(UInt16, required=False)
    setESHighVolt: int | None = elem(Int16, required=False)
    setESLowFreq: int | None = elem(UInt16, required=False)
    setESLowVolt: int | None = elem(Int16, required=False)
    setESRampTms: int | None = elem(UInt32, required=False)
    setESRandomDelay: int | None = elem(UInt32, required=False)
    setGradW: int | None = elem(UInt16, required=False)
    setSoftGradW: int | None = elem(UInt16, required=False)


@sep()
@dataclass(kw_only=True)
class CurveData(XmlResource):
    excitation: bool | None = elem(Boolean, required=False)
    xvalue: int = elem(Int32)
    yvalue: int = elem(Int32)


@sep()
@dataclass(kw_only=True)
class DERCurve(IdentifiedObject):
    autonomousVRefEnable: bool | None = elem(Boolean, required=False)
    autonomousVRefTimeConstant: int | None = elem(UInt32, required=False)
    creationTime: int = elem(TimeType)
    CurveData: list[CurveData] = elem(CurveData, many=True, required=True, max_occurs=10)
    curveType: int = elem(DERCurveType)
    openLoopTms: int | None = elem(UInt16, required=False)
    rampDecTms: int | None = elem(UInt16, required=False)
    rampIncTms: int | None = elem(UInt16, required=False)
    rampPT1Tms: int | None = elem(UInt16, required=False)
    vRef: int | None = elem(PerCent, required=False)
    xMultiplier: int = elem(PowerOfTenMultiplierType)
    yMultiplier: int = elem(PowerOfTenMultiplierType)
    yRefType: int = elem(DERUnitRefType)


@sep()
@dataclass(kw_only=True)
class DERCurveList(List):
    DERCurve: list[DERCurve] = elem(DERCurve, many=True)


@sep()
@dataclass(kw_only=True)
class DERProgram(SubscribableIdentifiedObject):
    ActiveDERControlListLink: ListLink | None = elem(ListLink, required=False)
    DefaultDERControlLink: Link | None = elem(Link, required=False)
    DERControlListLink: ListLink | None = elem(ListLink, required=False)
    DERCurveListLink: ListLink | None = elem(ListLink, required=False)
    primacy: int = elem(PrimacyType)


@sep()
@dataclass(kw_only=True)
class DERProgramList(SubscribableList):
    DERProgram: list[DERProgram] = elem(DERProgram, many=True)
    pollRate: int | None = attr(UInt32)


# ---------------------------------------------------------------------------------------------------
# The DER itself: ratings, settings, status, availability
# ---------------------------------------------------------------------------------------------------


@sep()
@dataclass(kw_only=True)
class DER(SubscribableResource):
    AssociatedDERProgramListLink: ListLink | None = elem(ListLink, required=False)
    AssociatedUsagePointLink: Link | None = elem(Link, required=False)
    CurrentDERProgramLink: Link | None = elem(Link, required=False)
    DERAvailabilityLink: Link | None = elem(Link, required=False)
    DERCapabilityLink: Link | None = elem(Link, required=False)
    DERSettingsLink: Link | None = elem(Link, required=False)
    DERStatusLink: Link | None = elem(Link, required=False)


@sep()
@dataclass(kw_only=True)
class DERList(List):
    DER: list[DER] = elem(DER, many=True)
    pollRate: int | None = attr(UInt32)


@sep(prefixes=CSIPAUS_PREFIXES)
@dataclass(kw_only=True)
class DERCapability(Resource):
    modesSupported: str = elem(DERControlType)
    rtgAbnormalCategory: int | None = elem(AbnormalCategoryType, required=False)
    rtgMaxA: CurrentRMS | None = elem(CurrentRMS, required=False)
    rtgMaxAh: AmpereHour | None = elem(AmpereHour, required=False)
    rtgMaxChargeRateVA: ApparentPower | None = elem(ApparentPower, required=False)
    rtgMaxChargeRateW: ActivePower | None = elem(ActivePower, required=False)
    rtgMaxDischargeRateVA: ApparentPower | None = elem(ApparentPower, required=False)
    rtgMaxDischargeRateW: ActivePower | None = elem(ActivePower, required=False)
    rtgMaxV: VoltageRMS | None = elem(VoltageRMS, required=False)
    rtgMaxVA: ApparentPower | None = elem(ApparentPower, required=False)
    rtgMaxVar: ReactivePower | None = elem(ReactivePower, required=False)
    rtgMaxVarNeg: ReactivePower | None = elem(ReactivePower, required=False)
    rtgMaxW: ActivePower = elem(ActivePower)
    rtgMaxWh: WattHour | None = elem(WattHour, required=False)
    rtgMinPFOverExcited: PowerFactor | None = elem(PowerFactor, required=False)
    rtgMinPFUnderExcited: PowerFactor | None = elem(PowerFactor, required=False)
    rtgMinV: VoltageRMS | None = elem(VoltageRMS, required=False)
    rtgNormalCategory: int | None = elem(NormalCategoryType, required=False)
    rtgOverExcitedPF: PowerFactor | None = elem(PowerFactor, required=False)
    rtgOverExcitedW: ActivePower | None = elem(ActivePower, required=False)
    rtgReactiveSusceptance: ReactiveSusceptance | None = elem(ReactiveSusceptance, required=False)
    rtgUnderExcitedPF: PowerFactor | None = elem(PowerFactor, required=False)
    rtgUnderExcitedW: ActivePower | None = elem(ActivePower, required=False)
    rtgVNom: VoltageRMS | None = elem(VoltageRMS, required=False)
    type: int = elem(DERType)
    # CSIP-AUS 1.2 (which requires it; optional here so that plain 2030.5 documents stay valid).
    doeModesSupported: str | None = elem(DOEControlType, namespace=CSIPAUS_NS, required=False)


@sep(prefixes=CSIPAUS_PREFIXES)
@dataclass(kw_only=True)
class DERSettings(SubscribableResource):
    modesEnabled: str | None = elem(DERControlType, required=False)
    setESDelay: int | None = elem(UInt32, required=False)
    setESHighFreq: int | None = elem(UInt16, required=False)
    setESHighVolt: int | None = elem(Int16, required=False)
    setESLowFreq: int | None = elem(UInt16, required=False)
    setESLowVolt: int | None = elem(Int16, required=False)
    setESRampTms: int | None = elem(UInt32, required=False)
    setESRandomDelay: int | None = elem(UInt32, required=False)
    setGradW: int = elem(UInt16)
    setMaxA: CurrentRMS | None = elem(CurrentRMS, required=False)
    setMaxAh: AmpereHour | None = elem(AmpereHour, required=False)
    setMaxChargeRateVA: ApparentPower | None = elem(ApparentPower, required=False)
    setMaxChargeRateW: ActivePower | None = elem(ActivePower, required=False)
    setMaxDischargeRateVA: ApparentPower | None = elem(ApparentPower, required=False)
    setMaxDischargeRateW: ActivePower | None = elem(ActivePower, required=False)
    setMaxV: VoltageRMS | None = elem(VoltageRMS, required=False)
    setMaxVA: ApparentPower | None = elem(ApparentPower, required=False)
    setMaxVar: ReactivePower | None = elem(ReactivePower, required=False)
    setMaxVarNeg: ReactivePower | None = elem(ReactivePower, required=False)
    setMaxW: ActivePower = elem(ActivePower)
    setMaxWh: WattHour | None = elem(WattHour, required=False)
    setMinPFOverExcited: PowerFactor | None = elem(PowerFactor, required=False)
    setMinPFUnderExcited: PowerFactor | None = elem(PowerFactor, required=False)
    setMinV: VoltageRMS | None = elem(VoltageRMS, required=False)
    setSoftGradW: int | None = elem(UInt16, required=False)
    setVNom: VoltageRMS | None = elem(VoltageRMS, required=False)
    setVRef: VoltageRMS | None = elem(VoltageRMS, required=False)
    setVRefOfs: VoltageRMS | None = elem(VoltageRMS, required=False)
    updatedTime: int = elem(TimeType)
    # CSIP-AUS 1.2.
    doeModesEnabled: str | None = elem(DOEControlType, namespace=CSIPAUS_NS, required=False)


@sep()
@dataclass(kw_only=True)
class ConnectStatusType(XmlResource):
    dateTime: int = elem(TimeType)
    #: Bit field, hex: 0 connected, 1 available, 2 operating, 3 test, 4 fault.
    value: str = elem(ConnectStatusValue)


@sep()
@dataclass(kw_only=True)
class InverterStatusType(XmlResource):
    dateTime: int = elem(TimeType)
    value: int = elem(InverterStatusValue)


@sep()
@dataclass(kw_only=True)
class LocalControlModeStatusType(XmlResource):
    dateTime: int = elem(TimeType)
    value: int = elem(LocalControlModeStatusValue)


@sep()
@dataclass(kw_only=True)
class ManufacturerStatusType(XmlResource):
    dateTime: int = elem(TimeType)
    value: str = elem(String6)


@sep()
@dataclass(kw_only=True)
class OperationalModeStatusType(XmlResource):
    dateTime: int = elem(TimeType)
    value: int = elem(OperationalModeStatusValue)


@sep()
@dataclass(kw_only=True)
class StateOfChargeStatusType(XmlResource):
    dateTime: int = elem(TimeType)
    value: int = elem(PerCent)


@sep()
@dataclass(kw_only=True)
class StorageModeStatusType(XmlResource):
    dateTime: int = elem(TimeType)
    value: int = elem(StorageModeStatusValue)


@sep()
@dataclass(kw_only=True)
class DERStatus(SubscribableResource):
    #: Bit field of DER alarms, hex (bits 0..10: over-current ... phase rotation).
    alarmStatus: str | None = elem(HexBinary32, required=False)
    genConnectStatus: ConnectStatusType | None = elem(ConnectStatusType, required=False)
    inverterStatus: InverterStatusType | None = elem(InverterStatusType, required=False)
    localControlModeStatus: LocalControlModeStatusType | None = elem(LocalControlModeStatusType, required=False)
    manufacturerStatus: ManufacturerStatusType | None = elem(ManufacturerStatusType, required=False)
    operationalModeStatus: OperationalModeStatusType | None = elem(OperationalModeStatusType, required=False)
    readingTime: int = elem(TimeType)
    stateOfChargeStatus: StateOfChargeStatusType | None = elem(StateOfChargeStatusType, required=False)
    storageModeStatus: StorageModeStatusType | None = elem(StorageModeStatusType, required=False)
    storConnectStatus: ConnectStatusType | None = elem(ConnectStatusType, required=False)


@sep()
@dataclass(kw_only=True)
class DERAvailability(SubscribableResource):
    availabilityDuration: int | None = elem(UInt32, required=False)
    maxChargeDuration: int | None = elem(UInt32, required=False)
    readingTime: int = elem(TimeType)
    reserveChargePercent: int | None = elem(PerCent, required=False)
    reservePercent: int | None = elem(PerCent, required=False)
    statVarAvail: ReactivePower | None = elem(ReactivePower, required=False)
    statWAvail: ActivePower | None = elem(ActivePower, required=False)
