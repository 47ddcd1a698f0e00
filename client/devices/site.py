"""The household behind a DER's connection point: local clock time and an uncontrolled load profile.

CSIP-AUS 1.2 site limits (opModExpLimW, opModImpLimW) apply at the connection point, so a reference DER
needs the load it shares the point with: export = what the DER delivers - the household load. The load
is a daily profile in local clock time (a base load, a morning and an evening peak) with seeded
wander and appliances (kettle, oven, washing machine...) switching on and off at random; it is a pure
function of the TimeType instant.
"""

from __future__ import annotations

import math
import random
from typing import Protocol

from gridhan.client.devices.noise import SeededBuckets

DAY = 86_400


class SiteLoad(Protocol):
    """The uncontrolled demand (W) at a connection point at an instant (a :class:`HouseholdLoad`, or a
    recorded trace)."""

    def power(self, now: float) -> float: ...


#: Appliances that switch on at random: (watts, shortest and longest run in seconds).
APPLIANCES: tuple[tuple[float, float, float], ...] = (
    (2_000.0, 120.0, 240.0),  # kettle
    (2_400.0, 600.0, 900.0),  # oven element cycling
    (1_800.0, 300.0, 900.0),  # washing machine heater
    (1_200.0, 180.0, 600.0),  # microwave, toaster
)


def local_seconds(now: float, utc_offset_s: int) -> float:
    """Seconds since local midnight of the TimeType ``now`` (UTC seconds) at ``utc_offset_s``."""
    return (now + utc_offset_s) % DAY


def bump(local_s: float, centre_h: float, width_h: float) -> float:
    """A daily Gaussian bump (0..1) centred on ``centre_h`` local hours, wrapping round midnight."""
    d = (local_s / 3600.0 - centre_h + 12.0) % 24.0 - 12.0
    return math.exp(-0.5 * (d / width_h) ** 2)


class HouseholdLoad:
    """An uncontrolled household load (W, always >= 0) at local time ``now + utc_offset_s``.

    ``base_w`` all day; ``morning_w`` around 07:30 and ``evening_w`` around 19:00 on top; +/-
    ``wander`` (a fraction) of slow seeded wander; appliances of :data:`APPLIANCES` switch on in a
    15-minute slot with probability ``appliance_rate`` x how awake the house is. ``seed`` picks the
    household.
    """

    SLOT = 900.0

    def __init__(
        self,
        seed: int = 0,
        *,
        utc_offset_s: int = 0,
        base_w: float = 300.0,
        morning_w: float = 900.0,
        evening_w: float = 1_500.0,
        wander: float = 0.1,
        appliance_rate: float = 0.35,
    ) -> None:
        self.seed, self.utc_offset_s = seed, utc_offset_s
        self.base_w, self.morning_w, self.evening_w = base_w, morning_w, evening_w
        self.wander, self.appliance_rate = wander, appliance_rate
        self._noise = SeededBuckets(seed)

    def profile(self, now: float) -> float:
        """The daily profile without appliances or wander (W)."""
        s = local_seconds(now, self.utc_offset_s)
        return self.base_w + self.morning_w * bump(s, 7.5, 1.0) + self.evening_w * bump(s, 19.0, 1.8)

    def awake(self, now: float) -> float:
        """How much the household is up and about (0..1) at ``now``."""
        s = local_seconds(now, self.utc_offset_s)
        return max(bump(s, 8.0, 2.0), bump(s, 18.5, 3.0), 0.3 * bump(s, 13.0, 3.0))

    def _switching(self, slot: int) -> tuple[float, float, float]:
        """(watts, on, off) of the appliance switched on in a slot (0 W when none is)."""

        def sample(rng: random.Random) -> tuple[float, float, float]:
            start = slot * self.SLOT
            if rng.random() >= self.appliance_rate * self.awake(start):
                return 0.0, 0.0, 0.0
            watts, shortest, longest = APPLIANCES[rng.randrange(len(APPLIANCES))]
            on = start + rng.uniform(0.0, self.SLOT)
            return watts, on, on + rng.uniform(shortest, longest)

        return self._noise.draw("appliance", slot, sample)

    def _appliance(self, slot: int, t: float) -> float:
        watts, on, off = self._switching(slot)
        return watts if on <= t < off else 0.0

    def power(self, now: float) -> float:
        """The household's demand (W) at ``now``."""
        slot = math.floor(now / self.SLOT)
        appliances = self._appliance(slot, now) + self._appliance(slot - 1, now)
        wander = 1.0 + self.wander * self._noise.smooth_gauss("load", now, 600.0)
        return max(0.0, self.profile(now) * wander + appliances)
