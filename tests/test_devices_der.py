"""The DER reference devices (IEEE 2030.5-2018 clause 10.10, CSIP-AUS 1.2) as physical models, without a
server: the simulated grid, the sun on a PV array, a smart PV inverter and a home battery obeying merged
DERControlBases, their notes, and the DER resources they report, held against the official schemas."""

from __future__ import annotations

import calendar
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridhan.client.devices import der_modes as dm
from gridhan.client.devices.battery import Battery
from gridhan.client.devices.grid import GridModel
from gridhan.client.devices.inverter import SmartInverter
from gridhan.client.devices.pv import PvArray, solar_position
from gridhan.client.devices.site import HouseholdLoad
from gridhan.client.situation import DerSituation, Situation
from gridhan.schemas import sep2
from gridhan.schemas.event_rules import category_bits
from gridhan.schemas.xmlcodec import decode, encode

ADELAIDE_DST = 37_800  # UTC+10:30
#: Local midnight starting 21 December 2024 in Adelaide (summer).
MIDSUMMER = calendar.timegm((2024, 12, 21, 0, 0, 0)) - ADELAIDE_DST
NOON = MIDSUMMER + 13 * 3600
MRID = "8F3A21B0C4D5E6F708192A3B4C5D6E7F"


class FlatSun:
    """A PV array giving a fixed DC power, day and night."""

    def __init__(self, watts: float) -> None:
        self.watts = watts

    def available_dc_w(self, now: float) -> float:
        return self.watts


def flat_load(watts: float) -> HouseholdLoad:
    return HouseholdLoad(base_w=watts, morning_w=0.0, evening_w=0.0, wander=0.0, appliance_rate=0.0)


def watts(w: float) -> sep2.ActivePower:
    return dm.active_power(w)


def der(sources: dict[str, str] | None = None, curves: dict[str, sep2.DERCurve] | None = None, **modes) -> DerSituation:
    base = sep2.DERControlBase(**modes)
    if sources is None:
        sources = {name: MRID for name, value in vars(base).items() if value is not None}
    return DerSituation(base=base, curves=curves or {}, sources=sources)


def at(now: int = NOON, der_situation: DerSituation | None = None, volts: float = 235.0, hz: float = 50.0) -> Situation:
    return Situation(now=now, der=der_situation, grid_voltage=volts, grid_frequency=hz)


def inverter(pv_w: float = 6_000.0, load_w: float = 0.0, **kwargs) -> SmartInverter:
    kwargs.setdefault("efficiency", 1.0)
    kwargs.setdefault("set_soft_grad_w", 0)
    return SmartInverter(FlatSun(pv_w), site_load=flat_load(load_w), **kwargs)


def curve(kind: int, points: list[tuple[int, int]], y_ref: int, **kwargs) -> sep2.DERCurve:
    return sep2.DERCurve(
        href=f"/derp/1/dc/{kind}",
        mRID=f"C{kind:031X}",
        creationTime=1_700_000_000,
        CurveData=[sep2.CurveData(xvalue=x, yvalue=y) for x, y in points],
        curveType=kind,
        xMultiplier=-2,
        yMultiplier=0,
        yRefType=y_ref,
        **kwargs,
    )


#: AS/NZS 4777.2:2020 Australia A volt-var: 207 V +44 %, 220 V 0, 240 V 0, 258 V -60 % of setMaxVar
#: (percent of 230 V in hundredths).
VOLT_VAR = curve(11, [(9_000, 44), (9_565, 0), (10_435, 0), (11_217, -60)], dm.REF_SET_MAX_VAR, openLoopTms=500)
#: Volt-watt: 100 % up to 253 V, 20 % at 260 V (percent of setMaxW).
VOLT_WATT = curve(12, [(11_000, 100), (11_304, 20)], dm.REF_SET_MAX_W)


def run(device, situation: Situation, dt: float = 60.0, steps: int = 1) -> list[str]:
    notes: list[str] = []
    for i in range(steps):
        notes += device.step(Situation(**{**vars(situation), "now": situation.now + int(i * dt)}), dt)
    return notes


# ---------------------------------------------------------------------------------------------------
# Grid, sun and household
# ---------------------------------------------------------------------------------------------------


def test_grid_is_a_seeded_function_of_time_with_a_daily_profile():
    a, b, other = GridModel(7), GridModel(7), GridModel(8)
    times = [MIDSUMMER + k * 600 for k in range(144)]
    assert [a.voltage(t) for t in times] == [b.voltage(t) for t in times]
    assert [a.voltage(t) for t in times] != [other.voltage(t) for t in times]
    assert all(200.0 < a.voltage(t) < 260.0 and 49.9 < a.frequency(t) < 50.1 for t in times)
    local = GridModel(7, utc_offset_s=ADELAIDE_DST)
    midday = sum(local.voltage(MIDSUMMER + h * 3600 + m * 60) for h in (12, 13) for m in range(0, 60, 5)) / 24
    evening = sum(local.voltage(MIDSUMMER + h * 3600 + m * 60) for h in (18, 19) for m in range(0, 60, 5)) / 24
    assert midday - evening > 5.0


def test_grid_voltage_can_be_forced_and_rises_with_the_sites_export():
    grid = GridModel(1, r_ohm=0.3, x_ohm=0.1)
    assert grid.voltage(NOON, export_w=5_000.0) == pytest.approx(grid.voltage(NOON) + 0.3 * 5_000 / 230)
    assert grid.voltage(NOON, export_var=-1_000.0) == pytest.approx(grid.voltage(NOON) - 0.1 * 1_000 / 230)
    grid.force_voltage(262.0)
    grid.force_frequency(51.0)
    situation = grid.condition(at(NOON), export_w=5_000.0)
    assert (situation.grid_voltage, situation.grid_frequency) == (262.0, 51.0)
    grid.force_voltage(None)
    assert grid.voltage(NOON) != 262.0


def test_sun_rises_peaks_and_sets_over_adelaide_in_midsummer():
    pv = PvArray(-34.93, 138.6, 6_600.0, utc_offset_s=ADELAIDE_DST)
    noon = pv.solar_noon(MIDSUMMER + 6 * 3600)
    assert 13.0 < (noon - MIDSUMMER) / 3600 < 13.5  # solar noon ~13:15 in daylight saving time
    elevation, azimuth = solar_position(-34.93, 138.6, noon)
    assert elevation == pytest.approx(90 - 34.93 + 23.44, abs=0.5)  # the sun is north of the zenith
    assert azimuth < 10 or azimuth > 350
    power = [pv.available_dc_w(MIDSUMMER + m * 60) for m in range(0, 24 * 60, 10)]
    day = [i for i, p in enumerate(power) if p > 0]
    assert 5.5 < day[0] * 10 / 60 < 6.5 and 20.0 < day[-1] * 10 / 60 < 21.0  # sunrise ~06:00, sunset ~20:25
    assert max(power) == pytest.approx(pv.available_dc_w(noon), rel=0.01)
    assert 0.75 * 6_600 * 0.86 < max(power) < 6_600
    # Symmetric about solar noon.
    assert pv.available_dc_w(noon - 3 * 3600) == pytest.approx(pv.available_dc_w(noon + 3 * 3600), rel=0.02)
    assert pv.local_hour(noon) == pytest.approx((noon - MIDSUMMER) / 3600)


def test_winter_sun_is_weaker_and_the_northern_hemisphere_faces_south():
    adelaide = PvArray(-34.93, 138.6, utc_offset_s=34_200)
    midwinter = calendar.timegm((2024, 6, 21, 0, 0, 0)) - 34_200
    assert adelaide.available_dc_w(adelaide.solar_noon(midwinter)) < 0.85 * adelaide.available_dc_w(
        adelaide.solar_noon(MIDSUMMER)
    )
    assert PvArray(51.5, 0.0).azimuth_deg == 180.0 and adelaide.azimuth_deg == 0.0


def test_clouds_dim_the_sun_at_seeded_times():
    clear = PvArray(cloudiness=0.0)
    cloudy, same, other = PvArray(cloudiness=0.6, seed=4), PvArray(cloudiness=0.6, seed=4), PvArray(cloudiness=0.6)
    times = [NOON + s for s in range(0, 4 * 3600, 30)]
    factors = [cloudy.cloud_factor(t) for t in times]
    assert all(clear.cloud_factor(t) == 1.0 for t in times)
    assert all(0.04 <= f <= 1.0 for f in factors) and min(factors) < 0.7 and max(factors) == 1.0
    assert factors == [same.cloud_factor(t) for t in times] != [other.cloud_factor(t) for t in times]
    assert cloudy.available_dc_w(times[factors.index(min(factors))]) < clear.available_dc_w(
        times[factors.index(min(factors))]
    )


def test_household_load_peaks_in_the_evening():
    load = HouseholdLoad(3, utc_offset_s=ADELAIDE_DST)
    values = {h: [load.power(MIDSUMMER + h * 3600 + m * 60) for m in range(0, 60, 2)] for h in range(24)}
    assert all(v >= 0 for vs in values.values() for v in vs)
    night = sum(values[3]) / 30
    evening = sum(values[19]) / 30
    assert evening > night + 800
    assert HouseholdLoad(3).power(NOON) == HouseholdLoad(3).power(NOON) != HouseholdLoad(4).power(NOON)


# ---------------------------------------------------------------------------------------------------
# Smart inverter: active power
# ---------------------------------------------------------------------------------------------------


def test_inverter_without_controls_follows_the_sun_up_to_its_rating():
    device = inverter(pv_w=3_000.0)
    assert run(device, at()) == []  # nothing changed that a user needs to hear about
    assert device.readings()["W"] == pytest.approx(3_000.0)
    assert device.status(NOON).inverterStatus.value == 4  # tracking MPPT
    device.pv = FlatSun(9_000.0)
    run(device, at())
    assert device.readings()["W"] == pytest.approx(5_000.0)  # the inverter's rating clips
    device.pv = FlatSun(0.0)
    assert run(device, at()) == ["sleeping: no PV power available"]
    assert device.readings()["W"] == -2.0  # standby draw
    assert device.status(NOON).inverterStatus.value == 2


def test_export_limit_holds_site_export_and_says_so_once():
    device = inverter(pv_w=6_000.0, load_w=800.0)
    situation = at(der_situation=der(opModExpLimW=watts(1_500)))
    notes = run(device, situation)
    assert notes == [f"export limited to 1500 W by csipaus:opModExpLimW (control {MRID})"]
    readings = device.readings()
    assert readings["site_export_W"] == pytest.approx(1_500.0)
    assert readings["W"] == pytest.approx(2_300.0)
    assert device.limited_by == "opModExpLimW"
    assert device.status(NOON).inverterStatus.value == 5  # forced power reduction
    assert run(device, situation, steps=3) == []
    assert run(device, at(der_situation=der(opModExpLimW=watts(1_500), sources={"opModExpLimW": "default"}))) == [
        "export limited to 1500 W by csipaus:opModExpLimW (DefaultDERControl)"
    ]
    assert run(device, at()) == ["csipaus:opModExpLimW lifted"]
    assert device.readings()["W"] == pytest.approx(5_000.0)


def test_zero_export_follows_the_household_load():
    device = SmartInverter(FlatSun(6_000.0), site_load=HouseholdLoad(5), efficiency=1.0)
    for minute in range(0, 120, 5):
        run(device, at(NOON + minute * 60, der(opModExpLimW=watts(0))), dt=300)
        readings = device.readings()
        assert readings["site_export_W"] <= 1e-9
        assert readings["W"] == pytest.approx(min(readings["load_W"], 5_000.0))


@pytest.mark.parametrize(
    ("modes", "expected_w", "mode"),
    [
        ({"opModMaxLimW": 4_000}, 2_000.0, "opModMaxLimW"),  # 40 % of setMaxW 5000
        ({"opModFixedW": 3_000}, 1_500.0, "opModFixedW"),
        ({"opModFixedW": -3_000}, 0.0, "opModFixedW"),  # PV cannot absorb
        ({"opModTargetW": watts(1_234)}, 1_234.0, "opModTargetW"),
        ({"opModGenLimW": watts(2_500)}, 2_500.0, "opModGenLimW"),
        ({"opModMaxLimW": 8_000, "opModGenLimW": watts(3_000), "opModExpLimW": watts(3_500)}, 3_000.0, "opModGenLimW"),
    ],
)
def test_active_power_modes_cap_the_output(modes, expected_w, mode):
    device = inverter(pv_w=6_000.0, load_w=200.0)
    run(device, at(der_situation=der(**modes)))
    assert device.readings()["W"] == pytest.approx(expected_w)
    assert device.limited_by == mode


def test_active_power_notes_name_the_mode_its_value_and_its_control():
    device = inverter()
    notes = run(device, at(der_situation=der(opModMaxLimW=6_000, opModGenLimW=watts(4_000))))
    assert notes == [
        f"active power limited to 60.00 % of setMaxW (3000 W) by opModMaxLimW (control {MRID})",
        f"generation limited to 4000 W by csipaus:opModGenLimW (control {MRID})",
    ]


def test_import_and_load_limits_are_noted_but_a_pv_inverter_cannot_act_on_them():
    device = inverter(pv_w=1_000.0, load_w=3_000.0)
    notes = run(device, at(der_situation=der(opModImpLimW=watts(500), opModLoadLimW=watts(0))))
    assert notes == [
        f"site import limit 500 W noted, no action (a PV inverter cannot change it) by csipaus:opModImpLimW "
        f"(control {MRID})",
        f"controllable load limit 0 W noted, no action (a PV inverter cannot change it) by csipaus:opModLoadLimW "
        f"(control {MRID})",
    ]
    assert device.readings()["W"] == pytest.approx(1_000.0)
    assert device.readings()["site_export_W"] == pytest.approx(-2_000.0)


def test_disabled_mode_is_not_executed():
    device = inverter(load_w=0.0, modes_enabled=("opModConnect", "opModMaxLimW"))
    assert run(device, at(der_situation=der(opModExpLimW=watts(1_000), opModMaxLimW=9_000))) == [
        f"active power limited to 90.00 % of setMaxW (4500 W) by opModMaxLimW (control {MRID})"
    ]
    assert device.readings()["W"] == pytest.approx(4_500.0)
    assert device.settings().modesEnabled == "00100004"
    assert device.settings().doeModesEnabled == "00"


def test_disconnect_and_cease_to_energize():
    device = inverter(load_w=500.0)
    notes = run(device, at(der_situation=der(opModConnect=False, opModMaxLimW=5_000)))
    assert f"disconnected by opModConnect (control {MRID})" in notes
    readings = device.readings()
    assert (readings["W"], readings["var"], readings["site_export_W"]) == (0.0, 0.0, -500.0)
    status = device.status(NOON)
    assert status.genConnectStatus.value == "02"  # available, not connected
    assert status.operationalModeStatus.value == 1 and status.inverterStatus.value == 1
    notes = run(device, at(NOON + 60, der(opModEnergize=False)))
    assert notes[:2] == ["reconnected to the grid", f"ceased to energize by opModEnergize (control {MRID})"]
    assert device.readings()["W"] == -2.0  # connected: standby draw only
    assert device.status(NOON + 60).genConnectStatus.value == "03"  # connected, available, not operating
    assert run(device, at(NOON + 120)) == ["energizing again"]
    assert device.status(NOON + 120).genConnectStatus.value == "07"


def test_coming_back_soft_starts_at_set_soft_grad_w():
    device = inverter(pv_w=6_000.0, set_soft_grad_w=100)  # 1 %/s of 5000 W = 50 W/s
    run(device, at(der_situation=der(opModConnect=False)))
    outputs = []
    for k in range(1, 5):
        run(device, at(NOON + 30 * k), dt=30)
        outputs.append(device.readings()["W"])
    assert outputs == pytest.approx([1_500.0, 3_000.0, 4_500.0, 5_000.0])
    assert device.status(NOON + 30).inverterStatus.value == 4


def test_a_lifted_limit_is_followed_over_ramp_tms_and_a_lower_one_at_once():
    device = inverter(pv_w=6_000.0, set_grad_w=0)
    run(device, at(der_situation=der(opModMaxLimW=2_000)))
    assert device.readings()["W"] == pytest.approx(1_000.0)
    run(device, at(NOON + 10, der(opModMaxLimW=10_000, rampTms=2_000)), dt=5)  # full scale over 20 s
    assert device.readings()["W"] == pytest.approx(2_250.0)
    assert device.limited_by == "ramp"
    run(device, at(NOON + 15, der(opModMaxLimW=10_000, rampTms=2_000)), dt=5)
    assert device.readings()["W"] == pytest.approx(3_500.0)
    run(device, at(NOON + 20, der(opModMaxLimW=1_000, rampTms=2_000)), dt=5)
    assert device.readings()["W"] == pytest.approx(500.0)


def test_set_grad_w_paces_a_rise_without_ramp_tms():
    device = inverter(pv_w=6_000.0, set_grad_w=50)  # 0.5 %/s = 25 W/s
    run(device, at(der_situation=der(opModExpLimW=watts(0))))
    run(device, at(NOON + 60), dt=40)
    assert device.readings()["W"] == pytest.approx(1_000.0)


# ---------------------------------------------------------------------------------------------------
# Smart inverter: autonomous functions, reactive power, protection
# ---------------------------------------------------------------------------------------------------


def test_volt_var_absorbs_at_high_voltage_with_var_priority():
    device = inverter(pv_w=6_000.0)
    situation = at(der_situation=der(opModVoltVar=sep2.Link(href=VOLT_VAR.href), curves={"opModVoltVar": VOLT_VAR}))
    notes = run(device, Situation(**{**vars(situation), "grid_voltage": 253.0}))
    expected = -60 * (110.0 - 104.35) / (112.17 - 104.35) / 100 * 3_000  # % of setMaxVarNeg (-60 % of 5 kVA)
    assert expected == pytest.approx(-1_300.5, abs=0.1)
    assert notes == [f"volt-var: V=253.0 (110.0 %) -> absorbing 1301 var by opModVoltVar (control {MRID})"]
    readings = device.readings()
    assert readings["var"] == pytest.approx(expected, rel=1e-3)  # 60 s is twelve 5 s open-loop times: settled
    assert readings["W"] == pytest.approx(math.sqrt(5_000**2 - readings["var"] ** 2))  # W yields to var
    assert device.limited_by == "setMaxVA"
    assert run(device, Situation(**{**vars(situation), "grid_voltage": 253.2})) == []  # within the deadband
    notes = run(device, Situation(**{**vars(situation), "grid_voltage": 230.0}))
    assert notes == [f"volt-var: V=230.0 (100.0 %) -> 0 var by opModVoltVar (control {MRID})"]
    assert device.readings()["var"] == pytest.approx(0.0, abs=1e-3)
    notes = run(device, Situation(**{**vars(situation), "grid_voltage": 200.0}))
    assert device.readings()["var"] == pytest.approx(0.44 * 5_000 * 0.44, rel=1e-3)  # clamped at 207 V: +44 %


def test_volt_var_open_loop_time_is_a_first_order_response():
    slow = curve(11, [(9_000, 44), (9_565, 0), (10_435, 0), (11_217, -60)], dm.REF_SET_MAX_VAR, openLoopTms=1_000)
    device = inverter(pv_w=1_000.0)
    situation = at(der_situation=der(opModVoltVar=sep2.Link(href=slow.href), curves={"opModVoltVar": slow}))
    run(device, Situation(**{**vars(situation), "grid_voltage": 230.0}))
    run(device, Situation(**{**vars(situation), "grid_voltage": 258.0}), dt=10)  # one open-loop time
    assert device.readings()["var"] == pytest.approx(0.9 * -0.6 * 5_000 * 0.6, rel=1e-3)


def test_volt_var_vref_moves_the_curve():
    shifted = curve(11, [(9_000, 44), (9_565, 0), (10_435, 0), (11_217, -60)], dm.REF_SET_MAX_VAR, vRef=10_500)
    device = inverter(pv_w=1_000.0)
    run(device, at(der_situation=der(opModVoltVar=sep2.Link(href="/c"), curves={"opModVoltVar": shifted})))
    # 235 V is 102.2 % of 230 V: inside the dead band of the unshifted curve, below 95.65 x 1.05 = 100.4 % ...
    assert device.readings()["var"] == pytest.approx(0.0)
    run(device, at(der_situation=der(opModVoltVar=sep2.Link(href="/c"), curves={"opModVoltVar": shifted}), volts=222))
    # 222 V = 96.52 %: between 94.5 % (+44 %) and 100.43 % (0) on the shifted curve.
    x0, x1 = 90.0 * 1.05, 95.65 * 1.05
    assert device.readings()["var"] == pytest.approx(44 * (x1 - 222 / 2.3) / (x1 - x0) / 100 * 2_200, rel=1e-3)


def test_volt_watt_curtails_above_253_v():
    device = inverter(pv_w=6_000.0)
    situation = at(
        der_situation=der(opModVoltWatt=sep2.Link(href=VOLT_WATT.href), curves={"opModVoltWatt": VOLT_WATT}),
        volts=256.5,
    )
    notes = run(device, situation)
    pct = 100 - 80 * (256.5 / 2.3 - 110) / (113.04 - 110)
    assert device.readings()["W"] == pytest.approx(pct / 100 * 5_000, rel=1e-3)
    assert notes == [
        f"volt-watt: V=256.5 (111.5 %) -> active power limited to {pct:.0f} % of setMaxW ({pct * 50:.0f} W) "
        f"by opModVoltWatt (control {MRID})"
    ]
    run(device, Situation(**{**vars(situation), "grid_voltage": 270.0 - 10}))
    assert device.readings()["W"] == pytest.approx(1_000.0, rel=1e-3)  # clamped at the last point: 20 %


def test_missing_curve_is_reported_and_not_applied():
    device = inverter(pv_w=6_000.0)
    notes = run(device, at(der_situation=der(opModVoltWatt=sep2.Link(href="/derp/1/dc/9")), volts=259.0))
    assert notes == ["opModVoltWatt: curve /derp/1/dc/9 is not at hand, mode not applied"]
    assert device.readings()["W"] == pytest.approx(5_000.0)


def test_fixed_power_factor_stays_within_the_var_rating():
    """A low fixed power factor (0.5, held at the device's minimum 0.8) asks for more var than setMaxVar:
    W and var shrink together, keeping the power factor."""
    device = inverter(pv_w=6_000.0)
    pf = sep2.PowerFactorWithExcitation(displacement=500, excitation=False, multiplier=-3)
    run(device, at(der_situation=der(opModFixedPFInjectW=pf)))
    readings = device.readings()
    assert readings["var"] == pytest.approx(device.ratings.set_max_var)  # 44 % of 5000 VA
    assert readings["W"] / math.hypot(readings["W"], readings["var"]) == pytest.approx(0.8)


def test_fixed_power_factor_scales_w_and_var_together_within_va():
    device = inverter(pv_w=6_000.0)
    pf = sep2.PowerFactorWithExcitation(displacement=900, excitation=True, multiplier=-3)
    run(device, at(der_situation=der(opModFixedPFInjectW=pf)))
    readings = device.readings()
    assert readings["W"] / math.hypot(readings["W"], readings["var"]) == pytest.approx(0.9)
    assert readings["var"] < 0  # under-excited: absorbing
    assert math.hypot(readings["W"], readings["var"]) == pytest.approx(5_000.0)
    assert readings["W"] == pytest.approx(4_500.0)
    device.pv = FlatSun(2_000.0)
    pf = sep2.PowerFactorWithExcitation(displacement=950, excitation=False, multiplier=-3)
    notes = run(device, at(der_situation=der(opModFixedPFInjectW=pf)))
    assert device.readings()["W"] == pytest.approx(2_000.0)  # room enough: the sun's power, at PF 0.95
    assert device.readings()["var"] == pytest.approx(2_000.0 * math.tan(math.acos(0.95)))
    assert notes == [
        "fixed power factor 0.950 over-excited while injecting W -> injecting 657 var by opModFixedPFInjectW "
        f"(control {MRID})"
    ]


def test_fixed_var_and_target_var_the_least_magnitude_wins():
    device = inverter(pv_w=2_000.0)
    fixed = sep2.FixedVar(refType=dm.REF_SET_MAX_VAR, value=-3_000)  # -30 % of setMaxVarNeg (3000 var)
    notes = run(device, at(der_situation=der(opModFixedVar=fixed)))
    assert device.readings()["var"] == pytest.approx(-900.0)
    assert notes == [
        f"fixed reactive power -30.00 % of setMaxVar -> absorbing 900 var by opModFixedVar (control {MRID})"
    ]
    notes = run(device, at(der_situation=der(opModFixedVar=fixed, opModTargetVar=dm.reactive_power(400))))
    assert device.readings()["var"] == pytest.approx(400.0)
    assert notes == [f"target reactive power -> injecting 400 var by opModTargetVar (control {MRID})"]
    run(device, at(der_situation=der(opModFixedVar=fixed, opModTargetVar=dm.reactive_power(-1_200))))
    assert device.readings()["var"] == pytest.approx(-900.0)
    fixed_w = sep2.FixedVar(refType=dm.REF_SET_MAX_W, value=1_000)  # 10 % of setMaxW
    run(device, at(der_situation=der(opModFixedVar=fixed_w)))
    assert device.readings()["var"] == pytest.approx(500.0)


def test_over_voltage_trips_and_enters_service_after_the_delay():
    device = inverter(pv_w=3_000.0)
    notes = run(device, at(volts=266.0))
    assert notes == ["tripped: over-voltage 266.0 V > 265.0 V"]
    readings = device.readings()
    assert (readings["W"], readings["var"]) == (0.0, 0.0)
    status = device.status(NOON)
    assert status.alarmStatus == "00000002"
    assert status.inverterStatus.value == 7 and status.genConnectStatus.value == "10"
    assert run(device, at(NOON + 30, volts=255.0), dt=30) == []  # normal range, above enter-service range
    assert run(device, at(NOON + 60, volts=240.0), dt=30) == []
    assert device.readings()["W"] == 0.0
    notes = run(device, at(NOON + 90, volts=240.0), dt=30)
    assert notes == ["entering service: 60 s within 205-253 V and 47.50-50.15 Hz"]
    assert device.readings()["W"] == pytest.approx(3_000.0)
    assert device.status(NOON + 90).alarmStatus == "00000000"


def test_under_frequency_trips():
    device = inverter()
    assert run(device, at(hz=46.5)) == ["tripped: under-frequency 46.50 Hz < 47.00 Hz"]
    assert device.status(NOON).alarmStatus == "00000010"


def test_energy_counters_integrate_power_over_steps():
    device = inverter(pv_w=3_000.0)
    run(device, at(), dt=60, steps=60)
    readings = device.readings()
    assert readings["Wh_exported"] == pytest.approx(3_000.0)
    device.pv = FlatSun(0.0)
    run(device, at(), dt=3600)
    assert device.readings()["Wh_imported"] == pytest.approx(2.0)
    assert device.readings()["Wh_exported"] == pytest.approx(3_000.0)


def test_a_day_of_sun_and_load_under_a_zero_export_limit():
    off = ADELAIDE_DST
    device = SmartInverter(
        PvArray(utc_offset_s=off, cloudiness=0.3, seed=2), site_load=HouseholdLoad(2, utc_offset_s=off)
    )
    grid = GridModel(2, utc_offset_s=off)
    notes = []
    for k in range(0, 24 * 60, 5):
        situation = grid.condition(at(MIDSUMMER + k * 60, der(opModExpLimW=watts(0))), device.site_export_w)
        notes += device.step(situation, 300)
        assert device.site_export_w <= 1e-9
    assert device.readings()["Wh_exported"] > 3_000.0  # it covered the household's daytime load
    assert notes == [
        f"export limited to 0 W by csipaus:opModExpLimW (control {MRID})",
        "PV producing: 14 W available",  # dawn
        "sleeping: no PV power available",  # dusk
    ]


# ---------------------------------------------------------------------------------------------------
# Battery
# ---------------------------------------------------------------------------------------------------


def battery(**kwargs) -> Battery:
    kwargs.setdefault("site_load", flat_load(kwargs.pop("load_w", 0.0)))
    kwargs.setdefault("default_mode", "idle")
    return Battery(**kwargs)


def test_fixed_w_is_a_percentage_of_the_discharge_or_charge_rate():
    device = battery(max_charge_w=3_000.0, max_discharge_w=5_000.0)
    notes = run(device, at(der_situation=der(opModFixedW=5_000)))
    assert device.readings()["W"] == pytest.approx(2_500.0)
    assert notes[0] == f"discharge set to 50.00 % of setMaxDischargeRateW (2500 W) by opModFixedW (control {MRID})"
    run(device, at(der_situation=der(opModFixedW=-5_000)))
    assert device.readings()["W"] == pytest.approx(-1_500.0)
    assert device.status(NOON).storageModeStatus.value == 0  # charging


def test_fixed_w_takes_precedence_over_target_w():
    device = battery()
    run(device, at(der_situation=der(opModTargetW=watts(-1_000))))
    assert device.readings()["W"] == pytest.approx(-1_000.0)
    run(device, at(der_situation=der(opModTargetW=watts(-1_000), opModFixedW=2_000)))
    assert device.readings()["W"] == pytest.approx(1_000.0)


def test_soc_stays_within_its_reserve_band_and_rates():
    device = battery(capacity_wh=10_000.0, initial_soc_pct=20.0, soc_min_pct=10.0, soc_max_pct=90.0)
    notes = run(device, at(der_situation=der(opModFixedW=10_000)), dt=300, steps=5)
    assert device.soc_pct == pytest.approx(10.0)
    assert device.readings()["W"] == pytest.approx(0.0, abs=1e-6)
    assert notes[-1] == "battery at its reserve (10.0 % SoC): discharging stops"
    run(device, at(der_situation=der(opModFixedW=-10_000)), dt=3600, steps=3)
    assert device.soc_pct == pytest.approx(90.0)
    assert device.status(NOON).stateOfChargeStatus.value == 9_000
    assert device.status(NOON).storageModeStatus.value == 2  # holding


def test_round_trip_efficiency_is_lost_between_charge_and_discharge():
    device = battery(capacity_wh=10_000.0, initial_soc_pct=10.0, soc_min_pct=10.0, round_trip_efficiency=0.81)
    run(device, at(der_situation=der(opModTargetW=watts(-2_000))), dt=3600)
    assert device.stored_wh == pytest.approx(1_000.0 + 2_000 * 0.9)
    run(device, at(der_situation=der(opModTargetW=watts(5_000))), dt=3600, steps=2)
    readings = device.readings()
    assert readings["Wh_imported"] == pytest.approx(2_000.0)
    assert readings["Wh_exported"] == pytest.approx(2_000 * 0.81)
    assert device.soc_pct == pytest.approx(10.0)


def test_battery_self_consumption_covers_the_load_and_stores_surplus_pv():
    device = Battery(site_load=flat_load(700.0), site_pv=PvArray(dc_rating_w=3_000.0), pv_efficiency=1.0)
    run(device, at(MIDSUMMER + 2 * 3600))  # night
    assert device.readings()["W"] == pytest.approx(700.0)
    assert device.readings()["site_export_W"] == pytest.approx(0.0)
    noon = PvArray().solar_noon(NOON)
    run(device, at(noon))
    assert device.readings()["W"] == pytest.approx(700.0 - device.pv_w)
    assert device.readings()["site_export_W"] == pytest.approx(0.0)


def test_site_import_limit_makes_the_battery_discharge_and_export_limit_charge():
    device = battery(load_w=3_000.0)
    notes = run(device, at(der_situation=der(opModImpLimW=watts(1_000))))
    assert device.readings()["W"] == pytest.approx(2_000.0)
    assert device.readings()["site_export_W"] == pytest.approx(-1_000.0)
    assert f"site import limited to 1000 W by csipaus:opModImpLimW (control {MRID})" in notes
    device = Battery(site_load=flat_load(200.0), site_pv=PvArray(), pv_efficiency=1.0, default_mode="idle")
    noon = PvArray().solar_noon(NOON)
    run(device, at(noon, der(opModExpLimW=watts(1_500))))
    assert device.readings()["site_export_W"] == pytest.approx(1_500.0)
    assert device.readings()["W"] == pytest.approx(1_700.0 - device.pv_w)


def test_battery_generation_load_and_max_limits():
    device = battery()
    run(device, at(der_situation=der(opModFixedW=10_000, opModGenLimW=watts(1_200))))
    assert (device.readings()["W"], device.limited_by) == (pytest.approx(1_200.0), "opModGenLimW")
    run(device, at(der_situation=der(opModFixedW=10_000, opModMaxLimW=3_000)))
    assert (device.readings()["W"], device.limited_by) == (pytest.approx(1_500.0), "opModMaxLimW")
    run(device, at(der_situation=der(opModFixedW=-10_000, opModLoadLimW=watts(800))))
    assert (device.readings()["W"], device.limited_by) == (pytest.approx(-800.0), "opModLoadLimW")
    assert device.status(NOON).inverterStatus.value == 5


def test_battery_disconnect_wins_over_any_setpoint():
    device = battery(load_w=2_000.0)
    notes = run(device, at(der_situation=der(opModConnect=False, opModFixedW=10_000, opModImpLimW=watts(0))))
    assert notes[0] == f"disconnected by opModConnect (control {MRID})"
    assert device.readings()["W"] == 0.0
    assert device.status(NOON).storConnectStatus.value == "02"


def test_battery_availability_reports_durations_at_full_rate():
    device = battery(capacity_wh=10_000.0, initial_soc_pct=60.0, soc_min_pct=10.0, round_trip_efficiency=1.0)
    run(device, at())
    availability = device.availability(NOON)
    assert availability.availabilityDuration == 3_600  # 5 kWh above the reserve at 5 kW
    assert availability.maxChargeDuration == round(3_600 * 4_000 / 5_000)
    assert dm.scaled(availability.statWAvail) == pytest.approx(5_000.0)


# ---------------------------------------------------------------------------------------------------
# What the devices report, against the official schemas
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schemas(sep_schemas):
    by_folder = {v.path.parent.name: v for v in sep_schemas}
    if "sep2-2018" not in by_folder or "csipaus-1.2" not in by_folder:
        pytest.skip("both sep2-2018/sep.xsd and csipaus-1.2/csipaus-core.xsd are needed")
    return by_folder["sep2-2018"], by_folder["csipaus-1.2"]


def valid(resource, *validators) -> bytes:
    document = encode(resource)
    for validator in validators:
        assert validator.errors(document) == [], document
    assert decode(document, type(resource)) == resource
    return document


def test_inverter_documents_are_valid_csip_aus_and_say_what_it_is(schemas):
    plain, csipaus = schemas
    device = inverter(pv_w=4_000.0, load_w=300.0)
    run(device, at(NOON, der(opModExpLimW=watts(1_000))))
    capability = device.capability()
    valid(capability, csipaus)
    assert capability.type == 4  # photovoltaic system
    assert capability.doeModesSupported == "05"  # opModExpLimW, opModGenLimW
    supported = int(capability.modesSupported, 16)
    for mode in ("opModConnect", "opModEnergize", "opModMaxLimW", "opModFixedW", "opModVoltVar", "opModVoltWatt"):
        assert supported >> dm.MODE_BITS[mode] & 1, mode
    assert not supported >> dm.MODE_BITS["opModFreqDroop"] & 1
    assert dm.scaled(capability.rtgMaxW) == 5_000.0 and dm.scaled(capability.rtgMaxVarNeg) == -3_000.0
    settings = device.settings()
    valid(settings, csipaus)
    assert settings.updatedTime == NOON and settings.setESHighVolt == 11_000 and settings.setESDelay == 6_000
    for resource in (device.status(NOON + 5), device.availability(NOON + 5)):
        valid(resource, plain, csipaus)
    assert dm.scaled(device.availability(NOON).statWAvail) == 4_000.0
    assert device.availability(NOON).reservePercent == 5_400  # 4000 W available, 1300 W delivered: 2700 W spare
    assert category_bits(device.device_category) == {21}  # Photovoltaic System


def test_plain_2030_5_inverter_documents_carry_no_csipaus_elements(schemas):
    plain, _ = schemas
    device = inverter(csipaus=False)
    run(device, at())
    for resource in (device.capability(), device.settings()):
        assert b"csipaus" not in valid(resource, plain)


def test_battery_documents_are_valid_csip_aus(schemas):
    plain, csipaus = schemas
    device = battery(initial_soc_pct=80.5)
    run(device, at(NOON, der(opModFixedW=2_000)))
    capability = device.capability()
    valid(capability, csipaus)
    assert capability.type == 80 and capability.doeModesSupported == "0F"
    assert int(capability.modesSupported, 16) & 0b11 == 0b11  # charge and discharge
    assert dm.scaled(capability.rtgMaxWh) == 13_500.0
    valid(device.settings(), csipaus)
    status = device.status(NOON)
    valid(status, plain, csipaus)
    assert status.storageModeStatus.value == 1  # discharging
    assert 8_000 < status.stateOfChargeStatus.value < 8_050
    assert status.storConnectStatus.value == "07" and status.genConnectStatus is None
    valid(device.availability(NOON), plain, csipaus)
    assert category_bits(device.device_category) == {25}  # Other Storage System


def test_status_times_are_when_each_value_last_changed():
    device = inverter()
    run(device, at())
    assert device.status(NOON).inverterStatus.dateTime == NOON
    run(device, at(NOON + 60))
    assert device.status(NOON + 60).inverterStatus.dateTime == NOON
    run(device, at(NOON + 120, der(opModMaxLimW=1_000)))
    status = device.status(NOON + 120)
    assert status.inverterStatus.dateTime == NOON + 120 and status.readingTime == NOON + 120


def test_quantities_fit_their_schema_types():
    assert dm.active_power(5_000) == sep2.ActivePower(multiplier=0, value=5_000)
    assert dm.active_power(50_000) == sep2.ActivePower(multiplier=1, value=5_000)
    assert dm.active_power(12.34, min_multiplier=-2) == sep2.ActivePower(multiplier=-2, value=1_234)
    assert dm.voltage_rms(230.0).value * 10 ** dm.voltage_rms(230.0).multiplier == pytest.approx(230.0)
    assert dm.scaled(dm.apparent_power(100_000)) == 100_000
    assert dm.interpolate([(0.0, 10.0), (10.0, 20.0)], -5) == 10.0
    assert dm.interpolate([(0.0, 10.0), (10.0, 20.0)], 2.5) == 12.5
    assert dm.interpolate([(0.0, 10.0), (10.0, 20.0)], 50) == 20.0


# ---------------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------------


def maybe(strategy):
    return st.none() | strategy


def active_powers(lo: int = -32_768, hi: int = 32_767):
    return st.builds(sep2.ActivePower, multiplier=st.integers(-1, 1), value=st.integers(lo, hi))


control_bases = st.builds(
    sep2.DERControlBase,
    opModConnect=maybe(st.booleans()),
    opModEnergize=maybe(st.booleans()),
    opModMaxLimW=maybe(st.integers(0, 10_000)),
    opModFixedW=maybe(st.integers(-10_000, 10_000)),
    opModTargetW=maybe(active_powers()),
    opModFixedVar=maybe(
        st.builds(sep2.FixedVar, refType=st.sampled_from([1, 2, 3]), value=st.integers(-10_000, 10_000))
    ),
    opModTargetVar=maybe(st.builds(sep2.ReactivePower, multiplier=st.integers(0, 1), value=st.integers(-5_000, 5_000))),
    opModFixedPFInjectW=maybe(
        st.builds(
            sep2.PowerFactorWithExcitation,
            displacement=st.integers(500, 1_000),
            excitation=st.booleans(),
            multiplier=st.just(-3),
        )
    ),
    opModVoltVar=maybe(st.just(sep2.Link(href=VOLT_VAR.href))),
    opModVoltWatt=maybe(st.just(sep2.Link(href=VOLT_WATT.href))),
    rampTms=maybe(st.integers(0, 60_000)),
    opModExpLimW=maybe(active_powers(0, 10_000)),
    opModGenLimW=maybe(active_powers(0, 10_000)),
    opModImpLimW=maybe(active_powers(0, 10_000)),
    opModLoadLimW=maybe(active_powers(0, 10_000)),
)

steps = st.lists(
    st.tuples(
        control_bases,
        st.floats(200.0, 270.0),  # grid voltage
        st.integers(0, 86_399),  # time advance
        st.floats(0.0, 900.0),  # dt
        st.floats(0.0, 8_000.0),  # DC power available
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(steps, st.integers(0, 3), st.integers(0, 100), st.integers(0, 100))
def test_inverter_never_exceeds_the_sun_its_limits_or_the_export_limit(sequence, seed, grad, soft_grad):
    device = SmartInverter(
        FlatSun(0.0),
        site_load=HouseholdLoad(seed),
        set_grad_w=grad,
        set_soft_grad_w=soft_grad,
    )
    r = device.ratings
    curves = {"opModVoltVar": VOLT_VAR, "opModVoltWatt": VOLT_WATT}
    now = NOON
    last = device.readings()
    for base, volts, advance, dt, dc in sequence:
        now += advance
        device.pv = FlatSun(dc)
        device.step(Situation(now=now, der=DerSituation(base, curves), grid_voltage=volts), dt)
        readings = device.readings()
        w, var = readings["W"], readings["var"]
        assert w <= device.available_w + 1e-6 <= dc * device.efficiency + 1e-6
        assert w <= r.set_max_w + 1e-6
        assert math.hypot(w, var) <= r.set_max_va + 1e-6
        assert r.set_max_var_neg - 1e-6 <= var <= r.set_max_var + 1e-6
        if base.opModMaxLimW is not None:
            assert w <= base.opModMaxLimW / 10_000 * r.set_max_w + 1e-6
        if base.opModGenLimW is not None:
            assert w <= max(0.0, dm.scaled(base.opModGenLimW)) + 1e-6
        if base.opModExpLimW is not None:
            assert readings["site_export_W"] <= dm.scaled(base.opModExpLimW) + 1e-6
        if base.opModConnect is False or base.opModEnergize is False:
            assert w <= 0.0 and var == 0.0
        if base.opModConnect is False:
            assert w == 0.0
        for counter in ("Wh_exported", "Wh_imported", "varh_injected", "varh_absorbed"):
            assert readings[counter] >= last[counter]
        last = readings


@settings(max_examples=150, deadline=None)
@given(
    steps,
    st.floats(1_000.0, 20_000.0),
    st.floats(500.0, 8_000.0),
    st.floats(500.0, 8_000.0),
    st.floats(0.5, 1.0),
    st.floats(0.0, 50.0),
    st.floats(50.0, 100.0),
    st.floats(0.0, 100.0),
    st.sampled_from(["self_consumption", "idle"]),
)
def test_battery_stays_within_its_soc_band_and_rates(
    sequence, capacity, charge_w, discharge_w, efficiency, soc_min, soc_max, soc0, default_mode
):
    device = Battery(
        capacity_wh=capacity,
        max_charge_w=charge_w,
        max_discharge_w=discharge_w,
        round_trip_efficiency=efficiency,
        soc_min_pct=soc_min,
        soc_max_pct=soc_max,
        initial_soc_pct=soc0,
        site_load=HouseholdLoad(1),
        default_mode=default_mode,
    )
    curves = {"opModVoltVar": VOLT_VAR, "opModVoltWatt": VOLT_WATT}
    now = NOON
    last = device.readings()
    for base, volts, advance, dt, pv_dc in sequence:
        now += advance
        device.site_pv = FlatSun(pv_dc)
        before = device.stored_wh
        device.step(Situation(now=now, der=DerSituation(base, curves), grid_voltage=volts), dt)
        readings = device.readings()
        w = readings["W"]
        assert soc_min - 1e-9 <= device.soc_pct <= max(soc_max, soc_min) + 1e-9
        assert -charge_w - 1e-6 <= w <= discharge_w + 1e-6
        assert math.hypot(w, readings["var"]) <= device.rated_va + 1e-6
        if base.opModGenLimW is not None:
            assert w <= max(0.0, dm.scaled(base.opModGenLimW)) + 1e-6
        if base.opModLoadLimW is not None:
            assert -w <= max(0.0, dm.scaled(base.opModLoadLimW)) + 1e-6
        if base.opModMaxLimW is not None:
            assert w <= base.opModMaxLimW / 10_000 * discharge_w + 1e-6
        if base.opModConnect is False or base.opModEnergize is False:
            assert w == 0.0
        if base.opModExpLimW is not None and pv_dc == 0.0:
            assert readings["site_export_W"] <= dm.scaled(base.opModExpLimW) + 1e-6
        # Energy balance: what went in or out of the cells is W over dt through one-way efficiency.
        flow = -w * dt / 3600 * (device.one_way if w < 0 else 1 / device.one_way)
        assert device.stored_wh - before == pytest.approx(flow, abs=1e-6)
        for counter in ("Wh_exported", "Wh_imported", "varh_injected", "varh_absorbed"):
            assert readings[counter] >= last[counter]
        last = readings
