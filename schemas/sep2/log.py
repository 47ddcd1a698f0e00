"""LogEvent and LogEventList (IEEE 2030.5-2018, Log Event function set)."""

from __future__ import annotations

from dataclasses import dataclass

from gridhan.schemas.sep2.base import Resource, SubscribableList, sep
from gridhan.schemas.sep2.types import PENType, String32, TimeType, UInt8, UInt16, UInt32
from gridhan.schemas.xmlcodec import attr, elem


@sep()
@dataclass(kw_only=True)
class LogEvent(Resource):
    createdDateTime: int = elem(TimeType)
    details: str | None = elem(String32, required=False)
    extendedData: int | None = elem(UInt32, required=False)
    functionSet: int = elem(UInt8)
    logEventCode: int = elem(UInt8)
    logEventID: int = elem(UInt16)
    logEventPEN: int = elem(PENType)
    profileID: int = elem(UInt8)


@sep()
@dataclass(kw_only=True)
class LogEventList(SubscribableList):
    LogEvent: list[LogEvent] = elem(LogEvent, many=True)
    pollRate: int | None = attr(UInt32)
