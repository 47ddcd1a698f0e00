"""Seeded randomness that is a pure function of time.

The reference devices draw their noise (grid voltage wander, cloud shadows, appliance switching) from a
``random.Random`` seeded by (the model's seed, what is drawn, the time bucket). The same model asked
about the same instant always answers the same, whatever order or step size the simulation uses, and two
models with different seeds differ.
"""

from __future__ import annotations

import math
import random


def bucket_rng(seed: int, salt: str, bucket: int) -> random.Random:
    """The random source of one time bucket of one quantity of one seeded model."""
    return random.Random(f"{salt}:{seed}:{bucket}")


def smooth_gauss(seed: int, salt: str, t: float, period: float) -> float:
    """A standard-normal value per ``period`` seconds, linearly interpolated between bucket boundaries
    (continuous in ``t``, so a signal built on it wanders rather than jumps)."""
    k = math.floor(t / period)
    a = bucket_rng(seed, salt, k).gauss(0.0, 1.0)
    b = bucket_rng(seed, salt, k + 1).gauss(0.0, 1.0)
    frac = t / period - k
    return a + (b - a) * frac
