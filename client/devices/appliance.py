"""Reference appliances: an electric water heater, and a smart appliance that runs cycles (dishwasher, dryer).

Both answer demand response (IEEE 2030.5-2018 clause 10.3; ``Situation.load_control`` is the EndDeviceControl
already chosen for the device; one that does not name the device's category is ignored) and critical peak
prices (clause 10.5, ``Situation.price.critical_peak``), and both keep safe and orderly operation whatever
the signal (the smart-appliance use case: no cold water below a safe temperature, no ruined wash).

Water heater (device category bit 3, "00000008")
    One fully mixed tank: ``m c dT/dt = element - standby loss - draw``, where a hot-water draw replaces tank
    water with mains water at ``inlet_c``; draws follow a seeded daily profile (:class:`DrawProfile`). The
    element is on/off with a thermostat (``setpoint_c``, ``differential_c``).

    What an event does, per sep.xsd EndDeviceControl:

    * ApplianceLoadReduction type 0 ("delay appliance load"): no new heating cycle starts during the event
      (one in progress finishes); type 1 ("temporary appliance load reduction"): the element is shed.
    * DutyCycle.normalValue: the element is on at most that percent of each 30 minutes, off part first;
      Offset.loadAdjustmentPercentageOffset x works the same as a duty cycle of 100 - x %.
    * Offset.heatingOffset / SetPoint.heatingSetpoint: the tank set point goes down by the offset (tenths of
      a degree C) or to the set point (hundredths of a degree C).
    * TargetReduction (the threshold to stay under, per its sep.xsd definition): in W or kW the element may
      run only if its power is under the threshold; in kWh the element stops once it drew that much energy
      during the event. Other units do not apply to a water heater and are ignored.
    * An event with none of these, or a critical peak price (``respond_to_cpp``), delays new heating cycles
      like type 0.
    * ``loadShiftForward`` true (the event wants more consumption): the tank is boosted to its set point
      plus the heating offset (or ``boost_c``), or to the event's heating set point, at most ``max_c``.
    * Pre-heat: when ``Situation.next_load_control`` announces a load reduction starting within
      ``preheat_lead_s``, the tank is boosted by ``boost_c`` ahead of it, so the curtailment delays load to
      after the event instead of leaving the customer short of hot water.

    Safety, always: the tank never goes below ``safe_min_c`` because of a control. 49 C (120 F) is the
    default: the usual recommended delivery temperature, hot enough for washing and showers, low enough to
    limit scalding (keeping Legionella down needs periodic higher storage temperatures, which the
    thermostat set point of 57 C gives). Below ``safe_min_c + safety_guard_c`` the element heats whatever
    the event says, until the tank is ``safety_guard_c`` x 3 above the minimum; set points are never applied
    below ``safe_min_c + safety_guard_c + differential_c`` (sep.xsd SetPoint: a value beyond the device's
    limits is applied at the limit). The seconds of such forced heating during an event are reported when
    the event completes as status 8 "Event partially completed with user opt-out" with that
    ``override_duration``: Table 27 has no status for a device that had to step out of an event for safety,
    and the safe minimum is a limit the owner programmed (a standing partial opt-out), so 8 is the closest
    truthful status. Note that a large draw can still cool the tank faster than any element reheats it; what
    the controller guarantees is that it never holds the element off below the floor.

Smart appliance (device category bit 7, "00000080")
    A cycle is a sequence of :class:`Phase` (power drawn, duration, the part of the power that is a heater).
    The customer presses start (:meth:`SmartAppliance.request_start`); during a load-reduction event (or a
    critical peak price, ``delay_on_cpp``) a cycle that has not started waits, at most until the end of that
    event (or price interval), then starts by itself. A running cycle is never abandoned: only a heater
    phase may pause, and only while the event sheds load (ApplianceLoadReduction type 1, the off part of a
    DutyCycle or load adjustment, a TargetReduction under the phase's power, or a used-up energy target),
    for at most ``max_heater_pause_s`` per cycle (15 minutes for a dishwasher, whose water keeps
    circulating; 30 minutes for a dryer, whose drum keeps tumbling, so clothes do not set in wrinkles).
    The customer may start a waiting cycle at once (:meth:`SmartAppliance.override`): allowed for a
    voluntary event or a CPP price (status 4), refused for a mandatory one.

Readings follow the common convention: ``W`` positive for export, so a load reads negative; ``Wh_imported``
is the energy drawn.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from gridhan.client.devices.load_control import (
    Decision,
    EventLedger,
    LoadRequest,
    addresses,
    short_id,
)
from gridhan.client.devices.weather import DAY_S, HOUR_S
from gridhan.client.situation import CustomerResponse, PriceSituation, Situation
from gridhan.schemas.sep2.drlc import EndDeviceControl

WATER_HEATER_CATEGORY = "00000008"
SMART_APPLIANCE_CATEGORY = "00000080"
#: Specific heat of water, J/(kg K); a litre of water is taken as a kilogram.
WATER_J_PER_KG_K = 4186.0
WATER_SUB_STEP_S = 10.0
APPLIANCE_SUB_STEP_S = 10.0


def _clock(t: float, utc_offset_s: int) -> str:
    seconds = int(t + utc_offset_s) % DAY_S
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


@dataclass(frozen=True)
class Draw:
    """One use of hot water: ``litres`` over ``duration_s`` from ``start``."""

    start: float
    litres: float
    duration_s: float


#: (local hour, share of the day's hot water, minutes): showers in the morning, dishes, an evening bath.
DEFAULT_USES = (
    (6.5, 0.22, 8.0),
    (7.2, 0.18, 8.0),
    (8.0, 0.05, 2.0),
    (12.5, 0.05, 2.0),
    (18.5, 0.15, 10.0),
    (19.5, 0.05, 3.0),
    (21.0, 0.30, 10.0),
)


@dataclass
class DrawProfile:
    """Hot-water draws of a household: ``litres_per_day`` spread over ``uses``; each day's start times
    (+-30 min), volumes (+-30 %) and durations (+-20 %) drawn from a generator seeded with ``seed`` and the
    day, so the profile is a pure function of time."""

    litres_per_day: float = 180.0
    seed: int = 0
    utc_offset_s: int = 0
    uses: tuple[tuple[float, float, float], ...] = DEFAULT_USES
    _days: dict[int, tuple[Draw, ...]] = field(default_factory=dict, repr=False, compare=False)

    def draws_on(self, day: int) -> tuple[Draw, ...]:
        draws = self._days.get(day)
        if draws is None:
            rng = random.Random(f"draws:{self.seed}:{day}")
            midnight = day * DAY_S - self.utc_offset_s
            made = []
            for hour, share, minutes in self.uses:
                start = midnight + hour * HOUR_S + rng.uniform(-1800, 1800)
                litres = self.litres_per_day * share * rng.uniform(0.7, 1.3)
                made.append(Draw(start, litres, minutes * 60 * rng.uniform(0.8, 1.2)))
            if len(self._days) > 8:
                self._days.clear()
            draws = self._days[day] = tuple(made)
        return draws

    def flow_l_per_s(self, t: float) -> float:
        day = math.floor((t + self.utc_offset_s) / DAY_S)
        flow = 0.0
        for d in (day - 1, day):
            for draw in self.draws_on(d):
                if draw.start <= t < draw.start + draw.duration_s:
                    flow += draw.litres / draw.duration_s
        return flow


def _reduction(control: EndDeviceControl | None, category: str) -> LoadRequest | None:
    return LoadRequest.from_control(control) if addresses(control, category) else None


class WaterHeater:
    """An electric storage water heater (see the module docstring)."""

    kind = "water_heater"
    device_category = WATER_HEATER_CATEGORY

    def __init__(
        self,
        *,
        volume_l: float = 190.0,
        element_w: float = 4500.0,
        setpoint_c: float = 57.0,
        differential_c: float = 4.0,
        safe_min_c: float = 49.0,
        safety_guard_c: float = 1.0,
        max_c: float = 65.0,
        standby_ua_w_per_k: float = 2.0,
        ambient_c: float = 20.0,
        inlet_c: float = 12.0,
        tank_c: float = 55.0,
        draws: DrawProfile | None = None,
        boost_c: float = 5.0,
        preheat_lead_s: int = 3600,
        respond_to_cpp: bool = True,
        utc_offset_s: int = 0,
    ) -> None:
        if not safe_min_c + safety_guard_c + differential_c <= setpoint_c <= max_c:
            raise ValueError(
                f"the set point {setpoint_c} C must lie between the safe floor "
                f"{safe_min_c + safety_guard_c + differential_c} C and the maximum {max_c} C"
            )
        self.volume_l = volume_l
        self.element_w = element_w
        self.setpoint_c = setpoint_c
        self.differential_c = differential_c
        self.safe_min_c = safe_min_c
        self.safety_guard_c = safety_guard_c
        self.max_c = max_c
        self.standby_ua_w_per_k = standby_ua_w_per_k
        self.ambient_c = ambient_c
        self.inlet_c = inlet_c
        self.draws = draws if draws is not None else DrawProfile(utc_offset_s=utc_offset_s)
        self.boost_c = boost_c
        self.preheat_lead_s = preheat_lead_s
        self.respond_to_cpp = respond_to_cpp
        self.utc_offset_s = utc_offset_s

        self.tank_c = tank_c
        self._element_on = False
        self._safety = False
        self._safety_cycle = False  # the heating cycle in progress was started by the safety floor
        self._power_w = 0.0
        self._wh_imported = 0.0
        self._hot_water_l = 0.0
        self._flow_l_per_s = 0.0
        self._target_c = setpoint_c
        self._target_why = "normal"
        self._ledger = EventLedger()
        self._event_wh = 0.0
        self._safety_noted: str | None = None
        self._responses: list[CustomerResponse] = []

    @property
    def floor_c(self) -> float:
        """Below this the element heats whatever any control says."""
        return self.safe_min_c + self.safety_guard_c

    def step(self, situation: Situation, dt: float) -> list[str]:
        notes: list[str] = []
        now = situation.now
        control = situation.load_control if addresses(situation.load_control, self.device_category) else None
        if control is None or control.mRID != self._ledger.event_mrid:
            self._event_wh = 0.0
            self._safety_noted = None
        self._responses.extend(self._ledger.follow(control, now))
        request = _reduction(control, self.device_category)
        upcoming = _reduction(situation.next_load_control, self.device_category)
        price = situation.price
        target, why = self._target(now, request, upcoming)
        if round(target, 1) != round(self._target_c, 1) or why != self._target_why:
            notes.append(f"tank set point {self._target_c:.1f} -> {target:.1f} C ({why})")
        self._target_c, self._target_why = target, why
        cpp = price is not None and price.critical_peak and self.respond_to_cpp and request is None
        notes.extend(self._advance(now, dt, request, cpp))
        return notes

    def readings(self) -> dict[str, float]:
        return {
            "tank_c": round(self.tank_c, 3),
            "setpoint_c": self._target_c,
            "element_on": 1.0 if self._element_on else 0.0,
            "W": 0.0 - self._power_w,
            "Wh_imported": self._wh_imported,
            "Wh_exported": 0.0,
            "hot_water_l": self._hot_water_l,
            "draw_l_per_min": self._flow_l_per_s * 60,
        }

    def customer_responses(self) -> list[CustomerResponse]:
        responses, self._responses = self._responses, []
        return responses

    def _target(self, now: int, request: LoadRequest | None, upcoming: LoadRequest | None) -> tuple[float, str]:
        lowest = self.floor_c + self.differential_c
        target, why = self.setpoint_c, "normal"
        if request is not None:
            if request.heating_setpoint_c is not None:
                target, why = request.heating_setpoint_c, f"{request.label} set point"
            elif request.heating_offset_c is not None:
                target, why = self.setpoint_c + request.heating_offset_c, f"{request.label} offset"
            elif request.shift_forward:
                target, why = self.setpoint_c + self.boost_c, f"{request.label}: load shift forward"
            if target < lowest:
                target, why = lowest, f"{why}, held at the safe floor"
        elif upcoming is not None and not upcoming.shift_forward and 0 < upcoming.start - now <= self.preheat_lead_s:
            target = self.setpoint_c + self.boost_c
            why = f"pre-heat before {upcoming.label} at {_clock(upcoming.start, self.utc_offset_s)}"
        return min(self.max_c, max(lowest, target)), why

    def _blocked(self, t: float, request: LoadRequest | None, cpp: bool, continuing: bool) -> bool:
        """Whether the event (or CPP price) keeps the element off at ``t``, safety aside. ``continuing``: a
        normal heating cycle is in progress (a "delay" only forbids starting a new one)."""
        if request is None:
            return cpp and not continuing
        if request.shift_forward:
            return False
        if request.curtails and not request.allows(t, self.element_w, self._event_wh):
            return True
        if request.curtails or request.heating_setpoint_c is not None or request.heating_offset_c is not None:
            return request.delay and not continuing
        return not continuing  # a plain or type 0 reduction: no new heating cycle

    def _advance(self, now: int, dt: float, request: LoadRequest | None, cpp: bool) -> list[str]:
        notes = []
        mass_heat = self.volume_l * WATER_J_PER_KG_K
        elapsed = 0.0
        while elapsed < dt:
            h = min(WATER_SUB_STEP_S, dt - elapsed)
            t = now + elapsed
            temperature = self.tank_c
            if self._element_on:
                wants = temperature < self._target_c
            else:
                wants = temperature < self._target_c - self.differential_c
            self._safety = temperature < self.floor_c or (
                self._safety and temperature < self.safe_min_c + 3 * self.safety_guard_c
            )
            blocked = self._blocked(t, request, cpp, continuing=self._element_on and not self._safety_cycle)
            on = self._safety or (wants and not blocked)
            if on and not self._element_on:
                self._safety_cycle = self._safety
            if self._safety and blocked and request is not None:
                self._ledger.overridden(h, f"safety: tank at the {self.safe_min_c:g} C safe minimum")
                if self._safety_noted != request.event_mrid:
                    self._safety_noted = request.event_mrid
                    notes.append(
                        f"tank {temperature:.1f} C at the safe minimum {self.safe_min_c:g} C: "
                        f"heating despite {request.label}"
                    )
            self._element_on = on
            power = self.element_w if on else 0.0
            flow = self.draws.flow_l_per_s(t)
            # Linear in T: dT/dt = a - b T, solved exactly over h.
            a = (power + self.standby_ua_w_per_k * self.ambient_c) / mass_heat
            a += flow * self.inlet_c / self.volume_l
            b = self.standby_ua_w_per_k / mass_heat + flow / self.volume_l
            equilibrium = a / b
            self.tank_c = equilibrium + (temperature - equilibrium) * math.exp(-b * h)
            energy = power * h / 3600
            self._wh_imported += energy
            if request is not None:
                self._event_wh += energy
            self._hot_water_l += flow * h
            self._flow_l_per_s = flow
            self._power_w = power
            elapsed += h
        return notes


@dataclass(frozen=True)
class Phase:
    """One phase of an appliance cycle: ``power_w`` for ``duration_s``, of which ``heater_w`` is a heater
    that may pause."""

    name: str
    duration_s: float
    power_w: float
    heater_w: float = 0.0


DISHWASHER = (
    Phase("pre-rinse", 600, 120),
    Phase("heat and wash", 1500, 1950, 1800),
    Phase("wash", 1200, 150),
    Phase("heat and rinse", 900, 1950, 1800),
    Phase("dry", 1500, 50),
)
CLOTHES_DRYER = (
    Phase("heat and tumble", 3000, 5300, 5000),
    Phase("cool down", 600, 300),
)
#: name -> (phases, longest heater pause per cycle in seconds)
PRESETS: dict[str, tuple[tuple[Phase, ...], float]] = {
    "dishwasher": (DISHWASHER, 900.0),
    "dryer": (CLOTHES_DRYER, 1800.0),
}

IDLE, WAITING, RUNNING = "idle", "waiting", "running"


class SmartAppliance:
    """A cycle appliance (see the module docstring); ``appliance`` names a preset of :data:`PRESETS`, or
    give ``phases`` and ``max_heater_pause_s``."""

    device_category = SMART_APPLIANCE_CATEGORY

    def __init__(
        self,
        appliance: str = "dishwasher",
        *,
        phases: Sequence[Phase] | None = None,
        max_heater_pause_s: float | None = None,
        delay_on_cpp: bool = True,
        utc_offset_s: int = 0,
    ) -> None:
        preset_phases, preset_pause = PRESETS.get(appliance, ((), 0.0))
        self.kind = appliance
        self.phases = tuple(phases) if phases is not None else preset_phases
        if not self.phases:
            raise ValueError(f"no phases for appliance {appliance!r}: name a preset {sorted(PRESETS)} or give phases")
        if any(p.duration_s <= 0 or p.heater_w > p.power_w for p in self.phases):
            raise ValueError("each phase needs a positive duration and a heater no larger than its power")
        self.max_heater_pause_s = preset_pause if max_heater_pause_s is None else max_heater_pause_s
        self.delay_on_cpp = delay_on_cpp
        self.utc_offset_s = utc_offset_s

        self.state = IDLE
        self.cycles_completed = 0
        self._phase = 0
        self._progress_s = 0.0
        self._paused_s = 0.0
        self._pausing = False
        self._cycle_started: int | None = None
        self._wait_until: int | None = None
        self._wait_subject: str | None = None
        self._power_w = 0.0
        self._wh_imported = 0.0
        self._event_wh = 0.0
        self._request: LoadRequest | None = None
        self._price: PriceSituation | None = None
        self._ledger = EventLedger()
        self._notes: list[str] = []
        self._responses: list[CustomerResponse] = []

    @property
    def cycle_duration_s(self) -> float:
        return sum(p.duration_s for p in self.phases)

    @property
    def phase(self) -> Phase | None:
        return self.phases[self._phase] if self.state == RUNNING else None

    def request_start(self, now: int) -> Decision:
        """The customer presses start. The cycle runs from the next step, or waits (see the module
        docstring)."""
        if self.state != IDLE:
            return self._decide(False, f"start ignored: the {self.kind} is already {self.state}")
        request = self._active_reduction()
        if request is not None:
            self.state, self._wait_until, self._wait_subject = WAITING, request.end, request.event_mrid
            return self._decide(
                True, f"start delayed until {_clock(request.end, self.utc_offset_s)} (end of {request.label})"
            )
        price = self._price
        if price is not None and price.critical_peak and self.delay_on_cpp:
            self.state, self._wait_until, self._wait_subject = WAITING, price.next_change, price.interval_mrid
            until = _clock(price.next_change, self.utc_offset_s) if price.next_change is not None else "the price drops"
            return self._decide(True, f"start delayed until {until} (critical peak price)")
        self._start(now)
        return self._decide(True, f"{self.kind} cycle started")

    def override(self, now: int) -> Decision:
        """The customer starts a waiting cycle at once."""
        if self.state != WAITING:
            return self._decide(False, "override ignored: no cycle is waiting")
        request = self._request
        if request is not None and request.event_mrid == self._wait_subject:
            if request.mandatory:
                return self._decide(False, f"override refused: mandatory event {short_id(request.event_mrid)}")
            self._responses.append(self._ledger.opt_out(now, "customer started the cycle"))
        elif self._wait_subject is not None:
            self._responses.append(CustomerResponse(self._wait_subject, 4, now, "customer started the cycle"))
        self._start(now)
        return self._decide(True, f"override accepted: {self.kind} cycle started")

    def step(self, situation: Situation, dt: float) -> list[str]:
        notes, self._notes = self._notes, []
        now = situation.now
        control = situation.load_control if addresses(situation.load_control, self.device_category) else None
        if control is None or control.mRID != self._ledger.event_mrid:
            self._event_wh = 0.0
        self._responses.extend(self._ledger.follow(control, now))
        self._request = _reduction(control, self.device_category)
        self._price = situation.price
        if self.state == WAITING:
            price = situation.price
            still = (self._request is not None and self._request.event_mrid == self._wait_subject) or (
                price is not None and price.critical_peak and price.interval_mrid == self._wait_subject
            )
            if not still or (self._wait_until is not None and now >= self._wait_until):
                self._start(now)
                notes.append(f"{self.kind} cycle started (delayed start)")
        notes.extend(self._run(now, dt))
        return notes

    def readings(self) -> dict[str, float]:
        done = sum(p.duration_s for p in self.phases[: self._phase]) + self._progress_s
        return {
            "W": 0.0 - self._power_w,
            "Wh_imported": self._wh_imported,
            "Wh_exported": 0.0,
            "running": 1.0 if self.state == RUNNING else 0.0,
            "waiting": 1.0 if self.state == WAITING else 0.0,
            "cycle_progress_pct": 100 * done / self.cycle_duration_s if self.state == RUNNING else 0.0,
            "cycles_completed": float(self.cycles_completed),
        }

    def customer_responses(self) -> list[CustomerResponse]:
        responses, self._responses = self._responses, []
        return responses

    def _decide(self, accepted: bool, note: str) -> Decision:
        self._notes.append(note)
        return Decision(accepted, note)

    def _active_reduction(self) -> LoadRequest | None:
        request = self._request
        if request is None or request.shift_forward or self._ledger.opted_out:
            return None
        return request

    def _start(self, now: int) -> None:
        self.state = RUNNING
        self._phase = 0
        self._progress_s = 0.0
        self._paused_s = 0.0
        self._pausing = False
        self._cycle_started = now
        self._wait_until = self._wait_subject = None

    def _run(self, now: int, dt: float) -> list[str]:
        notes = []
        request = self._active_reduction()
        elapsed = 0.0
        self._power_w = 0.0
        while elapsed < dt and self.state == RUNNING:
            phase = self.phases[self._phase]
            t = now + elapsed
            h = min(APPLIANCE_SUB_STEP_S, dt - elapsed)
            pause_left = self.max_heater_pause_s - self._paused_s
            pause = (
                phase.heater_w > 0
                and request is not None
                and pause_left > 0
                and not request.allows(t, phase.power_w, self._event_wh)
            )
            if pause and not self._pausing:
                notes.append(
                    f"{request.label}: heater paused in '{phase.name}' "
                    f"(at most {self.max_heater_pause_s / 60:g} min per cycle)"
                )
            elif not pause and self._pausing:
                reason = "pause limit reached" if pause_left <= 0 else "event allows it"
                notes.append(f"heater resumed in '{phase.name}' ({reason})")
            self._pausing = pause
            if pause:
                h = min(h, pause_left)
                power = phase.power_w - phase.heater_w
                self._paused_s += h
            else:
                h = min(h, phase.duration_s - self._progress_s)
                power = phase.power_w
                self._progress_s += h
            energy = power * h / 3600
            self._wh_imported += energy
            if request is not None:
                self._event_wh += energy
            self._power_w = power
            elapsed += h
            if self._progress_s >= phase.duration_s:
                self._phase += 1
                self._progress_s = 0.0
                self._pausing = False
                if self._phase == len(self.phases):
                    self.state = IDLE
                    self._phase = 0
                    self.cycles_completed += 1
                    self._power_w = 0.0
                    notes.append(f"{self.kind} cycle complete")
        return notes
