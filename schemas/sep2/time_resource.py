"""Time (IEEE 2030.5-2018, Time function set): the server's clock and the local time zone rules."""

from __future__ import annotations

from dataclasses import dataclass

from gridhan.schemas.sep2.base import Resource, sep
from gridhan.schemas.sep2.types import TimeOffsetType, TimeType, UInt8, UInt32
from gridhan.schemas.xmlcodec import attr, elem


@sep()
@dataclass(kw_only=True)
class Time(Resource):
    currentTime: int = elem(TimeType)
    dstEndTime: int = elem(TimeType)
    dstOffset: int = elem(TimeOffsetType)
    dstStartTime: int = elem(TimeType)
    localTime: int | None = elem(TimeType, required=False)
    quality: int = elem(UInt8)
    tzOffset: int = elem(TimeOffsetType)
    pollRate: int | None = attr(UInt32)
