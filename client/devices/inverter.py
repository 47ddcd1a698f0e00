"""A smart PV inverter: a reference DER of the DER function set (IEEE 2030.5-2018 clause 10.10) with the
CSIP-AUS 1.2 dynamic operating envelope.

Device category: sep.xsd DeviceCategoryType bit 21, "Photovoltaic System" (``"00200000"``); DERType 4
(photovoltaic system). The inverter converts what its :class:`~.pv.PvArray` offers, sits at a connection
point with an uncontrolled :class:`~.site.HouseholdLoad`, and obeys the merged DERControlBase of
:class:`~gridhan.client.situation.DerSituation`:

* opModConnect false: galvanic disconnection (0 W, 0 var, genConnectStatus not connected). Nothing
  overrides it. opModEnergize false: connected but ceasing to energize (0 W, 0 var). Coming back, output
  rises again at the soft-start rate (setSoftGradW), or over rampTms when the control gives one.
* Active power ceilings, the lowest binding: available PV power (never exceeded), setMaxW;
  opModMaxLimW (% of setMaxW); opModFixedW (% of setMaxW; negative values mean 0: PV cannot absorb);
  opModTargetW (W; likewise); csipaus:opModGenLimW (W, this device's generation);
  csipaus:opModExpLimW (site export = inverter W - household load held at or below the limit, so the
  inverter delivers at most load + limit); opModVoltWatt (y in %setMaxW or %statWAvail against the
  effective percent voltage, with the curve's first-order response). For a PV inverter a setpoint
  (FixedW, TargetW) cannot be met above what the sun offers, so every one of them acts as a ceiling.
* csipaus:opModImpLimW and csipaus:opModLoadLimW constrain site import and controllable load: a PV
  inverter can neither raise its output above what the sun offers nor shed load, so it notes them and
  takes no action (they are for storage and loads, :mod:`.battery`); it does not claim them in
  doeModesSupported. Its standby draw at night (``standby_w``) is not a controllable load.
* Reactive power: opModFixedPFInjectW, opModFixedVar, opModTargetVar, opModVoltVar, opModWattVar (see
  :func:`.der_modes.var_demand`; the least var magnitude wins when several are in force), within
  setMaxVar / setMaxVarNeg. Reactive power has priority over active power within the apparent power
  rating (setMaxVA): the inverter curtails W to make room for var, as California Rule 21 (CSIP) now
  requires for volt-var (CPUC resolution E-4920) and AS/NZS 4777.2 provides. Fixed power factor modes
  keep the power factor instead, scaling W and var together. Volt-var and watt-var follow the curve's
  openLoopTms / rampPT1Tms as a first-order lag; the other modes act at once.
* Limits that lower active power take effect within the step they appear in (an export limit holds from
  the start of its control); a limit rising, or its removal, is followed at rampTms (full scale over the
  ramp time) or setGradW. Protection trips over/under voltage or frequency (:class:`.der_modes.Protection`)
  and enters service again after setESDelay within the enter-service range, then soft-starts.

Signs: W positive = delivered to the grid (generation); var positive = injected (over-excited).
"""

from __future__ import annotations

import math

from gridhan.client.devices import der_modes as dm
from gridhan.client.devices.der_modes import NoteBoard, Protection, Ratings, StatusTimes, TripSettings
from gridhan.client.devices.pv import DcSource
from gridhan.client.devices.site import SiteLoad
from gridhan.client.situation import CustomerResponse, DerSituation, Situation
from gridhan.schemas.sep2.der import (
    ConnectStatusType,
    DERAvailability,
    DERCapability,
    DERControlBase,
    DERSettings,
    DERStatus,
    InverterStatusType,
    LocalControlModeStatusType,
    ManufacturerStatusType,
    OperationalModeStatusType,
)

#: sep.xsd DeviceCategoryType bit 21: Photovoltaic System.
PV_CATEGORY = "00200000"
DER_TYPE_PV = 4

#: The DERControlType modes the inverter implements.
MODES = (
    "opModConnect",
    "opModEnergize",
    "opModFixedPFInjectW",
    "opModFixedVar",
    "opModFixedW",
    "opModMaxLimW",
    "opModTargetVar",
    "opModTargetW",
    "opModVoltVar",
    "opModVoltWatt",
    "opModWattVar",
)
#: The CSIP-AUS DOE modes it implements (a generating DER: export and generation limits).
DOE_MODES = ("opModExpLimW", "opModGenLimW")

# sep.xsd InverterStatusType values.
INV_OFF, INV_SLEEPING, INV_MPPT, INV_THROTTLED, INV_FAULT = 1, 2, 4, 5, 7


class SmartInverter:
    """A PV inverter of ``rated_w`` W / ``rated_va`` VA fed by ``pv``.

    ``rated_var`` (injection) defaults to 44 % of rated VA, ``rated_var_neg`` (absorption, negative) to
    -60 % (the AS/NZS 4777.2 volt-var capability); ``set_max_w`` (DERSettings) defaults to the rating.
    ``efficiency`` converts DC to AC; below ``start_w`` of AC power the inverter sleeps, drawing
    ``standby_w`` while connected (as it does whenever it is not producing). ``v_nom``
    is setVNom and setVRef (curves read voltage as a percentage of it). ``set_grad_w`` and
    ``set_soft_grad_w`` are DERSettings ramp rates (hundredths of %setMaxW per second, 0 = no limit).
    ``modes_enabled`` restricts the executed modes (default: all of :data:`MODES` and :data:`DOE_MODES`).
    ``csipaus`` adds doeModesSupported / doeModesEnabled to the capability and settings documents.
    """

    kind = "pv_inverter"
    device_category = PV_CATEGORY

    def __init__(
        self,
        pv: DcSource,
        *,
        rated_w: float = 5_000.0,
        rated_va: float | None = None,
        rated_var: float | None = None,
        rated_var_neg: float | None = None,
        set_max_w: float | None = None,
        efficiency: float = 0.97,
        standby_w: float = 2.0,
        start_w: float = 10.0,
        v_nom: float = 230.0,
        min_pf: float = 0.8,
        site_load: SiteLoad | None = None,
        set_grad_w: int = 0,
        set_soft_grad_w: int = 28,
        trip: TripSettings | None = None,
        modes_enabled: tuple[str, ...] | None = None,
        csipaus: bool = True,
    ) -> None:
        self.pv, self.site_load = pv, site_load
        self.rated_w = rated_w
        self.rated_va = rated_va if rated_va is not None else rated_w
        self.rated_var = rated_var if rated_var is not None else 0.44 * self.rated_va
        self.rated_var_neg = rated_var_neg if rated_var_neg is not None else -0.6 * self.rated_va
        self.ratings = Ratings(
            set_max_w=min(set_max_w if set_max_w is not None else rated_w, rated_w),
            set_max_va=self.rated_va,
            set_max_var=self.rated_var,
            set_max_var_neg=self.rated_var_neg,
            set_v_ref=v_nom,
            set_min_pf_over=min_pf,
            set_min_pf_under=min_pf,
        )
        self.efficiency, self.standby_w, self.start_w = efficiency, standby_w, start_w
        self.v_nom, self.min_pf = v_nom, min_pf
        self.set_grad_w, self.set_soft_grad_w = set_grad_w, set_soft_grad_w
        self.protection = Protection(trip or TripSettings())
        enabled = set(modes_enabled) if modes_enabled is not None else set(MODES) | set(DOE_MODES)
        self.modes_enabled = tuple(m for m in MODES if m in enabled)
        self.doe_modes_enabled = tuple(m for m in DOE_MODES if m in enabled)
        self._ignored = [m for m in (*MODES, *DOE_MODES) if m not in enabled]
        self.csipaus = csipaus
        self._notes = NoteBoard()
        self._times = StatusTimes()
        self._settings_time: int | None = None
        # The state of the equipment.
        self._ceiling = self.ratings.set_max_w  #: the ramped control ceiling (W)
        self._soft_start = False
        self._volt_watt: float | None = None  #: filtered volt-watt ceiling (%setMaxW)
        self.w = 0.0
        self.var = 0.0
        self.volts = v_nom
        self.hertz = 50.0
        self.available_w = 0.0
        self.load_w = 0.0
        self.wh_exported = 0.0
        self.wh_imported = 0.0
        self.varh_injected = 0.0
        self.varh_absorbed = 0.0
        self.connected = True
        self.energized = True
        self.limited_by: str | None = None  #: the mode whose ceiling binds, when one does

    # ------------------------------------------------------------------------------------------------
    # Physics
    # ------------------------------------------------------------------------------------------------

    def step(self, situation: Situation, dt: float) -> list[str]:
        notes: list[str] = []
        now, dt = situation.now, max(0.0, dt)
        if self._settings_time is None:
            self._settings_time = now
        der = situation.der
        base = dm.enabled_base(der.base, self._ignored) if der is not None else DERControlBase()
        r = self.ratings
        self.volts, self.hertz = situation.grid_voltage, situation.grid_frequency
        ac = max(0.0, self.pv.available_dc_w(now)) * self.efficiency
        self.available_w = min(ac, r.set_max_w) if ac >= self.start_w else 0.0
        self.load_w = self.site_load.power(now) if self.site_load is not None else 0.0

        self.protection.update(self.volts, self.hertz, dt, notes)
        self._connection_notes(der, base, notes)
        self.connected = base.opModConnect is not False and not self.protection.tripped
        self.energized = base.opModEnergize is not False
        running = self.connected and self.energized
        self._sun_note(notes)

        ceilings = self._ceilings(der, base, dt, notes)
        control_ceiling = min([r.set_max_w, *(w for w, _ in ceilings)])
        if not running:
            self._ceiling, self._soft_start = 0.0, True
        elif control_ceiling <= self._ceiling:
            self._ceiling = control_ceiling
        else:
            grad = self.set_soft_grad_w if self._soft_start and self.set_soft_grad_w else self.set_grad_w
            rate = dm.ramp_rate(base, r.set_max_w, grad)
            self._ceiling = control_ceiling if math.isinf(rate) else min(control_ceiling, self._ceiling + rate * dt)
        if self._ceiling >= control_ceiling:
            self._soft_start = False

        w = min(self.available_w, self._ceiling)
        var = 0.0
        producing = running and self.available_w > 0.0
        if producing:
            w, var = self._reactive(der, base, w, dt, notes)
        else:
            w = 0.0
        self.limited_by = None
        if producing and w < self.available_w - 0.5:
            limit, mode = min(ceilings, default=(math.inf, ""))
            if limit <= w + 0.5:
                self.limited_by = mode
            elif self._ceiling <= w + 0.5:
                self.limited_by = "ramp"
            else:
                self.limited_by = "setMaxVA"
        if self.connected and not producing:
            w = -self.standby_w
        self.w, self.var = w, var if producing else 0.0

        hours = dt / 3600.0
        self.wh_exported += max(self.w, 0.0) * hours
        self.wh_imported += max(-self.w, 0.0) * hours
        self.varh_injected += max(self.var, 0.0) * hours
        self.varh_absorbed += max(-self.var, 0.0) * hours
        return notes

    def _connection_notes(self, der: DerSituation | None, base: DERControlBase, notes: list[str]) -> None:
        off = base.opModConnect is False
        self._notes.post(
            notes,
            "connect",
            ("off", dm.source_label(der, "opModConnect")) if off else None,
            f"disconnected {dm.by(der, 'opModConnect')}" if off else "reconnected to the grid",
        )
        ceased = base.opModEnergize is False
        self._notes.post(
            notes,
            "energize",
            ("ceased", dm.source_label(der, "opModEnergize")) if ceased else None,
            f"ceased to energize {dm.by(der, 'opModEnergize')}" if ceased else "energizing again",
        )

    def _sun_note(self, notes: list[str]) -> None:
        sun = self.available_w > 0.0
        self._notes.post(
            notes,
            "sun",
            sun,
            f"PV producing: {self.available_w:.0f} W available" if sun else "sleeping: no PV power available",
            quiet_first=True,
        )

    def _ceilings(
        self, der: DerSituation | None, base: DERControlBase, dt: float, notes: list[str]
    ) -> list[tuple[float, str]]:
        """The active power ceilings (W, mode) of the modes in force, noting the ones that changed."""
        r = self.ratings
        out: list[tuple[float, str]] = []

        def note(mode: str, value: object, text: str) -> None:
            self._notes.mode(notes, der, mode, value, text)

        if base.opModMaxLimW is not None:
            w = dm.percent(base.opModMaxLimW) / 100.0 * r.set_max_w
            out.append((w, "opModMaxLimW"))
        note(
            "opModMaxLimW",
            base.opModMaxLimW,
            f"active power limited to {dm.percent(base.opModMaxLimW or 0):.2f} % of setMaxW "
            f"({dm.percent(base.opModMaxLimW or 0) / 100.0 * r.set_max_w:.0f} W)",
        )
        if base.opModFixedW is not None:
            w = max(0.0, dm.percent(base.opModFixedW) / 100.0 * r.set_max_w)
            out.append((w, "opModFixedW"))
        note(
            "opModFixedW",
            base.opModFixedW,
            f"active power set to {dm.percent(base.opModFixedW or 0):.2f} % of setMaxW "
            f"({max(0.0, dm.percent(base.opModFixedW or 0) / 100.0 * r.set_max_w):.0f} W)",
        )
        target = dm.scaled(base.opModTargetW)
        if target is not None:
            out.append((max(0.0, target), "opModTargetW"))
        note("opModTargetW", target, f"active power target {target or 0:.0f} W")
        gen = dm.scaled(base.opModGenLimW)
        if gen is not None:
            out.append((max(0.0, gen), "opModGenLimW"))
        note("opModGenLimW", gen, f"generation limited to {gen or 0:.0f} W")
        exp = dm.scaled(base.opModExpLimW)
        if exp is not None:
            out.append((max(0.0, self.load_w + exp), "opModExpLimW"))
        note("opModExpLimW", exp, f"export limited to {exp or 0:.0f} W")
        for mode, what in (("opModImpLimW", "site import"), ("opModLoadLimW", "controllable load")):
            value = dm.scaled(getattr(base, mode))
            note(
                mode,
                value,
                f"{what} limit {value or 0:.0f} W noted, no action (a PV inverter cannot change it)",
            )
        vw = dm.volt_watt_pct(der, r, self.volts, self.available_w) if der is not None else None
        if vw is None or base.opModVoltWatt is None:
            self._volt_watt = None
        else:
            tau = dm.curve_time_constant(der.curves.get("opModVoltWatt")) if der is not None else 0.0
            self._volt_watt = dm.first_order(self._volt_watt, vw, dt, tau)
            out.append((self._volt_watt / 100.0 * r.set_max_w, "opModVoltWatt"))
        self._curve_notes(der, base, vw, notes)
        return out

    def _curve_notes(self, der: DerSituation | None, base: DERControlBase, vw: float | None, notes: list[str]) -> None:
        for mode in ("opModVoltVar", "opModVoltWatt", "opModWattVar"):
            link = getattr(base, mode)
            missing = link is not None and (der is None or mode not in der.curves)
            self._notes.post(
                notes,
                f"curve:{mode}",
                link.href if missing else None,
                f"{mode}: curve {link.href} is not at hand, mode not applied" if missing else None,
            )
        if vw is None:
            self._notes.post(notes, "volt-watt", None, "volt-watt: no longer in force")
            return
        v_pct = self.ratings.effective_voltage_pct(self.volts)
        reducing = vw < 100.0
        if reducing:
            text = (
                f"volt-watt: V={self.volts:.1f} ({v_pct:.1f} %) -> active power limited to {vw:.0f} % of setMaxW "
                f"({vw / 100.0 * self.ratings.set_max_w:.0f} W) {dm.by(der, 'opModVoltWatt')}"
            )
        else:
            text = f"volt-watt: V={self.volts:.1f} ({v_pct:.1f} %) -> no reduction {dm.by(der, 'opModVoltWatt')}"
        self._notes.post_value(
            notes, "volt-watt", (reducing, dm.source_label(der, "opModVoltWatt")), min(vw, 100.0), 5.0, text
        )

    def _reactive(
        self, der: DerSituation | None, base: DERControlBase, w: float, dt: float, notes: list[str]
    ) -> tuple[float, float]:
        """(W, var) once reactive power has its room within setMaxVA."""
        r = self.ratings
        stat_var_avail = min(r.set_max_var, -r.set_max_var_neg)
        demand = dm.var_demand(der, r, w, self.volts, stat_var_avail)
        if demand is None:
            self._notes.post(notes, "reactive", None, "reactive power: no mode in force -> 0 var")
            return min(w, r.set_max_va), 0.0
        if demand.power_factor:
            w, var = r.fit_power_factor(w, demand.var)
            target = var
        else:
            target = r.clamp_var(demand.var)
            var = r.clamp_var(dm.first_order(self.var, target, dt, demand.tau))
            w = min(w, math.sqrt(max(0.0, r.set_max_va**2 - var**2)))
        self._notes.post_value(
            notes,
            "reactive",
            (demand.mode, dm.source_label(der, demand.mode)),
            target,
            max(50.0, 0.1 * r.set_max_var),
            f"{demand.text} -> {dm.var_words(target)} {dm.by(der, demand.mode)}",
        )
        return w, var

    # ------------------------------------------------------------------------------------------------
    # What the runtime reads
    # ------------------------------------------------------------------------------------------------

    @property
    def site_export_w(self) -> float:
        """Net flow out of the site at the connection point (W): inverter output - household load."""
        return self.w - self.load_w

    def readings(self) -> dict[str, float]:
        return {
            "W": self.w,
            "var": self.var,
            "V": self.volts,
            "Hz": self.hertz,
            "Wh_exported": self.wh_exported,
            "Wh_imported": self.wh_imported,
            "varh_injected": self.varh_injected,
            "varh_absorbed": self.varh_absorbed,
            "site_export_W": self.site_export_w,
            "load_W": self.load_w,
            "available_W": self.available_w,
        }

    def customer_responses(self) -> list[CustomerResponse]:
        return []

    def capability(self) -> DERCapability:
        """DERCapability: nameplate ratings and the modes implemented."""
        return DERCapability(
            modesSupported=dm.bitmap(MODES, dm.MODE_BITS, 4),
            rtgMaxVA=dm.apparent_power(self.rated_va),
            rtgMaxVar=dm.reactive_power(self.rated_var),
            rtgMaxVarNeg=dm.reactive_power(self.rated_var_neg),
            rtgMaxW=dm.active_power(self.rated_w),
            rtgMinPFOverExcited=dm.power_factor(self.min_pf),
            rtgMinPFUnderExcited=dm.power_factor(self.min_pf),
            rtgVNom=dm.voltage_rms(self.v_nom),
            type=DER_TYPE_PV,
            doeModesSupported=dm.bitmap(DOE_MODES, dm.DOE_BITS, 1) if self.csipaus else None,
        )

    def settings(self) -> DERSettings:
        """DERSettings: the limits in use; updatedTime is the first step's time (or 0 before any)."""
        settings = dm.common_settings(
            self.ratings, self.protection.settings, modes_enabled=self.modes_enabled,
            doe_modes_enabled=self.doe_modes_enabled, csipaus=self.csipaus, set_grad_w=self.set_grad_w,
            v_nom=self.v_nom, updated_time=self._settings_time or 0,
        )
        return DERSettings(
            setSoftGradW=self.set_soft_grad_w,
            **settings,
        )

    def _inverter_status(self) -> int:
        if self.protection.tripped:
            return INV_FAULT
        if not (self.connected and self.energized):
            return INV_OFF
        if self.available_w <= 0.0:
            return INV_SLEEPING
        return INV_MPPT if self.limited_by is None else INV_THROTTLED

    def status(self, now: int) -> DERStatus:
        """DERStatus at ``now``: each sub-status stamped with when its value last changed."""
        connect = dm.connect_status(
            tripped=self.protection.tripped, connected=self.connected, energized=self.energized,
            operating=self.w > 0.0,
        )
        operational = 2 if self.connected and self.energized else 1
        inverter = self._inverter_status()
        maker = {INV_FAULT: "TRIP", INV_OFF: "OFF", INV_SLEEPING: "SLEEP", INV_MPPT: "MPPT"}
        maker_status = maker.get(inverter, "CURT")
        t = self._times
        return DERStatus(
            alarmStatus=f"{self.protection.alarms:08X}",
            genConnectStatus=ConnectStatusType(dateTime=t.stamp("gen", connect, now), value=f"{connect:02X}"),
            inverterStatus=InverterStatusType(dateTime=t.stamp("inv", inverter, now), value=inverter),
            localControlModeStatus=LocalControlModeStatusType(dateTime=t.stamp("local", 1, now), value=1),
            manufacturerStatus=ManufacturerStatusType(dateTime=t.stamp("maker", maker_status, now), value=maker_status),
            operationalModeStatus=OperationalModeStatusType(
                dateTime=t.stamp("op", operational, now), value=operational
            ),
            readingTime=now,
        )

    def availability(self, now: int) -> DERAvailability:
        """DERAvailability: the active power the sun offers (statWAvail) and the reactive power the
        inverter can still supply (statVarAvail, the lesser of injection and absorption); reservePercent
        is the share of setMaxW available beyond the present output."""
        r = self.ratings
        up = self.connected and self.energized and self.available_w > 0.0
        var_avail = min(r.set_max_var, -r.set_max_var_neg) if up else 0.0
        reserve = max(0.0, self.available_w - max(self.w, 0.0)) if up else 0.0
        return DERAvailability(
            readingTime=now,
            reservePercent=dm.per_cent(100.0 * reserve / r.set_max_w) if r.set_max_w else 0,
            statVarAvail=dm.reactive_power(var_avail),
            statWAvail=dm.active_power(self.available_w if up else 0.0),
        )
