"""Arithmetic an in-home display does with IEEE 2030.5 billing and metering numbers, as pure functions.

2030.5 carries quantities as integers with a power-of-ten multiplier (``PowerOfTenMultiplierType``,
-9..9): a CustomerAccount's amounts are ``value x 10^pricePowerOfTenMultiplier`` in its ``currency``
(ISO 4217 numeric code); a Reading's value is ``value x 10^powerOfTenMultiplier`` in its ReadingType's
``uom`` (72 Wh, 38 W, ...). A BillingPeriod (clause 10.7) holds ``billToDate`` as of its
``statusTimeStamp`` over its ``interval``.

The utility use cases ask a display for cost to $0.01, demand to 0.01 kW, energy to 0.1 kWh, figures
that start again on the bill date (the start of the billing period), and a projected bill. The
projection here is linear: the cost so far, spread over the elapsed part of the period, carried to the
whole period. Rounding is half away from zero (what a person expects on a bill). Everything is
:class:`~decimal.Decimal`: no float ever touches money. Nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

#: sep.xsd PowerOfTenMultiplierType bounds.
MIN_POWER = -9
MAX_POWER = 9
#: uom codes (IEC 61968-9, as sep.xsd UomType lists them): watt and watt-hour.
UOM_W = 38
UOM_WH = 72

#: ISO 4217 numeric codes of widely used currencies (CurrencyCode in sep.xsd is a plain UInt16, so the
#: schema cannot tell a currency from a typo; a server that accepts any number would show nonsense).
CURRENCIES = frozenset(
    {
        32, 36, 124, 152, 156, 170, 203, 208, 344, 348, 352, 356, 360, 376, 392, 404, 410, 458, 484, 554,
        566, 578, 604, 608, 643, 682, 702, 704, 710, 752, 756, 764, 784, 818, 826, 840, 901, 946, 949, 975,
        978, 980, 985, 986,
    }
)  # fmt: skip

CENT = Decimal("0.01")
TENTH = Decimal("0.1")


def check_power(power: int) -> int:
    """A PowerOfTenMultiplierType value, or ValueError."""
    if isinstance(power, bool) or not isinstance(power, int) or not MIN_POWER <= power <= MAX_POWER:
        raise ValueError(f"power-of-ten multiplier {power!r} is outside {MIN_POWER}..{MAX_POWER}")
    return power


def scaled(value: int, power: int) -> Decimal:
    """``value x 10^power`` exactly."""
    return Decimal(value).scaleb(check_power(power))


def round_to(amount: Decimal, step: Decimal) -> Decimal:
    """``amount`` rounded to a multiple of ``step`` (0.01, 0.1 ...), half away from zero."""
    return amount.quantize(step, rounding=ROUND_HALF_UP)


def money(value: int, price_power: int) -> Decimal:
    """An amount of a CustomerAccount (value x 10^pricePowerOfTenMultiplier) to the cent."""
    return round_to(scaled(value, price_power), CENT)


def kilowatts(value: int, power: int) -> Decimal:
    """A demand reading in W (uom 38) with its multiplier, in kW to 0.01 kW."""
    return round_to(scaled(value, power) / 1000, CENT)


def kilowatt_hours(value: int, power: int) -> Decimal:
    """An energy reading in Wh (uom 72) with its multiplier, in kWh to 0.1 kWh."""
    return round_to(scaled(value, power) / 1000, TENTH)


@dataclass(frozen=True)
class Interval:
    """A DateTimeInterval: ``start`` (TimeType seconds) and ``duration`` (seconds)."""

    start: int
    duration: int

    def __post_init__(self) -> None:
        if self.duration < 0:
            raise ValueError(f"interval duration {self.duration} is negative")

    @property
    def end(self) -> int:
        return self.start + self.duration

    def contains(self, instant: int) -> bool:
        """Whether ``instant`` lies in [start, end)."""
        return self.start <= instant < self.end

    def covers(self, other: Interval) -> bool:
        """Whether ``other`` lies wholly inside this interval."""
        return self.start <= other.start and other.end <= self.end


def month_to_date(readings: Iterable[tuple[Interval, int]], period: Interval, now: int, power: int) -> Decimal:
    """Sum of the interval readings (interval, value) that lie inside the billing ``period`` and ended by
    ``now``, x 10^power, unrounded. Readings before the bill date (the period's start) are not counted:
    the figure starts again with each period."""
    total = sum(
        (value for interval, value in readings if period.covers(interval) and interval.end <= now),
        start=0,
    )
    return scaled(total, power)


def elapsed(period: Interval, now: int) -> int:
    """Seconds of ``period`` gone by at ``now`` (0 before it starts, its duration after it ends)."""
    return min(max(now - period.start, 0), period.duration)


def projected(to_date: Decimal, period: Interval, as_of: int) -> Decimal | None:
    """The amount at the end of ``period`` if it goes on at the rate it had up to ``as_of`` (linear),
    unrounded; None when no time of the period has passed (nothing to project from)."""
    gone = elapsed(period, as_of)
    if gone == 0:
        return None
    return to_date * period.duration / gone


@dataclass(frozen=True)
class BillSummary:
    """What a display shows for the current billing period, in the account's currency units."""

    period_start: int
    period_end: int
    bill_to_date: Decimal | None
    projected_bill: Decimal | None
    bill_last_period: Decimal | None


def bill_summary(
    period: Interval,
    price_power: int,
    *,
    bill_to_date: int | None,
    status_time: int | None,
    bill_last_period: int | None,
    now: int,
) -> BillSummary:
    """The display figures of a BillingPeriod: bill to date and last bill to the cent, and the projected
    bill (linear from ``billToDate`` as of ``statusTimeStamp``, else as of ``now``)."""
    check_power(price_power)
    to_date = scaled(bill_to_date, price_power) if bill_to_date is not None else None
    projection = None
    if to_date is not None:
        projection = projected(to_date, period, status_time if status_time is not None else now)
    return BillSummary(
        period_start=period.start,
        period_end=period.end,
        bill_to_date=round_to(to_date, CENT) if to_date is not None else None,
        projected_bill=round_to(projection, CENT) if projection is not None else None,
        bill_last_period=money(bill_last_period, price_power) if bill_last_period is not None else None,
    )


__all__ = [
    "CENT",
    "CURRENCIES",
    "MAX_POWER",
    "MIN_POWER",
    "TENTH",
    "UOM_W",
    "UOM_WH",
    "BillSummary",
    "Interval",
    "bill_summary",
    "check_power",
    "elapsed",
    "kilowatt_hours",
    "kilowatts",
    "money",
    "month_to_date",
    "projected",
    "round_to",
    "scaled",
]
