"""Reference home-area-network devices (thermostat, water heater, smart appliance, in-home display, EV
charger) driven by plain Situations: no server, no clock. Examples of what a customer would see, and
hypothesis properties for the invariants (safety floors, comfort limits, cycles that complete, charging only
under a grant, display resolutions)."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gridhan.client.devices.appliance import DrawProfile, SmartAppliance, WaterHeater
from gridhan.client.devices.display import InHomeDisplay
from gridhan.client.devices.ev_charger import EvCharger, ReservationRequest, Vehicle
from gridhan.client.devices.load_control import duty_cycle_on
from gridhan.client.devices.thermostat import COOL, HEAT, SchedulePeriod, Thermostat
from gridhan.client.devices.weather import Climate
from gridhan.client.situation import FlowGrant, PriceSituation, Situation, UsageSituation
from gridhan.schemas.sep2.drlc import EndDeviceControl, TargetReduction
from gridhan.schemas.sep2.events import DateTimeInterval, EventStatus
from gridhan.schemas.sep2.messaging import TextMessage
from gridhan.schemas.sep2.response import ApplianceLoadReduction, DutyCycle, Offset, SetPoint

DAY = 86400
HOUR = 3600
T0 = 1_699_920_000  # 2023-11-14 00:00 UTC
EVENT = "4E1A" + "0" * 28
PCT, WATER_HEATER, SMART_APPLIANCE, EVSE = "00000001", "00000008", "00000080", "00020000"
slow = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def control(
    mrid: str = EVENT,
    *,
    start: int = T0 + HOUR,
    duration: int = 2 * HOUR,
    category: str = PCT,
    mandatory: bool = False,
    forward: bool = False,
    **values,
) -> EndDeviceControl:
    return EndDeviceControl(
        mRID=mrid,
        creationTime=start - HOUR,
        EventStatus=EventStatus(currentStatus=1, dateTime=start, potentiallySuperseded=False),
        interval=DateTimeInterval(start=start, duration=duration),
        deviceCategory=category,
        drProgramMandatory=mandatory,
        loadShiftForward=forward,
        **values,
    )


def in_force(edc: EndDeviceControl | None, t: int) -> EndDeviceControl | None:
    if edc is None or not edc.interval.start <= t < edc.interval.start + edc.interval.duration:
        return None
    return edc


def price(tier: int = 1, per_kwh: float = 0.15, *, critical: bool = False, mrid: str = "C0" * 16, **more):
    return PriceSituation(interval_mrid=mrid, tier=tier, price_per_kwh=per_kwh, critical_peak=critical, **more)


def run(device, start: int, end: int, dt: int, situation_at=lambda t: Situation(now=t)):
    """Step ``device`` from ``start`` to ``end``; returns (notes, [(t_end, readings)])."""
    notes, readings = [], []
    t = start
    while t < end:
        notes.extend(device.step(situation_at(t), dt))
        t += dt
        readings.append((t, device.readings()))
    return notes, readings


def still_air(temperature: float) -> Climate:
    return Climate(mean_c=temperature, amplitude_c=0.0, noise_c=0.0)


def summer_pct(**kw) -> Thermostat:
    kw.setdefault("mode", COOL)
    kw.setdefault("schedule", (SchedulePeriod(0, 20.0, 24.0),))
    kw.setdefault("climate", still_air(32.0))
    kw.setdefault("indoor_c", 24.0)
    return Thermostat(**kw)


# -- the DeviceModel contract -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("device", "category"),
    [
        (Thermostat(), PCT),
        (WaterHeater(), WATER_HEATER),
        (SmartAppliance("dishwasher"), SMART_APPLIANCE),
        (SmartAppliance("dryer"), SMART_APPLIANCE),
        (InHomeDisplay(), "00000000"),
        (EvCharger(), EVSE),
    ],
)
def test_every_device_keeps_the_contract(device, category):
    assert device.device_category == category
    assert isinstance(device.kind, str) and device.kind
    assert isinstance(device.step(Situation(now=T0), 60), list)
    values = device.readings()
    assert all(isinstance(v, float) for v in values.values())
    if "W" in values:
        assert values["W"] <= 0  # loads: consumption reads negative
    assert device.customer_responses() == []


# -- thermostat ---------------------------------------------------------------------------------------------------


def test_voluntary_event_applies_the_default_cpp_offset():
    pct = summer_pct()
    edc = control()
    notes, readings = run(pct, T0, T0 + 4 * HOUR, 60, lambda t: Situation(now=t, load_control=in_force(edc, t)))
    assert "CPP event 4E1A...: cooling set point 24.0 -> 25.1 C (default CPP offset 2 F)" in notes
    assert "CPP event 4E1A... ended" in notes
    assert "schedule: cooling set point 25.1 -> 24.0 C" in notes
    during = dict(readings)[T0 + 2 * HOUR]
    assert during["cooling_setpoint_c"] == pytest.approx(24 + 2 / 1.8)
    assert dict(readings)[T0 + 4 * HOUR]["cooling_setpoint_c"] == 24.0


def test_mandatory_event_applies_the_emergency_offset_up_when_cooling_down_when_heating():
    cooling = summer_pct()
    cooling.step(Situation(now=T0 + HOUR, load_control=control(mandatory=True)), 60)
    assert cooling.readings()["cooling_setpoint_c"] == pytest.approx(24 + 4 / 1.8)
    heating = Thermostat(mode=HEAT, schedule=(SchedulePeriod(0, 20.0, 24.0),), climate=still_air(0.0), indoor_c=20.0)
    notes = heating.step(Situation(now=T0 + HOUR, load_control=control(mandatory=True)), 60)
    assert heating.readings()["heating_setpoint_c"] == pytest.approx(20 - 4 / 1.8)
    assert notes == ["emergency event 4E1A...: heating set point 17.8 C (default emergency offset 4 F)"]


def test_critical_peak_price_applies_the_cpp_offset_without_an_event():
    pct = summer_pct(cpp_offset_f=3.0)
    notes = pct.step(Situation(now=T0, price=price(3, 0.45, critical=True)), 60)
    assert pct.readings()["cooling_setpoint_c"] == pytest.approx(24 + 3 / 1.8)
    assert notes == ["CPP price C0C0...: cooling set point 25.7 C (default CPP offset 3 F)"]
    assert pct.readings()["price_tier"] == 3.0
    assert "tier 3" in pct.display_line() and "CRITICAL PEAK" in pct.display_line()


def test_explicit_offset_and_set_point_win_over_the_defaults():
    pct = summer_pct()
    pct.step(Situation(now=T0 + HOUR, load_control=control(mandatory=True, Offset=Offset(coolingOffset=30))), 60)
    assert pct.readings()["cooling_setpoint_c"] == pytest.approx(27.0)  # 30 tenths of a degree C, not 4 F
    pct.step(Situation(now=T0 + HOUR, load_control=control("AB" * 16, SetPoint=SetPoint(coolingSetpoint=2650))), 60)
    assert pct.readings()["cooling_setpoint_c"] == pytest.approx(26.5)  # hundredths of a degree C


def test_set_points_beyond_the_device_limits_are_applied_at_the_limit():
    pct = summer_pct(setpoint_limits_c=(12.0, 30.0))
    pct.step(Situation(now=T0 + HOUR, load_control=control(SetPoint=SetPoint(coolingSetpoint=4000))), 60)
    assert pct.readings()["cooling_setpoint_c"] == 30.0


def test_load_shift_forward_turns_the_offset_around():
    pct = summer_pct()
    pct.step(Situation(now=T0 + HOUR, load_control=control(forward=True, Offset=Offset(coolingOffset=20))), 60)
    assert pct.readings()["cooling_setpoint_c"] == pytest.approx(22.0)  # pre-cooling


def test_a_control_for_another_category_is_ignored():
    pct = summer_pct()
    assert pct.step(Situation(now=T0 + HOUR, load_control=control(category=WATER_HEATER, mandatory=True)), 60) == []
    assert pct.readings()["cooling_setpoint_c"] == 24.0


def on_fraction(readings) -> float:
    return sum(r["hvac_on"] for _, r in readings) / len(readings)


def test_duty_cycle_caps_the_compressor_off_part_first():
    baseline = summer_pct(climate=still_air(35.0))
    _, free = run(baseline, T0, T0 + 2 * HOUR, 30)
    assert on_fraction(free) > 0.3  # the hot afternoon needs more than the cap below

    pct = summer_pct(climate=still_air(35.0))
    edc = control(start=T0, duration=2 * HOUR, DutyCycle=DutyCycle(normalValue=25))
    notes, readings = run(pct, T0, T0 + 2 * HOUR, 30, lambda t: Situation(now=t, load_control=in_force(edc, t)))
    assert "CPP event 4E1A...: compressor on at most 25 % of each 30 min (duty cycle)" in notes
    for period in range(4):
        window = [(t, r) for t, r in readings if T0 + period * 1800 < t <= T0 + (period + 1) * 1800]
        assert sum(r["hvac_on"] for _, r in window) * 30 <= 450
        assert all(r["hvac_on"] == 0 for t, r in window if t - 30 < T0 + period * 1800 + 1350)
    assert all(r["cooling_setpoint_c"] == 24.0 for _, r in readings)  # no default offset with a duty cycle


def test_thermal_model_holds_the_set_point_and_respects_minimum_on_and_off_times():
    pct = summer_pct(climate=still_air(33.0), hysteresis_c=0.05, min_on_s=180, min_off_s=300)
    _, readings = run(pct, T0, T0 + 6 * HOUR, 30)
    settled = [r for t, r in readings if t > T0 + HOUR]
    assert all(23.6 < r["indoor_c"] < 24.4 for r in settled)
    runs, current, length = [], None, 0
    for _, r in readings:
        if r["hvac_on"] == current:
            length += 30
        else:
            if current is not None:
                runs.append((current, length))
            current, length = r["hvac_on"], 30
    inner = runs[1:]  # the first run started from rest
    assert any(on for on, _ in inner) and any(not on for on, _ in inner)
    assert all(length >= 180 for on, length in inner if on)
    assert all(length >= 300 for on, length in inner if not on)
    last = readings[-1][1]
    assert last["Wh_imported"] > 0
    assert last["W"] == -last["hvac_W"]
    assert last["hvac_W"] in (0.0, pytest.approx(8000 / 3))


def test_override_needs_the_code_and_opting_out_of_a_voluntary_event_is_reported():
    pct = summer_pct(override_code="2468")
    edc = control()

    def at(t):
        return Situation(now=t, load_control=in_force(edc, t))

    run(pct, T0, T0 + 2 * HOUR, 60, at)
    refused = pct.override(22.0, T0 + 2 * HOUR, code="1111")
    assert not refused and refused.note == "override refused: wrong override code"
    accepted = pct.override(22.0, T0 + 2 * HOUR, code="2468")
    assert accepted
    notes, readings = run(pct, T0 + 2 * HOUR, T0 + 4 * HOUR, 60, at)
    assert notes[:2] == [refused.note, accepted.note]
    assert "customer override: cooling set point 25.1 -> 22.0 C (customer override)" in notes
    assert dict(readings)[T0 + 3 * HOUR - 60]["cooling_setpoint_c"] == 22.0
    assert dict(readings)[T0 + 4 * HOUR]["cooling_setpoint_c"] == 24.0  # the override ended with the event
    responses = pct.customer_responses()
    assert [(r.event_mrid, r.status, r.at) for r in responses] == [
        (EVENT, 4, T0 + 2 * HOUR),  # "User has chosen to opt out"
        (EVENT, 10, T0 + 3 * HOUR),  # "Event completed, no user participation (previous opt-out)"
    ]


def test_override_of_a_mandatory_event_is_refused_unless_medically_exempt():
    edc = control(mandatory=True)
    pct = summer_pct()
    pct.step(Situation(now=T0 + HOUR, load_control=edc), 60)
    decision = pct.override(22.0, T0 + HOUR + 60)
    assert not decision
    assert pct.step(Situation(now=T0 + HOUR + 60, load_control=edc), 60) == [
        "override refused: mandatory event 4E1A..."
    ]
    assert pct.readings()["cooling_setpoint_c"] == pytest.approx(24 + 4 / 1.8)
    assert pct.customer_responses() == []

    exempt = summer_pct(medical_exempt=True)
    exempt.step(Situation(now=T0 + HOUR, load_control=edc), 60)
    assert exempt.override(22.0, T0 + HOUR + 60)
    exempt.step(Situation(now=T0 + HOUR + 60, load_control=edc), 60)
    assert exempt.readings()["cooling_setpoint_c"] == 22.0
    [response] = exempt.customer_responses()
    assert (response.status, response.reason) == (4, "customer override (medical exemption)")


def test_override_within_the_override_duration_is_a_partial_opt_out():
    pct = summer_pct()
    edc = control(mandatory=False, overrideDuration=900)

    def at(t):
        return Situation(now=t, load_control=in_force(edc, t))

    run(pct, T0, T0 + HOUR + 600, 60, at)
    decision = pct.override(22.5, T0 + HOUR + 600)
    assert decision and "for 15 min" in decision.note
    _, readings = run(pct, T0 + HOUR + 600, T0 + 4 * HOUR, 60, at)
    by_time = dict(readings)
    assert by_time[T0 + HOUR + 1440]["cooling_setpoint_c"] == 22.5
    assert by_time[T0 + HOUR + 1560]["cooling_setpoint_c"] > 25  # the event resumed
    [response] = pct.customer_responses()
    assert (response.status, response.override_duration, response.at) == (8, 900, T0 + 3 * HOUR)


def test_mandatory_event_refuses_an_override_even_within_its_override_duration():
    pct = summer_pct()
    edc = control(mandatory=True, overrideDuration=900)

    def at(t):
        return Situation(now=t, load_control=in_force(edc, t))

    run(pct, T0, T0 + HOUR + 600, 60, at)
    raised = pct.readings()["cooling_setpoint_c"]
    decision = pct.override(22.5, T0 + HOUR + 600)
    assert not decision and "mandatory" in decision.note
    _, readings = run(pct, T0 + HOUR + 600, T0 + HOUR + 1200, 60, at)
    assert all(r["cooling_setpoint_c"] == raised for _, r in readings)
    assert pct.customer_responses() == []


def test_override_without_an_event_holds_until_the_next_schedule_period():
    schedule = (SchedulePeriod(0, 18.0, 26.0), SchedulePeriod(6 * HOUR, 21.0, 24.0))
    pct = Thermostat(mode=COOL, schedule=schedule, climate=still_air(30.0))
    pct.step(Situation(now=T0 + HOUR), 60)
    assert pct.override(23.0, T0 + HOUR + 60)
    _, readings = run(pct, T0 + HOUR + 60, T0 + 7 * HOUR, 60)
    assert dict(readings)[T0 + 6 * HOUR]["cooling_setpoint_c"] == 23.0
    assert dict(readings)[T0 + 6 * HOUR + 60]["cooling_setpoint_c"] == 24.0
    assert pct.customer_responses() == []


controls = st.one_of(
    st.none(),
    st.builds(lambda m: {"mandatory": m}, st.booleans()),
    st.builds(
        lambda c, h, f, m: {"Offset": Offset(coolingOffset=c, heatingOffset=h), "forward": f, "mandatory": m},
        st.integers(0, 255),
        st.integers(0, 255),
        st.booleans(),
        st.booleans(),
    ),
    st.builds(
        lambda c, h: {"SetPoint": SetPoint(coolingSetpoint=c, heatingSetpoint=h)},
        st.integers(-5000, 6000),
        st.integers(-5000, 6000),
    ),
    st.builds(lambda d: {"DutyCycle": DutyCycle(normalValue=d)}, st.integers(0, 100)),
)


@slow
@example(mode="heat", mean=40.0, amplitude=5.0, indoor=30.0, plan=[(None, False, 4 * HOUR)] * 8)
@example(mode="cool", mean=-10.0, amplitude=5.0, indoor=10.0, plan=[(None, False, 4 * HOUR)] * 8)
@example(
    mode="cool", mean=38.0, amplitude=8.0, indoor=30.0, plan=[({"DutyCycle": DutyCycle(normalValue=0)}, False, DAY)]
)
@given(
    mode=st.sampled_from(["heat", "cool", "auto"]),
    mean=st.floats(-10, 35),
    amplitude=st.floats(0, 10),
    indoor=st.floats(8, 32),
    plan=st.lists(st.tuples(controls, st.booleans(), st.integers(30, 4 * HOUR)), min_size=1, max_size=20),
)
def test_thermostat_never_leaves_the_hard_comfort_limits(mode, mean, amplitude, indoor, plan):
    pct = Thermostat(mode=mode, climate=Climate(mean_c=mean, amplitude_c=amplitude, seed=7), indoor_c=indoor)
    t = T0
    for index, (values, critical, dt) in enumerate(plan):
        edc = None if values is None else control(f"{index:032X}", start=t, duration=dt, **values)
        pct.step(Situation(now=t, load_control=edc, price=price(critical=critical)), dt)
        t += dt
        r = pct.readings()
        assert 5.0 <= r["indoor_c"] <= 35.0
        assert 10.0 <= r["heating_setpoint_c"] < r["cooling_setpoint_c"] <= 32.0


@settings(max_examples=60, deadline=None)
@given(
    cooling=st.integers(1100, 3200),
    heating=st.one_of(st.none(), st.integers(1000, 3100)),
    mandatory=st.booleans(),
    critical=st.booleans(),
    offset=st.one_of(st.none(), st.integers(0, 255)),
)
def test_an_explicit_set_point_always_wins(cooling, heating, mandatory, critical, offset):
    if heating is not None and heating > cooling - 100:
        heating = None
    pct = Thermostat(climate=still_air(25.0))
    values = {"SetPoint": SetPoint(coolingSetpoint=cooling, heatingSetpoint=heating)}
    if offset is not None:
        values["Offset"] = Offset(coolingOffset=offset, heatingOffset=offset)
    edc = control(start=T0, mandatory=mandatory, **values)
    pct.step(Situation(now=T0 + 60, load_control=edc, price=price(critical=critical)), 60)
    assert pct.readings()["cooling_setpoint_c"] == pytest.approx(cooling / 100)
    if heating is not None:
        assert pct.readings()["heating_setpoint_c"] == pytest.approx(heating / 100)


# -- water heater --------------------------------------------------------------------------------------------------


def dry_tank(**kw) -> WaterHeater:
    """A water heater nobody draws from."""
    return WaterHeater(draws=DrawProfile(litres_per_day=0.0), **kw)


def heater_event(**values) -> EndDeviceControl:
    values.setdefault("category", WATER_HEATER)
    values.setdefault("start", T0)
    values.setdefault("duration", 4 * HOUR)
    return control(**values)


def test_water_heater_sheds_and_keeps_the_tank_above_the_safe_minimum():
    free = dry_tank(tank_c=52.0)
    free.step(Situation(now=T0), 60)
    assert free.readings()["element_on"] == 1.0 and free.readings()["W"] == -4500.0

    heater = dry_tank(tank_c=50.6)
    edc = heater_event(ApplianceLoadReduction=ApplianceLoadReduction(type=1))
    notes, readings = run(heater, T0, T0 + 5 * HOUR, 60, lambda t: Situation(now=t, load_control=in_force(edc, t)))
    assert readings[0][1]["element_on"] == 0.0  # shed
    assert min(r["tank_c"] for _, r in readings) >= 49.0
    assert any(n.startswith("tank 50.0 C at the safe minimum 49 C: heating despite CPP event 4E1A") for n in notes)
    assert any(r["element_on"] == 1.0 for t, r in readings if t <= T0 + 4 * HOUR)
    [response] = heater.customer_responses()
    assert response.status == 8 and response.at == T0 + 4 * HOUR
    assert 0 < response.override_duration < 4 * HOUR
    assert "safe minimum" in response.reason


def test_water_heater_duty_cycle_and_delay():
    heater = dry_tank(tank_c=52.0)
    edc = heater_event(DutyCycle=DutyCycle(normalValue=50))
    _, readings = run(heater, T0, T0 + HOUR, 10, lambda t: Situation(now=t, load_control=in_force(edc, t)))
    on = [t - 10 for t, r in readings if r["element_on"]]
    assert on and all(duty_cycle_on(T0, t, 50) for t in on)

    delayed = dry_tank(tank_c=53.5)  # above the 53 C start threshold: no heating cycle in progress
    edc = heater_event(ApplianceLoadReduction=ApplianceLoadReduction(type=0))
    _, readings = run(delayed, T0, T0 + 4 * HOUR, 60, lambda t: Situation(now=t, load_control=in_force(edc, t)))
    assert all(r["element_on"] == 0 for t, r in readings if t <= T0 + 4 * HOUR - 60)
    running = dry_tank(tank_c=52.0)  # a heating cycle already running finishes
    running.step(Situation(now=T0 - 60), 60)
    _, readings = run(running, T0, T0 + HOUR, 60, lambda t: Situation(now=t, load_control=in_force(edc, t)))
    assert readings[0][1]["element_on"] == 1.0


def test_water_heater_target_reduction_power_and_energy():
    heater = dry_tank(tank_c=52.0)
    capped = heater_event(TargetReduction=TargetReduction(type=1, value=3))  # 3 kW: the 4.5 kW element waits
    heater.step(Situation(now=T0, load_control=capped), 600)
    assert heater.readings()["Wh_imported"] == 0
    budget = dry_tank(tank_c=52.0)
    energy = heater_event(TargetReduction=TargetReduction(type=0, value=1))  # 1 kWh over the event
    _, readings = run(budget, T0, T0 + HOUR, 60, lambda t: Situation(now=t, load_control=in_force(energy, t)))
    assert readings[-1][1]["Wh_imported"] == pytest.approx(1000, abs=4500 * 10 / 3600 + 1e-6)


def test_water_heater_pre_heats_before_an_event_and_boosts_on_load_shift_forward():
    heater = dry_tank(tank_c=56.0)
    upcoming = heater_event(start=T0 + 1800, ApplianceLoadReduction=ApplianceLoadReduction(type=1))
    notes = heater.step(Situation(now=T0, next_load_control=upcoming), 60)
    assert notes == ["tank set point 57.0 -> 62.0 C (pre-heat before CPP event 4E1A... at 00:30)"]
    assert heater.readings()["element_on"] == 1.0

    boost = dry_tank(tank_c=56.0)
    edc = heater_event(forward=True, Offset=Offset(heatingOffset=40))
    boost.step(Situation(now=T0, load_control=edc), 60)
    assert boost.readings()["setpoint_c"] == pytest.approx(61.0)

    low = dry_tank()
    low.step(Situation(now=T0, load_control=heater_event(SetPoint=SetPoint(heatingSetpoint=4000))), 60)
    assert low.readings()["setpoint_c"] == 54.0  # 40 C asked; held at the floor (49 + 1 + 4 C differential)


def water_controls():
    return st.one_of(
        st.none(),
        st.builds(lambda t: {"ApplianceLoadReduction": ApplianceLoadReduction(type=t)}, st.integers(0, 1)),
        st.builds(lambda d: {"DutyCycle": DutyCycle(normalValue=d)}, st.integers(0, 100)),
        st.builds(lambda p: {"Offset": Offset(loadAdjustmentPercentageOffset=p)}, st.integers(0, 100)),
        st.builds(lambda o: {"Offset": Offset(heatingOffset=o)}, st.integers(0, 255)),
        st.builds(lambda s: {"SetPoint": SetPoint(heatingSetpoint=s)}, st.integers(-2000, 9000)),
        st.builds(
            lambda u, v: {"TargetReduction": TargetReduction(type=u, value=v)}, st.integers(0, 12), st.integers(0, 9)
        ),
        st.builds(lambda f: {"forward": f, "Offset": Offset(heatingOffset=50)}, st.booleans()),
    )


@slow
@given(
    tank=st.floats(49.0, 60.0),
    litres=st.floats(0, 100),
    seed=st.integers(0, 1000),
    plan=st.lists(
        st.tuples(water_controls(), st.booleans(), st.booleans(), st.integers(10, 2 * HOUR)), min_size=1, max_size=20
    ),
)
def test_water_tank_never_goes_below_the_safe_minimum(tank, litres, seed, plan):
    # Draws within what the element can reheat: one long, gentle use a day.
    draws = DrawProfile(litres_per_day=litres, seed=seed, uses=((19.0, 1.0, 120.0),))
    heater = WaterHeater(tank_c=tank, draws=draws)
    t = T0 + 17 * HOUR
    for index, (values, mandatory, critical, dt) in enumerate(plan):
        edc = None
        if values is not None:
            edc = heater_event(mrid=f"{index:032X}", start=t, duration=dt, mandatory=mandatory, **values)
        heater.step(Situation(now=t, load_control=edc, price=price(critical=critical)), dt)
        t += dt
        assert heater.readings()["tank_c"] >= 49.0


@slow
@given(
    seed=st.integers(0, 1000),
    plan=st.lists(st.tuples(water_controls(), st.integers(30, 60)), min_size=1, max_size=10),
)
def test_heavy_draws_never_meet_a_held_off_element_below_the_floor(seed, plan):
    # A bath drawn faster than any element reheats: the tank falls below the floor whatever the controller does.
    draws = DrawProfile(litres_per_day=300, seed=seed, uses=((0.5, 1.0, 20.0),))
    heater = WaterHeater(tank_c=51.0, draws=draws)
    t = int(draws.draws_on(math.floor(T0 / DAY))[0].start) - 60
    below = 0
    for index, (values, steps) in enumerate(plan):
        edc = None if values is None else heater_event(mrid=f"{index:032X}", start=t, duration=steps * 10, **values)
        for _ in range(steps):
            before = heater.tank_c
            heater.step(Situation(now=t, load_control=edc), 10)
            t += 10
            if before < heater.floor_c:
                below += 1
                assert heater.readings()["element_on"] == 1.0
    assert below > 0


# -- smart appliance ------------------------------------------------------------------------------------------------


def test_a_start_during_an_event_waits_until_the_event_ends():
    washer = SmartAppliance("dishwasher")
    edc = control(category=SMART_APPLIANCE, start=T0, duration=2 * HOUR)
    washer.step(Situation(now=T0, load_control=edc), 60)
    decision = washer.request_start(T0 + 60)
    assert decision and decision.note == "start delayed until 02:00 (end of CPP event 4E1A...)"
    notes, readings = run(washer, T0 + 60, T0 + 8 * HOUR, 60, lambda t: Situation(now=t, load_control=in_force(edc, t)))
    started = next(t for t, r in readings if r["running"])
    assert started == T0 + 2 * HOUR + 60
    assert "dishwasher cycle started (delayed start)" in notes and "dishwasher cycle complete" in notes
    assert washer.cycles_completed == 1
    assert readings[-1][1]["Wh_imported"] == pytest.approx(sum(p.power_w * p.duration_s for p in washer.phases) / 3600)


def test_customer_may_start_a_waiting_cycle_in_a_voluntary_event_only():
    edc = control(category=SMART_APPLIANCE, start=T0, duration=2 * HOUR)
    washer = SmartAppliance("dishwasher")
    washer.step(Situation(now=T0, load_control=edc), 60)
    washer.request_start(T0 + 60)
    assert washer.override(T0 + 120)
    washer.step(Situation(now=T0 + 120, load_control=edc), 60)
    assert washer.state == "running"
    assert [(r.status, r.event_mrid) for r in washer.customer_responses()] == [(4, EVENT)]

    emergency = control(category=SMART_APPLIANCE, start=T0, duration=2 * HOUR, mandatory=True)
    dryer = SmartAppliance("dryer")
    dryer.step(Situation(now=T0, load_control=emergency), 60)
    dryer.request_start(T0 + 60)
    decision = dryer.override(T0 + 120)
    assert not decision and decision.note == "override refused: mandatory event 4E1A..."
    assert dryer.state == "waiting"


def test_critical_peak_price_delays_the_start_until_the_price_changes():
    dryer = SmartAppliance("dryer")
    cpp = price(4, 0.9, critical=True, next_change=T0 + HOUR)
    dryer.step(Situation(now=T0, price=cpp), 60)
    assert dryer.request_start(T0 + 60).note == "start delayed until 01:00 (critical peak price)"
    run(dryer, T0 + 60, T0 + HOUR, 60, lambda t: Situation(now=t, price=cpp))
    assert dryer.state == "waiting"
    dryer.step(Situation(now=T0 + HOUR, price=price(1, 0.1)), 60)
    assert dryer.state == "running"


def test_a_running_cycle_only_pauses_its_heater_and_only_for_a_while():
    dryer = SmartAppliance("dryer")
    dryer.request_start(T0)
    dryer.step(Situation(now=T0), 600)
    edc = control(category=SMART_APPLIANCE, start=T0 + 600, duration=2 * HOUR, mandatory=True,
                  ApplianceLoadReduction=ApplianceLoadReduction(type=1))  # fmt: skip
    notes, readings = run(dryer, T0 + 600, T0 + 3 * HOUR, 60, lambda t: Situation(now=t, load_control=in_force(edc, t)))
    assert readings[0][1]["W"] == -300.0  # the drum tumbles without heat
    assert notes[0] == "emergency event 4E1A...: heater paused in 'heat and tumble' (at most 30 min per cycle)"
    assert "heater resumed in 'heat and tumble' (pause limit reached)" in notes
    done = next(t for t, r in readings if not r["running"])
    assert done == T0 + 3600 + 1800  # 60 min of cycle and the 30 min pause
    assert dryer.cycles_completed == 1


appliance_controls = st.one_of(
    st.none(),
    st.builds(lambda t: {"ApplianceLoadReduction": ApplianceLoadReduction(type=t)}, st.integers(0, 1)),
    st.builds(lambda d: {"DutyCycle": DutyCycle(normalValue=d)}, st.integers(0, 100)),
    st.builds(lambda u, v: {"TargetReduction": TargetReduction(type=u, value=v)}, st.integers(0, 2), st.integers(0, 9)),
)


@settings(max_examples=60, deadline=None)
@given(
    appliance=st.sampled_from(["dishwasher", "dryer"]),
    plan=st.lists(st.tuples(appliance_controls, st.booleans(), st.integers(1, 900)), min_size=1, max_size=200),
)
def test_a_running_cycle_always_completes(appliance, plan):
    device = SmartAppliance(appliance)
    assert device.request_start(T0)
    bound = T0 + device.cycle_duration_s + device.max_heater_pause_s
    t, index = T0, 0
    while device.cycles_completed == 0:
        assert t < bound, "the cycle was abandoned or stalled"
        values, mandatory, dt = plan[index % len(plan)]
        edc = None
        if values is not None:
            edc = control(
                f"{index:032X}", category=SMART_APPLIANCE, start=t, duration=dt, mandatory=mandatory, **values
            )
        device.step(Situation(now=t, load_control=edc), dt)
        t, index = t + dt, index + 1
    full_cycle_wh = sum(p.power_w * p.duration_s for p in device.phases) / 3600
    assert device.readings()["Wh_imported"] >= full_cycle_wh - 1e-6  # every phase ran in full


# -- in-home display ------------------------------------------------------------------------------------------------


def message(mrid: str, text: str, priority: int = 1, *, start: int = T0, originator: str = "Utility") -> TextMessage:
    return TextMessage(
        mRID=mrid,
        creationTime=start,
        EventStatus=EventStatus(currentStatus=1, dateTime=start, potentiallySuperseded=False),
        interval=DateTimeInterval(start=start, duration=DAY),
        priority=priority,
        textMessage=text,
        originator=originator,
    )


def test_display_shows_prices_usage_and_cost_at_the_use_case_resolutions():
    display = InHomeDisplay()
    now = T0 + 10 * DAY
    tou = price(2, 0.1525, currency=840, next_change=now + 2 * HOUR, next_tier=3, next_price_per_kwh=0.31)
    display.observe_meter(now - 60, 12_000.0)
    display.step(Situation(now=now, price=tou), 60)
    display.observe_meter(now, 12_025.0, demand_w=1234.5)
    assert display.screen() == [
        "Tier 2 $0.153/kWh",
        "Next 02:00 tier 3 $0.310/kWh",
        "Now 1.23 kW $0.19/h",  # 1.2345 kW x 0.1525 = 0.188
        "Month 0.0 kWh $0.00",
        "Projected bill $0.00",  # $0.0038 after 23 of 30 days
    ]
    billing = UsageSituation(month_to_date_kwh=321.25, month_to_date_cost=48.125, projected_bill=144.375)
    display.step(Situation(now=now + 60, price=tou, usage=billing), 60)
    assert display.screen()[3:] == ["Month 321.3 kWh $48.13", "Projected bill $144.38"]
    cpp = price(4, 0.9, critical=True)
    assert display.step(Situation(now=now + 120, price=cpp), 60) == ["price tier 2 -> tier 4 $0.900/kWh, critical peak"]
    assert display.screen()[0] == "Tier 4 $0.900/kWh CRITICAL PEAK"


def test_display_counts_the_month_from_its_meter_and_starts_again_on_the_bill_date():
    display = InHomeDisplay(bill_day=15)  # T0 is the 14th: the period started on 15 October
    flat = price(1, 0.20)
    display.step(Situation(now=T0, price=flat), 60)
    for hour in range(24):  # 1 kWh an hour on the 14th
        display.observe_meter(T0 + hour * HOUR, 1000.0 * hour)
    figures = display.figures()
    assert (figures.month_kwh, figures.month_cost) == (Decimal("23.0"), Decimal("4.60"))
    # $4.60 after 30 days 23 hours of a 31-day period, carried to the whole period: $4.6063
    assert figures.projected_bill == Decimal("4.61")
    display.observe_meter(T0 + DAY + HOUR, 25_000.0)  # crossed midnight into the 15th
    notes = display.step(Situation(now=T0 + DAY + HOUR, price=flat), 60)
    assert notes == ["new billing period from 2023-11-15"]
    assert display.figures().month_kwh == Decimal("2.0")


def test_display_prices_block_rates_by_the_month_consumption():
    display = InHomeDisplay()
    blocks = price(1, 0.10, blocks=((0.0, 0.10), (500.0, 0.20)))
    display.step(Situation(now=T0, price=blocks, usage=UsageSituation(month_to_date_kwh=499.0)), 60)
    assert display.figures().price_per_kwh == Decimal("0.100")
    display.step(Situation(now=T0 + 60, price=blocks, usage=UsageSituation(month_to_date_kwh=501.0)), 60)
    assert display.figures().price_per_kwh == Decimal("0.200")


def test_display_shows_messages_by_priority_in_the_customers_language():
    display = InHomeDisplay(locale="es-MX")
    english = message("01" * 16, "Energy shortage tomorrow 2-6 pm. Please reduce your use.", 2)
    spanish = message("02" * 16, "Escasez de energía mañana de 14 a 18 h. Reduzca su consumo.", 2)
    low = message("03" * 16, "New billing cycle starts today.", 0)
    locales = {english.mRID: "en-US", spanish.mRID: "es-MX", low.mRID: "en-US"}
    notes = display.step(Situation(now=T0, messages=(english, spanish, low), message_locales=locales), 60)
    assert "message 0202... (high): Escasez de energía mañana de 14 a 18 h. Reduzca su consumo." in notes
    screen = display.screen()
    assert screen[-3:] == ["Message 1/2 (high)", "Escasez de energía mañana de 14 a 18 h.", "Reduzca su consumo."]
    assert all(len(line) <= 40 for line in screen)
    display.next_message()
    assert display.screen()[-2:] == ["Message 2/2 (low)", "New billing cycle starts today."]
    critical = message("04" * 16, "Grid emergency: turn off air conditioning now.", 3, start=T0 + 60)
    display.step(Situation(now=T0 + 60, messages=(critical, english, spanish, low), message_locales=locales), 60)
    assert display.screen()[-3:] == ["Message 1/3 (critical)", "Grid emergency: turn off air", "conditioning now."]


def test_display_reports_messages_it_cannot_show_and_acknowledgements():
    display = InHomeDisplay(width=20, lines=6, message_lines=5)  # 100 characters: the least a device must take
    fits = message("01" * 16, "x" * 100)
    too_long = message("02" * 16, "y" * 101)
    foreign = message("03" * 16, "停电通知")
    situation = Situation(now=T0, messages=(fits, too_long, foreign))
    notes = display.step(situation, 60)
    assert "message 0202... cannot be displayed: 101 characters; the screen holds 100" in notes
    assert display.screen()[-5:] == ["x" * 20] * 5
    display.step(Situation(now=T0 + 60, messages=(fits, too_long, foreign)), 60)  # reported once
    assert display.acknowledge(fits.mRID, T0 + 90)
    assert not display.acknowledge(fits.mRID, T0 + 95)
    assert not display.acknowledge(too_long.mRID, T0 + 95)
    responses = [(r.event_mrid, r.status) for r in display.customer_responses()]
    assert responses == [(too_long.mRID, 12), (foreign.mRID, 12), (fits.mRID, 11)]


@example(demand_w=1234.5, per_kwh=0.0005, month_kwh=0.25, month_cost=2.675, bill=1.005)  # ties, below in binary
@given(
    demand_w=st.floats(0, 100_000, allow_nan=False),
    per_kwh=st.floats(0, 5, allow_nan=False),
    month_kwh=st.floats(0, 100_000, allow_nan=False),
    month_cost=st.floats(0, 100_000, allow_nan=False),
    bill=st.floats(0, 100_000, allow_nan=False),
)
def test_display_rounding_matches_the_resolutions(demand_w, per_kwh, month_kwh, month_cost, bill):
    def exact(x: float, step: str) -> Decimal:
        return Decimal(repr(x)).quantize(Decimal(step), ROUND_HALF_UP)

    display = InHomeDisplay(width=60)
    usage = UsageSituation(month_to_date_kwh=month_kwh, month_to_date_cost=month_cost, projected_bill=bill)
    display.observe_meter(T0, 0.0, demand_w=demand_w)
    display.step(Situation(now=T0, price=price(1, per_kwh), usage=usage), 60)
    f = display.figures()
    assert f.demand_kw == exact(demand_w / 1000, "0.01")
    assert f.cost_per_hour == exact(demand_w / 1000 * per_kwh, "0.01")
    assert f.month_kwh == exact(month_kwh, "0.1")
    assert f.month_cost == exact(month_cost, "0.01")
    assert f.projected_bill == exact(bill, "0.01")
    assert f.price_per_kwh == exact(per_kwh, "0.001")
    for value, step in ((f.demand_kw, 2), (f.cost_per_hour, 2), (f.month_kwh, 1), (f.month_cost, 2)):
        assert value.as_tuple().exponent == -step
    assert display.screen() == [
        f"Tier 1 ${f.price_per_kwh}/kWh",
        f"Now {f.demand_kw} kW ${f.cost_per_hour}/h",
        f"Month {f.month_kwh} kWh ${f.month_cost}",
        f"Projected bill ${f.projected_bill}",
    ]


# -- EV charger -------------------------------------------------------------------------------------------------------


def overnight_vehicle(**kw) -> Vehicle:
    values = {"capacity_wh": 60_000.0, "soc_pct": 30.0, "target_soc_pct": 80.0, "departure": T0 + DAY + 7 * HOUR}
    values.update(kw)
    return Vehicle(**values)


def test_reservation_request_asks_for_what_the_vehicle_needs():
    charger = EvCharger(max_power_w=7200, efficiency=0.9, vehicle=overnight_vehicle())
    request = charger.reservation_request(T0 + 18 * HOUR, earliest_start=T0 + 23 * HOUR)
    assert request == ReservationRequest(
        energy_wh=pytest.approx(30_000 / 0.9),
        power_w=7200,
        start=T0 + 23 * HOUR,
        duration=8 * HOUR,
        duration_requested=math.ceil(30_000 / 0.9 / 7200 * 3600),
    )
    assert EvCharger(vehicle=overnight_vehicle(max_charge_w=3300)).reservation_request(T0).power_w == 3300
    assert EvCharger().reservation_request(T0) is None
    assert EvCharger(vehicle=overnight_vehicle(soc_pct=80)).reservation_request(T0) is None
    assert EvCharger(vehicle=overnight_vehicle()).reservation_request(T0 + DAY + 7 * HOUR) is None


def test_charger_charges_only_within_its_grant():
    charger = EvCharger(max_power_w=7200, efficiency=0.9, vehicle=overnight_vehicle())
    grant = FlowGrant(request_mrid="AA" * 16, start=T0 + DAY + HOUR, duration=4 * HOUR, energy_wh=9000, power_w=3000)
    notes, readings = run(
        charger, T0 + 22 * HOUR, T0 + DAY + 8 * HOUR, 300, lambda t: Situation(now=t, flow_grants=(grant,))
    )
    by_time = dict(readings)
    assert by_time[T0 + DAY + HOUR]["Wh_imported"] == 0 and by_time[T0 + DAY + HOUR]["W"] == 0
    assert by_time[T0 + DAY + 2 * HOUR]["W"] == -3000.0
    assert by_time[T0 + DAY + 4 * HOUR]["W"] == -3000.0
    assert by_time[T0 + DAY + 4 * HOUR + 300]["W"] == 0.0  # 9 kWh at 3 kW: done after 3 hours
    assert charger.delivered_wh(grant.request_mrid) == pytest.approx(9000)
    assert by_time[T0 + DAY + 7 * HOUR]["soc_pct"] == pytest.approx(30 + 9000 * 0.9 / 600)
    assert notes[-3:] == [
        "charging under grant AAAA...",
        "charging stopped (grant energy used up or event)",
        "vehicle left at 44 % (target 80 %)",
    ]
    assert by_time[T0 + DAY + 8 * HOUR]["plugged_in"] == 0.0


def test_charger_stops_at_the_target_and_sheds_for_an_event():
    charger = EvCharger(max_power_w=7200, vehicle=overnight_vehicle(soc_pct=79.0))
    grant = FlowGrant(request_mrid="AB" * 16, start=T0, duration=8 * HOUR, energy_wh=50_000, power_w=7200)
    run(charger, T0, T0 + 2 * HOUR, 300, lambda t: Situation(now=t, flow_grants=(grant,)))
    assert charger.readings()["soc_pct"] == pytest.approx(80.0)
    assert charger.readings()["W"] == 0.0

    shed = control(category=EVSE, start=T0, duration=HOUR, ApplianceLoadReduction=ApplianceLoadReduction(type=1))
    paused = EvCharger(vehicle=overnight_vehicle())
    paused.step(Situation(now=T0, flow_grants=(grant,), load_control=shed), 600)
    assert paused.readings()["Wh_imported"] == 0
    capped = EvCharger(vehicle=overnight_vehicle())
    limit = control(category=EVSE, start=T0, duration=HOUR, TargetReduction=TargetReduction(type=1, value=2))
    capped.step(Situation(now=T0, flow_grants=(grant,), load_control=limit), 600)
    assert capped.readings()["W"] == -2000.0


grants = st.lists(
    st.builds(
        lambda i, start, duration, power, energy: FlowGrant(f"{i:032X}", T0 + start, duration, energy, power),
        st.integers(0, 10**6),
        st.integers(0, 20_000),
        st.integers(1, 20_000),
        st.floats(0, 12_000),
        st.floats(0, 40_000),
    ),
    max_size=3,
    unique_by=lambda g: g.request_mrid,
)


@settings(max_examples=100, deadline=None)
@given(granted=grants, steps=st.lists(st.integers(1, 1800), min_size=1, max_size=60))
def test_charger_never_charges_outside_a_grant_nor_above_it(granted, steps):
    charger = EvCharger(max_power_w=7200, efficiency=0.9, vehicle=overnight_vehicle(soc_pct=5.0, target_soc_pct=100.0))
    t = T0
    for dt in steps:
        before = charger.readings()["Wh_imported"]
        charger.step(Situation(now=t, flow_grants=tuple(granted)), dt)
        drawn = charger.readings()["Wh_imported"] - before
        allowed = sum(g.power_w * max(0, min(t + dt, g.start + g.duration) - max(t, g.start)) / 3600 for g in granted)
        assert drawn <= allowed + 1e-6
        active_at_end = [g.power_w for g in granted if g.start < t + dt <= g.start + g.duration]  # in its last instant
        assert -charger.readings()["W"] <= max(active_at_end, default=0.0)
        t += dt
    for g in granted:
        assert charger.delivered_wh(g.request_mrid) <= g.energy_wh + 1e-6
    assert charger.readings()["Wh_imported"] == pytest.approx(
        sum(charger.delivered_wh(g.request_mrid) for g in granted)
    )
