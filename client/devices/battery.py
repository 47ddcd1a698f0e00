"""A home battery: a storage reference DER of the DER function set (IEEE 2030.5-2018 clause 10.10) with the
CSIP-AUS 1.2 dynamic operating envelope.

Device category: sep.xsd DeviceCategoryType bit 25, "Other Storage System" (``"02000000"``); DERType 80
(other storage system). The battery has a usable capacity (Wh), charge and discharge rate limits (W), a
round-trip efficiency (split evenly between charging and discharging) and a reserve band [min SoC,
max SoC] it never leaves. It shares its connection point with an uncontrolled
:class:`~.site.HouseholdLoad` and, optionally, a PV system it does not control (``site_pv``).

Sign: W positive = discharging (delivering to the grid), negative = charging; var positive = injected.

What it does, each step, under the merged DERControlBase:

1. opModConnect false: galvanic disconnection, 0 W; opModEnergize false: connected, 0 W. Nothing
   overrides a disconnection.
2. A setpoint: opModFixedW (sep.xsd: a positive value is % of setMaxDischargeRateW, a negative one %
   of setMaxChargeRateW) wins; else opModTargetW (W, the storage target: IEEE 2030.5-2018 and CSIP-AUS
   1.2 define no other storage target mode; CSIP-AUS 1.3 adds csipaus:opModStorageTargetW, which the
   1.2 schema gridhan speaks does not carry); else the battery's own ``default_mode``:
   ``"self_consumption"`` (discharge to cover the site's import, charge from its surplus PV) or
   ``"idle"``.
3. The site envelope: csipaus:opModExpLimW (site export = PV + battery - load held at or below the
   limit: the battery discharges less, or charges from surplus PV) and csipaus:opModImpLimW (site
   import = load - PV - battery held at or below the limit: the battery charges less, or discharges).
   When both cannot hold, the export limit wins.
4. The device limits, which nothing overrides: discharge at most setMaxDischargeRateW,
   opModMaxLimW % of setMaxW, csipaus:opModGenLimW and the volt-watt curve (as % of setMaxW); charge at
   most setMaxChargeRateW and csipaus:opModLoadLimW; never below min SoC or above max SoC within the
   step; reactive power has priority within setMaxVA (as :mod:`.inverter`), which only ever lowers |W|.

Reactive power modes, protection and notes are the inverter's (:mod:`.der_modes`), including
opModFixedPFAbsorbW while charging. Power changes take effect within the step (no ramp): the rate
limits are the battery's own.
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
    StateOfChargeStatusType,
    StorageModeStatusType,
)

#: sep.xsd DeviceCategoryType bit 25: Other Storage System.
STORAGE_CATEGORY = "02000000"
DER_TYPE_STORAGE = 80

MODES = (
    "charge",
    "discharge",
    "opModConnect",
    "opModEnergize",
    "opModFixedPFAbsorbW",
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
DOE_MODES = ("opModExpLimW", "opModImpLimW", "opModGenLimW", "opModLoadLimW")

# sep.xsd StorageModeStatusType values.
CHARGING, DISCHARGING, HOLDING = 0, 1, 2
# sep.xsd InverterStatusType values.
INV_OFF, INV_ON_IDLE, INV_THROTTLED, INV_FAULT, INV_MAKER = 1, 3, 5, 7, 10

DEFAULT_MODES = ("self_consumption", "idle")


class Battery:
    """A battery of ``capacity_wh`` usable Wh, charging at up to ``max_charge_w`` and discharging at up to
    ``max_discharge_w`` (W, both positive), ``rated_va`` VA (default: the larger rate), holding its state
    of charge within [``soc_min_pct``, ``soc_max_pct``] (starting at ``initial_soc_pct``).

    ``site_load`` and ``site_pv`` (an uncontrolled PV system, AC = DC x ``pv_efficiency``) make up the
    rest of the connection point. Other arguments as :class:`~.inverter.SmartInverter`.
    """

    kind = "battery"
    device_category = STORAGE_CATEGORY

    def __init__(
        self,
        *,
        capacity_wh: float = 13_500.0,
        max_charge_w: float = 5_000.0,
        max_discharge_w: float = 5_000.0,
        rated_va: float | None = None,
        rated_var: float | None = None,
        rated_var_neg: float | None = None,
        round_trip_efficiency: float = 0.9,
        soc_min_pct: float = 10.0,
        soc_max_pct: float = 100.0,
        initial_soc_pct: float = 50.0,
        site_load: SiteLoad | None = None,
        site_pv: DcSource | None = None,
        pv_efficiency: float = 0.97,
        default_mode: str = "self_consumption",
        v_nom: float = 230.0,
        min_pf: float = 0.8,
        set_grad_w: int = 0,
        trip: TripSettings | None = None,
        modes_enabled: tuple[str, ...] | None = None,
        csipaus: bool = True,
    ) -> None:
        if not 0.0 <= soc_min_pct <= soc_max_pct <= 100.0:
            raise ValueError("need 0 <= soc_min_pct <= soc_max_pct <= 100")
        if default_mode not in DEFAULT_MODES:
            raise ValueError(f"default_mode is one of {DEFAULT_MODES}")
        if not 0.0 < round_trip_efficiency <= 1.0:
            raise ValueError("round_trip_efficiency is in (0, 1]")
        self.capacity_wh, self.max_charge_w, self.max_discharge_w = capacity_wh, max_charge_w, max_discharge_w
        self.rated_va = rated_va if rated_va is not None else max(max_charge_w, max_discharge_w)
        self.rated_var = rated_var if rated_var is not None else 0.44 * self.rated_va
        self.rated_var_neg = rated_var_neg if rated_var_neg is not None else -0.6 * self.rated_va
        self.ratings = Ratings(
            set_max_w=max_discharge_w,
            set_max_va=self.rated_va,
            set_max_var=self.rated_var,
            set_max_var_neg=self.rated_var_neg,
            set_v_ref=v_nom,
            set_min_pf_over=min_pf,
            set_min_pf_under=min_pf,
        )
        self.round_trip_efficiency = round_trip_efficiency
        self.one_way = math.sqrt(round_trip_efficiency)
        self.min_wh = capacity_wh * soc_min_pct / 100.0
        self.max_wh = capacity_wh * soc_max_pct / 100.0
        self.stored_wh = min(self.max_wh, max(self.min_wh, capacity_wh * initial_soc_pct / 100.0))
        self.site_load, self.site_pv, self.pv_efficiency = site_load, site_pv, pv_efficiency
        self.default_mode, self.v_nom, self.min_pf, self.set_grad_w = default_mode, v_nom, min_pf, set_grad_w
        self.protection = Protection(trip or TripSettings())
        enabled = set(modes_enabled) if modes_enabled is not None else set(MODES) | set(DOE_MODES)
        self.modes_enabled = tuple(m for m in MODES if m in enabled)
        self.doe_modes_enabled = tuple(m for m in DOE_MODES if m in enabled)
        self._ignored = [m for m in (*MODES, *DOE_MODES) if m not in enabled and m not in ("charge", "discharge")]
        self.csipaus = csipaus
        self._notes = NoteBoard()
        self._times = StatusTimes()
        self._settings_time: int | None = None
        self._volt_watt: float | None = None
        self.w = 0.0
        self.var = 0.0
        self.volts = v_nom
        self.hertz = 50.0
        self.load_w = 0.0
        self.pv_w = 0.0
        self.wh_exported = 0.0
        self.wh_imported = 0.0
        self.varh_injected = 0.0
        self.varh_absorbed = 0.0
        self.connected = True
        self.energized = True
        self.requested_w = 0.0  #: what the setpoint or default mode asked for, before limits
        self.limited_by: str | None = None

    # ------------------------------------------------------------------------------------------------
    # Physics
    # ------------------------------------------------------------------------------------------------

    @property
    def soc_pct(self) -> float:
        return 100.0 * self.stored_wh / self.capacity_wh if self.capacity_wh else 0.0

    def charge_limit_w(self, dt: float) -> float:
        """The most the battery can absorb (W, >= 0) for ``dt`` seconds without passing max SoC."""
        room, hours = max(0.0, self.max_wh - self.stored_wh), dt / 3600.0
        return self.max_charge_w if hours <= 0 else min(self.max_charge_w, room / self.one_way / hours)

    def discharge_limit_w(self, dt: float) -> float:
        """The most the battery can deliver (W, >= 0) for ``dt`` seconds without passing min SoC."""
        left, hours = max(0.0, self.stored_wh - self.min_wh), dt / 3600.0
        return self.max_discharge_w if hours <= 0 else min(self.max_discharge_w, left * self.one_way / hours)

    def step(self, situation: Situation, dt: float) -> list[str]:
        notes: list[str] = []
        now, dt = situation.now, max(0.0, dt)
        if self._settings_time is None:
            self._settings_time = now
        der = situation.der
        base = dm.enabled_base(der.base, self._ignored) if der is not None else DERControlBase()
        self.volts, self.hertz = situation.grid_voltage, situation.grid_frequency
        self.load_w = self.site_load.power(now) if self.site_load is not None else 0.0
        self.pv_w = max(0.0, self.site_pv.available_dc_w(now)) * self.pv_efficiency if self.site_pv else 0.0

        self.protection.update(self.volts, self.hertz, dt, notes)
        off, ceased = base.opModConnect is False, base.opModEnergize is False
        self._notes.post(
            notes,
            "connect",
            ("off", dm.source_label(der, "opModConnect")) if off else None,
            f"disconnected {dm.by(der, 'opModConnect')}" if off else "reconnected to the grid",
        )
        self._notes.post(
            notes,
            "energize",
            ("ceased", dm.source_label(der, "opModEnergize")) if ceased else None,
            f"ceased to energize {dm.by(der, 'opModEnergize')}" if ceased else "energizing again",
        )
        self.connected = not off and not self.protection.tripped
        self.energized = not ceased
        running = self.connected and self.energized

        w, var = 0.0, 0.0
        if running:
            w = self._active(der, base, dt, notes)
            w, var = self._reactive(der, base, w, dt, notes)
        else:
            self.limited_by, self.requested_w = None, 0.0
        self.w, self.var = w, var

        hours = dt / 3600.0
        if w > 0:
            self.stored_wh -= w / self.one_way * hours
        else:
            self.stored_wh += -w * self.one_way * hours
        self.stored_wh = min(self.max_wh, max(self.min_wh, self.stored_wh))  # rounding only: w respected both
        self.wh_exported += max(w, 0.0) * hours
        self.wh_imported += max(-w, 0.0) * hours
        self.varh_injected += max(var, 0.0) * hours
        self.varh_absorbed += max(-var, 0.0) * hours
        self._notes.post(notes, "soc", self._soc_band(), self._soc_text())
        return notes

    def _soc_band(self) -> str | None:
        if self.stored_wh <= self.min_wh + 1e-6:
            return "empty"
        if self.stored_wh >= self.max_wh - 1e-6:
            return "full"
        return None

    def _soc_text(self) -> str:
        band = self._soc_band()
        if band == "empty":
            return f"battery at its reserve ({self.soc_pct:.1f} % SoC): discharging stops"
        if band == "full":
            return f"battery full ({self.soc_pct:.1f} % SoC): charging stops"
        return f"battery at {self.soc_pct:.1f} % SoC: charging and discharging possible"

    def _active(self, der: DerSituation | None, base: DERControlBase, dt: float, notes: list[str]) -> float:
        r = self.ratings
        net = self.load_w - self.pv_w  # what the site imports without the battery
        fixed, target = base.opModFixedW, dm.scaled(base.opModTargetW)
        if fixed is not None:
            pct = dm.percent(fixed)
            request = pct / 100.0 * (self.max_discharge_w if pct >= 0 else self.max_charge_w)
            source = "opModFixedW"
        elif target is not None:
            request, source = target, "opModTargetW"
        elif self.default_mode == "self_consumption":
            request, source = net, "self_consumption"
        else:
            request, source = 0.0, "idle"
        self.requested_w = request
        self._notes.mode(
            notes,
            der,
            "opModFixedW",
            fixed,
            f"{'discharge' if (fixed or 0) >= 0 else 'charge'} set to {abs(dm.percent(fixed or 0)):.2f} % of "
            f"setMax{'Discharge' if (fixed or 0) >= 0 else 'Charge'}RateW ({abs(request):.0f} W)",
        )
        self._notes.mode(
            notes,
            der,
            "opModTargetW",
            target,
            f"storage target {target or 0:.0f} W ({'discharge' if (target or 0) >= 0 else 'charge'})"
            + (" (opModFixedW takes precedence)" if fixed is not None else ""),
        )
        default = source in DEFAULT_MODES
        self._notes.post(
            notes, "default", source if default else None, f"no setpoint in force: {source} mode" if default else None
        )
        w, limited = request, None
        # The site envelope (CSIP-AUS): import first, so that export wins a conflict.
        imp, exp = dm.scaled(base.opModImpLimW), dm.scaled(base.opModExpLimW)
        self._notes.mode(notes, der, "opModImpLimW", imp, f"site import limited to {imp or 0:.0f} W")
        self._notes.mode(notes, der, "opModExpLimW", exp, f"site export limited to {exp or 0:.0f} W")
        if imp is not None and w < net - imp:
            w, limited = net - imp, "opModImpLimW"
        if exp is not None and w > exp - self.pv_w + self.load_w:
            w, limited = exp - self.pv_w + self.load_w, "opModExpLimW"
        # The device's own limits.
        caps: list[tuple[float, str]] = [(self.discharge_limit_w(dt), "discharge limit")]
        if base.opModMaxLimW is not None:
            caps.append((dm.percent(base.opModMaxLimW) / 100.0 * r.set_max_w, "opModMaxLimW"))
        self._notes.mode(
            notes,
            der,
            "opModMaxLimW",
            base.opModMaxLimW,
            f"discharge limited to {dm.percent(base.opModMaxLimW or 0):.2f} % of setMaxW",
        )
        gen = dm.scaled(base.opModGenLimW)
        if gen is not None:
            caps.append((max(0.0, gen), "opModGenLimW"))
        self._notes.mode(notes, der, "opModGenLimW", gen, f"discharge limited to {gen or 0:.0f} W")
        vw = dm.volt_watt_pct(der, r, self.volts, self.discharge_limit_w(dt))
        if vw is None:
            self._volt_watt = None
        else:
            tau = dm.curve_time_constant(der.curves.get("opModVoltWatt")) if der is not None else 0.0
            self._volt_watt = dm.first_order(self._volt_watt, vw, dt, tau)
            caps.append((self._volt_watt / 100.0 * r.set_max_w, "opModVoltWatt"))
        floors: list[tuple[float, str]] = [(self.charge_limit_w(dt), "charge limit")]
        load = dm.scaled(base.opModLoadLimW)
        if load is not None:
            floors.append((max(0.0, load), "opModLoadLimW"))
        self._notes.mode(notes, der, "opModLoadLimW", load, f"charge limited to {load or 0:.0f} W")
        cap, cap_mode = min(caps)
        floor, floor_mode = min(floors)
        if w > cap:
            w, limited = cap, cap_mode
        if w < -floor:
            w, limited = -floor, floor_mode
        self.limited_by = limited if abs(w - request) > 0.5 else None
        return w

    def _reactive(
        self, der: DerSituation | None, base: DERControlBase, w: float, dt: float, notes: list[str]
    ) -> tuple[float, float]:
        r = self.ratings
        stat_var_avail = min(r.set_max_var, -r.set_max_var_neg)
        demand = dm.var_demand(der, r, w, self.volts, stat_var_avail)
        if demand is None:
            self._notes.post(notes, "reactive", None, "reactive power: no mode in force -> 0 var")
            return max(-r.set_max_va, min(w, r.set_max_va)), 0.0
        if demand.power_factor:
            w, var = r.fit_power_factor(w, demand.var)
            target = var
        else:
            target = r.clamp_var(demand.var)
            var = r.clamp_var(dm.first_order(self.var, target, dt, demand.tau))
            room = math.sqrt(max(0.0, r.set_max_va**2 - var**2))
            w = max(-room, min(w, room))
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
        """Net flow out of the site (W): site PV + battery - household load."""
        return self.pv_w + self.w - self.load_w

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
            "soc_pct": self.soc_pct,
            "stored_Wh": self.stored_wh,
            "site_export_W": self.site_export_w,
            "load_W": self.load_w,
            "site_pv_W": self.pv_w,
        }

    def customer_responses(self) -> list[CustomerResponse]:
        return []

    def capability(self) -> DERCapability:
        return DERCapability(
            modesSupported=dm.bitmap(MODES, dm.MODE_BITS, 4),
            rtgMaxChargeRateW=dm.active_power(self.max_charge_w),
            rtgMaxDischargeRateW=dm.active_power(self.max_discharge_w),
            rtgMaxVA=dm.apparent_power(self.rated_va),
            rtgMaxVar=dm.reactive_power(self.rated_var),
            rtgMaxVarNeg=dm.reactive_power(self.rated_var_neg),
            rtgMaxW=dm.active_power(self.max_discharge_w),
            rtgMaxWh=dm.watt_hours(self.capacity_wh),
            rtgMinPFOverExcited=dm.power_factor(self.min_pf),
            rtgMinPFUnderExcited=dm.power_factor(self.min_pf),
            rtgVNom=dm.voltage_rms(self.v_nom),
            type=DER_TYPE_STORAGE,
            doeModesSupported=dm.bitmap(DOE_MODES, dm.DOE_BITS, 1) if self.csipaus else None,
        )

    def settings(self) -> DERSettings:
        settings = dm.common_settings(
            self.ratings, self.protection.settings, modes_enabled=self.modes_enabled,
            doe_modes_enabled=self.doe_modes_enabled, csipaus=self.csipaus, set_grad_w=self.set_grad_w,
            v_nom=self.v_nom, updated_time=self._settings_time or 0,
        )
        return DERSettings(
            setMaxChargeRateW=dm.active_power(self.max_charge_w),
            setMaxDischargeRateW=dm.active_power(self.max_discharge_w),
            setMaxWh=dm.watt_hours(self.max_wh),
            **settings,
        )

    def storage_mode(self) -> int:
        if self.w > 0.5:
            return DISCHARGING
        if self.w < -0.5:
            return CHARGING
        return HOLDING

    def status(self, now: int) -> DERStatus:
        connect = dm.connect_status(
            tripped=self.protection.tripped, connected=self.connected, energized=self.energized,
            operating=abs(self.w) > 0.5,
        )
        mode = self.storage_mode()
        if self.protection.tripped:
            inverter = INV_FAULT
        elif not (self.connected and self.energized):
            inverter = INV_OFF
        elif self.limited_by is not None:
            inverter = INV_THROTTLED
        elif mode == HOLDING:
            inverter = INV_ON_IDLE
        else:
            inverter = INV_MAKER
        maker = {CHARGING: "CHG", DISCHARGING: "DISCHG", HOLDING: "HOLD"}[mode]
        operational = 2 if self.connected and self.energized else 1
        soc = dm.per_cent(self.soc_pct)
        t = self._times
        return DERStatus(
            alarmStatus=f"{self.protection.alarms:08X}",
            inverterStatus=InverterStatusType(dateTime=t.stamp("inv", inverter, now), value=inverter),
            localControlModeStatus=LocalControlModeStatusType(dateTime=t.stamp("local", 1, now), value=1),
            manufacturerStatus=ManufacturerStatusType(dateTime=t.stamp("maker", maker, now), value=maker),
            operationalModeStatus=OperationalModeStatusType(
                dateTime=t.stamp("op", operational, now), value=operational
            ),
            readingTime=now,
            stateOfChargeStatus=StateOfChargeStatusType(dateTime=now, value=soc),
            storageModeStatus=StorageModeStatusType(dateTime=t.stamp("storage", mode, now), value=mode),
            storConnectStatus=ConnectStatusType(dateTime=t.stamp("stor", connect, now), value=f"{connect:02X}"),
        )

    def availability(self, now: int) -> DERAvailability:
        """DERAvailability: how long the battery can discharge at its full rate (reservePercent 100 % of
        setMaxW) before reaching its reserve, how long it can charge at its full charge rate before
        full, and the active and reactive power it could deliver now."""
        r = self.ratings
        up = self.connected and self.energized
        deliverable = (self.stored_wh - self.min_wh) * self.one_way
        room = (self.max_wh - self.stored_wh) / self.one_way
        var_avail = min(r.set_max_var, -r.set_max_var_neg) if up else 0.0
        return DERAvailability(
            availabilityDuration=round(3600.0 * max(0.0, deliverable) / self.max_discharge_w),
            maxChargeDuration=round(3600.0 * max(0.0, room) / self.max_charge_w),
            readingTime=now,
            reserveChargePercent=10_000,
            reservePercent=10_000,
            statVarAvail=dm.reactive_power(var_avail),
            statWAvail=dm.active_power(self.discharge_limit_w(0.0) if up and deliverable > 0 else 0.0),
        )
