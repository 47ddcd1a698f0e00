"""Device identifiers of IEEE 2030.5-2018 clause 6.3.4 (LFDI, SFDI) and the Registration PIN.

The LFDI is the leftmost 160 bits of the SHA-256 hash of the device certificate (computed in
``gridhan.certs``, which holds the certificate); everything here works on the LFDI alone.

The SFDI is the leftmost 36 bits of the LFDI as a decimal integer, followed by one check digit, so the
sum of all digits is a multiple of ten (clause 6.3.4). Registration PINs (clause 6.3.5 / 6.4 on
Registration) carry a check digit computed the same way.
"""

from __future__ import annotations

import re

LFDI_HEX_DIGITS = 40
SFDI_DIGITS = 12
PIN_DIGITS = 6
_LFDI_RE = re.compile(r"^[0-9A-Fa-f]{40}$")


def check_digit(value: int) -> int:
    """The digit that makes the decimal digit sum of ``value`` followed by it a multiple of ten."""
    if value < 0:
        raise ValueError("check digits are defined for non-negative integers")
    return (10 - sum(int(d) for d in str(value)) % 10) % 10


def has_valid_check_digit(number: int) -> bool:
    """True when the last decimal digit of ``number`` is the check digit of the digits before it."""
    return number >= 0 and sum(int(d) for d in str(number)) % 10 == 0


def normalize_lfdi(lfdi: str) -> str:
    """Upper-case 40-hex-digit form of an LFDI; ``ValueError`` naming the problem otherwise."""
    text = lfdi.strip()
    if not _LFDI_RE.match(text):
        raise ValueError(f"an LFDI is 40 hexadecimal digits (160 bits), got {lfdi!r}")
    return text.upper()


def sfdi_from_lfdi(lfdi: str) -> int:
    """SFDI of an LFDI: its leftmost 36 bits in decimal, followed by a check digit (6.3.4)."""
    top36 = int(normalize_lfdi(lfdi)[:9], 16)
    return top36 * 10 + check_digit(top36)


def format_sfdi(sfdi: int) -> str:
    """The SFDI as the standard prints it: 12 decimal digits with leading zeros."""
    return f"{sfdi:0{SFDI_DIGITS}d}"


def pin_with_check_digit(five_digits: int) -> int:
    """A 6-digit Registration PIN from its first five digits plus their check digit."""
    if not 0 <= five_digits <= 99_999:
        raise ValueError("a PIN has five digits before its check digit")
    return five_digits * 10 + check_digit(five_digits)


def is_valid_pin(pin: int) -> bool:
    """True for a PIN of at most six digits whose last digit is the check digit of the rest."""
    return 0 <= pin <= 999_999 and has_valid_check_digit(pin)
