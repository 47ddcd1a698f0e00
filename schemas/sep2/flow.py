"""Flow Reservation function set (IEEE 2030.5-2018 clause 10.9).

A client (an electric vehicle, storage, another large load) POSTs a FlowReservationRequest to its
EndDevice's FlowReservationRequestList: the energy it wants to move (positive: charge, negative:
discharge) within an interval, at what power, and how long the transfer takes. The server answers with a
FlowReservationResponse event in the EndDevice's FlowReservationResponseList: the interval, power and
energy granted, ``subject`` naming the request's mRID.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridhan.schemas.sep2.base import IdentifiedObject, List, SubscribableList, sep
from gridhan.schemas.sep2.edev import ActivePower
from gridhan.schemas.sep2.events import DateTimeInterval, Event
from gridhan.schemas.sep2.metering import SignedRealEnergy
from gridhan.schemas.sep2.types import RequestStatusType, TimeType, UInt16, UInt32, mRIDType
from gridhan.schemas.xmlcodec import XmlResource, attr, elem


@sep()
@dataclass(kw_only=True)
class RequestStatus(XmlResource):
    dateTime: int = elem(TimeType)
    #: 0 requested, 1 cancelled.
    requestStatus: int = elem(RequestStatusType)


@sep()
@dataclass(kw_only=True)
class FlowReservationRequest(IdentifiedObject):
    creationTime: int = elem(TimeType)
    #: Seconds the transfer takes at least, ramping and conditioning included.
    durationRequested: int | None = elem(UInt16, required=False)
    #: Watt-hours; positive: charge, negative: discharge.
    energyRequested: SignedRealEnergy = elem(SignedRealEnergy)
    intervalRequested: DateTimeInterval = elem(DateTimeInterval)
    powerRequested: ActivePower = elem(ActivePower)
    RequestStatus: RequestStatus = elem(RequestStatus)


@sep()
@dataclass(kw_only=True)
class FlowReservationRequestList(List):
    FlowReservationRequest: list[FlowReservationRequest] = elem(FlowReservationRequest, many=True)
    pollRate: int | None = attr(UInt32)


@sep()
@dataclass(kw_only=True)
class FlowReservationResponse(Event):
    energyAvailable: SignedRealEnergy = elem(SignedRealEnergy)
    powerAvailable: ActivePower = elem(ActivePower)
    #: The mRID of the FlowReservationRequest answered.
    subject: str = elem(mRIDType)


@sep()
@dataclass(kw_only=True)
class FlowReservationResponseList(SubscribableList):
    FlowReservationResponse: list[FlowReservationResponse] = elem(FlowReservationResponse, many=True)
    pollRate: int | None = attr(UInt32)
