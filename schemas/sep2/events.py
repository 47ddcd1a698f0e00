"""Resources shared by the event function sets of IEEE 2030.5-2018 (sep.xsd "Objects" and "Common"
packages, Annex B.2): respondable resources, Event, RandomizableEvent, EventStatus and DateTimeInterval.

Events follow the common event rules of clause 10.2.3 (start time and duration, randomization,
superseding); an event with ``replyTo`` and ``responseRequired`` asks its clients to POST Responses
(clause 8.8) to that URI.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridhan.schemas.sep2.base import Resource, sep
from gridhan.schemas.sep2.types import (
    AnyURI,
    Boolean,
    EventStatusType,
    OneHourRangeType,
    ResponseRequiredType,
    String32,
    String192,
    SubscribableType,
    TimeType,
    UInt32,
    VersionType,
    mRIDType,
)
from gridhan.schemas.xmlcodec import XmlResource, attr, elem


@sep()
@dataclass(kw_only=True)
class RespondableResource(Resource):
    #: Where clients POST their Responses (absolute URI or a path on this server).
    replyTo: str | None = attr(AnyURI)
    #: Bit field, hex: 0 message received, 1 specific response, 2 user response (absent: "00").
    responseRequired: str | None = attr(ResponseRequiredType)


@sep()
@dataclass(kw_only=True)
class RespondableIdentifiedObject(RespondableResource):
    mRID: str = elem(mRIDType)
    description: str | None = elem(String32, required=False)
    version: int | None = elem(VersionType, required=False)


@sep()
@dataclass(kw_only=True)
class RespondableSubscribableIdentifiedObject(RespondableResource):
    mRID: str = elem(mRIDType)
    description: str | None = elem(String32, required=False)
    version: int | None = elem(VersionType, required=False)
    subscribable: int | None = attr(SubscribableType)


@sep()
@dataclass(kw_only=True)
class DateTimeInterval(XmlResource):
    #: Seconds.
    duration: int = elem(UInt32)
    start: int = elem(TimeType)


@sep()
@dataclass(kw_only=True)
class EventStatus(XmlResource):
    #: 0 scheduled, 1 active, 2 cancelled, 3 cancelled with randomization, 4 superseded.
    currentStatus: int = elem(EventStatusType)
    dateTime: int = elem(TimeType)
    potentiallySuperseded: bool = elem(Boolean)
    potentiallySupersededTime: int | None = elem(TimeType, required=False)
    reason: str | None = elem(String192, required=False)


@sep()
@dataclass(kw_only=True)
class Event(RespondableSubscribableIdentifiedObject):
    creationTime: int = elem(TimeType)
    EventStatus: EventStatus = elem(EventStatus)
    interval: DateTimeInterval = elem(DateTimeInterval)


@sep()
@dataclass(kw_only=True)
class RandomizableEvent(Event):
    #: Seconds, -3600..3600.
    randomizeDuration: int | None = elem(OneHourRangeType, required=False)
    randomizeStart: int | None = elem(OneHourRangeType, required=False)
