"""DeviceCapability and FunctionSetAssignments (IEEE 2030.5-2018: the Device Capability function set;
FunctionSetAssignments, clause 8.6).

DeviceCapability is the entry point of discovery: it links the function sets the server offers.
FunctionSetAssignments (FSA) group the same kind of links per group of devices.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridhan.schemas.sep2.base import Link, ListLink, Resource, SubscribableList, sep
from gridhan.schemas.sep2.types import String32, SubscribableType, UInt32, VersionType, mRIDType
from gridhan.schemas.xmlcodec import attr, elem


@sep()
@dataclass(kw_only=True)
class FunctionSetAssignmentsBase(Resource):
    CustomerAccountListLink: ListLink | None = elem(ListLink, required=False)
    DemandResponseProgramListLink: ListLink | None = elem(ListLink, required=False)
    DERProgramListLink: ListLink | None = elem(ListLink, required=False)
    FileListLink: ListLink | None = elem(ListLink, required=False)
    MessagingProgramListLink: ListLink | None = elem(ListLink, required=False)
    PrepaymentListLink: ListLink | None = elem(ListLink, required=False)
    ResponseSetListLink: ListLink | None = elem(ListLink, required=False)
    TariffProfileListLink: ListLink | None = elem(ListLink, required=False)
    TimeLink: Link | None = elem(Link, required=False)
    UsagePointListLink: ListLink | None = elem(ListLink, required=False)


@sep()
@dataclass(kw_only=True)
class DeviceCapability(FunctionSetAssignmentsBase):
    EndDeviceListLink: ListLink | None = elem(ListLink, required=False)
    MirrorUsagePointListLink: ListLink | None = elem(ListLink, required=False)
    SelfDeviceLink: Link | None = elem(Link, required=False)
    pollRate: int | None = attr(UInt32)


@sep()
@dataclass(kw_only=True)
class FunctionSetAssignments(FunctionSetAssignmentsBase):
    mRID: str = elem(mRIDType)
    description: str | None = elem(String32, required=False)
    version: int | None = elem(VersionType, required=False)
    subscribable: int | None = attr(SubscribableType)


@sep()
@dataclass(kw_only=True)
class FunctionSetAssignmentsList(SubscribableList):
    FunctionSetAssignments: list[FunctionSetAssignments] = elem(FunctionSetAssignments, many=True)
    pollRate: int | None = attr(UInt32)
