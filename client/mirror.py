"""Mirror metering from the device side (IEEE 2030.5-2018 clause 10.11).

A device that cannot serve its own readings creates a MirrorUsagePoint on the server (POST to the
MirrorUsagePointList DeviceCapability links), one MirrorMeterReading per quantity with its ReadingType
(rule a), then POSTs the current values to that mirror at the ``postRate`` the server answers with (one
MirrorMeterReadingList per post, rule d). A post that finds the server unreachable is kept and sent
with its original reading time when the server is back (up to ``backlog`` posts, oldest dropped first).

Quantities are named as the reference devices report them (:class:`gridhan.client.situation.DeviceModel`):
``W`` real power, ``var`` reactive power, ``V`` voltage, ``Hz`` frequency, ``Wh_imported`` and
``Wh_exported`` energy registers. Values travel as Int48 with the ReadingType's powerOfTenMultiplier.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from gridhan.client.session import SepSession
from gridhan.schemas.sep2 import (
    DateTimeInterval,
    MirrorMeterReading,
    MirrorMeterReadingList,
    MirrorUsagePoint,
    Reading,
    ReadingType,
)

#: sep.xsd enumerations used below: UomType 38 W, 63 var, 29 V, 33 Hz, 72 Wh; KindType 37 power,
#: 12 energy, 0 not applicable; AccumulationBehaviourType 12 instantaneous, 3 cumulative;
#: FlowDirectionType 1 forward (delivered to the customer), 19 reverse (received from the customer).
QUANTITIES: Mapping[str, ReadingType] = {
    "W": ReadingType(uom=38, kind=37, accumulationBehaviour=12, powerOfTenMultiplier=0),
    "var": ReadingType(uom=63, kind=37, accumulationBehaviour=12, powerOfTenMultiplier=0),
    "V": ReadingType(uom=29, kind=0, accumulationBehaviour=12, powerOfTenMultiplier=-1),
    "Hz": ReadingType(uom=33, kind=0, accumulationBehaviour=12, powerOfTenMultiplier=-2),
    "Wh_imported": ReadingType(uom=72, kind=12, accumulationBehaviour=3, flowDirection=1, powerOfTenMultiplier=0),
    "Wh_exported": ReadingType(uom=72, kind=12, accumulationBehaviour=3, flowDirection=19, powerOfTenMultiplier=0),
}
_DESCRIPTIONS = {"W": "real power", "var": "reactive power", "V": "voltage", "Hz": "frequency",
                 "Wh_imported": "energy imported", "Wh_exported": "energy exported"}
#: roleFlags (RoleFlagsType): bit 0 is a mirror, bit 3 a DER, bit 6 a submeter.
ROLE_DER = "49"
ROLE_DEVICE = "41"


@dataclass
class _Post:
    at: int
    values: dict[str, float]


def scaled(value: float, reading_type: ReadingType) -> int:
    """``value`` in the ReadingType's unit times 10^-powerOfTenMultiplier, rounded (Int48)."""
    return round(value / 10 ** (reading_type.powerOfTenMultiplier or 0))


class MirrorReporter:
    """Posts a device's readings to its mirror at the server's postRate."""

    def __init__(self, session: SepSession, *, mrid: str, description: str, der: bool, backlog: int = 96) -> None:
        self.session = session
        self.mrid = mrid
        self.description = description
        self.role = ROLE_DER if der else ROLE_DEVICE
        self.href: str | None = None
        self.post_rate: int | None = None
        self._quantities: tuple[str, ...] = ()
        self._pending: deque[_Post] = deque(maxlen=backlog)
        self.posted = 0
        self.last_post: int | None = None

    def _mrid(self, quantity: str) -> str:
        return f"{self.mrid[:28]}{list(QUANTITIES).index(quantity) + 1:04X}"

    def _readings(self, post: _Post) -> list[MirrorMeterReading]:
        return [
            MirrorMeterReading(
                mRID=self._mrid(q),
                description=_DESCRIPTIONS[q],
                lastUpdateTime=post.at,
                Reading=Reading(value=scaled(v, QUANTITIES[q]), timePeriod=DateTimeInterval(duration=0, start=post.at)),
                ReadingType=QUANTITIES[q] if self.href is None else None,
            )
            for q, v in post.values.items()
        ]

    def due(self, now: float) -> bool:
        return self.last_post is None or now >= self.last_post + (self.post_rate or 300)

    def record(self, now: int, readings: Mapping[str, float]) -> None:
        """Queue the current values of the quantities a mirror carries (others are ignored)."""
        values = {q: float(v) for q, v in readings.items() if q in QUANTITIES}
        if values:
            self._pending.append(_Post(now, values))
            self.last_post = now

    async def flush(self, mup_list_href: str) -> int:
        """Send what is queued, oldest first; returns how many posts went out. Raises
        :class:`~gridhan.client.session.Unreachable` with the rest still queued."""
        sent = 0
        while self._pending:
            post = self._pending[0]
            if self.href is None or set(post.values) - set(self._quantities):
                self._quantities = tuple(sorted(set(self._quantities) | set(post.values), key=list(QUANTITIES).index))
                self.href = None
                mirror = MirrorUsagePoint(
                    mRID=self.mrid, description=self.description, roleFlags=self.role, serviceCategoryKind=0,
                    status=1, deviceLFDI=self.session.credentials.lfdi, MirrorMeterReading=self._readings(post),
                )
                location = await self.session.post(mup_list_href, mirror)
                self.href = location
                if location:
                    got = await self.session.get(location, MirrorUsagePoint)
                    self.post_rate = got.postRate
            else:
                body = MirrorMeterReadingList(all=len(post.values), results=len(post.values),
                                              MirrorMeterReading=self._readings(post))
                await self.session.post(self.href, body)
            self._pending.popleft()
            sent += 1
            self.posted += 1
        return sent
