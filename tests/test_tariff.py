"""Tariff arithmetic of the Pricing function set (IEEE 2030.5-2018 clause 10.5, sep.xsd
ConsumptionTariffInterval): block pricing, the price in force at an instant, the next change, money."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridhan.schemas.event_rules import event_status
from gridhan.schemas.tariff import (
    Block,
    TariffInterval,
    block_index,
    check_blocks,
    cost,
    money,
    next_price_change,
    overlap_groups,
    price_in_force,
    to_cents,
    unit_price,
)

TIERED = (Block(0, 10), Block(500, 15), Block(1000, 20))


def interval(mrid: str, start: int, duration: int, price: int, created: int = 0, **kw) -> TariffInterval:
    return TariffInterval(mrid=mrid, creation_time=created, start=start, duration=duration, tou_tier=1,
                          blocks=(Block(0, price),), **kw)  # fmt: skip


@st.composite
def block_lists(draw) -> tuple[Block, ...]:
    starts = sorted(draw(st.sets(st.integers(1, 10_000), max_size=5)))
    prices = draw(st.lists(st.integers(-1000, 100_000), min_size=len(starts) + 1, max_size=len(starts) + 1))
    return tuple(Block(s, p) for s, p in zip([0, *starts], prices, strict=True))


# -- blocks -----------------------------------------------------------------------------------------


def test_a_consumption_at_a_start_value_belongs_to_the_block_before():
    assert [block_index(TIERED, c) for c in (0, 1, 500, 501, 1000, 1001, 10**9)] == [0, 0, 0, 1, 1, 2, 2]
    assert [unit_price(TIERED, c) for c in (0, 499, 500, 999, 1000)] == [10, 10, 15, 15, 20]


def test_cost_crosses_blocks():
    assert cost(TIERED, 400) == 4000
    assert cost(TIERED, 700) == 500 * 10 + 200 * 15
    assert cost(TIERED, 200, already=900) == 100 * 15 + 100 * 20
    assert cost(TIERED, 0, already=123) == 0


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        ((), "at least one"),
        ((Block(1, 5),), "starts at 0"),
        ((Block(0, 5), Block(10, 5), Block(10, 6)), "must increase"),
        ((Block(0, 5), Block(2**48, 5)), "not a UInt48"),
        ((Block(0, 2**31),), "not an Int32"),
    ],
)
def test_invalid_block_lists(blocks, message):
    with pytest.raises(ValueError, match=message):
        check_blocks(blocks)


def test_a_block_without_price_cannot_be_charged():
    with pytest.raises(ValueError, match="no price"):
        cost((Block(0, 5), Block(10, None)), 20)
    assert cost((Block(0, 5), Block(10, None)), 10) == 50


@given(block_lists(), st.integers(0, 20_000), st.integers(0, 20_000), st.integers(0, 20_000))
def test_cost_is_additive_over_consecutive_consumption(blocks, already, q1, q2):
    assert cost(blocks, q1, already) + cost(blocks, q2, already + q1) == cost(blocks, q1 + q2, already)


@given(block_lists(), st.integers(0, 20_000))
def test_each_unit_costs_the_price_of_its_block(blocks, already):
    assert cost(blocks, 1, already) == unit_price(blocks, already)
    assert cost(blocks, 1, already) == blocks[block_index(blocks, already + 1)].price


@given(st.integers(-(2**31), 2**31 - 1), st.integers(0, 10**6))
def test_a_single_block_is_a_flat_rate(price, quantity):
    assert cost((Block(0, price),), quantity) == price * quantity


def test_money_and_the_displayed_cents():
    assert money(12_345, -5) == Decimal("0.12345")
    assert to_cents(12_345, -5) == Decimal("0.12")
    assert to_cents(12_500, -5) == Decimal("0.13")  # half away from zero
    assert to_cents(-12_500, -5) == Decimal("-0.13")
    assert str(to_cents(7, 0)) == "7.00"


@given(st.integers(-(2**40), 2**40), st.integers(-9, 9))
def test_the_displayed_amount_is_within_half_a_cent(value, multiplier):
    assert abs(to_cents(value, multiplier) - money(value, multiplier)) <= Decimal("0.005")


# -- time -------------------------------------------------------------------------------------------


def test_a_day_of_hours_then_a_critical_peak():
    hours = [interval(f"H{h:02d}", 3600 * h, 3600, 100 + h) for h in range(24)]
    assert price_in_force(hours, 0).mrid == "H00"
    assert price_in_force(hours, 3600 * 5 + 59).mrid == "H05"
    assert price_in_force(hours, 86400) is None
    change = next_price_change(hours, 3600 * 5 + 59)
    assert (change.at, change.interval.mrid) == (3600 * 6, "H06")
    assert next_price_change(hours, 86400) is None
    last = next_price_change(hours, 3600 * 23 + 1)
    assert (last.at, last.interval) == (86400, None)

    # published at 10:00 over 17:00-19:00: the newer interval supersedes those hours (10.2.3 rule f)
    cpp = interval("CPP", 3600 * 17, 7200, 900, created=3600 * 10)
    both = [*hours, cpp]
    before = price_in_force(both, 3600 * 9 + 5)
    assert before.mrid == "H09" and next_price_change(both, 3600 * 9 + 5).interval.mrid == "H10"
    change = next_price_change(both, 3600 * 16 + 30)
    assert (change.at, change.interval.mrid) == (3600 * 17, "CPP")
    assert price_in_force(both, 3600 * 18 + 5).mrid == "CPP"
    change = next_price_change(both, 3600 * 18)
    assert (change.at, change.interval.mrid) == (3600 * 19, "H19")


def test_a_cancelled_interval_leaves_no_price():
    hours = [interval("A", 0, 3600, 1), interval("B", 3600, 3600, 2, cancelled_at=100), interval("C", 7200, 3600, 3)]
    assert price_in_force(hours, 3700) is None
    change = next_price_change(hours, 1000)
    assert (change.at, change.interval) == (3600, None)
    assert next_price_change(hours, 3700).interval.mrid == "C"


def test_a_device_applies_a_critical_peak_from_when_it_read_it():
    hour = interval("H", 0, 3600, 10)
    cpp = interval("CPP", 0, 3600, 50, created=100, received_at=900)  # published at 100, read at 900
    assert price_in_force([hour, cpp], 899).mrid == "H"
    assert price_in_force([hour, cpp], 900).mrid == "CPP"


def test_lower_primacy_wins_across_profiles():
    low = interval("LOW", 0, 3600, 5, primacy=1, created=0)
    high = interval("HIGH", 0, 3600, 9, primacy=0, created=-10)
    assert price_in_force([low, high], 10).mrid == "HIGH"


@st.composite
def schedules(draw) -> list[TariffInterval]:
    """A day-ahead schedule of random lengths, possibly with gaps, plus random later overlays."""
    out: list[TariffInterval] = []
    t = 0
    for i in range(draw(st.integers(1, 8))):
        t += draw(st.integers(0, 1800))
        d = draw(st.integers(60, 7200))
        out.append(interval(f"S{i}", t, d, i))
        t += d
    for j in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, t))
        out.append(interval(f"O{j}", start, draw(st.integers(60, 7200)), 100 + j, created=draw(st.integers(0, t))))
    return out


@settings(max_examples=60, deadline=None)
@given(schedules(), st.integers(0, 40_000))
def test_the_price_holds_until_the_next_change(intervals, now):
    current = price_in_force(intervals, now)
    change = next_price_change(intervals, now)
    known_now = [i for i in intervals if i.creation_time <= now]
    horizon = change.at if change else now + 50_000
    for t in sorted({now, (now + horizon) // 2, horizon - 1}):
        if now <= t < horizon:
            found = price_in_force(known_now, t)
            assert (found and found.mrid) == (current and current.mrid)
    if change:
        found = price_in_force(known_now, change.at)
        assert (found and found.mrid) == (change.interval and change.interval.mrid)
        assert (found and found.mrid) != (current and current.mrid)


@given(schedules())
def test_without_overlays_the_interval_in_force_is_the_one_containing_the_instant(intervals):
    plain = [i for i in intervals if i.mrid.startswith("S")]
    for i in plain:
        for t in (i.start, i.end - 1):
            assert price_in_force(plain, t).mrid == i.mrid


@given(schedules())
def test_overlap_groups_partition_the_events(intervals):
    specs = [i.spec("rc") for i in intervals]
    groups = overlap_groups(specs)
    assert sorted(e.mrid for g in groups for e in g) == sorted(e.mrid for e in specs)
    for a, b in pairwise(groups):
        assert max(e.latest_effective_end for e in a) <= min(e.earliest_effective_start for e in b)


@settings(max_examples=60, deadline=None)
@given(schedules(), st.integers(0, 40_000), st.integers(-600, 600))
def test_statuses_by_overlap_group_equal_those_over_every_event(intervals, now, randomize):
    """Computing EventStatus group by group (as the server does) changes nothing (event rules, 10.2.3)."""
    specs = [replace(i, randomize_start=randomize).spec("rc") for i in intervals if i.creation_time <= now]
    for group in overlap_groups(specs):
        for e in group:
            assert event_status(e, group, now) == event_status(e, specs, now)
