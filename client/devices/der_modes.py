"""Reading a merged DERControlBase the way a DER does (IEEE 2030.5-2018 clause 10.10; CSIP-AUS 1.2).

What the reference DERs (:mod:`.inverter`, :mod:`.battery`) share: the units of the sep.xsd types a
DERControlBase carries, the piecewise-linear DERCurves, the reactive power modes, the DERControlType and
CSIP-AUS DOEControlType bit maps, the first-order response of autonomous functions, and the notes a
device writes when what it does changes.

Units (sep.xsd): PerCent and SignedPerCent are hundredths of a percent (10000 = 100 %); ActivePower,
ReactivePower, ApparentPower, VoltageRMS and WattHour are ``value x 10^multiplier`` W, var, VA, V, Wh;
PowerFactorWithExcitation is ``displacement x 10^multiplier`` with ``excitation`` true when the DER
absorbs reactive power (under-excited); rampTms, openLoopTms and rampPT1Tms are hundredths of a second;
setGradW and setSoftGradW are hundredths of a percent of setMaxW per second. Signs: active power is
positive when the DER delivers it (generation, discharge), reactive power positive when the DER injects
it (over-excited, raising the local voltage).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from gridhan.client.situation import DerSituation
from gridhan.schemas.sep2.der import (
    ApparentPower,
    DERControlBase,
    DERCurve,
    PowerFactor,
    PowerFactorWithExcitation,
    ReactivePower,
    VoltageRMS,
    WattHour,
)
from gridhan.schemas.sep2.edev import ActivePower

# ---------------------------------------------------------------------------------------------------
# Quantities
# ---------------------------------------------------------------------------------------------------

INT16 = (-32_768, 32_767)
UINT16 = (0, 65_535)


def scaled(value: object) -> float | None:
    """``value x 10^multiplier`` of an ActivePower, ReactivePower, ApparentPower... (None stays None)."""
    if value is None:
        return None
    return value.value * 10.0**value.multiplier  # type: ignore[attr-defined]


def fit(x: float, bounds: tuple[int, int], min_multiplier: int = 0) -> tuple[int, int]:
    """(value, multiplier) with ``value x 10^multiplier`` closest to ``x`` and ``value`` within
    ``bounds``, using the smallest multiplier from ``min_multiplier`` (most precise) that fits."""
    lo, hi = bounds
    for multiplier in range(min_multiplier, 10):
        value = round(x / 10.0**multiplier)
        if lo <= value <= hi:
            return value, multiplier
    raise ValueError(f"{x} does not fit a value in {bounds} with a multiplier up to 9")


def active_power(watts: float, min_multiplier: int = 0) -> ActivePower:
    value, multiplier = fit(watts, INT16, min_multiplier)
    return ActivePower(multiplier=multiplier, value=value)


def reactive_power(var: float, min_multiplier: int = 0) -> ReactivePower:
    value, multiplier = fit(var, INT16, min_multiplier)
    return ReactivePower(multiplier=multiplier, value=value)


def apparent_power(va: float) -> ApparentPower:
    value, multiplier = fit(va, UINT16)
    return ApparentPower(multiplier=multiplier, value=value)


def voltage_rms(volts: float) -> VoltageRMS:
    value, multiplier = fit(volts, UINT16, -2)
    return VoltageRMS(multiplier=multiplier, value=value)


def watt_hours(wh: float) -> WattHour:
    value, multiplier = fit(wh, UINT16)
    return WattHour(multiplier=multiplier, value=value)


def power_factor(pf: float) -> PowerFactor:
    """A displacement power factor (0..1) as a sep.xsd PowerFactor (thousandths)."""
    return PowerFactor(displacement=round(pf * 1000), multiplier=-3)


def percent(hundredths: int) -> float:
    """A PerCent / SignedPerCent as a percentage (2550 -> 25.5)."""
    return hundredths / 100.0


def per_cent(pct: float) -> int:
    """A percentage as a PerCent (hundredths), clamped to 0..10000."""
    return max(0, min(10_000, round(pct * 100)))


def pf_var(watts: float, pf: PowerFactorWithExcitation, min_pf: float = 0.0) -> float:
    """Reactive power holding displacement power factor ``pf`` at ``watts`` (either sign of W):
    injected (positive) when over-excited, absorbed when under-excited (``excitation`` true). The
    displacement is held to at least ``min_pf`` (setMinPFOverExcited / UnderExcited)."""
    cos_phi = min(1.0, max(pf.displacement * 10.0**pf.multiplier, min_pf, 1e-3))
    magnitude = abs(watts) * math.sqrt(1.0 - cos_phi * cos_phi) / cos_phi
    return -magnitude if pf.excitation else magnitude


# ---------------------------------------------------------------------------------------------------
# DERControlType (sep.xsd) and the CSIP-AUS DOEControlType bits
# ---------------------------------------------------------------------------------------------------

#: sep.xsd DERControlType bit positions (modesSupported / modesEnabled).
MODE_BITS: Mapping[str, int] = {
    "charge": 0,
    "discharge": 1,
    "opModConnect": 2,
    "opModEnergize": 3,
    "opModFixedPFAbsorbW": 4,
    "opModFixedPFInjectW": 5,
    "opModFixedVar": 6,
    "opModFixedW": 7,
    "opModFreqDroop": 8,
    "opModFreqWatt": 9,
    "opModHFRTMayTrip": 10,
    "opModHFRTMustTrip": 11,
    "opModHVRTMayTrip": 12,
    "opModHVRTMomentaryCessation": 13,
    "opModHVRTMustTrip": 14,
    "opModLFRTMayTrip": 15,
    "opModLFRTMustTrip": 16,
    "opModLVRTMayTrip": 17,
    "opModLVRTMomentaryCessation": 18,
    "opModLVRTMustTrip": 19,
    "opModMaxLimW": 20,
    "opModTargetVar": 21,
    "opModTargetW": 22,
    "opModVoltVar": 23,
    "opModVoltWatt": 24,
    "opModWattPF": 25,
    "opModWattVar": 26,
}

#: CSIP-AUS 1.2 DOEControlType bit positions (doeModesSupported / doeModesEnabled).
DOE_BITS: Mapping[str, int] = {"opModExpLimW": 0, "opModImpLimW": 1, "opModGenLimW": 2, "opModLoadLimW": 3}

#: sep.xsd DERUnitRefType: what a percentage in a curve or FixedVar is a percentage of.
REF_SET_MAX_W, REF_SET_MAX_VAR, REF_STAT_VAR_AVAIL, REF_STAT_W_AVAIL = 1, 2, 3, 7
REF_NAMES: Mapping[int, str] = {1: "setMaxW", 2: "setMaxVar", 3: "statVarAvail", 7: "statWAvail"}

#: sep.xsd ConnectStatusType bits.
CONNECTED, AVAILABLE, OPERATING, TEST, FAULT = 1, 2, 4, 8, 16

#: sep.xsd DERStatus alarmStatus bits.
ALARM_OVER_VOLTAGE, ALARM_UNDER_VOLTAGE, ALARM_OVER_FREQUENCY, ALARM_UNDER_FREQUENCY = 1 << 1, 1 << 2, 1 << 3, 1 << 4

CSIPAUS_MODES = frozenset(DOE_BITS)


def bitmap(names: Iterable[str], bits: Mapping[str, int], octets: int) -> str:
    """The hexBinary bit map of ``names`` (e.g. modesSupported), ``octets`` long."""
    value = 0
    for name in names:
        value |= 1 << bits[name]
    return f"{value:0{2 * octets}X}"


def mode_name(mode: str) -> str:
    """A mode as the notes name it: CSIP-AUS modes with their namespace prefix."""
    return f"csipaus:{mode}" if mode in CSIPAUS_MODES else mode


def source_label(der: DerSituation | None, mode: str) -> str:
    """Where a mode in force came from, for notes: ``control <mRID>`` or ``DefaultDERControl``."""
    source = der.sources.get(mode) if der is not None else None
    if source is None:
        return ""
    return "DefaultDERControl" if source == "default" else f"control {source}"


def by(der: DerSituation | None, mode: str) -> str:
    """``by <mode> (<source>)`` for a note."""
    label = source_label(der, mode)
    return f"by {mode_name(mode)}" + (f" ({label})" if label else "")


# ---------------------------------------------------------------------------------------------------
# Curves
# ---------------------------------------------------------------------------------------------------


def curve_points(curve: DERCurve) -> list[tuple[float, float]]:
    """The CurveData of a DERCurve as (x, y) in the axis units (values times their multipliers),
    sorted by x. For a volt-var curve with ``vRef``, x is multiplied by vRef / 10000 (sep.xsd
    DERControlBase.opModVoltVar)."""
    x_scale = 10.0**curve.xMultiplier
    if curve.vRef is not None and curve.curveType == 11:
        x_scale *= curve.vRef / 10_000
    y_scale = 10.0**curve.yMultiplier
    return sorted((p.xvalue * x_scale, p.yvalue * y_scale) for p in curve.CurveData)


def interpolate(points: list[tuple[float, float]], x: float) -> float:
    """The piecewise-linear function through ``points`` at ``x``, held flat beyond the first and the
    last point."""
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


def curve_time_constant(curve: DERCurve | None) -> float:
    """The first-order time constant (s) of an autonomous function's response: openLoopTms is the
    time to 90 % of a step (tau = T / ln 10), rampPT1Tms the time to 95 % (tau = T / ln 20). 0 when
    neither is given (the response is taken as immediate)."""
    if curve is None:
        return 0.0
    if curve.openLoopTms:
        return curve.openLoopTms / 100.0 / math.log(10.0)
    if curve.rampPT1Tms:
        return curve.rampPT1Tms / 100.0 / math.log(20.0)
    return 0.0


def first_order(current: float | None, target: float, dt: float, tau: float) -> float:
    """One step of a first-order lag of time constant ``tau`` from ``current`` towards ``target``
    (exact for a constant target over ``dt``); no history or no lag gives the target."""
    if current is None or tau <= 0.0:
        return target
    return target + (current - target) * math.exp(-dt / tau)


# ---------------------------------------------------------------------------------------------------
# The ratings a DER reads percentages against
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratings:
    """The DERSettings values the modes are percentages of (W, var, VA, V)."""

    set_max_w: float
    set_max_va: float
    set_max_var: float
    set_max_var_neg: float  #: negative
    set_v_ref: float
    set_v_ref_ofs: float = 0.0
    set_min_pf_over: float = 0.0
    set_min_pf_under: float = 0.0

    def effective_voltage_pct(self, volts: float) -> float:
        """The effective percent voltage curves are read against: 100 x (V - setVRefOfs) / setVRef."""
        return 100.0 * (volts - self.set_v_ref_ofs) / self.set_v_ref

    def var_of_percent(self, pct: float, ref_type: int, stat_var_avail: float) -> float:
        """A signed percentage of reactive power (a volt-var y value, a FixedVar) in var."""
        if ref_type == REF_SET_MAX_W:
            base = self.set_max_w
        elif ref_type == REF_STAT_VAR_AVAIL:
            base = stat_var_avail
        else:  # %setMaxVar, and what a DER falls back to for a reference that makes no sense for var
            base = self.set_max_var if pct >= 0 else -self.set_max_var_neg
        return pct / 100.0 * base

    def fit_power_factor(self, w: float, var: float) -> tuple[float, float]:
        """(W, var) at a fixed power factor scaled down together, so the apparent power stays within
        setMaxVA and the reactive power within setMaxVar / setMaxVarNeg (the ratio, the power factor,
        is kept)."""
        factors = [1.0]
        apparent = math.hypot(w, var)
        if apparent > self.set_max_va:
            factors.append(self.set_max_va / apparent)
        if var > self.set_max_var:
            factors.append(self.set_max_var / var)
        if var < self.set_max_var_neg:
            factors.append(self.set_max_var_neg / var)
        factor = min(factors)
        return w * factor, var * factor

    def clamp_var(self, var: float) -> float:
        """Reactive power within setMaxVar / setMaxVarNeg and the apparent power rating."""
        return max(self.set_max_var_neg, -self.set_max_va, min(var, self.set_max_var, self.set_max_va))


# ---------------------------------------------------------------------------------------------------
# Reactive power modes
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VarDemand:
    """The reactive power the modes in force ask for: ``var`` (positive injects), the mode, a note text,
    the response time constant and whether it holds a power factor (then W and var scale together)."""

    var: float
    mode: str
    text: str
    tau: float = 0.0
    power_factor: bool = False


def var_demand(
    der: DerSituation | None,
    ratings: Ratings,
    watts: float,
    volts: float,
    stat_var_avail: float,
) -> VarDemand | None:
    """The reactive power asked of a DER delivering ``watts`` at ``volts``, or None when no reactive
    power mode is in force.

    The modes read: opModFixedPFInjectW (while delivering active power), opModFixedPFAbsorbW (while
    absorbing it), opModFixedVar (refType: %setMaxW, %setMaxVar or %statVarAvail), opModTargetVar (var),
    opModVoltVar (y against the effective percent voltage) and opModWattVar (y against W as %setMaxW).
    When several are in force, the one asking for the least var magnitude takes precedence (sep.xsd:
    the rule opModFixedPF*, opModFixedVar and opModWattPF state for simultaneous reactive power
    controls, applied here to every reactive power mode).
    """
    if der is None:
        return None
    base, curves = der.base, der.curves
    candidates: list[VarDemand] = []
    if base.opModFixedPFInjectW is not None and watts > 0:
        pf = base.opModFixedPFInjectW
        var = pf_var(watts, pf, ratings.set_min_pf_under if pf.excitation else ratings.set_min_pf_over)
        cos = pf.displacement * 10.0**pf.multiplier
        text = f"fixed power factor {cos:.3f} {'under' if pf.excitation else 'over'}-excited while injecting W"
        candidates.append(VarDemand(var, "opModFixedPFInjectW", text, power_factor=True))
    if base.opModFixedPFAbsorbW is not None and watts < 0:
        pf = base.opModFixedPFAbsorbW
        var = pf_var(watts, pf, ratings.set_min_pf_under if pf.excitation else ratings.set_min_pf_over)
        cos = pf.displacement * 10.0**pf.multiplier
        text = f"fixed power factor {cos:.3f} {'under' if pf.excitation else 'over'}-excited while absorbing W"
        candidates.append(VarDemand(var, "opModFixedPFAbsorbW", text, power_factor=True))
    if base.opModFixedVar is not None:
        fixed = base.opModFixedVar
        var = ratings.var_of_percent(percent(fixed.value), fixed.refType, stat_var_avail)
        text = f"fixed reactive power {percent(fixed.value):.2f} % of {REF_NAMES.get(fixed.refType, 'setMaxVar')}"
        candidates.append(VarDemand(var, "opModFixedVar", text))
    if base.opModTargetVar is not None:
        var = scaled(base.opModTargetVar) or 0.0
        candidates.append(VarDemand(var, "opModTargetVar", "target reactive power"))
    curve = curves.get("opModVoltVar") if base.opModVoltVar is not None else None
    if curve is not None and curve.CurveData:
        v_pct = ratings.effective_voltage_pct(volts)
        y = interpolate(curve_points(curve), v_pct)
        var = ratings.var_of_percent(y, curve.yRefType, stat_var_avail)
        text = f"volt-var: V={volts:.1f} ({v_pct:.1f} %)"
        candidates.append(VarDemand(var, "opModVoltVar", text, tau=curve_time_constant(curve)))
    curve = curves.get("opModWattVar") if base.opModWattVar is not None else None
    if curve is not None and curve.CurveData:
        w_pct = 100.0 * watts / ratings.set_max_w if ratings.set_max_w else 0.0
        y = interpolate(curve_points(curve), w_pct)
        var = ratings.var_of_percent(y, curve.yRefType, stat_var_avail)
        text = f"watt-var: W={watts:.0f} ({w_pct:.1f} %)"
        candidates.append(VarDemand(var, "opModWattVar", text, tau=curve_time_constant(curve)))
    if not candidates:
        return None
    return min(candidates, key=lambda c: abs(c.var))


def var_words(var: float) -> str:
    if abs(var) < 0.5:
        return "0 var"
    return f"{'injecting' if var > 0 else 'absorbing'} {abs(var):.0f} var"


def volt_watt_pct(der: DerSituation | None, ratings: Ratings, volts: float, available_w: float) -> float | None:
    """The opModVoltWatt ceiling at ``volts`` as a percentage of setMaxW, or None when the mode is not
    in force (or its curve is not at hand). The curve's y is a percentage of setMaxW, or of statWAvail
    (yRefType 7), converted here to %setMaxW."""
    if der is None or der.base.opModVoltWatt is None:
        return None
    curve = der.curves.get("opModVoltWatt")
    if curve is None or not curve.CurveData:
        return None
    y = interpolate(curve_points(curve), ratings.effective_voltage_pct(volts))
    y = max(0.0, y)
    if curve.yRefType == REF_STAT_W_AVAIL and ratings.set_max_w:
        return y * available_w / ratings.set_max_w
    return y


# ---------------------------------------------------------------------------------------------------
# Ramps and notes
# ---------------------------------------------------------------------------------------------------


def ramp_rate(base: DERControlBase | None, set_max_w: float, set_grad_w: int) -> float:
    """How fast (W/s) a rising limit may be followed: full scale (setMaxW) over rampTms when the
    control gives one, else setGradW (hundredths of %setMaxW per second); infinite for 0 (no limit)."""
    if base is not None and base.rampTms:
        return set_max_w / (base.rampTms / 100.0)
    if set_grad_w:
        return set_grad_w / 10_000 * set_max_w
    return math.inf


class NoteBoard:
    """Notes only on change: each topic remembers the state it last reported."""

    def __init__(self) -> None:
        self._last: dict[str, object] = {}

    def post(self, notes: list[str], topic: str, state: object, text: str | None, *, quiet_first: bool = False) -> None:
        """Append ``text`` when ``topic`` has a new ``state`` (text None: remember the state silently). The
        first state of a topic is a change unless it is None (nothing in force) or ``quiet_first``."""
        if self._last.get(topic, _UNSET) == state:
            return
        first = topic not in self._last
        self._last[topic] = state
        if text and not (first and (state is None or quiet_first)):
            notes.append(text)

    def post_value(
        self, notes: list[str], topic: str, state: object, value: float, tolerance: float, text: str
    ) -> None:
        """Append ``text`` when ``topic`` has a new ``state``, or ``value`` moved ``tolerance`` or more from
        the value last reported (a deadband, so that noise does not write a note every step)."""
        last = self._last.get(topic, _UNSET)
        if isinstance(last, tuple) and len(last) == 2 and last[0] == state and abs(last[1] - value) < tolerance:
            return
        self._last[topic] = (state, value)
        notes.append(text)

    def mode(self, notes: list[str], der: DerSituation | None, mode: str, value: object, text: str) -> None:
        """A note when a mode's value or source changes: ``<text> by <mode> (<source>)``, or
        ``<mode> lifted`` when it is no longer in force."""
        state = (value, source_label(der, mode)) if value is not None else None
        self.post(notes, mode, state, f"{text} {by(der, mode)}" if value is not None else f"{mode_name(mode)} lifted")


_UNSET = object()


# ---------------------------------------------------------------------------------------------------
# Protection: trip out of the normal range, enter service after a delay back inside it
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TripSettings:
    """Protection and enter-service limits (defaults: AS/NZS 4777.2:2020-like for 230 V / 50 Hz).

    The DER trips at once when the voltage leaves [``under_v``, ``over_v``] or the frequency leaves
    [``under_hz``, ``over_hz``]; it enters service again once both have stayed within the enter-service
    range [``es_low_v``, ``es_high_v``], [``es_low_hz``, ``es_high_hz``] for ``es_delay_s`` seconds
    (DERSettings setESLowVolt ... setESDelay).
    """

    over_v: float = 265.0
    under_v: float = 180.0
    over_hz: float = 52.0
    under_hz: float = 47.0
    es_high_v: float = 253.0
    es_low_v: float = 205.0
    es_high_hz: float = 50.15
    es_low_hz: float = 47.5
    es_delay_s: float = 60.0


class Protection:
    """The trip state of a DER (alarmStatus bits, enter-service timer)."""

    def __init__(self, settings: TripSettings) -> None:
        self.settings = settings
        self.alarms = 0
        self._within = 0.0

    @property
    def tripped(self) -> bool:
        return bool(self.alarms)

    def update(self, volts: float, hertz: float, dt: float, notes: list[str]) -> None:
        s = self.settings
        alarms = 0
        if volts > s.over_v:
            alarms |= ALARM_OVER_VOLTAGE
        if volts < s.under_v:
            alarms |= ALARM_UNDER_VOLTAGE
        if hertz > s.over_hz:
            alarms |= ALARM_OVER_FREQUENCY
        if hertz < s.under_hz:
            alarms |= ALARM_UNDER_FREQUENCY
        if alarms:
            new = alarms & ~self.alarms
            if new:
                notes.append(f"tripped: {self._why(new, volts, hertz)}")
            self.alarms |= alarms
            self._within = 0.0
            return
        if not self.alarms:
            return
        if s.es_low_v <= volts <= s.es_high_v and s.es_low_hz <= hertz <= s.es_high_hz:
            self._within += dt
        else:
            self._within = 0.0
        if self._within >= s.es_delay_s:
            self.alarms = 0
            self._within = 0.0
            notes.append(
                f"entering service: {s.es_delay_s:.0f} s within {s.es_low_v:.0f}-{s.es_high_v:.0f} V and "
                f"{s.es_low_hz:.2f}-{s.es_high_hz:.2f} Hz"
            )

    def _why(self, alarms: int, volts: float, hertz: float) -> str:
        s = self.settings
        reasons = []
        if alarms & ALARM_OVER_VOLTAGE:
            reasons.append(f"over-voltage {volts:.1f} V > {s.over_v:.1f} V")
        if alarms & ALARM_UNDER_VOLTAGE:
            reasons.append(f"under-voltage {volts:.1f} V < {s.under_v:.1f} V")
        if alarms & ALARM_OVER_FREQUENCY:
            reasons.append(f"over-frequency {hertz:.2f} Hz > {s.over_hz:.2f} Hz")
        if alarms & ALARM_UNDER_FREQUENCY:
            reasons.append(f"under-frequency {hertz:.2f} Hz < {s.under_hz:.2f} Hz")
        return ", ".join(reasons)


class StatusTimes:
    """When each reported status last changed value (the ``dateTime`` of DERStatus's sub-statuses)."""

    def __init__(self) -> None:
        self._since: dict[str, tuple[object, int]] = {}

    def stamp(self, name: str, value: object, now: int) -> int:
        last = self._since.get(name)
        if last is None or last[0] != value:
            self._since[name] = (value, now)
            return now
        return last[1]


def enabled_base(base: DERControlBase, disabled: Iterable[str]) -> DERControlBase:
    """``base`` without the modes a DER supports but has not enabled (DERSettings modesEnabled: such a
    control is not executed)."""
    cleared = {name: None for name in disabled if getattr(base, name, None) is not None}
    return replace(base, **cleared) if cleared else base


def connect_status(*, tripped: bool, connected: bool, energized: bool, operating: bool) -> int:
    """ConnectStatusType bits of a reference DER (DERStatus genConnectStatus / storConnectStatus)."""
    if tripped:
        return FAULT
    if not connected:
        return AVAILABLE
    if energized and operating:
        return CONNECTED | AVAILABLE | OPERATING
    return CONNECTED | AVAILABLE


def common_settings(
    ratings: Ratings,
    trip: TripSettings,
    *,
    modes_enabled: Iterable[str],
    doe_modes_enabled: Iterable[str],
    csipaus: bool,
    set_grad_w: int,
    v_nom: float,
    updated_time: int,
) -> dict[str, object]:
    """The DERSettings fields (clause 10.10) every reference DER reports alike: modes enabled, the
    enter-service limits of its protection, its ratings in use and (CSIP-AUS) the DOE modes enabled."""
    return {
        "modesEnabled": bitmap(modes_enabled, MODE_BITS, 4),
        "setESDelay": round(trip.es_delay_s * 100),
        "setESHighFreq": round(trip.es_high_hz * 100),
        "setESHighVolt": round(ratings.effective_voltage_pct(trip.es_high_v) * 100),
        "setESLowFreq": round(trip.es_low_hz * 100),
        "setESLowVolt": round(ratings.effective_voltage_pct(trip.es_low_v) * 100),
        "setGradW": set_grad_w,
        "setMaxVA": apparent_power(ratings.set_max_va),
        "setMaxVar": reactive_power(ratings.set_max_var),
        "setMaxVarNeg": reactive_power(ratings.set_max_var_neg),
        "setMaxW": active_power(ratings.set_max_w),
        "setMinPFOverExcited": power_factor(ratings.set_min_pf_over),
        "setMinPFUnderExcited": power_factor(ratings.set_min_pf_under),
        "setVNom": voltage_rms(v_nom),
        "setVRef": voltage_rms(ratings.set_v_ref),
        "updatedTime": updated_time,
        "doeModesEnabled": bitmap(doe_modes_enabled, DOE_BITS, 1) if csipaus else None,
    }
