"""What the application hangs off itself (no module-level state: two servers can share a process)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aiohttp import web

from gridhan.schemas.clock import Clock
from gridhan.schemas.sep2 import DeviceInformation
from gridhan.schemas.xsd import SchemaValidator
from gridhan.server.identity import IdentityRegistry
from gridhan.server.settings import Settings
from gridhan.server.store.repo import Store

if TYPE_CHECKING:
    from gridhan.server.notify.service import NotifyService
    from gridhan.server.sep2.registry import FunctionSets

#: Resource names whose pollRate the utility may set (clause 5.x on polling: pollRate on the resource).
POLLED_RESOURCES = (
    "DeviceCapability",
    "Time",
    "EndDeviceList",
    "EndDevice",
    "FunctionSetAssignmentsList",
    "SelfDevice",
    "ResponseSetList",
    "MirrorUsagePointList",
    "UsagePointList",
    "DERProgramList",
    "DERList",
    "DemandResponseProgramList",
    "LoadShedAvailabilityList",
    "TariffProfileList",
)


@dataclass
class RuntimeSettings:
    """Settings the utility changes while the server runs; persisted by the admin API."""

    poll_rates: dict[str, int]
    post_rate: int
    timezone: str
    time_quality: int
    inband_registration: bool

    @classmethod
    def from_settings(cls, settings: Settings, stored: dict[str, Any]) -> RuntimeSettings:
        rates = {name: settings.poll_rate for name in POLLED_RESOURCES}
        rates.update(stored.get("poll_rates", {}))
        return cls(
            poll_rates=rates,
            post_rate=stored.get("post_rate", settings.post_rate),
            timezone=stored.get("timezone", settings.timezone),
            time_quality=stored.get("time_quality", settings.time_quality),
            inband_registration=stored.get("inband_registration", settings.inband_registration),
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def as_dict(self) -> dict[str, Any]:
        return {
            "poll_rates": dict(self.poll_rates),
            "post_rate": self.post_rate,
            "timezone": self.timezone,
            "time_quality": self.time_quality,
            "inband_registration": self.inband_registration,
        }


@dataclass
class AppContext:
    settings: Settings
    clock: Clock
    store: Store
    identities: IdentityRegistry
    runtime: RuntimeSettings
    #: The server's own DeviceInformation (SelfDevice), when it has a certificate.
    self_information: DeviceInformation | None = None
    #: The official schema, when the utility configured ``schema_path``: request bodies are validated
    #: against it before they are read, and responses are checked (violations are logged).
    validator: SchemaValidator | None = None
    #: Called after the set of trusted self-signed device certificates changed (rebuilds the TLS context).
    on_trust_change: list[Any] = field(default_factory=list)
    #: The 2030.5 application's function-set registry (set when it is built), so the admin API can find
    #: events through the same resolvers as the Response function set.
    function_sets: FunctionSets | None = None
    #: Notification delivery and the event-boundary scheduler (clause 8.7), while the server runs.
    notify: NotifyService | None = None

    def now(self) -> int:
        return int(self.clock.now())

    async def trust_changed(self) -> None:
        for callback in self.on_trust_change:
            await callback()


CONTEXT = web.AppKey("gridhan_context", AppContext)
