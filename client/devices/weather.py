"""Outdoor temperature for the reference devices: a daily sinusoid with seeded, smooth noise.

A pure function of time: two runs with the same seed see the same weather whatever their step sizes (the
noise is a value per hour, drawn from a generator seeded with the seed and the hour, interpolated
linearly). Times are TimeType seconds; ``utc_offset_s`` places the daily peak in local time.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

DAY_S = 86400
HOUR_S = 3600


@dataclass
class Climate:
    """Outdoor air temperature in degrees C: ``mean_c`` +- ``amplitude_c`` over the day, warmest at
    ``peak_hour`` local time, plus noise of standard deviation ``noise_c``."""

    mean_c: float = 24.0
    amplitude_c: float = 7.0
    peak_hour: float = 15.0
    noise_c: float = 0.5
    seed: int = 0
    utc_offset_s: int = 0
    _noise_cache: dict[int, float] = field(default_factory=dict, repr=False, compare=False)

    def _hourly_noise(self, hour: int) -> float:
        value = self._noise_cache.get(hour)
        if value is None:
            if len(self._noise_cache) > 64:
                self._noise_cache.clear()
            value = random.Random(f"climate:{self.seed}:{hour}").gauss(0.0, 1.0) * self.noise_c
            self._noise_cache[hour] = value
        return value

    def temperature(self, t: float) -> float:
        local = t + self.utc_offset_s
        phase = 2 * math.pi * (local / DAY_S - self.peak_hour / 24)
        base = self.mean_c + self.amplitude_c * math.cos(phase)
        if self.noise_c == 0:
            return base
        hour, fraction = divmod(local / HOUR_S, 1.0)
        h = int(hour)
        noise = self._hourly_noise(h) * (1 - fraction) + self._hourly_noise(h + 1) * fraction
        return base + noise
