"""How a home-area-network load reads an EndDeviceControl, and how it keeps count of its departures from one.

Shared by the reference loads (thermostat, water heater, smart appliance, EV charger). Pure: no clock,
no I/O.

* :class:`LoadRequest` turns an EndDeviceControl (IEEE 2030.5-2018 clause 10.3, sep.xsd EndDeviceControl)
  into plain numbers in SI units: sep.xsd gives ``Offset.coolingOffset``/``heatingOffset`` in tenths of a
  degree C, ``SetPoint.coolingSetpoint``/``heatingSetpoint`` in hundredths of a degree C,
  ``DutyCycle.normalValue`` as the maximum percent of time on, ``TargetReduction`` as a value in a UnitType
  (0 kWh, 1 kW, 2 W ...). ``loadShiftForward`` true means the event intends to *increase* consumption:
  offsets then apply the other way (a cooling offset is subtracted, a heating offset added).
* :func:`duty_cycle_on`: a duty cycle is applied over a period (sep.xsd DutyCycle: by default three
  minutes per 10 %, i.e. 30 minutes), with the off state first.
* :class:`EventLedger` remembers, for the event in force, whether the customer opted out and for how long
  the event was overridden, and produces the Table 27 responses due when the event completes: 8 "Event
  partially completed with user opt-out" with the seconds overridden (DrResponse.overrideDuration), or 10
  "Event completed, no user participation (previous opt-out)".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gridhan.client.situation import CustomerResponse
from gridhan.schemas.event_rules import categories_overlap
from gridhan.schemas.sep2.drlc import EndDeviceControl

#: sep.xsd DutyCycle: the default period over which a duty cycle applies (3 minutes per 10 %).
DUTY_CYCLE_PERIOD_S = 1800
#: sep.xsd ApplianceLoadReductionType values.
DELAY_APPLIANCE_LOAD = 0
TEMPORARY_APPLIANCE_LOAD_REDUCTION = 1
#: sep.xsd UnitType values a load can act on.
UNIT_KWH, UNIT_KW, UNIT_W = 0, 1, 2

#: Table 27 statuses the reference devices produce themselves.
OPT_OUT = 4
PARTIAL_OPT_OUT = 8
NO_PARTICIPATION = 10
ACKNOWLEDGED = 11
CANNOT_DISPLAY = 12


def f_to_c_delta(fahrenheit: float) -> float:
    """A temperature *difference* in degrees F, in degrees C."""
    return fahrenheit / 1.8


def short_id(mrid: str) -> str:
    """The first characters of an mRID, for notes a person reads."""
    return f"{mrid[:4].upper()}..."


def event_end(control: EndDeviceControl) -> int:
    """The specified end of an event (interval.start + interval.duration)."""
    return control.interval.start + control.interval.duration


def addresses(control: EndDeviceControl | None, device_category: str) -> bool:
    """Whether a control names this device's category (a device SHOULD ignore one that does not)."""
    return control is not None and categories_overlap(control.deviceCategory, device_category)


def duty_cycle_on(period_start: int, t: float, percent: float, period_s: int = DUTY_CYCLE_PERIOD_S) -> bool:
    """Whether a load under a ``percent`` duty cycle may be on at ``t``: each period (counted from
    ``period_start``) begins with its off part, ``(100 - percent)`` % of it, then the on part."""
    if percent >= 100:
        return True
    if percent <= 0:
        return False
    position = (t - period_start) % period_s
    return position >= period_s * (100 - percent) / 100


def duty_cycle_edges(
    period_start: int, t0: float, t1: float, percent: float, period_s: int = DUTY_CYCLE_PERIOD_S
) -> list[float]:
    """The instants in (t0, t1) where a ``percent`` duty cycle switches (period starts and on starts)."""
    if percent >= 100 or percent <= 0:
        return []
    edges = []
    k = math.floor((t0 - period_start) / period_s)
    while period_start + k * period_s < t1:
        base = period_start + k * period_s
        for edge in (base, base + period_s * (100 - percent) / 100):
            if t0 < edge < t1:
                edges.append(edge)
        k += 1
    return edges


def event_label(control: EndDeviceControl) -> str:
    """The label of an event in notes: "emergency event 4E1A..." if mandatory, else "CPP event 4E1A..."."""
    kind = "emergency event" if control.drProgramMandatory else "CPP event"
    return f"{kind} {short_id(control.mRID)}"


@dataclass(frozen=True)
class Decision:
    """What became of a customer's request (an override, a start): accepted or not, and why (the note the
    device's next ``step`` also returns). Truthy when accepted."""

    accepted: bool
    note: str

    def __bool__(self) -> bool:
        return self.accepted


@dataclass(frozen=True)
class LoadRequest:
    """What one EndDeviceControl asks of a load, in SI units (see the module docstring for the sources)."""

    event_mrid: str
    label: str
    mandatory: bool
    shift_forward: bool
    start: int
    end: int
    override_allowance_s: int
    #: ApplianceLoadReduction type 0: no new load-consuming period may start (running ones continue).
    delay: bool = False
    #: ApplianceLoadReduction type 1: shed load now.
    shed: bool = False
    #: Maximum percent of time on: DutyCycle.normalValue, or 100 - Offset.loadAdjustmentPercentageOffset.
    duty_pct: float | None = None
    #: TargetReduction in kW or W: the consumption to stay under.
    power_cap_w: float | None = None
    #: TargetReduction in kWh: the energy to stay under over the event.
    energy_cap_wh: float | None = None
    #: Offsets in degrees C, signed as applied (negative lowers a set point).
    cooling_offset_c: float | None = None
    heating_offset_c: float | None = None
    #: Explicit set points in degrees C.
    cooling_setpoint_c: float | None = None
    heating_setpoint_c: float | None = None

    @classmethod
    def from_control(cls, control: EndDeviceControl) -> LoadRequest:
        forward = bool(control.loadShiftForward)
        sign = -1 if forward else 1
        delay = shed = False
        if control.ApplianceLoadReduction is not None:
            delay = control.ApplianceLoadReduction.type == DELAY_APPLIANCE_LOAD
            shed = control.ApplianceLoadReduction.type == TEMPORARY_APPLIANCE_LOAD_REDUCTION
        duties: list[float] = []
        if control.DutyCycle is not None:
            duties.append(float(control.DutyCycle.normalValue))
        cooling_offset = heating_offset = None
        offset = control.Offset
        if offset is not None:
            if offset.coolingOffset is not None:
                cooling_offset = sign * offset.coolingOffset / 10  # degree C / 10, added for a reduction
            if offset.heatingOffset is not None:
                heating_offset = -sign * offset.heatingOffset / 10  # subtracted for a reduction
            if offset.loadAdjustmentPercentageOffset is not None and not forward:
                duties.append(max(0.0, 100.0 - offset.loadAdjustmentPercentageOffset))
        power_cap = energy_cap = None
        target = control.TargetReduction
        if target is not None and not forward:
            if target.type == UNIT_KW:
                power_cap = target.value * 1000.0
            elif target.type == UNIT_W:
                power_cap = float(target.value)
            elif target.type == UNIT_KWH:
                energy_cap = target.value * 1000.0
        set_point = control.SetPoint
        return cls(
            event_mrid=control.mRID,
            label=event_label(control),
            mandatory=bool(control.drProgramMandatory),
            shift_forward=forward,
            start=control.interval.start,
            end=event_end(control),
            override_allowance_s=control.overrideDuration or 0,
            delay=delay and not forward,
            shed=shed and not forward,
            duty_pct=min(duties) if duties else None,
            power_cap_w=power_cap,
            energy_cap_wh=energy_cap,
            cooling_offset_c=cooling_offset,
            heating_offset_c=heating_offset,
            cooling_setpoint_c=(set_point.coolingSetpoint / 100)
            if set_point is not None and set_point.coolingSetpoint is not None
            else None,
            heating_setpoint_c=(set_point.heatingSetpoint / 100)
            if set_point is not None and set_point.heatingSetpoint is not None
            else None,
        )

    @property
    def curtails(self) -> bool:
        """Whether the event limits when the load may draw power (shed, duty cycle, caps)."""
        return self.shed or self.duty_pct is not None or self.power_cap_w is not None or self.energy_cap_wh is not None

    def allows(self, t: float, power_w: float, used_wh: float = 0.0) -> bool:
        """Whether a load drawing ``power_w`` may be on at ``t`` under the event (``used_wh``: the energy it
        drew since the event started, for a kWh target)."""
        if self.shed:
            return False
        if self.duty_pct is not None and not duty_cycle_on(self.start, t, self.duty_pct):
            return False
        if self.power_cap_w is not None and power_w > self.power_cap_w:
            return False
        return not (self.energy_cap_wh is not None and used_wh >= self.energy_cap_wh)

    def power_limit(self, t: float, rated_w: float, used_wh: float = 0.0) -> float:
        """The most a modulating load (an EV charger) may draw at ``t``: 0 when shed or in the off part of
        a duty cycle, else the TargetReduction cap if any."""
        if self.shed or (self.duty_pct is not None and not duty_cycle_on(self.start, t, self.duty_pct)):
            return 0.0
        if self.energy_cap_wh is not None and used_wh >= self.energy_cap_wh:
            return 0.0
        return rated_w if self.power_cap_w is None else min(rated_w, self.power_cap_w)


@dataclass
class EventLedger:
    """The customer's (or the device's own safety logic's) departures from the event in force.

    ``follow`` is called each step with the event in force; when the event it was following leaves, it
    returns the completion response due (nothing when the event left before its end: it was cancelled or
    superseded, which the client reports itself).
    """

    event_mrid: str | None = None
    end: int = 0
    randomize_duration: int = 0
    opted_out: bool = False
    overridden_s: float = 0.0
    reason: str = ""

    def follow(self, control: EndDeviceControl | None, now: int) -> list[CustomerResponse]:
        mrid = control.mRID if control is not None else None
        if mrid == self.event_mrid:
            return []
        done: list[CustomerResponse] = []
        if self.event_mrid is not None and now >= self.end + min(0, self.randomize_duration):
            if self.opted_out:
                done.append(CustomerResponse(self.event_mrid, NO_PARTICIPATION, now, self.reason))
            elif self.overridden_s > 0:
                seconds = min(65535, math.ceil(self.overridden_s))
                done.append(CustomerResponse(self.event_mrid, PARTIAL_OPT_OUT, now, self.reason, seconds))
        self.event_mrid = mrid
        self.end = event_end(control) if control is not None else 0
        self.randomize_duration = (control.randomizeDuration or 0) if control is not None else 0
        self.opted_out = False
        self.overridden_s = 0.0
        self.reason = ""
        return done

    def opt_out(self, now: int, reason: str) -> CustomerResponse:
        """The customer leaves the event: status 4 now (and 10 when the event completes)."""
        if self.event_mrid is None:
            raise RuntimeError("no event in force to opt out of")
        self.opted_out = True
        self.reason = reason
        return CustomerResponse(self.event_mrid, OPT_OUT, now, reason)

    def overridden(self, seconds: float, reason: str) -> None:
        """Count ``seconds`` of partial override (reported with status 8 when the event completes)."""
        if seconds > 0:
            self.overridden_s += seconds
            self.reason = self.reason or reason
