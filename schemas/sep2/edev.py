"""End Device function set resources (IEEE 2030.5-2018 clause 8.5) and the device-describing resources
linked from an EndDevice: Registration, DeviceInformation, DeviceStatus, PowerStatus.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridhan.schemas.sep2.base import (
    CSIPAUS_NS,
    Link,
    ListLink,
    Resource,
    SubscribableList,
    SubscribableResource,
    sep,
)
from gridhan.schemas.sep2.csipaus import CSIPAUS_PREFIXES
from gridhan.schemas.sep2.types import (
    Boolean,
    DeviceCategoryType,
    HexBinary32,
    HexBinary64,
    HexBinary160,
    Int16,
    PENType,
    PerCent,
    PINType,
    PowerOfTenMultiplierType,
    PowerSourceType,
    SFDIType,
    String32,
    TimeType,
    UInt8,
    UInt16,
    UInt32,
    UInt48,
)
from gridhan.schemas.xmlcodec import XmlResource, attr, elem


@sep()
@dataclass(kw_only=True)
class AbstractDevice(SubscribableResource):
    ConfigurationLink: Link | None = elem(Link, required=False)
    DERListLink: ListLink | None = elem(ListLink, required=False)
    deviceCategory: str | None = elem(DeviceCategoryType, required=False)
    DeviceInformationLink: Link | None = elem(Link, required=False)
    DeviceStatusLink: Link | None = elem(Link, required=False)
    FileStatusLink: Link | None = elem(Link, required=False)
    IPInterfaceListLink: ListLink | None = elem(ListLink, required=False)
    lFDI: str | None = elem(HexBinary160, required=False)
    LoadShedAvailabilityListLink: ListLink | None = elem(ListLink, required=False)
    LogEventListLink: ListLink | None = elem(ListLink, required=False)
    PowerStatusLink: Link | None = elem(Link, required=False)
    sFDI: int = elem(SFDIType)


@sep(prefixes=CSIPAUS_PREFIXES)
@dataclass(kw_only=True)
class EndDevice(AbstractDevice):
    changedTime: int = elem(TimeType)
    enabled: bool | None = elem(Boolean, required=False)
    FlowReservationRequestListLink: ListLink | None = elem(ListLink, required=False)
    FlowReservationResponseListLink: ListLink | None = elem(ListLink, required=False)
    FunctionSetAssignmentsListLink: ListLink | None = elem(ListLink, required=False)
    postRate: int | None = elem(UInt32, required=False)
    RegistrationLink: Link | None = elem(Link, required=False)
    SubscriptionListLink: ListLink | None = elem(ListLink, required=False)
    # CSIP-AUS 1.2: the site's ConnectionPoint (schemas.sep2.csipaus).
    ConnectionPointLink: Link | None = elem(Link, namespace=CSIPAUS_NS, required=False)


@sep()
@dataclass(kw_only=True)
class EndDeviceList(SubscribableList):
    EndDevice: list[EndDevice] = elem(EndDevice, many=True)
    pollRate: int | None = attr(UInt32)


@sep()
@dataclass(kw_only=True)
class SelfDevice(AbstractDevice):
    pollRate: int | None = attr(UInt32)


@sep()
@dataclass(kw_only=True)
class Registration(Resource):
    dateTimeRegistered: int = elem(TimeType)
    pIN: int = elem(PINType)
    pollRate: int | None = attr(UInt32)


@sep()
@dataclass(kw_only=True)
class ActivePower(XmlResource):
    multiplier: int = elem(PowerOfTenMultiplierType)
    value: int = elem(Int16)


@sep()
@dataclass(kw_only=True)
class RealEnergy(XmlResource):
    multiplier: int = elem(PowerOfTenMultiplierType)
    value: int = elem(UInt48)


@sep()
@dataclass(kw_only=True)
class DRLCCapabilities(XmlResource):
    averageEnergy: RealEnergy = elem(RealEnergy)
    maxDemand: ActivePower = elem(ActivePower)
    optionsImplemented: str = elem(HexBinary32)


@sep()
@dataclass(kw_only=True)
class GPSLocationType(XmlResource):
    lat: str = elem(String32)
    lon: str = elem(String32)


@sep()
@dataclass(kw_only=True)
class DeviceInformation(Resource):
    DRLCCapabilities: DRLCCapabilities | None = elem(DRLCCapabilities, required=False)
    functionsImplemented: str | None = elem(HexBinary64, required=False)
    gpsLocation: GPSLocationType | None = elem(GPSLocationType, required=False)
    lFDI: str = elem(HexBinary160)
    mfDate: int = elem(TimeType)
    mfHwVer: str = elem(String32)
    mfID: int = elem(PENType)
    mfInfo: str | None = elem(String32, required=False)
    mfModel: str = elem(String32)
    mfSerNum: str = elem(String32)
    primaryPower: int = elem(PowerSourceType)
    secondaryPower: int = elem(PowerSourceType)
    SupportedLocaleListLink: ListLink | None = elem(ListLink, required=False)
    swActTime: int = elem(TimeType)
    swVer: str = elem(String32)
    pollRate: int | None = attr(UInt32)


@sep()
@dataclass(kw_only=True)
class Temperature(XmlResource):
    multiplier: int = elem(PowerOfTenMultiplierType)
    #: 0 enclosure, 1 transformer, 2 heat sink
    subject: int = elem(UInt8)
    value: int = elem(Int16)


@sep()
@dataclass(kw_only=True)
class DeviceStatus(Resource):
    changedTime: int = elem(TimeType)
    onCount: int | None = elem(UInt16, required=False)
    opState: int | None = elem(UInt8, required=False)
    opTime: int | None = elem(UInt32, required=False)
    Temperature: list[Temperature] = elem(Temperature, many=True)
    TimeLink: Link | None = elem(Link, required=False)
    pollRate: int | None = attr(UInt32)


@sep()
@dataclass(kw_only=True)
class PEVInfo(XmlResource):
    chargingPowerNow: ActivePower = elem(ActivePower)
    energyRequestNow: RealEnergy = elem(RealEnergy)
    maxForwardPower: ActivePower = elem(ActivePower)
    minimumChargingDuration: int = elem(UInt32)
    targetStateOfCharge: int = elem(PerCent)
    timeChargeIsNeeded: int = elem(TimeType)
    timeChargingStatusPEV: int = elem(TimeType)


@sep()
@dataclass(kw_only=True)
class PowerStatus(Resource):
    batteryStatus: int = elem(UInt8)
    changedTime: int = elem(TimeType)
    currentPowerSource: int = elem(PowerSourceType)
    estimatedChargeRemaining: int | None = elem(PerCent, required=False)
    estimatedTimeRemaining: int | None = elem(UInt32, required=False)
    PEVInfo: PEVInfo | None = elem(PEVInfo, required=False)
    sessionTimeOnBattery: int | None = elem(UInt32, required=False)
    totalTimeOnBattery: int | None = elem(UInt32, required=False)
    pollRate: int | None = attr(UInt32)
