"""Seeded randomness that is a pure function of time.

The reference devices draw their noise (grid voltage wander, cloud shadows, appliance switching) from a
``random.Random`` seeded by (the model's seed, what is drawn, the time bucket). The same model asked
about the same instant always answers the same, whatever order or step size the simulation uses, and two
models with different seeds differ. Seeding a generator costs more than the rest of a device's step, so
each model keeps the draws of its recent buckets (:class:`SeededBuckets`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def bucket_rng(seed: int, salt: str, bucket: int) -> random.Random:
    """The random source of one time bucket of one quantity of one seeded model."""
    return random.Random(f"{salt}:{seed}:{bucket}")


class SeededBuckets:
    """The draws of one seeded model, per (quantity, time bucket), remembered for the last ``size``
    buckets (a simulation moves forward, so each bucket is drawn about once)."""

    def __init__(self, seed: int, size: int = 64) -> None:
        self.seed, self.size = seed, size
        self._drawn: dict[tuple[str, int], object] = {}

    def draw(self, salt: str, bucket: int, sample: Callable[[random.Random], T]) -> T:
        """``sample`` applied to the bucket's own generator (the same answer every time)."""
        key = (salt, bucket)
        if key in self._drawn:
            return self._drawn[key]  # type: ignore[return-value]
        if len(self._drawn) >= self.size:
            del self._drawn[next(iter(self._drawn))]
        value = sample(bucket_rng(self.seed, salt, bucket))
        self._drawn[key] = value
        return value

    def smooth_gauss(self, salt: str, t: float, period: float) -> float:
        """A standard-normal value per ``period`` seconds, linearly interpolated between bucket boundaries
        (continuous in ``t``, so a signal built on it wanders rather than jumps)."""
        k = math.floor(t / period)
        a = self.draw(salt, k, _gauss)
        b = self.draw(salt, k + 1, _gauss)
        return a + (b - a) * (t / period - k)


def _gauss(rng: random.Random) -> float:
    return rng.gauss(0.0, 1.0)
