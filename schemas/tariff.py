"""Tariff arithmetic of the IEEE 2030.5-2018 Pricing function set (clause 10.5), as pure functions.

Both sides need it: the server answers "what is the price now and when does it change" for the utility,
and a display device shows the same from the resources it read. Nothing here reads a clock or a database.

Sources (paraphrased):

* Clause 10.5.1: flat, time-of-use, block, hourly day-ahead and real-time tariffs, and combinations, are all
  expressed with TimeTariffIntervals (a TOU tier over an interval) holding ConsumptionTariffIntervals (a
  price per consumption block); critical peak pricing is one more TOU tier.
* sep.xsd ``ConsumptionTariffInterval``: ``startValue`` opens a block and closes the previous one;
  consumption greater than ``startValue`` falls in that block, consumption at or below it in an earlier
  one. The first block of a TimeTariffInterval starts at 0 and each further ``startValue`` is greater than
  the one before. ``price`` is per unit of the rate component's ReadingType, in the TariffProfile's
  currency, scaled by its ``pricePowerOfTenMultiplier``.
* TimeTariffIntervals are events (RandomizableEvent): which one is in force follows the event rules of
  clause 10.2.3 (:mod:`gridhan.schemas.event_rules`), with one pseudo-mode per rate component, so a newer
  overlapping interval (a critical-peak hour published over a time-of-use hour) supersedes the older one.

Quantities are integers in the units of the rate component's ReadingType (e.g. Wh, or kWh with a
powerOfTenMultiplier of 3); prices are the integer ``price`` values; a cost is ``price x quantity`` in the
same integer scale, turned into money with :func:`money` (exact) or :func:`to_cents` (what a display shows,
to 0.01 of the currency).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from gridhan.schemas.event_rules import EventSpec, in_force, next_transition

#: The pseudo-mode every TimeTariffInterval of a rate component sets (one price at a time).
PRICE_MODE = "price"
#: UInt48, the type of ``startValue``.
START_VALUE_MAX = 2**48 - 1
#: Int32, the type of ``price``.
PRICE_MIN, PRICE_MAX = -(2**31), 2**31 - 1
#: TOUType: 0 (not applicable) and tiers 1..15 (A..O).
TOU_TIER_MAX = 15
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Block:
    """One ConsumptionTariffInterval: the price of consumption above ``start_value`` (up to the next
    block's ``start_value``). ``price`` may be absent in the schema; pricing such a block is an error."""

    start_value: int
    price: int | None


@dataclass(frozen=True, kw_only=True)
class TariffInterval:
    """One TimeTariffInterval with its blocks (ConsumptionTariffIntervals, in startValue order)."""

    mrid: str
    creation_time: int
    start: int
    duration: int
    tou_tier: int
    blocks: tuple[Block, ...] = field(default=())
    #: The TariffProfile's primacy (lower wins across profiles).
    primacy: int = 0
    randomize_start: int | None = None
    randomize_duration: int | None = None
    cancelled_at: int | None = None
    cancel_randomized: bool = False
    #: A device's view: when it read the interval (it applies from then at the earliest; EventSpec.received_at).
    received_at: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.blocks, tuple):
            object.__setattr__(self, "blocks", tuple(self.blocks))
        if not 0 <= self.tou_tier <= TOU_TIER_MAX:
            raise ValueError(f"touTier is a TOUType (0..{TOU_TIER_MAX}), got {self.tou_tier}")
        if self.blocks:
            check_blocks(self.blocks)

    @property
    def end(self) -> int:
        return self.start + self.duration

    def spec(self, rate_component: str) -> EventSpec:
        """The interval as an event of the rate component ``rate_component`` (its mRID) for the event rules."""
        return EventSpec(
            mrid=self.mrid,
            program=rate_component,
            primacy=self.primacy,
            creation_time=self.creation_time,
            start=self.start,
            duration=self.duration,
            randomize_start=self.randomize_start,
            randomize_duration=self.randomize_duration,
            modes=frozenset({PRICE_MODE}),
            cancelled_at=self.cancelled_at,
            cancel_randomized=self.cancel_randomized,
            received_at=self.received_at,
        )


# -- blocks ---------------------------------------------------------------------------------------------


def check_blocks(blocks: Sequence[Block]) -> None:
    """Raise ValueError unless ``blocks`` is a valid ConsumptionTariffInterval sequence: at least one, the
    first starting at 0, each startValue greater than the one before and within UInt48, prices within
    Int32 (sep.xsd ConsumptionTariffInterval)."""
    if not blocks:
        raise ValueError("a TimeTariffInterval priced by blocks needs at least one ConsumptionTariffInterval")
    if blocks[0].start_value != 0:
        raise ValueError(f"the first ConsumptionTariffInterval starts at 0, not {blocks[0].start_value}")
    for i, b in enumerate(blocks):
        if not 0 <= b.start_value <= START_VALUE_MAX:
            raise ValueError(f"startValue {b.start_value} is not a UInt48")
        if i and b.start_value <= blocks[i - 1].start_value:
            raise ValueError(
                f"startValue must increase from block to block ({blocks[i - 1].start_value} then {b.start_value})"
            )
        if b.price is not None and not PRICE_MIN <= b.price <= PRICE_MAX:
            raise ValueError(f"price {b.price} is not an Int32")


def block_index(blocks: Sequence[Block], consumed: int) -> int:
    """Index of the block that a cumulative consumption of ``consumed`` falls in: the last block whose
    startValue is below it (consumption equal to a startValue belongs to the block before), or the first
    block for no consumption at all."""
    if consumed < 0:
        raise ValueError(f"consumption cannot be negative, got {consumed}")
    index = 0
    for i, b in enumerate(blocks):
        if b.start_value < consumed:
            index = i
        else:
            break
    return index


def unit_price(blocks: Sequence[Block], consumed: int = 0) -> int:
    """The price of the next unit consumed after a cumulative consumption of ``consumed``."""
    price = blocks[block_index(blocks, consumed + 1)].price
    if price is None:
        raise ValueError("this ConsumptionTariffInterval carries no price")
    return price


def cost(blocks: Sequence[Block], quantity: int, already: int = 0) -> int:
    """The cost of consuming ``quantity`` units when ``already`` units were consumed before in the billing
    period (thresholds count from 0 each billing period), as ``price x units`` summed over the blocks the
    consumption crosses. Exact integer arithmetic in the price's scale (see :func:`money`)."""
    if quantity < 0 or already < 0:
        raise ValueError("quantities cannot be negative")
    total = 0
    end = already + quantity
    for i, b in enumerate(blocks):
        upper = blocks[i + 1].start_value if i + 1 < len(blocks) else None
        lo = max(already, b.start_value)
        hi = end if upper is None else min(end, upper)
        if hi > lo:
            if b.price is None:
                raise ValueError(f"the block starting at {b.start_value} carries no price")
            total += (hi - lo) * b.price
    return total


def money(value: int, price_power_of_ten: int) -> Decimal:
    """An integer price or cost as an exact amount of currency: ``value x 10^pricePowerOfTenMultiplier``."""
    return Decimal(value).scaleb(price_power_of_ten)


def to_cents(value: int, price_power_of_ten: int) -> Decimal:
    """The amount a display shows, to 0.01 of the currency (half away from zero)."""
    return money(value, price_power_of_ten).quantize(_CENT, rounding=ROUND_HALF_UP)


# -- time ---------------------------------------------------------------------------------------------


def overlap_groups(specs: Iterable[EventSpec]) -> list[list[EventSpec]]:
    """Split events into groups, in time order, whose widest Effective Scheduled Periods chain together by
    overlapping. The event rules only let events with overlapping periods supersede each other, so each
    group's statuses and the event in force within it depend on that group alone: a month of 15-minute
    prices is hundreds of small groups, not one quadratic problem."""
    ordered = sorted(specs, key=lambda e: (e.earliest_effective_start, e.latest_effective_end))
    groups: list[list[EventSpec]] = []
    reach = None
    for e in ordered:
        if reach is not None and e.earliest_effective_start < reach and groups:
            groups[-1].append(e)
            reach = max(reach, e.latest_effective_end)
        else:
            groups.append([e])
            reach = e.latest_effective_end
    return groups


def _group_at(groups: Sequence[list[EventSpec]], t: int) -> list[EventSpec]:
    for g in groups:
        lo = min(e.earliest_effective_start for e in g)
        hi = max(e.latest_effective_end for e in g)
        if lo <= t < hi:
            return g
    return []


def _known(intervals: Iterable[TariffInterval], now: int, rate_component: str) -> tuple[list[list[EventSpec]], dict]:
    chosen = [i for i in intervals if i.creation_time <= now]
    return overlap_groups(i.spec(rate_component) for i in chosen), {i.mrid: i for i in chosen}


def _in_force_at(groups: Sequence[list[EventSpec]], t: int) -> EventSpec | None:
    return in_force(_group_at(groups, t), t, PRICE_MODE)


def price_in_force(intervals: Iterable[TariffInterval], now: int, rate_component: str = "rc") -> TariffInterval | None:
    """The TimeTariffInterval whose prices apply at ``now`` for one rate component (None: no price is
    published for that instant). Event rules (10.2.3): an interval applies from its start until its end or
    cancellation; where intervals overlap, the newer one (later creationTime; lower primacy first across
    profiles) supersedes the older for good. Intervals not yet created at ``now`` do not count."""
    groups, by_mrid = _known(intervals, now, rate_component)
    found = _in_force_at(groups, now)
    return by_mrid[found.mrid] if found else None


@dataclass(frozen=True)
class PriceChange:
    """The next instant the price in force changes, and the interval in force from then (None: none)."""

    at: int
    interval: TariffInterval | None


def next_price_change(intervals: Iterable[TariffInterval], now: int, rate_component: str = "rc") -> PriceChange | None:
    """When the interval in force (``price_in_force``) next changes after ``now``, assuming the intervals
    known now (those created by ``now``) are all there will be; None when it never changes again."""
    groups, by_mrid = _known(intervals, now, rate_component)
    current = _in_force_at(groups, now)
    current_mrid = current.mrid if current else None
    for group in groups:
        if max(e.latest_effective_end for e in group) <= now:
            continue
        t = now
        while (nxt := next_transition(group, t)) is not None:
            found = _in_force_at(groups, nxt)  # another group may take over at the instant this one ends
            if (found.mrid if found else None) != current_mrid:
                return PriceChange(nxt, by_mrid[found.mrid] if found else None)
            t = nxt
    return None
