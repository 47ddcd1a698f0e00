"""Demand Response and Load Control function set (IEEE 2030.5-2018 clause 10.3).

A server publishes DemandResponsePrograms, ordered by primacy; each holds EndDeviceControl events (the
full list and its "active" subset, clause 10.2.2) that tell load control devices what to do: an appliance
load reduction, a duty cycle, a temperature offset or set point, or a target reduction, for the device
categories the control names. Devices report what load they could still shed in LoadShedAvailability.

The control values EndDeviceControl shares with DrResponse (ApplianceLoadReduction, DutyCycle, Offset,
SetPoint) are declared in :mod:`.response`.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridhan.schemas.sep2.base import IdentifiedObject, Link, List, ListLink, Resource, SubscribableList, sep
from gridhan.schemas.sep2.edev import ActivePower
from gridhan.schemas.sep2.events import RandomizableEvent
from gridhan.schemas.sep2.response import ApplianceLoadReduction, DutyCycle, Offset, SetPoint
from gridhan.schemas.sep2.types import (
    Boolean,
    DeviceCategoryType,
    PerCent,
    PrimacyType,
    UInt16,
    UInt32,
    UnitType,
)
from gridhan.schemas.xmlcodec import XmlResource, attr, elem


@sep()
@dataclass(kw_only=True)
class TargetReduction(XmlResource):
    #: 0 kWh, 1 kW, 2 W ... (UnitType).
    type: int = elem(UnitType)
    value: int = elem(UInt16)


@sep()
@dataclass(kw_only=True)
class EndDeviceControl(RandomizableEvent):
    ApplianceLoadReduction: ApplianceLoadReduction | None = elem(ApplianceLoadReduction, required=False)
    #: Bit field, hex, of the device categories the control applies to.
    deviceCategory: str = elem(DeviceCategoryType)
    #: True: participation is mandatory (the user may not opt out).
    drProgramMandatory: bool = elem(Boolean)
    DutyCycle: DutyCycle | None = elem(DutyCycle, required=False)
    #: True: the event intends to increase consumption (offsets then apply the other way: a pre-cool).
    loadShiftForward: bool = elem(Boolean)
    Offset: Offset | None = elem(Offset, required=False)
    #: Seconds a user override stays in force.
    overrideDuration: int | None = elem(UInt16, required=False)
    SetPoint: SetPoint | None = elem(SetPoint, required=False)
    TargetReduction: TargetReduction | None = elem(TargetReduction, required=False)


@sep()
@dataclass(kw_only=True)
class EndDeviceControlList(SubscribableList):
    EndDeviceControl: list[EndDeviceControl] = elem(EndDeviceControl, many=True)


@sep()
@dataclass(kw_only=True)
class DemandResponseProgram(IdentifiedObject):
    ActiveEndDeviceControlListLink: ListLink | None = elem(ListLink, required=False)
    availabilityUpdatePercentChangeThreshold: int | None = elem(PerCent, required=False)
    availabilityUpdatePowerChangeThreshold: ActivePower | None = elem(ActivePower, required=False)
    EndDeviceControlListLink: ListLink | None = elem(ListLink, required=False)
    primacy: int = elem(PrimacyType)


@sep()
@dataclass(kw_only=True)
class DemandResponseProgramList(SubscribableList):
    DemandResponseProgram: list[DemandResponseProgram] = elem(DemandResponseProgram, many=True)
    pollRate: int | None = attr(UInt32)


@sep()
@dataclass(kw_only=True)
class LoadShedAvailability(Resource):
    #: Seconds the sheddable load could stay shed.
    availabilityDuration: int | None = elem(UInt32, required=False)
    DemandResponseProgramLink: Link | None = elem(Link, required=False)
    sheddablePercent: int | None = elem(PerCent, required=False)
    sheddablePower: ActivePower | None = elem(ActivePower, required=False)


@sep()
@dataclass(kw_only=True)
class LoadShedAvailabilityList(List):
    LoadShedAvailability: list[LoadShedAvailability] = elem(LoadShedAvailability, many=True)
    pollRate: int | None = attr(UInt32)
