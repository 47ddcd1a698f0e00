"""Response function set (IEEE 2030.5-2018 clause 8.8).

Clients POST a Response to the URI an event's ``replyTo`` names, as its ``responseRequired`` bits ask:
DERControlResponse for DER controls (clause 10.10), DrResponse for demand response and load control
events, PriceResponse for prices, TextResponse for messages, FlowReservationResponseResponse for flow
reservations. A server groups them in ResponseSets. A ResponseList may hold any of the derived kinds,
each named by ``xsi:type``.

The demand response values a DrResponse reports (ApplianceLoadReduction, AppliedTargetReduction,
DutyCycle, Offset, SetPoint) belong to the DRLC package of sep.xsd; they are declared here because
DrResponse is their only user so far.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from gridhan.schemas.sep2.base import IdentifiedObject, List, ListLink, Resource, sep
from gridhan.schemas.sep2.types import (
    ApplianceLoadReductionType,
    HexBinary160,
    Int16,
    PerCent,
    TimeType,
    UInt8,
    UInt16,
    UInt32,
    UnitType,
    mRIDType,
)
from gridhan.schemas.xmlcodec import XmlResource, attr, elem

#: Table 27 ("Response types by function set"): every status a Response may carry.
RESPONSE_STATUSES: Mapping[int, str] = MappingProxyType(
    {
        1: "Event received",
        2: "Event started",
        3: "Event completed",
        4: "User has chosen to opt out",
        5: "User has chosen to opt in",
        6: "Event cancelled",
        7: "Event superseded",
        8: "Event partially completed with user opt-out",
        9: "Event partially completed due to user opt-in",
        10: "Event completed, no user participation (previous opt-out)",
        11: "User acknowledgement",
        12: "Cannot be displayed",
        13: "Event aborted due to an alternate server event",
        14: "Event aborted due to an alternate program event",
        252: "Rejected: control parameter not applicable",
        253: "Rejected: invalid event",
        254: "Rejected: event received after it had expired",
    }
)


@sep()
@dataclass(kw_only=True)
class Response(Resource):
    createdDateTime: int | None = elem(TimeType, required=False)
    endDeviceLFDI: str = elem(HexBinary160)
    #: The response type; each function set allows the codes of its row in the standard's response table.
    status: int | None = elem(UInt8, required=False)
    #: The mRID of the event responded to.
    subject: str = elem(mRIDType)


@sep()
@dataclass(kw_only=True)
class DERControlResponse(Response):
    pass


@sep()
@dataclass(kw_only=True)
class FlowReservationResponseResponse(Response):
    pass


@sep()
@dataclass(kw_only=True)
class PriceResponse(Response):
    pass


@sep()
@dataclass(kw_only=True)
class TextResponse(Response):
    pass


@sep()
@dataclass(kw_only=True)
class ApplianceLoadReduction(XmlResource):
    type: int = elem(ApplianceLoadReductionType)


@sep()
@dataclass(kw_only=True)
class AppliedTargetReduction(XmlResource):
    type: int = elem(UnitType)
    value: int = elem(UInt16)


@sep()
@dataclass(kw_only=True)
class DutyCycle(XmlResource):
    normalValue: int = elem(UInt8)


@sep()
@dataclass(kw_only=True)
class Offset(XmlResource):
    coolingOffset: int | None = elem(UInt8, required=False)
    heatingOffset: int | None = elem(UInt8, required=False)
    loadAdjustmentPercentageOffset: int | None = elem(PerCent, required=False)


@sep()
@dataclass(kw_only=True)
class SetPoint(XmlResource):
    coolingSetpoint: int | None = elem(Int16, required=False)
    heatingSetpoint: int | None = elem(Int16, required=False)


@sep()
@dataclass(kw_only=True)
class DrResponse(Response):
    ApplianceLoadReduction: ApplianceLoadReduction | None = elem(ApplianceLoadReduction, required=False)
    AppliedTargetReduction: AppliedTargetReduction | None = elem(AppliedTargetReduction, required=False)
    DutyCycle: DutyCycle | None = elem(DutyCycle, required=False)
    Offset: Offset | None = elem(Offset, required=False)
    overrideDuration: int | None = elem(UInt16, required=False)
    SetPoint: SetPoint | None = elem(SetPoint, required=False)


@sep()
@dataclass(kw_only=True)
class ResponseList(List):
    #: Responses of any kind: a derived one is written and read with ``xsi:type``.
    Response: list[Response] = elem(Response, many=True, polymorphic=True)


@sep()
@dataclass(kw_only=True)
class ResponseSet(IdentifiedObject):
    ResponseListLink: ListLink | None = elem(ListLink, required=False)


@sep()
@dataclass(kw_only=True)
class ResponseSetList(List):
    ResponseSet: list[ResponseSet] = elem(ResponseSet, many=True)
    pollRate: int | None = attr(UInt32)
