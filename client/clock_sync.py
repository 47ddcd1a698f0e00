"""The device's clock, synchronised to the server's Time resource.

IEEE 2030.5-2018 Time function set: the server's ``currentTime`` (UTC seconds), ``tzOffset`` and
``dstOffset`` with the DST window give local time; a client keeps its own clock and corrects it from
Time at Time's ``pollRate`` (the utility asks for at least a daily sync, REQUIREMENTS "Clocks"). The
offset measured is the server's time minus the device's local clock at the middle of the exchange
(half the round trip is credited to each direction).
"""

from __future__ import annotations

from dataclasses import dataclass

from gridhan.schemas.clock import Clock
from gridhan.schemas.sep2 import Time


@dataclass
class DeviceClock:
    """A device clock: the local ``clock`` plus the offset learnt from the server's Time."""

    clock: Clock
    offset: float = 0.0
    tz_offset: int = 0
    dst_offset: int = 0
    dst_start: int = 0
    dst_end: int = 0
    synced_at: float | None = None

    def now(self) -> float:
        """UTC seconds on the device's synced clock."""
        return self.clock.now() + self.offset

    def sync(self, time: Time, sent_at: float, received_at: float) -> float:
        """Correct the clock from a Time read between local instants ``sent_at`` and ``received_at``;
        returns the step applied (seconds)."""
        local_mid = (sent_at + received_at) / 2
        new_offset = time.currentTime - local_mid
        step = new_offset - self.offset
        # currentTime has a resolution of one second: a sub-second disagreement is not corrected
        if abs(step) >= 1.0 or self.synced_at is None:
            self.offset = new_offset
        else:
            step = 0.0
        self.tz_offset, self.dst_offset = time.tzOffset, time.dstOffset
        self.dst_start, self.dst_end = time.dstStartTime, time.dstEndTime
        self.synced_at = received_at
        return step

    def local(self, utc: float | None = None) -> float:
        """Local standard or daylight time (seconds) for the UTC instant ``utc`` (now by default)."""
        t = self.now() if utc is None else utc
        dst = self.dst_offset if self.dst_start <= t < self.dst_end else 0
        return t + self.tz_offset + dst
