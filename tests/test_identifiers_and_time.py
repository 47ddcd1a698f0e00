"""Pure protocol rules: SFDI and PIN check digits (IEEE 2030.5-2018 6.3.4), Time resource arithmetic
(Time function set)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridhan.schemas.identifiers import (
    check_digit,
    format_sfdi,
    has_valid_check_digit,
    is_valid_pin,
    normalize_lfdi,
    pin_with_check_digit,
    sfdi_from_lfdi,
)
from gridhan.schemas.timekeeping import zone_fields


def test_sfdi_vector_from_the_standard():
    assert format_sfdi(sfdi_from_lfdi("3E4F45AB31EDFE5B67E343E5E4562E31984E23E5")) == "167261211391"


@given(st.text(alphabet="0123456789abcdefABCDEF", min_size=40, max_size=40))
def test_every_sfdi_carries_a_valid_check_digit(lfdi):
    sfdi = sfdi_from_lfdi(lfdi)
    assert has_valid_check_digit(sfdi)
    assert sfdi // 10 == int(lfdi[:9], 16)
    assert len(format_sfdi(sfdi)) == 12


@given(st.integers(min_value=0, max_value=99_999), st.integers(min_value=1, max_value=9))
def test_pins_detect_a_changed_last_digit(five, delta):
    pin = pin_with_check_digit(five)
    assert is_valid_pin(pin)
    wrong = pin - pin % 10 + (pin % 10 + delta) % 10
    assert not is_valid_pin(wrong)


def test_check_digit_and_lfdi_errors():
    assert check_digit(0) == 0 and check_digit(9) == 1
    with pytest.raises(ValueError, match="40 hexadecimal digits"):
        normalize_lfdi("XYZ")
    assert not is_valid_pin(1_000_000)


def _utc(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    ("zone", "instant", "tz", "dst", "start", "end", "local_shift"),
    [
        ("UTC", _utc(2026, 7, 1), 0, 0, 0, 0, 0),
        ("Asia/Tokyo", _utc(2026, 7, 1), 9 * 3600, 0, 0, 0, 9 * 3600),
        ("Europe/Berlin", _utc(2026, 7, 1), 3600, 3600, _utc(2026, 3, 29, 1), _utc(2026, 10, 25, 1), 7200),
        ("Europe/Berlin", _utc(2026, 12, 1), 3600, 3600, _utc(2026, 3, 29, 1), _utc(2026, 10, 25, 1), 3600),
        (
            "America/Los_Angeles",
            _utc(2026, 7, 1),
            -8 * 3600,
            3600,
            _utc(2026, 3, 8, 10),
            _utc(2026, 11, 1, 9),
            -7 * 3600,
        ),
        # southern hemisphere: the period that began in October 2026 ends in April 2027
        (
            "Australia/Sydney",
            _utc(2026, 12, 1),
            10 * 3600,
            3600,
            _utc(2026, 10, 3, 16),
            _utc(2027, 4, 3, 16),
            11 * 3600,
        ),
        # ... and in February 2027 the device is still inside it
        ("Australia/Sydney", _utc(2027, 2, 1), 10 * 3600, 3600, _utc(2026, 10, 3, 16), _utc(2027, 4, 3, 16), 11 * 3600),
        ("Australia/Sydney", _utc(2027, 6, 1), 10 * 3600, 3600, _utc(2027, 10, 2, 16), _utc(2028, 4, 1, 16), 10 * 3600),
    ],
)
def test_time_resource_zone_fields(zone, instant, tz, dst, start, end, local_shift):
    f = zone_fields(instant, ZoneInfo(zone))
    assert (f.tzOffset, f.dstOffset, f.dstStartTime, f.dstEndTime) == (tz, dst, start, end)
    assert f.localTime == instant + local_shift


@given(
    st.integers(min_value=_utc(2000, 1, 1), max_value=_utc(2037, 12, 31)),
    st.sampled_from(["America/New_York", "Europe/London", "Australia/Adelaide", "Pacific/Auckland", "UTC"]),
)
def test_local_time_matches_the_zone_database(instant, zone):
    f = zone_fields(instant, ZoneInfo(zone))
    offset = datetime.fromtimestamp(instant, UTC).astimezone(ZoneInfo(zone)).utcoffset().total_seconds()
    assert f.localTime == instant + offset
