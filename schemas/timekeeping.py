"""Time resource arithmetic (IEEE 2030.5-2018, Time function set): from a UTC instant and an IANA time zone to
tzOffset, dstOffset, dstStartTime, dstEndTime and localTime.

tzOffset is the standard-time offset from UTC; dstOffset is the extra offset while daylight saving time
is in effect; dstStartTime and dstEndTime bound the DST period of the current year (for a southern
zone, the period that starts this year and ends the next). A zone without DST gets dstOffset 0 and
equal start and end times, so no instant falls inside. localTime = currentTime + tzOffset, plus
dstOffset while dstStartTime <= currentTime < dstEndTime.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

_DAY = 86400


@dataclass(frozen=True)
class ZoneFields:
    tzOffset: int
    dstOffset: int
    dstStartTime: int
    dstEndTime: int
    localTime: int


def _offsets(zone: ZoneInfo, instant: int) -> tuple[int, int]:
    """(UTC offset, DST part of it) in seconds at ``instant``."""
    local = datetime.fromtimestamp(instant, UTC).astimezone(zone)
    off, dst = local.utcoffset(), local.dst()
    return int(off.total_seconds()) if off else 0, int(dst.total_seconds()) if dst else 0


def _year_start(year: int) -> int:
    return int(datetime(year, 1, 1, tzinfo=UTC).timestamp())


def _transitions(zone: ZoneInfo, start: int, end: int) -> list[int]:
    """Instants in [start, end) where the offset changes: daily samples, then bisection to the second."""
    found = []
    t, prev = start, _offsets(zone, start)
    while t < end:
        nxt = min(t + _DAY, end)
        if _offsets(zone, nxt) != prev:
            lo, hi = t, nxt
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offsets(zone, mid) == prev:
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
            prev = _offsets(zone, hi)
        t = nxt
    return found


@lru_cache(maxsize=64)
def dst_period(zone_key: str, year: int) -> tuple[int, int, int] | None:
    """(dstStartTime, dstEndTime, dstOffset) of the DST period starting in ``year``, or None."""
    zone = ZoneInfo(zone_key)
    changes = _transitions(zone, _year_start(year), _year_start(year + 2))
    for i, t in enumerate(changes):
        dst = _offsets(zone, t)[1]
        if dst > 0 and datetime.fromtimestamp(t, UTC).year == year:
            end = next((u for u in changes[i + 1 :] if _offsets(zone, u)[1] == 0), None)
            if end is not None:
                return t, end, dst
    return None


def zone_fields(current_time: int, zone: ZoneInfo) -> ZoneFields:
    """The Time resource's zone-dependent fields at ``current_time`` (seconds since the epoch, UTC)."""
    offset, dst_now = _offsets(zone, current_time)
    standard = offset - dst_now
    year = datetime.fromtimestamp(current_time, UTC).year
    period = dst_period(zone.key, year)
    previous = dst_period(zone.key, year - 1)
    if previous is not None and previous[0] <= current_time < previous[1]:
        period = previous  # southern zones: still inside last year's period
    if period is None:
        return ZoneFields(standard, 0, 0, 0, current_time + standard)
    start, end, dst = period
    in_dst = start <= current_time < end
    return ZoneFields(standard, dst, start, end, current_time + standard + (dst if in_dst else 0))
