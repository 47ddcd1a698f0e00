"""DER information a device reports (IEEE 2030.5-2018 clause 10.10, DER function set).

The EndDevice's DERList holds the device's DER; the client PUTs its DERCapability (nameplate ratings and
the modes it supports) and DERSettings (the settings in use) when it starts and when they change, and
DERStatus and DERAvailability as they change (at least every ``interval`` seconds, the utility's view of
the fleet stays fresh). A PUT the server refuses is a :class:`~gridhan.client.session.SepError` naming
the field; an unreachable server leaves the latest report to be sent again later (only the newest of
each kind matters).
"""

from __future__ import annotations

from typing import Any

from gridhan.client.session import SepSession
from gridhan.schemas.sep2 import DER, DERList, EndDevice
from gridhan.schemas.xmlcodec import XmlResource

#: Link attribute of DER per report kind.
LINKS = {
    "capability": "DERCapabilityLink",
    "settings": "DERSettingsLink",
    "status": "DERStatusLink",
    "availability": "DERAvailabilityLink",
}


class DerReporter:
    """PUTs DERCapability, DERSettings, DERStatus and DERAvailability of the device's first DER."""

    def __init__(self, session: SepSession, *, interval: float = 300.0) -> None:
        self.session = session
        self.interval = interval
        self.der: DER | None = None
        self._sent: dict[str, tuple[bytes, float]] = {}
        self._pending: dict[str, XmlResource] = {}
        self.puts = 0

    async def locate(self, end_device: EndDevice) -> DER | None:
        if self.der is None and end_device.DERListLink is not None:
            _, ders = await self.session.get_all(end_device.DERListLink.href, DERList)
            self.der = ders[0] if ders else None
        return self.der

    def offer(self, kind: str, resource: XmlResource, now: float, *, ignore: tuple[str, ...] = ()) -> None:
        """Queue a report if it changed (apart from time stamps) or ``interval`` has passed."""
        key = repr(_without(resource, ignore)).encode()
        sent = self._sent.get(kind)
        if sent is None or sent[0] != key or now - sent[1] >= self.interval:
            self._pending[kind] = resource
            self._sent[kind] = (key, now)

    async def flush(self, end_device: EndDevice) -> int:
        der = await self.locate(end_device)
        if der is None:
            return 0
        done = 0
        for kind in list(self._pending):
            link = getattr(der, LINKS[kind])
            if link is not None:
                await self.session.put(link.href, self._pending[kind])
                self.puts += 1
                done += 1
            del self._pending[kind]
        return done


def _without(resource: XmlResource, fields: tuple[str, ...]) -> XmlResource:
    if not fields:
        return resource
    values: dict[str, Any] = {f: None for f in fields if hasattr(resource, f)}
    return type(resource)(**{**vars(resource), **values})
