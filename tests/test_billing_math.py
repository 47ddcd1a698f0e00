"""The display arithmetic of :mod:`gridhan.schemas.billing_math`: examples and properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridhan.schemas.billing_math import (
    Interval,
    bill_summary,
    kilowatt_hours,
    kilowatts,
    money,
    month_to_date,
    projected,
    scaled,
)

powers = st.integers(-9, 9)
int48 = st.integers(-(2**47), 2**47 - 1)
DAY = 86400


def test_examples_at_display_precision():
    assert money(123456, -3) == Decimal("123.46")  # $123.456 -> $123.46
    assert money(-5, -3) == Decimal("-0.01")  # half away from zero
    assert kilowatts(1234, 0) == Decimal("1.23")  # 1234 W
    assert kilowatts(1235, 0) == Decimal("1.24")
    assert kilowatt_hours(12345, 0) == Decimal("12.3")  # 12345 Wh
    assert kilowatt_hours(125, 2) == Decimal("12.5")  # 125 x 100 Wh


def test_multiplier_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"outside -9\.\.9"):
        scaled(1, 10)
    with pytest.raises(ValueError):
        money(1, -10)


def test_month_to_date_resets_on_the_bill_date():
    period = Interval(30 * DAY, 30 * DAY)
    readings = [
        (Interval(29 * DAY, DAY), 999),  # the previous period: not counted
        (Interval(30 * DAY, DAY), 10),
        (Interval(31 * DAY, DAY), 20),
        (Interval(32 * DAY, DAY), 40),  # not over yet at now
    ]
    assert month_to_date(readings, period, now=32 * DAY + 5, power=-1) == Decimal("3.0")


def test_linear_projection():
    period = Interval(0, 30 * DAY)
    # $40 after 10 of 30 days -> $120
    summary = bill_summary(period, -2, bill_to_date=4000, status_time=10 * DAY, bill_last_period=11111, now=11 * DAY)
    assert summary.bill_to_date == Decimal("40.00")
    assert summary.projected_bill == Decimal("120.00")
    assert summary.bill_last_period == Decimal("111.11")
    assert projected(Decimal(5), period, 0) is None


@given(value=int48, power=powers)
def test_money_is_within_half_a_cent(value, power):
    exact = Decimal(value).scaleb(power)
    shown = money(value, power)
    assert abs(shown - exact) <= Decimal("0.005")
    assert shown == shown.quantize(Decimal("0.01"))


@given(value=int48, power=powers)
def test_energy_and_demand_precision(value, power):
    kwh = kilowatt_hours(value, power)
    kw = kilowatts(value, power)
    exact = Decimal(value).scaleb(power) / 1000
    assert abs(kwh - exact) <= Decimal("0.05") and kwh == kwh.quantize(Decimal("0.1"))
    assert abs(kw - exact) <= Decimal("0.005") and kw == kw.quantize(Decimal("0.01"))


@given(
    to_date=st.integers(0, 10**9),
    duration=st.integers(1, 60 * DAY),
    fraction=st.floats(0.0, 1.0),
)
def test_projection_is_at_least_the_cost_so_far_and_exact_at_the_end(to_date, duration, fraction):
    period = Interval(1_000_000, duration)
    as_of = period.start + int(duration * fraction)
    result = projected(Decimal(to_date), period, as_of)
    if as_of == period.start:
        assert result is None
        return
    assert result >= to_date
    assert projected(Decimal(to_date), period, period.end) == to_date
    assert projected(Decimal(to_date), period, period.end + 999) == to_date


@given(
    values=st.lists(st.integers(0, 10**6), max_size=40),
    step=st.sampled_from([300, 900, 1800, 3600]),
    now_offset=st.integers(0, 40 * 3600),
)
def test_month_to_date_counts_only_finished_intervals_of_the_period(values, step, now_offset):
    period = Interval(7200, 20 * 3600)
    readings = [(Interval(i * step, step), v) for i, v in enumerate(values)]
    now = now_offset
    total = month_to_date(readings, period, now, 0)
    expected = sum(v for iv, v in readings if iv.start >= period.start and iv.end <= min(now, period.end))
    assert total == expected
    assert month_to_date(readings, period, now + step, 0) >= total
