"""EV charger (EVSE) with a plugged-in vehicle, charging only within its flow reservations.

IEEE 2030.5-2018 clause 10.9 (Flow Reservation): a device that draws a lot of power asks for a reservation
(a FlowReservationRequest: the energy to transfer, the sustained power it can draw, the window in which the
transfer must happen and the minimum time it needs), and the server answers with a FlowReservationResponse
that may move or shrink it (``Situation.flow_grants``: window, ``power_w``, ``energy_wh``).

* :meth:`EvCharger.reservation_request` computes the request: the energy from the vehicle's state of charge
  to its target, grid side (divided by the charging efficiency), positive for charging as in
  FlowReservationRequest.energyRequested; the power the charger and the vehicle can both sustain; the
  window from now (or ``earliest_start``, e.g. when an off-peak tier begins) to the departure time; and
  ``duration_requested``, the minimum seconds to deliver it at that power (durationRequested, a UInt16).
* :meth:`EvCharger.step` charges only inside a grant's window, at no more than the grant's power, until the
  grant's energy is used up (energy counted grid side, per grant), and stops at the target state of charge.
  When grants overlap, one is used at a time: the one that started first. When the vehicle's departure time
  comes, it leaves.
* A load-reduction EndDeviceControl naming the EVSE category (bit 17, "00020000") lowers the power
  further: shed (ApplianceLoadReduction type 1) or the off part of a DutyCycle or load adjustment stops
  charging; a TargetReduction in W or kW caps the power; one in kWh stops charging once that much was drawn
  during the event. It never lets the charger exceed a grant.

Readings follow the DER convention of the other devices: ``W`` positive for export, so charging reads
negative (``W = -charging power``); ``Wh_imported`` is the energy drawn from the grid; ``soc_pct`` the
vehicle's state of charge (NaN when no vehicle is plugged in).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from gridhan.client.devices.load_control import LoadRequest, addresses, duty_cycle_edges, short_id
from gridhan.client.situation import CustomerResponse, FlowGrant, Situation

EVSE_CATEGORY = "00020000"
#: FlowReservationRequest.durationRequested is a UInt16.
MAX_DURATION_REQUESTED = 65535


@dataclass(frozen=True)
class Vehicle:
    """The vehicle plugged in: battery capacity (Wh), state of charge now and wanted by ``departure``
    (percent), and the most its on-board charger accepts (W)."""

    capacity_wh: float
    soc_pct: float
    target_soc_pct: float
    departure: int
    max_charge_w: float = 11_000.0

    def __post_init__(self) -> None:
        if self.capacity_wh <= 0 or self.max_charge_w <= 0:
            raise ValueError("a vehicle needs a positive battery capacity and charging power")
        if not 0 <= self.soc_pct <= 100 or not 0 <= self.target_soc_pct <= 100:
            raise ValueError("states of charge are percentages, 0..100")


@dataclass(frozen=True)
class ReservationRequest:
    """What the charger asks for (the fields of a FlowReservationRequest, in W, Wh and seconds)."""

    energy_wh: float
    power_w: float
    start: int
    duration: int
    duration_requested: int


class EvCharger:
    """An EVSE and the vehicle plugged into it (see the module docstring)."""

    kind = "ev_charger"
    device_category = EVSE_CATEGORY

    def __init__(self, *, max_power_w: float = 7200.0, efficiency: float = 0.9, vehicle: Vehicle | None = None) -> None:
        if max_power_w <= 0 or not 0 < efficiency <= 1:
            raise ValueError("a charger needs a positive power and an efficiency in (0, 1]")
        self.max_power_w = max_power_w
        self.efficiency = efficiency
        self.vehicle: Vehicle | None = None
        self._stored_wh = 0.0
        self._power_w = 0.0
        self._wh_imported = 0.0
        self._by_grant: dict[str, float] = {}
        self._grant_in_use: str | None = None
        self._event_mrid: str | None = None
        self._event_wh = 0.0
        self._notes: list[str] = []
        if vehicle is not None:
            self.plug_in(vehicle)

    # -- the vehicle -----------------------------------------------------------------------------------------

    def plug_in(self, vehicle: Vehicle) -> None:
        self.vehicle = vehicle
        self._stored_wh = vehicle.capacity_wh * vehicle.soc_pct / 100
        self._notes.append(
            f"vehicle plugged in at {vehicle.soc_pct:.0f} %, wants {vehicle.target_soc_pct:.0f} % by departure"
        )

    def unplug(self) -> None:
        if self.vehicle is not None:
            self._notes.append(f"vehicle unplugged at {self.soc_pct:.0f} %")
        self.vehicle = None
        self._power_w = 0.0

    @property
    def soc_pct(self) -> float:
        if self.vehicle is None:
            return math.nan
        return 100 * self._stored_wh / self.vehicle.capacity_wh

    @property
    def power_w(self) -> float:
        """The most the charger and the vehicle can both sustain."""
        return min(self.max_power_w, self.vehicle.max_charge_w) if self.vehicle is not None else 0.0

    def needed_wh(self) -> float:
        """Energy still to draw from the grid to reach the target state of charge."""
        if self.vehicle is None:
            return 0.0
        missing = self.vehicle.capacity_wh * self.vehicle.target_soc_pct / 100 - self._stored_wh
        return max(0.0, missing) / self.efficiency

    def reservation_request(self, now: int, earliest_start: int | None = None) -> ReservationRequest | None:
        """The flow reservation to ask for now, or None (no vehicle, nothing to charge, no time left)."""
        vehicle = self.vehicle
        energy = self.needed_wh()
        if vehicle is None or energy <= 0:
            return None
        start = max(now, earliest_start if earliest_start is not None else now)
        if vehicle.departure <= start:
            return None
        power = self.power_w
        return ReservationRequest(
            energy_wh=energy,
            power_w=power,
            start=start,
            duration=vehicle.departure - start,
            duration_requested=min(MAX_DURATION_REQUESTED, math.ceil(energy / power * 3600)),
        )

    def delivered_wh(self, request_mrid: str) -> float:
        """Grid energy drawn so far under the grant answering ``request_mrid``."""
        return self._by_grant.get(request_mrid, 0.0)

    # -- the DeviceModel protocol --------------------------------------------------------------------------

    def step(self, situation: Situation, dt: float) -> list[str]:
        notes, self._notes = self._notes, []
        now = situation.now
        end = now + dt
        control = situation.load_control if addresses(situation.load_control, self.device_category) else None
        request = LoadRequest.from_control(control) if control is not None and not control.loadShiftForward else None
        if (control.mRID if control is not None else None) != self._event_mrid:
            self._event_mrid = control.mRID if control is not None else None
            self._event_wh = 0.0
        vehicle = self.vehicle
        if vehicle is not None and now >= vehicle.departure:
            notes.append(f"vehicle left at {self.soc_pct:.0f} % (target {vehicle.target_soc_pct:.0f} %)")
            self.vehicle = vehicle = None
        self._power_w = 0.0
        if vehicle is None:
            return notes
        grants = sorted(situation.flow_grants, key=lambda g: (g.start, g.request_mrid))
        stop = min(end, vehicle.departure)
        cuts: set[float] = {now, stop}
        for grant in grants:
            for edge in (grant.start, grant.start + grant.duration):
                if now < edge < stop:
                    cuts.add(edge)
        if request is not None and request.duty_pct is not None:
            cuts.update(duty_cycle_edges(request.start, now, stop, request.duty_pct))
        edges = sorted(cuts)
        used: str | None = None
        for a, b in itertools.pairwise(edges):
            grant = self._grant_at(grants, a)
            power = 0.0
            if grant is not None:
                limit = min(self.power_w, grant.power_w)
                if request is not None:
                    limit = min(limit, request.power_limit(a, limit, self._event_wh))
                energy = min(
                    limit * (b - a) / 3600,
                    grant.energy_wh - self.delivered_wh(grant.request_mrid),
                    self.needed_wh(),
                )
                if request is not None and request.energy_cap_wh is not None:
                    energy = min(energy, request.energy_cap_wh - self._event_wh)
                if energy > 0 and limit > 0:
                    self._by_grant[grant.request_mrid] = self.delivered_wh(grant.request_mrid) + energy
                    self._wh_imported += energy
                    self._stored_wh += energy * self.efficiency
                    if control is not None:
                        self._event_wh += energy
                    used = grant.request_mrid
                    # Still drawing at the end of the segment only if no limit was reached inside it.
                    power = limit if energy >= limit * (b - a) / 3600 - 1e-9 else 0.0
            self._power_w = power
        if not any(g.start <= stop < g.start + g.duration for g in grants):
            self._power_w = 0.0  # the step ends where the grant's window does: nothing is drawn any more
        if used != self._grant_in_use:
            if used is not None:
                notes.append(f"charging under grant {short_id(used)}")
            elif self._grant_in_use is not None:
                notes.append(f"charging stopped ({self._stop_reason(grants, end)})")
            self._grant_in_use = used
        return notes

    def readings(self) -> dict[str, float]:
        return {
            "W": 0.0 - self._power_w,
            "Wh_imported": self._wh_imported,
            "Wh_exported": 0.0,
            "soc_pct": self.soc_pct,
            "plugged_in": 1.0 if self.vehicle is not None else 0.0,
        }

    def customer_responses(self) -> list[CustomerResponse]:
        return []

    # -- internals -----------------------------------------------------------------------------------------

    def _grant_at(self, grants: list[FlowGrant], t: float) -> FlowGrant | None:
        for grant in grants:
            in_window = grant.start <= t < grant.start + grant.duration
            if in_window and self.delivered_wh(grant.request_mrid) < grant.energy_wh:
                return grant
        return None

    def _stop_reason(self, grants: list[FlowGrant], t: float) -> str:
        if self.needed_wh() <= 0:
            return "target state of charge reached"
        if any(g.start <= t < g.start + g.duration for g in grants):
            return "grant energy used up or event"
        return "no grant in force"
