"""Programmable communicating thermostat (PCT): a house, its heat pump, and how it answers demand response.

The equipment (a pure physical model; no clock, no I/O):

* The house is one thermal mass (first-order RC): ``C dT/dt = UA (T_out - T) + internal gains + HVAC``,
  integrated exactly over sub-steps of at most 30 s (the solution of the linear equation for constant
  inputs, so any step size is stable). Outdoor air comes from :class:`~gridhan.client.devices.weather.Climate`.
* A heat pump heats or cools at a fixed thermal capacity with a coefficient of performance; it switches with
  a hysteresis band around the set point and respects a minimum on and off time (compressor protection).
* A weekly-less daily schedule of (heating, cooling) set points; mode ``heat``, ``cool`` or ``auto`` (auto
  keeps a dead band between the two set points).
* Hard comfort limits (default 5 C and 35 C): within ``protection_margin_c`` of either the thermostat heats
  or cools whatever the mode or the event (freeze and overheat protection).
* Set points never leave ``setpoint_limits_c`` (sep.xsd Offset and SetPoint: a value beyond the limits
  programmed in the device is applied at the limit).

Demand response (IEEE 2030.5-2018 clause 10.3; ``Situation.load_control`` is the EndDeviceControl already
chosen for this device; one that does not name device category bit 0, "Programmable Communicating
Thermostat", is ignored):

* Per side (heating, cooling), an explicit SetPoint (hundredths of a degree C) wins, then an explicit Offset
  (tenths of a degree C, added to the cooling set point and subtracted from the heating one; the other way
  round when ``loadShiftForward`` is true). Otherwise, unless the event is a DutyCycle, the default offsets
  of the utility use case apply: the CPP default (``cpp_offset_f``, 2 F) for a voluntary event
  (``drProgramMandatory`` false) or while ``Situation.price.critical_peak`` is true, the emergency default
  (``emergency_offset_f``, 4 F) for a mandatory event; up when cooling, down when heating.
* DutyCycle.normalValue caps the compressor's on time to that percent of each 30-minute period, off part
  first (sep.xsd DutyCycle); Offset.loadAdjustmentPercentageOffset x caps it the same way at 100 - x %.
  Other kinds of control (ApplianceLoadReduction, TargetReduction) do not fit a thermostat: the default
  offsets apply.
* Customer override (:meth:`Thermostat.override`): needs the override code when one was configured. Within
  a voluntary event's ``overrideDuration`` (an allowance the utility grants) it is a partial opt-out: the
  override lasts for what is left of the allowance, the event resumes after it, and status 8 with the
  seconds overridden is reported when the event completes. Beyond the allowance, a voluntary event (or a
  CPP price hour) is left for good: status 4 at once (and 10 when the event completes). A mandatory event
  refuses every override (REQUIREMENTS: not an emergency one), whatever its overrideDuration, unless the
  premise has a medical exemption. Without any event the override holds until the next schedule period.

``device_category`` is "00000001" (sep.xsd DeviceCategoryType bit 0). Readings: ``indoor_c``, ``outdoor_c``,
``heating_setpoint_c``, ``cooling_setpoint_c``, ``hvac_W`` (electric power drawn), ``hvac_on`` (1/0),
``W`` (= -hvac_W: consumption is negative, as for every device), ``Wh_imported``, ``Wh_exported``, and
``price_tier`` / ``price_per_kwh`` when a price is known.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from gridhan.client.devices.load_control import (
    Decision,
    EventLedger,
    LoadRequest,
    addresses,
    duty_cycle_on,
    f_to_c_delta,
    short_id,
)
from gridhan.client.devices.weather import DAY_S, Climate
from gridhan.client.situation import CustomerResponse, PriceSituation, Situation

PCT_CATEGORY = "00000001"
HEAT, COOL, AUTO = "heat", "cool", "auto"
MODES = (HEAT, COOL, AUTO)
SUB_STEP_S = 30.0


@dataclass(frozen=True)
class SchedulePeriod:
    """From ``start_s`` seconds after local midnight until the next period: these set points (degrees C)."""

    start_s: int
    heating_c: float
    cooling_c: float


#: Home in the morning and evening, away by day, cooler at night.
DEFAULT_SCHEDULE = (
    SchedulePeriod(6 * 3600, 21.0, 24.0),
    SchedulePeriod(8 * 3600, 18.0, 27.0),
    SchedulePeriod(17 * 3600, 21.0, 24.0),
    SchedulePeriod(22 * 3600, 18.0, 26.0),
)


@dataclass(frozen=True)
class House:
    """The thermal model: heat loss coefficient (W/K), heat capacity (J/K), internal gains (W), and the heat
    pump's thermal capacities (W) and coefficients of performance."""

    ua_w_per_k: float = 250.0
    capacitance_j_per_k: float = 6.0e6
    internal_gain_w: float = 500.0
    heating_capacity_w: float = 10_000.0
    cooling_capacity_w: float = 8_000.0
    heating_cop: float = 3.0
    cooling_cop: float = 3.0


@dataclass
class _Override:
    side: str
    set_point_c: float
    started: int
    #: When it ends by itself (None: with the event, CPP hour or schedule period it belongs to).
    until: int | None
    #: The event or CPP price interval it overrides (None: a plain hold of the schedule).
    subject: str | None
    #: Within the event's overrideDuration (a partial opt-out, counted for status 8).
    partial: bool


class Thermostat:
    """A PCT and the house it conditions (see the module docstring)."""

    kind = "thermostat"
    device_category = PCT_CATEGORY

    def __init__(
        self,
        *,
        mode: str = AUTO,
        schedule: Sequence[SchedulePeriod] = DEFAULT_SCHEDULE,
        house: House | None = None,
        climate: Climate | None = None,
        indoor_c: float = 22.0,
        utc_offset_s: int = 0,
        cpp_offset_f: float = 2.0,
        emergency_offset_f: float = 4.0,
        setpoint_limits_c: tuple[float, float] = (10.0, 32.0),
        comfort_limits_c: tuple[float, float] = (5.0, 35.0),
        protection_margin_c: float = 1.0,
        deadband_c: float = 1.0,
        hysteresis_c: float = 0.5,
        min_on_s: float = 180.0,
        min_off_s: float = 300.0,
        override_code: str | None = None,
        medical_exempt: bool = False,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of {MODES}")
        if not schedule:
            raise ValueError("a thermostat needs at least one schedule period")
        lo, hi = setpoint_limits_c
        if not lo + deadband_c <= hi:
            raise ValueError(f"set point limits {setpoint_limits_c} leave no room for the {deadband_c} C dead band")
        if not comfort_limits_c[0] < lo or not hi < comfort_limits_c[1]:
            raise ValueError("set point limits must lie strictly inside the hard comfort limits")
        self.mode = mode
        self.schedule = tuple(sorted(schedule, key=lambda p: p.start_s))
        self.house = house or House()
        self.climate = climate or Climate(utc_offset_s=utc_offset_s)
        self.utc_offset_s = utc_offset_s
        self.cpp_offset_c = f_to_c_delta(cpp_offset_f)
        self.emergency_offset_c = f_to_c_delta(emergency_offset_f)
        self._cpp_offset_f = cpp_offset_f
        self._emergency_offset_f = emergency_offset_f
        self.setpoint_limits_c = setpoint_limits_c
        self.comfort_limits_c = comfort_limits_c
        self.protection_margin_c = protection_margin_c
        self.deadband_c = deadband_c
        self.hysteresis_c = hysteresis_c
        self.min_on_s = min_on_s
        self.min_off_s = min_off_s
        self.medical_exempt = medical_exempt
        self._override_code = override_code

        self.indoor_c = indoor_c
        self.outdoor_c = self.climate.temperature(0)
        self._hvac: str | None = None
        self._since_switch_s = math.inf
        self._protecting = False
        self._wh_imported = 0.0
        self._hvac_w = 0.0
        self._heating_c: float | None = None
        self._cooling_c: float | None = None
        self._why = {HEAT: "schedule", COOL: "schedule"}
        self._control_mrid: str | None = None
        self._request: LoadRequest | None = None
        self._price: PriceSituation | None = None
        self._cpp_opted_out: str | None = None
        self._override: _Override | None = None
        self._ledger = EventLedger()
        self._notes: list[str] = []
        self._responses: list[CustomerResponse] = []

    # -- the DeviceModel protocol ------------------------------------------------------------------------

    def step(self, situation: Situation, dt: float) -> list[str]:
        """Advance the house by ``dt`` seconds from ``situation.now`` under ``situation``."""
        notes, self._notes = self._notes, []
        now = situation.now
        control = situation.load_control if addresses(situation.load_control, self.device_category) else None
        self._responses.extend(self._ledger.follow(control, now))
        previous = self._request
        self._request = LoadRequest.from_control(control) if control is not None else None
        if control is None or control.mRID != self._control_mrid:
            if previous is not None:
                notes.append(f"{previous.label} ended")
            self._control_mrid = control.mRID if control is not None else None
        self._price = situation.price
        notes.extend(self._expire_override(now))
        heating, cooling, why, context = self._targets(now)
        notes.extend(self._set_point_notes(heating, cooling, why, context))
        request = self._participating()
        if request is not None and request.duty_pct is not None and previous != self._request:
            notes.append(f"{request.label}: compressor on at most {request.duty_pct:g} % of each 30 min (duty cycle)")
        notes.extend(self._advance(now, dt, request))
        override = self._override
        if override is not None and override.partial and self._request is not None:
            end = min(now + dt, override.until if override.until is not None else now + dt)
            self._ledger.overridden(max(0.0, end - max(now, override.started)), "customer override")
        return notes

    def readings(self) -> dict[str, float]:
        values = {
            "indoor_c": round(self.indoor_c, 3),
            "outdoor_c": round(self.outdoor_c, 3),
            "heating_setpoint_c": self._heating_c if self._heating_c is not None else math.nan,
            "cooling_setpoint_c": self._cooling_c if self._cooling_c is not None else math.nan,
            "hvac_W": self._hvac_w,
            "hvac_on": 1.0 if self._hvac_w > 0 else 0.0,
            "W": 0.0 - self._hvac_w,
            "Wh_imported": self._wh_imported,
            "Wh_exported": 0.0,
        }
        if self._price is not None:
            values["price_tier"] = float(self._price.tier)
            values["price_per_kwh"] = self._price.price_per_kwh
        return values

    def customer_responses(self) -> list[CustomerResponse]:
        responses, self._responses = self._responses, []
        return responses

    # -- what the customer does -------------------------------------------------------------------------

    def override(self, set_point_c: float, now: int, code: str | None = None, side: str | None = None) -> Decision:
        """The customer sets ``set_point_c`` (degrees C) on ``side`` (``"heat"`` or ``"cool"``; by default the
        side the mode uses, in auto the one nearer the indoor temperature). See the module docstring for
        when it is accepted; the decision's note is also returned by the next :meth:`step`."""
        if self._override_code is not None and code != self._override_code:
            return self._decide(False, "override refused: wrong override code")
        side = side or self._override_side()
        if side not in (HEAT, COOL):
            raise ValueError(f"side {side!r} is neither {HEAT!r} nor {COOL!r}")
        value = self._clamp(set_point_c)
        request = self._participating()
        if request is not None:
            left = request.override_allowance_s - self._ledger.overridden_s
            # a mandatory event refuses every override unless the premise is medical-exempt
            if left > 0 and (not request.mandatory or self.medical_exempt):
                until = min(now + int(left), request.end)
                self._override = _Override(side, value, now, until, request.event_mrid, partial=True)
                minutes = (until - now) / 60
                return self._decide(
                    True,
                    f"override accepted: {side}ing set point {value:.1f} C for {minutes:.0f} min "
                    f"(overrideDuration of {request.label}); the event resumes after",
                )
            if request.mandatory and not self.medical_exempt:
                return self._decide(False, f"override refused: mandatory event {short_id(request.event_mrid)}")
            reason = "customer override (medical exemption)" if request.mandatory else "customer override"
            self._responses.append(self._ledger.opt_out(now, reason))
            # held until the event's end: once opted out the device no longer sees the event, and the
            # customer's choice must not vanish with it
            self._override = _Override(side, value, now, request.end, None, partial=False)
            return self._decide(
                True, f"override accepted: {side}ing set point {value:.1f} C; opted out of {request.label}"
            )
        price = self._price
        if price is not None and price.critical_peak and self._cpp_opted_out != price.interval_mrid:
            self._cpp_opted_out = price.interval_mrid
            self._responses.append(CustomerResponse(price.interval_mrid, 4, now, "customer override"))
            self._override = _Override(side, value, now, price.next_change, price.interval_mrid, partial=False)
            return self._decide(True, f"override accepted: {side}ing set point {value:.1f} C; opted out of CPP price")
        subject = price.interval_mrid if price is not None and price.critical_peak else None
        until = price.next_change if subject is not None else self._next_period_change(now)
        self._override = _Override(side, value, now, until, subject, partial=False)
        return self._decide(True, f"override accepted: {side}ing set point {value:.1f} C until the next period")

    def display_line(self) -> str:
        """One line for the thermostat's own screen: indoor temperature, the active set point(s) and why,
        and the price tier."""
        parts = [f"{self.indoor_c:.1f} C"]
        if self.mode in (HEAT, AUTO) and self._heating_c is not None:
            parts.append(f"heat {self._heating_c:.1f} ({self._why[HEAT]})")
        if self.mode in (COOL, AUTO) and self._cooling_c is not None:
            parts.append(f"cool {self._cooling_c:.1f} ({self._why[COOL]})")
        if self._price is not None:
            price = f"tier {self._price.tier} {self._price.price_per_kwh:.3f}/kWh"
            parts.append(price + (" CRITICAL PEAK" if self._price.critical_peak else ""))
        return " | ".join(parts)

    # -- set points ----------------------------------------------------------------------------------------

    def _decide(self, accepted: bool, note: str) -> Decision:
        self._notes.append(note)
        return Decision(accepted, note)

    def _participating(self) -> LoadRequest | None:
        """The event the thermostat follows now: in force, not opted out of, not overridden."""
        request = self._request
        if request is None or self._ledger.opted_out or self._override is not None:
            return None
        return request

    def _override_side(self) -> str:
        if self.mode != AUTO:
            return self.mode
        if self._hvac is not None:
            return self._hvac
        if self._heating_c is None or self._cooling_c is None:
            return COOL
        return COOL if self.indoor_c >= (self._heating_c + self._cooling_c) / 2 else HEAT

    def _clamp(self, value: float) -> float:
        lo, hi = self.setpoint_limits_c
        return min(hi, max(lo, value))

    def _period(self, now: float) -> SchedulePeriod:
        local = (now + self.utc_offset_s) % DAY_S
        current = self.schedule[-1]
        for period in self.schedule:
            if period.start_s <= local:
                current = period
        return current

    def _next_period_change(self, now: int) -> int:
        local = (now + self.utc_offset_s) % DAY_S
        later = [p.start_s for p in self.schedule if p.start_s > local]
        nxt = later[0] if later else self.schedule[0].start_s + DAY_S
        return now + int(nxt - local)

    def _expire_override(self, now: int) -> list[str]:
        override = self._override
        if override is None:
            return []
        price = self._price
        subjects = {self._request.event_mrid if self._request is not None else None}
        if price is not None and price.critical_peak:
            subjects.add(price.interval_mrid)
        if override.subject is not None and override.subject not in subjects:
            self._override = None
            return ["override ended with the event it overrode"]
        if override.until is not None and now >= override.until:
            self._override = None
            if override.partial:
                return ["override ended (overrideDuration used): back to the event"]
            return ["override ended"]
        return []

    def _targets(self, now: int) -> tuple[float, float, dict[str, str], dict[str, str]]:
        """The heating and cooling set points in force, with, per side, why and on whose behalf."""
        period = self._period(now)
        values = {HEAT: period.heating_c, COOL: period.cooling_c}
        why = {HEAT: "schedule", COOL: "schedule"}
        context = {HEAT: "schedule", COOL: "schedule"}
        explicit: set[str] = set()
        request = self._participating()
        price = self._price
        if request is not None:
            default = self.emergency_offset_c if request.mandatory else self.cpp_offset_c
            default_f = self._emergency_offset_f if request.mandatory else self._cpp_offset_f
            default_name = "emergency" if request.mandatory else "CPP"
            sign = -1 if request.shift_forward else 1
            sides = (
                (COOL, request.cooling_setpoint_c, request.cooling_offset_c, sign),
                (HEAT, request.heating_setpoint_c, request.heating_offset_c, -sign),
            )
            for side, set_point, offset, default_sign in sides:
                if set_point is not None:
                    values[side] = set_point
                    why[side] = "event set point"
                    explicit.add(side)
                elif offset is not None:
                    values[side] += offset
                    why[side] = f"event offset {offset:+.1f} C"
                    explicit.add(side)
                elif request.duty_pct is None:
                    values[side] += default_sign * default
                    why[side] = f"default {default_name} offset {default_f:g} F"
                if why[side] != "schedule":
                    context[side] = request.label
        elif (
            price is not None
            and price.critical_peak
            and self._cpp_opted_out != price.interval_mrid
            and self._override is None
        ):
            values[COOL] += self.cpp_offset_c
            values[HEAT] -= self.cpp_offset_c
            why[COOL] = why[HEAT] = f"default CPP offset {self._cpp_offset_f:g} F"
            context[COOL] = context[HEAT] = f"CPP price {short_id(price.interval_mrid)}"
        override = self._override
        if override is not None:
            values[override.side] = override.set_point_c
            why[override.side] = "customer override"
            context[override.side] = "customer override"
            explicit = {override.side}
        lo, hi = self.setpoint_limits_c
        heating = min(hi - self.deadband_c, max(lo, values[HEAT]))
        cooling = min(hi, max(lo + self.deadband_c, values[COOL]))
        if cooling - heating < self.deadband_c:
            if HEAT in explicit and COOL not in explicit:
                cooling = heating + self.deadband_c
            else:
                heating = cooling - self.deadband_c
        return heating, cooling, why, context

    def _set_point_notes(
        self, heating: float, cooling: float, why: dict[str, str], context: dict[str, str]
    ) -> list[str]:
        notes = []
        first = self._heating_c is None
        sides = {HEAT: (self._heating_c, heating), COOL: (self._cooling_c, cooling)}
        for side in (COOL, HEAT):
            if self.mode not in (side, AUTO):
                continue
            old, new = sides[side]
            because = "" if why[side] == "schedule" else f" ({why[side]})"
            if first or old is None:
                if because:
                    notes.append(f"{context[side]}: {side}ing set point {new:.1f} C{because}")
            elif round(old, 1) != round(new, 1):
                notes.append(f"{context[side]}: {side}ing set point {old:.1f} -> {new:.1f} C{because}")
        self._heating_c, self._cooling_c = heating, cooling
        self._why = why
        return notes

    # -- physics ---------------------------------------------------------------------------------------------

    def _want(self, t: float, request: LoadRequest | None) -> tuple[str | None, bool]:
        """What the heat pump should do at ``t``, and whether that is the hard-limit protection."""
        lo, hi = self.comfort_limits_c
        temperature = self.indoor_c
        margin = self.protection_margin_c
        # Protection starts within one margin of a limit and holds until two margins inside it.
        if temperature >= hi - margin or (self._protecting and self._hvac == COOL and temperature > hi - 2 * margin):
            return COOL, True
        if temperature <= lo + margin or (self._protecting and self._hvac == HEAT and temperature < lo + 2 * margin):
            return HEAT, True
        assert self._heating_c is not None and self._cooling_c is not None
        half = self.hysteresis_c / 2
        want: str | None = None
        if self.mode in (HEAT, AUTO):
            if (self._hvac == HEAT and temperature < self._heating_c + half) or temperature < self._heating_c - half:
                want = HEAT
        if want is None and self.mode in (COOL, AUTO):
            if (self._hvac == COOL and temperature > self._cooling_c - half) or temperature > self._cooling_c + half:
                want = COOL
        if want is not None and request is not None and request.duty_pct is not None:
            if not duty_cycle_on(request.start, t, request.duty_pct):
                return None, False
        return want, False

    def _advance(self, now: int, dt: float, request: LoadRequest | None) -> list[str]:
        notes = []
        house = self.house
        elapsed = 0.0
        while elapsed < dt:
            h = min(SUB_STEP_S, dt - elapsed)
            t = now + elapsed
            want, protecting = self._want(t, request)
            duty_off = (
                want is None
                and request is not None
                and request.duty_pct is not None
                and not duty_cycle_on(request.start, t, request.duty_pct)
            )
            current = self._hvac
            if want != current:
                if current is not None and want is not None:
                    want = None  # reversing: stop first
                if current is not None and self._since_switch_s < self.min_on_s and not duty_off:
                    want = current
                elif current is None and self._since_switch_s < self.min_off_s:
                    want = None
            if want != current:
                self._hvac = want
                self._since_switch_s = 0.0
            if protecting and not self._protecting:
                lo, hi = self.comfort_limits_c
                limit = hi if want == COOL or self.indoor_c > (lo + hi) / 2 else lo
                notes.append(
                    f"indoor {self.indoor_c:.1f} C near the hard limit {limit:g} C: "
                    "protection overrides set points and events"
                )
            self._protecting = protecting
            self.outdoor_c = self.climate.temperature(t)
            if self._hvac == HEAT:
                thermal, electric = house.heating_capacity_w, house.heating_capacity_w / house.heating_cop
            elif self._hvac == COOL:
                thermal, electric = -house.cooling_capacity_w, house.cooling_capacity_w / house.cooling_cop
            else:
                thermal = electric = 0.0
            equilibrium = self.outdoor_c + (house.internal_gain_w + thermal) / house.ua_w_per_k
            decay = math.exp(-h * house.ua_w_per_k / house.capacitance_j_per_k)
            self.indoor_c = equilibrium + (self.indoor_c - equilibrium) * decay
            self._wh_imported += electric * h / 3600
            self._hvac_w = electric
            self._since_switch_s += h
            elapsed += h
        return notes
