"""Strict reading of the reading sets the operator pushes (metering, clause 10.4, and billing, 10.7):
a set's time period, and its readings, each of which must lie inside that period.

2030.5 members travel under the standard's names (``{"value": 1520, "timePeriod": {"start": ...,
"duration": 900}}``) and are checked as strictly as XML would be; the set itself is
``{"mrid"?, "description"?, "start", "duration", "readings": [...]}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from gridhan.schemas.billing_math import Interval
from gridhan.schemas.dictcodec import from_dict
from gridhan.schemas.xmlcodec import XmlDecodeError, XmlResource
from gridhan.server.admin.validation import Member, bad_request, hex_string, integer, read_members, string

#: Most readings one request may push (a day of 1-minute intervals; 96 quarter-hours is the usual case).
MAX_READINGS = 1440
TIME_MAX = 2**62


def _readings(name: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise bad_request(f"{name}: must be an array of readings")
    if not value:
        raise bad_request(f"{name}: a reading set holds at least one reading")
    if len(value) > MAX_READINGS:
        raise bad_request(f"{name}: {len(value)} readings is more than the {MAX_READINGS} one request may push")
    return value


SET_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "mrid": Member(hex_string(32)),
        "description": Member(string(32), nullable=True),
        "start": Member(integer(0, TIME_MAX)),
        "duration": Member(integer(-(2**31), 2**32 - 1)),
        "readings": Member(_readings),
    }
)


def from_json(cls: type[XmlResource], data: Any, path: str, managed: tuple[str, ...] = ("href",)) -> Any:
    """A 2030.5 structure from JSON; members the server sets (``managed``) are refused."""
    if isinstance(data, dict):
        for member in managed:
            if member in data:
                raise bad_request(f"{path}/{member}: set by the server, not in the request")
    try:
        return from_dict(cls, data, path)
    except XmlDecodeError as exc:
        raise bad_request(str(exc)) from None


def reading_set(body: dict[str, Any], reading_cls: type[XmlResource], interval_length: int | None = None) -> tuple[
    dict[str, Any], Interval, list[Any]
]:  # fmt: skip
    """The checked members of a pushed set, its interval and its readings (as ``reading_cls``). A reading
    outside the set's period, a negative duration, or (with ``interval_length``, the ReadingType's) a
    reading whose duration differs from it is refused, naming the reading."""
    values = read_members(body, SET_MEMBERS, required=("start", "duration", "readings"))
    if values["duration"] < 0:
        raise bad_request(f"duration: {values['duration']} is negative; a reading set's time period has a length")
    period = Interval(values["start"], values["duration"])
    readings = []
    for i, raw in enumerate(values["readings"]):
        path = f"readings[{i}]"
        managed = ("href", "localID") if reading_cls.XML_NAME == "Reading" else ("href",)
        reading = from_json(reading_cls, raw, path, managed)
        tp = reading.timePeriod
        if tp is not None:
            if tp.duration is not None and tp.duration < 0:
                raise bad_request(f"{path}/timePeriod/duration: {tp.duration} is negative")
            own = Interval(tp.start, tp.duration or 0)
            if not period.covers(own):
                raise bad_request(
                    f"{path}/timePeriod: [{own.start}, {own.end}) lies outside its reading set's time period "
                    f"[{period.start}, {period.end})"
                )
            if interval_length is not None and tp.duration is not None and tp.duration != interval_length:
                raise bad_request(
                    f"{path}/timePeriod/duration: {tp.duration} s differs from the ReadingType's intervalLength "
                    f"({interval_length} s)"
                )
        readings.append(reading)
    return values, period, readings
