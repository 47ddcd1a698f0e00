"""What a device sees from the utility at one instant, and what it tells the utility back.

The client event scheduler (:mod:`gridhan.client.scheduler`) resolves the programs a device walked
(DER controls and DefaultDERControl, demand response events, prices, messages, flow reservations) into
one :class:`Situation`: for each function set, the thing in force now for this device, after its own
randomization, supersede and primacy (IEEE 2030.5-2018 clause 10.2.3). Reference devices
(:mod:`gridhan.client.devices`) take a Situation and decide what the equipment does; they never see
HTTP, XML links or clocks. What they report back (readings for mirror metering, DER status, customer
opt-outs) is plain data too, so the runtime can post it and tests can check it without a server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from gridhan.schemas.sep2.der import DERControlBase, DERCurve
from gridhan.schemas.sep2.drlc import EndDeviceControl
from gridhan.schemas.sep2.messaging import TextMessage


@dataclass(frozen=True)
class DerSituation:
    """The DER control modes in force (clause 10.10): per mode, the DERControl in force, else the
    DefaultDERControl's value.

    ``base`` holds one merged DERControlBase; ``curves`` maps a curve mode's name (``"opModVoltVar"``,
    ``"opModVoltWatt"``, ...) to the DERCurve its link resolved to; ``sources`` maps each mode set in
    ``base`` to the mRID of the DERControl it came from, or ``"default"``.
    """

    base: DERControlBase
    curves: Mapping[str, DERCurve] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PriceSituation:
    """The price in force (clause 10.5) for the device's usage point: TOU tier, price per kWh in the
    currency's major unit (the ConsumptionTariffInterval price x 10^pricePowerOfTenMultiplier; the
    first block when blocks apply), and the next change if one is published."""

    interval_mrid: str
    tier: int
    price_per_kwh: float
    currency: int | None = None
    blocks: tuple[tuple[float, float], ...] = ()  #: (start kWh, price per kWh) for block rates
    next_change: int | None = None
    next_tier: int | None = None
    next_price_per_kwh: float | None = None
    critical_peak: bool = False  #: the interval in force is a superseding event (a CPP hour)


@dataclass(frozen=True)
class FlowGrant:
    """A FlowReservationResponse granted to this device (clause 10.9): energy and power in W/Wh."""

    request_mrid: str
    start: int
    duration: int
    energy_wh: float
    power_w: float


@dataclass(frozen=True)
class UsageSituation:
    """Billing figures an in-home display shows (clauses 10.4, 10.7): month to date and projected."""

    month_to_date_kwh: float | None = None
    month_to_date_cost: float | None = None
    projected_bill: float | None = None
    demand_kw: float | None = None


@dataclass(frozen=True)
class Situation:
    """Everything in force for one device at ``now`` (TimeType seconds, the device's synced clock)."""

    now: int
    der: DerSituation | None = None
    #: The EndDeviceControl in force for this device's category (clause 10.3), after primacy.
    load_control: EndDeviceControl | None = None
    #: The next EndDeviceControl scheduled for this device's category, when one is known (a device may
    #: prepare for it: a water heater pre-heats before a curtailment).
    next_load_control: EndDeviceControl | None = None
    price: PriceSituation | None = None
    #: Active text messages for the device's locale, highest priority first, then newest (clause 10.6).
    messages: tuple[TextMessage, ...] = ()
    #: The locale (RFC 5646 tag) of the MessagingProgram each message came from, by message mRID, when
    #: known: a display prefers the customer's language when the same message comes in several.
    message_locales: Mapping[str, str] = field(default_factory=dict)
    flow_grants: tuple[FlowGrant, ...] = ()
    usage: UsageSituation | None = None
    #: Simulated grid conditions at the point of connection (volts, hertz).
    grid_voltage: float = 240.0
    grid_frequency: float = 50.0


@dataclass(frozen=True)
class CustomerResponse:
    """What the customer did about an event or message (clause 8.8, Table 27): ``status`` is the Response
    status to post (4 "User has chosen to opt out", 5 opt in, 11 "User acknowledgement", 12 "Cannot be
    displayed"; or the device's own account of how it took part in an event that reached its end, which
    the scheduler reports instead of "completed": 8 partially completed with an opt-out, 9 partially
    completed due to an opt-in, 10 no participation; see ``RESPONSE_STATUSES`` in
    :mod:`gridhan.schemas.sep2.response`), ``at`` when it happened."""

    event_mrid: str
    status: int
    at: int
    reason: str = ""
    #: Seconds the event was overridden, for a partial opt-out (status 8: DrResponse.overrideDuration).
    override_duration: int | None = None


class DeviceModel(Protocol):
    """A reference device: physics driven by what the utility asks, observable by the runtime.

    ``step`` advances the equipment by ``dt`` seconds under ``situation`` and returns human-readable
    notes of what changed ("cooling set point 24.0 -> 25.1 C: CPP offset 2 F") for the CLI to print.
    ``readings`` are the present values for mirror metering, keyed by quantity name: ``"W"`` (positive
    export/generation), ``"var"``, ``"V"``, ``"Hz"``, ``"Wh_imported"``, ``"Wh_exported"``, plus
    device-specific ones (``"soc_pct"``, ``"indoor_c"`` ...). ``customer_responses`` drains the customer's
    responses (opt-outs, acknowledgements) since the last call.
    """

    kind: str
    #: sep.xsd DeviceCategoryType bits of this device (hex string, e.g. "00000001" for a PCT... see
    #: the device module's docstring for the bit it claims).
    device_category: str

    def step(self, situation: Situation, dt: float) -> list[str]: ...

    def readings(self) -> dict[str, float]: ...

    def customer_responses(self) -> list[CustomerResponse]: ...
