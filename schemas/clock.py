"""The one clock object both sides are given (never ``datetime.now()`` in protocol code).

IEEE 2030.5 expresses time as TimeType: whole seconds since the POSIX epoch, UTC (clause 6.5.2).
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch, UTC."""
        ...


class SystemClock:
    """Wall-clock time of the host."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that tests set and advance."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def set(self, when: float) -> None:
        self._now = float(when)

    def advance(self, seconds: float) -> None:
        self._now += seconds


def sep_time(clock: Clock) -> int:
    """The clock's reading as a 2030.5 TimeType (whole seconds)."""
    return int(clock.now())
