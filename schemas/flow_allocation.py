"""Capacity arithmetic of flow reservations (IEEE 2030.5-2018 clause 10.9), as pure functions.

Clause 10.9.1 lets a server answer a FlowReservationRequest with a FlowReservationResponse that changes
the power, energy or interval "to provide a lower aggregated demand"; how it decides is left to the
utility. gridhan's rule: a group of devices has a capacity (watts) per time slot (slots are aligned to
multiples of ``slot_seconds`` since the epoch). A granted reservation holds its power in every slot its
interval touches, until it is cancelled. A request is granted when every slot of its window has the
requested power left; otherwise, by policy:

* ``partial``: grant the power every slot still has (the least remaining over the window), if any;
* ``all-or-nothing``: refuse;
* ``manual``: nothing is decided automatically; the operator decides (and is held to the same capacity).

A discharge request (negative energy) relieves the group and is granted as asked, holding no capacity.
The energy granted is what was asked, or what the granted power can deliver over the window if less.
Nothing here reads a clock or a database: callers pass the holds they read in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

POLICIES = ("partial", "all-or-nothing", "manual")


@dataclass(frozen=True)
class Hold:
    """A granted reservation's hold on a group: ``power_w`` over [start, start + duration)."""

    start: int
    duration: int
    power_w: int

    @property
    def end(self) -> int:
        return self.start + self.duration


@dataclass(frozen=True)
class Capacity:
    slot_seconds: int
    capacity_w: int
    policy: str

    def __post_init__(self) -> None:
        if self.slot_seconds <= 0:
            raise ValueError(f"slot_seconds must be positive, got {self.slot_seconds}")
        if self.capacity_w < 0:
            raise ValueError(f"capacity_w must not be negative, got {self.capacity_w}")
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {self.policy!r}")


@dataclass(frozen=True)
class Grant:
    """What may be granted: ``power_w`` (0: refused) and ``energy_wh`` over the requested window."""

    power_w: int
    energy_wh: int

    @property
    def refused(self) -> bool:
        return self.power_w == 0 and self.energy_wh == 0


def slots(start: int, end: int, slot_seconds: int) -> list[int]:
    """Starts of the slots [s, s + slot_seconds) that [start, end) touches (none for an empty window)."""
    if end <= start:
        return []
    first = start - start % slot_seconds
    return list(range(first, end, slot_seconds))


def used(holds: Iterable[Hold], slot_start: int, slot_seconds: int) -> int:
    """Power held in one slot: the sum of the holds whose interval touches it."""
    slot_end = slot_start + slot_seconds
    return sum(h.power_w for h in holds if h.start < slot_end and slot_start < h.end and h.duration > 0)


def remaining(capacity: Capacity, holds: Sequence[Hold], start: int, end: int) -> int:
    """The least power left over the slots of [start, end) (never negative)."""
    touched = slots(start, end, capacity.slot_seconds)
    if not touched:
        return capacity.capacity_w
    return max(0, min(capacity.capacity_w - used(holds, s, capacity.slot_seconds) for s in touched))


def deliverable_wh(power_w: int, duration: int) -> int:
    """Energy (Wh, rounded down) ``power_w`` delivers in ``duration`` seconds."""
    return power_w * duration // 3600


def decide(
    capacities: Sequence[tuple[Capacity, Sequence[Hold]]], start: int, duration: int, power_w: int, energy_wh: int
) -> Grant | None:
    """The automatic decision on a request for ``power_w`` and ``energy_wh`` over [start, start +
    duration), given each capacity that applies to the device with the holds already on it. None: a
    ``manual`` capacity applies, the operator decides. No capacity: granted as asked (10.9.1: a server
    with no other information can approve requests unchanged)."""
    if any(c.policy == "manual" for c, _ in capacities):
        return None
    if energy_wh <= 0 or power_w <= 0:
        return Grant(power_w=max(power_w, 0), energy_wh=energy_wh)
    left = min((remaining(c, holds, start, start + duration) for c, holds in capacities), default=power_w)
    if left >= power_w:
        return Grant(power_w=power_w, energy_wh=energy_wh)
    if left == 0 or any(c.policy == "all-or-nothing" for c, _ in capacities):
        return Grant(power_w=0, energy_wh=0)
    return Grant(power_w=left, energy_wh=min(energy_wh, deliverable_wh(left, duration)))


def fits(capacities: Sequence[tuple[Capacity, Sequence[Hold]]], start: int, duration: int, power_w: int) -> bool:
    """True when holding ``power_w`` over the window leaves no slot of any capacity over its limit (an
    operator's grant is held to this too)."""
    if power_w <= 0:
        return True
    return all(remaining(c, holds, start, start + duration) >= power_w for c, holds in capacities)
