"""mRIDs of the resources the server creates (IEEE 2030.5-2018: mRIDType, 128 bits, globally unique).

The standard asks that the least significant 32 bits of an mRID be the IANA private enterprise number of
the organisation that made it, so identifiers from different utilities never collide; the rest is random.
"""

from __future__ import annotations

import secrets


def new_mrid(pen: int) -> str:
    """A fresh mRID: 96 random bits, then the PEN (32 bits), as 32 upper-case hex digits."""
    if not 0 <= pen < 2**32:
        raise ValueError(f"a private enterprise number is a UInt32, got {pen}")
    return f"{secrets.randbits(96):024X}{pen:08X}"
