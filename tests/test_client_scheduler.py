"""The client event scheduler (gridhan.client.scheduler): what one device runs and reports, from the sep2
resources its discovery walk read (IEEE 2030.5-2018 clauses 8.8, 10.2.3, 10.3, 10.5, 10.9, 10.10)."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridhan.client.response_outbox import PendingResponse, ResponseOutbox, asks_for, make_response, response_bits
from gridhan.client.scheduler import (
    ClientScheduler,
    WalkedDerProgram,
    WalkedDrProgram,
    WalkedMessagingProgram,
    WalkedRateComponent,
    der_modes,
    device_draws,
)
from gridhan.client.situation import CustomerResponse
from gridhan.schemas.event_rules import EventSpec, device_effective_interval
from gridhan.schemas.sep2.base import Link, ListLink
from gridhan.schemas.sep2.der import (
    CurveData,
    DefaultDERControl,
    DERControl,
    DERControlBase,
    DERCurve,
    DERProgram,
)
from gridhan.schemas.sep2.drlc import DemandResponseProgram, EndDeviceControl
from gridhan.schemas.sep2.edev import ActivePower
from gridhan.schemas.sep2.events import DateTimeInterval, EventStatus
from gridhan.schemas.sep2.flow import FlowReservationResponse
from gridhan.schemas.sep2.messaging import MessagingProgram, TextMessage
from gridhan.schemas.sep2.metering import ReadingType, SignedRealEnergy
from gridhan.schemas.sep2.pricing import ConsumptionTariffInterval, RateComponent, TariffProfile, TimeTariffInterval
from gridhan.schemas.sep2.response import (
    DERControlResponse,
    DrResponse,
    FlowReservationResponseResponse,
    PriceResponse,
    TextResponse,
)
from gridhan.schemas.xmlcodec import decode, encode

LFDI = "3E4F45AB31EDFE5B67E343E5E4562E31984E23E5"
OTHER_LFDI = "0123456789ABCDEF0123456789ABCDEF01234567"
PV = "00000400"  # DeviceCategoryType bit 10: photovoltaic system (a DER)
PCT = "00000001"  # bit 0: programmable communicating thermostat
WATER_HEATER = "00000002"  # bit 1
RSPS = "/rsps/1/rsp"


# --- sep2 objects ------------------------------------------------------------------------------------------


def status(code: int = 0, at: int = 0) -> EventStatus:
    return EventStatus(currentStatus=code, dateTime=at, potentiallySuperseded=False)


def derc(mrid: str, start: int, duration: int, *, created: int = 0, st: EventStatus | None = None,
         rr: str | None = "03", rs: int | None = None, rd: int | None = None, category: str | None = None,
         reply_to: str | None = RSPS, **modes) -> DERControl:  # fmt: skip
    return DERControl(
        mRID=mrid,
        creationTime=created,
        EventStatus=st or status(0, created),
        interval=DateTimeInterval(start=start, duration=duration),
        DERControlBase=DERControlBase(**modes),
        replyTo=reply_to,
        responseRequired=rr,
        randomizeStart=rs,
        randomizeDuration=rd,
        deviceCategory=category,
    )


def cancelled(control, at: int, code: int = 2):
    return replace(control, EventStatus=status(code, at))


def program(mrid: str, primacy: int, controls=(), default: dict | None = None, curves=None, server: str = ""):
    dflt = DefaultDERControl(mRID=f"D{mrid}", DERControlBase=DERControlBase(**default)) if default else None
    return WalkedDerProgram(DERProgram(mRID=mrid, primacy=primacy), list(controls), dflt, curves or {}, server)


def edc(mrid: str, start: int, duration: int, category: str = PCT, *, created: int = 0, rr: str | None = "03",
        st: EventStatus | None = None, rs: int | None = None) -> EndDeviceControl:  # fmt: skip
    return EndDeviceControl(
        mRID=mrid,
        creationTime=created,
        EventStatus=st or status(0, created),
        interval=DateTimeInterval(start=start, duration=duration),
        deviceCategory=category,
        drProgramMandatory=False,
        loadShiftForward=False,
        replyTo="/rsps/2/rsp",
        responseRequired=rr,
        randomizeStart=rs,
    )


def power(watts: int) -> ActivePower:
    return ActivePower(value=watts, multiplier=0)


def sched(category: str = PV, lfdi: str = LFDI, **kw) -> ClientScheduler:
    return ClientScheduler(lfdi, category, **kw)


def source(s: ClientScheduler, t: int, mode: str = "opModMaxLimW") -> str | None:
    der = s.situation(t).der
    return der.sources.get(mode) if der else None


def story(s: ClientScheduler, now: int, subject: str | None = None) -> list[tuple[str, int, int]]:
    """(subject, status, createdDateTime) of every response due by ``now``, posted at once."""
    out = []
    for r in s.due_responses(now):
        assert s.mark_posted(r)
        if subject is None or r.subject == subject:
            out.append((r.subject, r.status, r.created))
    return out


# --- randomization -----------------------------------------------------------------------------------------


def test_draws_are_fixed_per_device_and_event_and_differ_between_devices():
    assert device_draws(LFDI, "A1") == device_draws(LFDI.lower(), "a1")
    assert device_draws(LFDI, "A1") != device_draws(OTHER_LFDI, "A1")
    assert device_draws(LFDI, "A1") != device_draws(LFDI, "A2")
    assert all(0 <= u < 1 for u in device_draws(LFDI, "A1"))


def test_a_device_runs_its_own_randomized_interval_and_keeps_it():
    control = derc("A1", 10_000, 3600, rs=600, rd=-300, opModMaxLimW=5000)
    spec = EventSpec(mrid="A1", program="P", primacy=1, creation_time=0, start=10_000, duration=3600,
                     randomize_start=600, randomize_duration=-300, modes={"opModMaxLimW"})  # fmt: skip
    start, end = device_effective_interval(spec, *device_draws(LFDI, "A1")[:2])
    assert 10_000 <= start <= 10_600 and 3300 <= end - start <= 3600
    s = sched()
    s.update_der([program("P", 1, [control])], 0)
    assert source(s, start - 1) is None and source(s, start) == "A1" and source(s, end - 1) == "A1"
    assert source(s, end) is None
    s.update_der([program("P", 1, [control])], 5000)  # read again: the same draw
    assert source(s, start - 1) is None and source(s, start) == "A1"
    assert story(s, end) == [("A1", 1, 0), ("A1", 2, start), ("A1", 3, end)]
    other = sched(lfdi=OTHER_LFDI)
    other.update_der([program("P", 1, [control])], 0)
    assert other.next_wakeup(0) != start or other.next_wakeup(start) != end  # another device, another draw


# --- supersession, primacy, defaults -----------------------------------------------------------------------


def test_the_default_fills_each_mode_no_control_holds_from_the_highest_primacy_default_that_sets_it():
    s = sched()
    high = program("HIGH", 1, [derc("A1", 100, 100, opModMaxLimW=5000)], default={"opModMaxLimW": 9000})
    low = program("LOW", 5, default={"opModMaxLimW": 1, "opModConnect": True, "opModFixedW": 20})
    s.update_der([low, high], 0)
    der = s.situation(50).der
    assert (der.base.opModMaxLimW, der.base.opModConnect, der.base.opModFixedW) == (9000, True, 20)
    assert der.sources == {"opModMaxLimW": "default", "opModConnect": "default", "opModFixedW": "default"}
    der = s.situation(150).der
    assert (der.base.opModMaxLimW, der.sources["opModMaxLimW"]) == (5000, "A1")
    assert der.base.opModConnect is True  # still the default: controls are independent per mode


def test_a_control_of_any_program_comes_before_every_default():
    s = sched()
    s.update_der([program("HIGH", 0, default={"opModExpLimW": power(0)}),
                  program("LOW", 9, [derc("L1", 100, 100, opModExpLimW=power(3000))])], 0)  # fmt: skip
    assert s.situation(150).der.base.opModExpLimW == power(3000)
    assert s.situation(250).der.base.opModExpLimW == power(0)


def test_a_lower_primacy_program_wins_and_the_loser_reports_an_abort_by_another_program():
    s = sched()
    mine = derc("LOW1", 100, 300, created=0, opModMaxLimW=8000)
    theirs = derc("HIGH1", 200, 100, created=0, opModMaxLimW=2000)
    s.update_der([program("AGG", 5, [mine]), program("UTIL", 1, [theirs])], 0)
    assert [source(s, t) for t in (150, 200, 299, 300, 350)] == ["LOW1", "HIGH1", "HIGH1", None, None]
    assert story(s, 400, "LOW1") == [("LOW1", 1, 0), ("LOW1", 2, 100), ("LOW1", 14, 200)]
    assert story(s, 400) == [] and s.due_responses(400) == []


def test_an_event_of_another_server_aborts_with_13_and_a_newer_one_of_the_program_supersedes_with_7():
    s = sched()
    s.update_der([program("A", 5, [derc("A1", 100, 300, opModMaxLimW=1)], server="utility"),
                  program("B", 1, [derc("B1", 200, 50, opModMaxLimW=2)], server="dso")], 0)  # fmt: skip
    assert (("A1", 13, 200)) in story(s, 400)
    s2 = sched()
    s2.update_der([program("A", 5, [derc("OLD", 100, 300, created=0, opModMaxLimW=1),
                                    derc("NEW", 200, 50, created=10, opModMaxLimW=2)])], 20)  # fmt: skip
    assert ("OLD", 7, 200) in story(s2, 400)
    assert [source(s2, t) for t in (150, 220, 260)] == ["OLD", "NEW", None]  # no resumption


def test_a_partly_superseded_event_keeps_running_its_other_modes():
    s = sched()
    s.update_der([program("P", 1, [derc("WIDE", 100, 300, opModMaxLimW=1, opModConnect=True),
                                   derc("NARROW", 200, 50, created=5, opModMaxLimW=2)])], 10)  # fmt: skip
    der = s.situation(220).der
    assert der.sources == {"opModMaxLimW": "NARROW", "opModConnect": "WIDE"}
    assert source(s, 300) is None and s.situation(300).der.sources == {"opModConnect": "WIDE"}
    assert [st for subject, st, _ in story(s, 500, "WIDE")] == [1, 2, 3]


def test_an_event_read_late_takes_over_from_when_it_was_read():
    s = sched()
    s.update_der([program("P", 1, [derc("OLD", 100, 300, opModMaxLimW=1)])], 0)
    assert story(s, 150) == [("OLD", 1, 0), ("OLD", 2, 100)]
    newer = derc("NEW", 100, 300, created=120, opModMaxLimW=2)  # created at 120, read at 180
    s.update_der([program("P", 1, [derc("OLD", 100, 300, opModMaxLimW=1), newer])], 180)
    assert source(s, 179) == "OLD" and source(s, 180) == "NEW"
    assert story(s, 500) == [("NEW", 1, 180), ("NEW", 2, 180), ("OLD", 7, 180), ("NEW", 3, 400)]


def test_curves_are_resolved_by_href_and_the_ramp_time_travels_with_the_control():
    curve = DERCurve(mRID="C1", creationTime=0, CurveData=[CurveData(xvalue=90, yvalue=100)], curveType=3,
                     xMultiplier=0, yMultiplier=0, yRefType=0)  # fmt: skip
    s = sched()
    control = derc("VW", 100, 100, opModVoltWatt=Link(href="/derp/1/dc/1"), rampTms=500)
    s.update_der([program("P", 1, [control], default={"opModVoltVar": Link(href="/missing")},
                          curves={"/derp/1/dc/1": curve})], 0)  # fmt: skip
    der = s.situation(150).der
    assert der.curves == {"opModVoltWatt": curve} and der.base.rampTms == 500
    assert der.base.opModVoltVar == Link(href="/missing")  # set, but its curve was not walked
    assert s.situation(50).der.curves == {} and s.situation(50).der.base.rampTms is None


# --- the server's EventStatus --------------------------------------------------------------------------------


def test_a_cancellation_stops_the_event_when_learned():
    control = derc("A1", 100, 300, opModMaxLimW=1)
    s = sched()
    s.update_der([program("P", 1, [control])], 0)
    s.update_der([program("P", 1, [cancelled(control, 140)])], 180)  # cancelled at 140, read at 180
    assert source(s, 179) == "A1" and source(s, 180) is None
    assert story(s, 500) == [("A1", 1, 0), ("A1", 2, 100), ("A1", 6, 180)]


def test_a_cancellation_with_randomization_stops_within_the_end_randomization():
    control = derc("A1", 100, 3000, rs=-60, rd=900, opModMaxLimW=1)
    s = sched()
    s.update_der([program("P", 1, [control])], 0)
    s.update_der([program("P", 1, [cancelled(control, 1000, code=3)])], 1000)
    stop = s.next_wakeup(1000)
    spec = EventSpec(mrid="A1", program="P", primacy=1, creation_time=0, start=100, duration=3000, randomize_start=-60,
                     randomize_duration=900, modes={"m"}, cancelled_at=1000, cancel_randomized=True)  # fmt: skip
    from gridhan.schemas.event_rules import device_cancel_time

    assert stop == device_cancel_time(spec, device_draws(LFDI, "A1")[2])
    assert 1000 <= stop <= 1900
    assert source(s, stop - 1) == "A1" and source(s, stop) is None
    assert story(s, 5000)[-1] == ("A1", 6, stop)


def test_an_event_first_read_cancelled_or_superseded_never_starts():
    s = sched()
    s.update_der([program("P", 1, [cancelled(derc("C1", 100, 300, rd=600, opModMaxLimW=1), 90, code=3),
                                   derc("S1", 100, 300, st=status(4, 100), opModConnect=False)])], 150)  # fmt: skip
    assert s.situation(150).der.sources == {}
    assert sorted(story(s, 1000)) == [("C1", 1, 150), ("C1", 6, 150), ("S1", 1, 150), ("S1", 7, 150)]


def test_an_event_the_server_marks_superseded_ends_at_once():
    control = derc("A1", 100, 300, opModMaxLimW=1)
    s = sched()
    s.update_der([program("P", 1, [control])], 0)
    s.update_der([program("P", 1, [replace(control, EventStatus=status(4, 200))])], 250)
    assert source(s, 249) == "A1" and source(s, 250) is None
    assert story(s, 500)[-1] == ("A1", 7, 250)


def test_an_event_read_after_its_end_is_answered_expired_and_never_runs():
    s = sched()
    s.update_der([program("P", 1, [derc("OLD", 100, 100, opModMaxLimW=1)])], 200)
    assert source(s, 200) is None and s.next_wakeup(200) is None
    assert story(s, 300) == [("OLD", 254, 200)]


def test_a_control_that_sets_no_mode_is_answered_invalid():
    s = sched()
    s.update_der([program("P", 1, [derc("EMPTY", 100, 100)])], 0)
    assert story(s, 10) == [("EMPTY", 253, 0)] and s.situation(150).der.sources == {}


# --- lists that change -------------------------------------------------------------------------------------


def test_an_event_no_longer_listed_keeps_running_but_a_program_no_longer_assigned_stops():
    control = derc("A1", 100, 300, opModMaxLimW=1)
    s = sched()
    s.update_der([program("P", 1, [control], default={"opModMaxLimW": 7})], 0)
    s.update_der([program("P", 1, [], default={"opModMaxLimW": 7})], 150)  # gone from the list, not cancelled
    assert source(s, 399) == "A1"
    s.update_der([], 200)  # the device left the program's group
    assert s.situation(200).der.sources == {} and s.situation(200).der.base.opModMaxLimW is None
    assert story(s, 1000) == [("A1", 1, 0), ("A1", 2, 100)]  # nothing more is owed to that program


def test_a_finished_event_dropped_from_the_list_is_forgotten_and_not_answered_again():
    control = derc("A1", 100, 100, opModMaxLimW=1)
    s = sched()
    s.update_der([program("P", 1, [control])], 0)
    assert len(story(s, 300)) == 3
    s.update_der([program("P", 1, [])], 300)
    s.due_responses(300)
    s.update_der([program("P", 1, [control])], 400)  # listed again
    assert story(s, 500) == []


# --- the device category --------------------------------------------------------------------------------------


def test_controls_for_other_device_categories_are_ignored_and_unanswered():
    s = sched(PV)
    s.update_der([program("P", 1, [derc("EV", 100, 100, category="00000800", opModMaxLimW=1),
                                   derc("PV", 100, 100, category="00000C00", opModMaxLimW=2)])], 0)  # fmt: skip
    assert source(s, 150) == "PV" and [x for x, *_ in story(s, 300)] == ["PV", "PV", "PV"]


def test_load_control_follows_the_device_category_and_program_primacy():
    s = sched(PCT)
    s.update_drlc([WalkedDrProgram(DemandResponseProgram(mRID="A", primacy=3),
                                   [edc("PCT1", 100, 300), edc("WH1", 100, 300, WATER_HEATER)]),
                   WalkedDrProgram(DemandResponseProgram(mRID="B", primacy=1),
                                   [edc("BOTH", 200, 50, "00000003")])], 0)  # fmt: skip
    assert s.situation(50).load_control is None
    assert s.situation(150).load_control.mRID == "PCT1"
    assert s.situation(220).load_control.mRID == "BOTH"
    assert s.situation(260).load_control is None  # PCT1 lost the category for good
    posted = s.due_responses(400)
    assert {r.subject for r in posted} == {"PCT1", "BOTH"}  # WH1 is not for a thermostat
    assert all(isinstance(r.response, DrResponse) and r.reply_to == "/rsps/2/rsp" for r in posted)
    assert ("PCT1", 14) in {(r.subject, r.status) for r in posted}


def test_the_next_load_control_is_announced_before_it_starts():
    s = sched(PCT)
    first, second = edc("0A01", 100, 100), edc("0A02", 300, 100, rs=60)
    s.update_drlc([WalkedDrProgram(DemandResponseProgram(mRID="A", primacy=1), [first, second])], 0)
    assert (s.situation(0).load_control, s.situation(0).next_load_control.mRID) == (None, "0A01")
    assert (s.situation(150).load_control.mRID, s.situation(150).next_load_control.mRID) == ("0A01", "0A02")
    assert s.situation(500).next_load_control is None
    s.update_drlc([WalkedDrProgram(DemandResponseProgram(mRID="A", primacy=1),
                                   [first, cancelled(second, 160)])], 160)  # fmt: skip
    assert s.situation(160).next_load_control is None


def test_a_load_control_device_reports_its_own_outcome_instead_of_completed():
    s = sched(PCT)
    controls = [edc("0A01", 100, 100), edc("0A02", 300, 100), edc("0A03", 500, 100, rr="07")]
    s.update_drlc([WalkedDrProgram(DemandResponseProgram(mRID="A", primacy=1), controls)], 0)
    # the thermostat stayed in 0A01 but overrode it for 90 s; it never took part in 0A02
    assert s.customer_response(CustomerResponse("0A01", 8, 200, "comfort limit", override_duration=90))
    assert s.customer_response(CustomerResponse("0A02", 10, 400, "customer away mode"))
    # an opt-out, and the device's own "no participation" when the event ends: one 10, the device's
    s.customer_response(CustomerResponse("0A03", 4, 550))
    s.customer_response(CustomerResponse("0A03", 10, 601))
    posted = s.due_responses(1000)
    assert [(r.subject, r.status, r.created) for r in posted if r.status not in (1, 2)] == [
        ("0A01", 8, 200), ("0A02", 10, 400), ("0A03", 4, 550), ("0A03", 10, 601)]  # fmt: skip
    assert [r.response.overrideDuration for r in posted if r.status in (8, 10)] == [90, None, None]
    with pytest.raises(ValueError):
        s.customer_response(CustomerResponse("0A01", 3, 200))


# --- responses ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rr", "statuses"),
    [(None, []), ("00", []), ("01", [1]), ("02", [2, 3]), ("03", [1, 2, 3]), ("04", []), ("07", [1, 2, 3])],
)
def test_response_required_bits_choose_what_is_reported(rr, statuses):
    s = sched()
    s.update_der([program("P", 1, [derc("A1", 100, 100, rr=rr, opModMaxLimW=1)])], 0)
    assert [st for _, st, _ in story(s, 300)] == statuses


def test_no_reply_to_no_response():
    s = sched()
    s.update_der([program("P", 1, [derc("A1", 100, 100, reply_to=None, opModMaxLimW=1)])], 0)
    assert story(s, 300) == []


def test_a_response_carries_the_device_the_event_and_when_it_happened():
    s = sched()
    s.update_der([program("P", 1, [derc("A1", 100, 100, opModMaxLimW=1)])], 7)
    (r,) = s.due_responses(50)
    assert isinstance(r.response, DERControlResponse) and r.reply_to == RSPS
    assert (r.response.createdDateTime, r.response.endDeviceLFDI, r.response.status, r.response.subject) == (
        7,
        LFDI,
        1,
        "A1",
    )


def test_an_opt_out_stops_the_event_and_it_completes_partially():
    s = sched()
    s.update_der([program("P", 1, [derc("A1", 100, 300, rr="07", opModMaxLimW=1)], default={"opModMaxLimW": 9})], 0)
    assert s.customer_response(CustomerResponse("A1", 4, 150, "too hot"))
    assert not s.customer_response(CustomerResponse("A1", 4, 160))  # once
    assert source(s, 149) == "A1" and source(s, 150) == "default"
    assert story(s, 1000) == [("A1", 1, 0), ("A1", 2, 100), ("A1", 4, 150), ("A1", 8, 400)]


def test_an_opt_out_before_the_start_completes_without_participation():
    s = sched()
    s.update_der([program("P", 1, [derc("A1", 100, 300, rr="07", opModMaxLimW=1)])], 0)
    s.customer_response(CustomerResponse("A1", 4, 50))
    assert source(s, 150) is None
    assert story(s, 1000) == [("A1", 1, 0), ("A1", 4, 50), ("A1", 10, 400)]


def test_customer_responses_are_reported_only_when_asked_and_unknown_events_are_refused():
    s = sched()
    s.update_der([program("P", 1, [derc("A1", 100, 300, rr="03", opModMaxLimW=1)])], 0)
    s.customer_response(CustomerResponse("A1", 4, 150))
    assert [st for _, st, _ in story(s, 1000)] == [1, 2, 8]  # the opt-out itself is not asked for
    assert not s.customer_response(CustomerResponse("NOPE", 4, 150))
    with pytest.raises(ValueError):
        s.customer_response(CustomerResponse("A1", 3, 150))


def test_responses_wait_offline_with_their_original_times_and_are_never_offered_twice():
    s = sched()
    s.update_der([program("P", 1, [derc("A1", 100, 100, opModMaxLimW=1), derc("A2", 300, 100, opModConnect=True)])], 0)
    first = s.due_responses(150)  # the server is unreachable: nothing is marked posted
    assert [(r.subject, r.status, r.created) for r in first] == [("A1", 1, 0), ("A2", 1, 0), ("A1", 2, 100)]
    again = s.due_responses(500)
    assert [(r.subject, r.status, r.created) for r in again] == [
        ("A1", 1, 0), ("A2", 1, 0), ("A1", 2, 100), ("A1", 3, 200), ("A2", 2, 300), ("A2", 3, 400)]  # fmt: skip
    for r in again:
        assert s.mark_posted(r)
    assert not s.mark_posted(again[0]) and s.due_responses(900) == []
    s.update_der([program("P", 1, [derc("A1", 100, 100, opModMaxLimW=1)])], 1000)
    assert s.due_responses(1100) == []


def test_every_kind_of_response_is_schema_valid_xml(sep_schemas):
    s = sched(PCT, locale="en-US")
    s.update_der([program("AA", 1, [derc("0A01", 100, 100, category=PCT, opModMaxLimW=1)])], 0)
    s.update_drlc([WalkedDrProgram(DemandResponseProgram(mRID="BB", primacy=1), [edc("0B01", 100, 100)])], 0)
    s.update_pricing([rate([tti("0C01", 0, 3600, 1, rr="01")], {"0C01": [cti(0, 100)]})], 0)
    s.update_messaging([messaging("DD", "en-US", [msg("0D01", 0, 1000, 1, rr="01")])], 0)
    s.update_flow([frr("0E01", "0F01", 100, 1000, 10, 7)], 0)
    posted = s.due_responses(0)
    kinds = {type(r.response) for r in posted}
    assert kinds == {DERControlResponse, DrResponse, PriceResponse, TextResponse, FlowReservationResponseResponse}
    for r in posted:
        document = encode(r.response)
        assert sep_schemas[0].errors(document) == [], document
        assert decode(document, type(r.response)) == r.response


def test_the_outbox_is_bounded_and_drops_redundant_acknowledgements_first():
    box = ResponseOutbox(limit=3)

    def r(subject: str, status: int, t: int) -> PendingResponse:
        return make_response("der", LFDI, subject, status, t, RSPS)

    for item in (r("A", 1, 0), r("B", 1, 1), r("A", 2, 5)):
        box.add(item)
    box.add(r("C", 2, 6))  # full: A's receipt is implied by A's start
    assert [(p.subject, p.status) for p in box.pending()] == [("B", 1), ("A", 2), ("C", 2)]
    box.add(r("D", 3, 7))  # then the oldest receipt
    assert [(p.subject, p.status) for p in box.pending()] == [("A", 2), ("C", 2), ("D", 3)]
    box.add(r("E", 3, 8))  # then the oldest of all
    assert [(p.subject, p.status) for p in box.pending()] == [("C", 2), ("D", 3), ("E", 3)]
    assert [(p.subject, p.status) for p in box.dropped] == [("A", 1), ("B", 1), ("A", 2)]
    box.add(r("E", 3, 8))
    assert len(box) == 3


def test_response_bits():
    assert response_bits(None) == frozenset() == response_bits("00")
    assert response_bits("05") == {0, 2} and response_bits("FF") == {0, 1, 2}
    assert asks_for("01", 254) and not asks_for("01", 3) and asks_for("04", 4) and not asks_for("02", 11)


# --- pricing --------------------------------------------------------------------------------------------------


def tti(mrid: str, start: int, duration: int, tier: int, *, created: int = 0, st: EventStatus | None = None,
        rr: str | None = None) -> TimeTariffInterval:  # fmt: skip
    return TimeTariffInterval(mRID=mrid, creationTime=created, EventStatus=st or status(0, created),
                              interval=DateTimeInterval(start=start, duration=duration), touTier=tier,
                              replyTo="/rsps/3/rsp", responseRequired=rr)  # fmt: skip


def cti(start: int, price: int) -> ConsumptionTariffInterval:
    return ConsumptionTariffInterval(consumptionBlock=0, EnvironmentalCost=[], price=price, startValue=start)


def rate(intervals, blocks, *, primacy: int = 1, mrid: str = "TP1", kwh_multiplier: int = 3) -> WalkedRateComponent:
    profile = TariffProfile(mRID=mrid, currency=840, pricePowerOfTenMultiplier=-3, primacy=primacy,
                            serviceCategoryKind=0)  # fmt: skip
    rc = RateComponent(mRID=f"RC{mrid}", ReadingTypeLink=Link(href="/rt/1"), roleFlags="00",
                       TimeTariffIntervalListLink=ListLink(href="/tti", all=len(intervals)))  # fmt: skip
    return WalkedRateComponent(profile, rc, intervals, blocks, ReadingType(uom=72, powerOfTenMultiplier=kwh_multiplier))


def test_the_price_in_force_its_blocks_the_next_change_and_a_critical_peak():
    day = [tti("OFF", 0, 3600, 1), tti("ON", 3600, 3600, 2)]
    blocks = {"OFF": [cti(0, 100)], "ON": [cti(0, 200), cti(10, 300)], "CPP": [cti(0, 900)]}
    s = sched()
    s.update_pricing([rate(day, blocks)], 0)
    p = s.situation(100).price
    assert (p.interval_mrid, p.tier, p.price_per_kwh, p.currency) == ("OFF", 1, 0.1, 840)
    assert (p.next_change, p.next_tier, p.next_price_per_kwh, p.critical_peak) == (3600, 2, 0.2, False)
    assert s.situation(3600).price.blocks == ((0.0, 0.2), (10.0, 0.3))
    cpp = tti("CPP", 4000, 1000, 3, created=3900)
    s.update_pricing([rate([*day, cpp], blocks)], 3950)
    p = s.situation(4000).price
    assert (p.interval_mrid, p.price_per_kwh, p.critical_peak, p.next_change) == ("CPP", 0.9, True, 5000)
    assert s.situation(5000).price is None  # ON was superseded for good, nothing is priced until 7200
    assert s.next_wakeup(3950) == 4000


def test_prices_in_watt_hours_are_shown_per_kwh():
    s = sched()
    s.update_pricing([rate([tti("H", 0, 3600, 1)], {"H": [cti(0, 1), cti(5000, 2)]}, kwh_multiplier=0)], 0)
    p = s.situation(10).price
    assert p.price_per_kwh == pytest.approx(1.0) and p.blocks[1] == pytest.approx((5.0, 2.0))


def test_the_lower_primacy_tariff_wins_and_price_responses_are_typed():
    s = sched()
    s.update_pricing([rate([tti("A", 0, 3600, 1, rr="01")], {"A": [cti(0, 100)]}, primacy=5, mrid="T5"),
                      rate([tti("B", 0, 3600, 2, created=-5, rr="01")], {"B": [cti(0, 300)]}, primacy=1,
                           mrid="T1")], 10)  # fmt: skip
    assert s.situation(100).price.interval_mrid == "B"
    posted = s.due_responses(100)
    assert {r.subject for r in posted} == {"A", "B"} and all(isinstance(r.response, PriceResponse) for r in posted)


# --- messaging --------------------------------------------------------------------------------------------------


def msg(mrid: str, start: int, duration: int, priority: int, *, created: int = 0, rr: str | None = None,
        st: EventStatus | None = None) -> TextMessage:  # fmt: skip
    return TextMessage(mRID=mrid, creationTime=created, EventStatus=st or status(0, created),
                       interval=DateTimeInterval(start=start, duration=duration), priority=priority,
                       textMessage=f"text {mrid}", replyTo="/rsps/4/rsp", responseRequired=rr)  # fmt: skip


def messaging(mrid: str, locale: str, messages, primacy: int = 1) -> WalkedMessagingProgram:
    return WalkedMessagingProgram(MessagingProgram(mRID=mrid, locale=locale, primacy=primacy), messages)


def test_messages_by_priority_then_newest_translations_in_the_device_language():
    s = sched(locale="es-MX")
    s.update_messaging([
        messaging("EN", "en-US", [msg("E1", 0, 1000, 1), msg("E2", 0, 1000, 3, created=2)]),
        messaging("ES", "es-ES", [msg("S1", 0, 1000, 1, created=0), msg("S2", 0, 500, 1, created=5),
                                  msg("S3", 100, 1000, 2, created=1)]),
    ], 10)  # fmt: skip
    # E1 and S1 are one message in two languages: the Spanish one is shown; E2 exists only in English
    situation = s.situation(50)
    assert [m.mRID for m in situation.messages] == ["E2", "S2", "S1"]
    assert situation.message_locales == {"E2": "en-US", "S2": "es-ES", "S1": "es-ES"}
    assert [m.mRID for m in s.situation(200).messages] == ["E2", "S3", "S2", "S1"]
    assert [m.mRID for m in s.situation(600).messages] == ["E2", "S3", "S1"]
    assert s.situation(1100).messages == () and s.situation(1100).message_locales == {}
    french = sched(locale="fr-FR")
    french.update_messaging([messaging("EN", "en-US", [msg("E1", 0, 1000, 1)]),
                             messaging("DE", "de-DE", [msg("D1", 0, 1000, 1)], primacy=0)], 10)  # fmt: skip
    assert [m.mRID for m in french.situation(50).messages] == ["D1"]  # no French: the program of lower primacy


def test_a_cancelled_message_disappears_and_acknowledgements_are_text_responses():
    s = sched(locale="en-US")
    m = msg("M1", 0, 1000, 1, rr="05")
    s.update_messaging([messaging("EN", "en-US", [m])], 10)
    s.customer_response(CustomerResponse("M1", 11, 20))
    s.update_messaging([messaging("EN", "en-US", [replace(m, EventStatus=status(2, 30))])], 40)
    assert s.situation(39).messages and s.situation(40).messages == ()
    posted = s.due_responses(100)
    assert [(r.status, r.created) for r in posted] == [(1, 10), (11, 20)]  # 6 needs bit 1
    assert all(isinstance(r.response, TextResponse) for r in posted)


# --- flow reservation ------------------------------------------------------------------------------------------


def frr(mrid: str, request: str, start: int, duration: int, kwh: int, kw: int, created: int = 0):
    return FlowReservationResponse(mRID=mrid, creationTime=created, EventStatus=status(0, created),
                                   interval=DateTimeInterval(start=start, duration=duration),
                                   energyAvailable=SignedRealEnergy(value=kwh, multiplier=3),
                                   powerAvailable=ActivePower(value=kw, multiplier=3), subject=request,
                                   replyTo="/rsps/5/rsp", responseRequired="01")  # fmt: skip


def test_flow_grants_in_force_and_a_newer_answer_to_the_same_request_wins():
    s = sched()
    s.update_flow([frr("G1", "REQ1", 100, 1000, 10, 7)], 0)
    assert s.situation(50).flow_grants == ()
    (g,) = s.situation(150).flow_grants
    assert (g.request_mrid, g.start, g.duration, g.energy_wh, g.power_w) == ("REQ1", 100, 1000, 10_000, 7000)
    s.update_flow([frr("G1", "REQ1", 100, 1000, 10, 7), frr("G2", "REQ1", 500, 1000, 8, 3, created=200)], 300)
    assert [g.power_w for g in s.situation(400).flow_grants] == [7000]
    assert [g.power_w for g in s.situation(600).flow_grants] == [3000]
    assert all(isinstance(r.response, FlowReservationResponseResponse) for r in s.due_responses(600))


# --- waking up ---------------------------------------------------------------------------------------------------


def test_next_wakeup_is_the_next_change_or_response():
    s = sched()
    controls = [derc("A1", 100, 100, opModMaxLimW=1), derc("A2", 150, 10, rr="00", opModConnect=True),
                derc("A3", 300, 100, rr="07", opModFixedW=5)]  # fmt: skip
    s.update_der([program("P", 1, controls)], 0)
    assert s.next_wakeup(0) == 100
    assert s.next_wakeup(100) == 150 and s.next_wakeup(150) == 160 and s.next_wakeup(160) == 200
    s.customer_response(CustomerResponse("A3", 4, 250))
    # A3 will not run: nothing changes at 300, but its outcome (10) falls due at its end
    assert s.next_wakeup(200) == 250 and s.next_wakeup(250) == 400 and s.situation(350).der.sources == {}
    assert s.next_wakeup(400) is None


# --- properties ----------------------------------------------------------------------------------------------------

MODES = ("opModMaxLimW", "opModFixedW", "opModConnect")
VALUES = {"opModMaxLimW": st.integers(0, 10_000), "opModFixedW": st.integers(-100, 100), "opModConnect": st.booleans()}
LFDIS = st.text("0123456789ABCDEF", min_size=40, max_size=40)


@st.composite
def server_events(draw, max_events: int = 5):
    """A server's DER events over time: (program, control, cancel_at, cancel_code, unlisted_at)."""
    n = draw(st.integers(1, max_events))
    out = []
    for i in range(n):
        prog = draw(st.sampled_from(["P1", "P2", "P3"]))
        created = draw(st.integers(0, 2000))
        start = draw(st.integers(0, 3000))
        duration = draw(st.integers(1, 1500))
        modes = draw(st.sets(st.sampled_from(MODES), min_size=1, max_size=2))
        values = {m: draw(VALUES[m]) for m in modes}
        rs = draw(st.none() | st.integers(-300, 300))
        rd = draw(st.none() | st.integers(-300, 300))
        control = derc(f"E{i}", start, duration, created=created, rs=rs, rd=rd, rr=draw(st.sampled_from(["03", "07"])),
                       **values)  # fmt: skip
        cancel_at = draw(st.none() | st.integers(created, 4000))
        code = draw(st.sampled_from([2, 3, 4]))
        unlisted = draw(st.none() | st.integers(created, 5000))
        out.append((prog, control, cancel_at, code, unlisted))
    return out


PRIMACY = {"P1": 1, "P2": 1, "P3": 4}


def walked_at(events, t: int, defaults: bool = True) -> list[WalkedDerProgram]:
    """What a walk of the server at ``t`` reads."""
    programs = []
    for name in ("P1", "P2", "P3"):
        controls = []
        for prog, control, cancel_at, code, unlisted in events:
            if prog != name or control.creationTime > t or (unlisted is not None and unlisted <= t):
                continue
            if cancel_at is not None and cancel_at <= t:
                control = replace(control, EventStatus=status(code, cancel_at))
            controls.append(control)
        dflt = {"opModMaxLimW": 10_000} if defaults and name == "P3" else None
        programs.append(program(name, PRIMACY[name], controls, default=dflt))
    return programs


def run(
    events, polls: list[int], *, lfdi: str = LFDI, post_every: int = 1, opt_outs=()
) -> tuple[ClientScheduler, list[PendingResponse]]:
    """Poll the server at ``polls``; the runtime asks for due responses after each poll and posts them every
    ``post_every``-th time (the server is unreachable otherwise). Returns the scheduler and what was posted."""
    s = sched(lfdi=lfdi)
    posted: list[PendingResponse] = []
    for i, t in enumerate(polls):
        s.update_der(walked_at(events, t), t)
        for mrid, at in opt_outs:
            if at == t:
                s.customer_response(CustomerResponse(mrid, 4, at))
        due = s.due_responses(t)
        if i % post_every == 0:
            for r in due:
                assert s.mark_posted(r)
                posted.append(r)
    return s, posted


def first_read(events, polls: list[int], mrid: str) -> int:
    """The first poll whose walk lists the event: the device cannot act on it before."""
    return min(t for t in polls if any(c.mRID == mrid for p in walked_at(events, t) for c in p.controls))


POLLS = st.lists(st.integers(0, 6000), min_size=1, max_size=12, unique=True).map(sorted)


@settings(max_examples=60, deadline=None)
@given(st.integers(-3600, 3600), st.integers(-3600, 3600), LFDIS, st.text("0123456789ABCDEF", min_size=1, max_size=8))
def test_a_device_runs_within_its_randomization_bounds_and_always_draws_the_same(rs, rd, lfdi, mrid):
    control = derc(mrid, 10_000, 4000, rs=rs, rd=rd, opModMaxLimW=1)
    runs = []
    for noise in ((), (derc("FFFF0000", 20_000, 10, opModConnect=True),)):
        s = sched(lfdi=lfdi)
        s.update_der([program("P", 1, [control, *noise])], 0)
        start = s.next_wakeup(0)
        end = s.next_wakeup(start)
        assert source(s, start - 1) is None and source(s, start) == mrid
        assert source(s, end - 1) == mrid and source(s, end) is None
        runs.append((start, end))
    start, end = runs[0]
    assert runs[0] == runs[1]
    assert 10_000 + min(0, rs) <= start <= 10_000 + max(0, rs)
    assert 4000 + min(0, rd) <= end - start <= 4000 + max(0, rd)


@settings(max_examples=60, deadline=None)
@given(LFDIS, LFDIS, st.text("0123456789ABCDEF", min_size=1, max_size=32))
def test_two_devices_draw_differently(a, b, mrid):
    if a.upper() != b.upper():
        assert device_draws(a, mrid) != device_draws(b, mrid)


def test_devices_spread_over_the_randomization_window():
    control = derc("A1", 10_000, 100, rs=3600, opModMaxLimW=1)
    starts = set()
    for i in range(40):
        s = sched(lfdi=f"{i:040X}")
        s.update_der([program("P", 1, [control])], 0)
        starts.add(s.next_wakeup(0))
    assert len(starts) > 30 and min(starts) >= 10_000 and max(starts) <= 13_600


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(server_events(), POLLS, st.lists(st.integers(0, 6000), max_size=8))
def test_at_most_one_control_per_mode_and_it_is_a_live_event_that_sets_that_mode(events, polls, instants):
    s, _ = run(events, polls)
    controls = {c.mRID: c for _, c, *_ in events}
    for t in instants:
        der = s.situation(t).der
        for mode, src in der.sources.items():
            if src == "default":
                assert mode == "opModMaxLimW" and der.base.opModMaxLimW == 10_000
                continue
            control = controls[src]
            assert mode in der_modes(control.DERControlBase)
            assert getattr(der.base, mode) == getattr(control.DERControlBase, mode)
            start, end = device_effective_interval(
                EventSpec(mrid=src, program="P", primacy=0, creation_time=control.creationTime,
                          start=control.interval.start, duration=control.interval.duration,
                          randomize_start=control.randomizeStart, randomize_duration=control.randomizeDuration,
                          modes={mode}),
                *device_draws(LFDI, src)[:2],
            )  # fmt: skip
            assert start <= t < end and first_read(events, polls, src) <= t


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(server_events(), POLLS, st.lists(st.integers(0, 8000), max_size=10))
def test_a_cancelled_event_is_never_in_force_after_its_randomized_cancel_time(events, polls, instants):
    s, _ = run(events, polls)
    for _, control, _, code, _ in events:
        learned = [
            t
            for t in polls
            if any(c.mRID == control.mRID and c.EventStatus.currentStatus == code
                   for p in walked_at(events, t) for c in p.controls)
        ]  # fmt: skip
        if not learned:
            continue
        bound = 0 if code != 3 else max(abs(control.randomizeStart or 0), abs(control.randomizeDuration or 0))
        for t in instants:
            if t >= learned[0] + bound:
                assert control.mRID not in s.situation(t).der.sources.values()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(server_events(), POLLS, st.integers(1, 3), st.data())
def test_every_response_is_emitted_once_in_time_order_whatever_the_posting_cadence(events, polls, every, data):
    mrids = [c.mRID for _, c, *_ in events]
    opt_outs = data.draw(st.lists(st.tuples(st.sampled_from(mrids), st.sampled_from(polls)), max_size=2))
    final = polls[-1] + 10_000
    s, posted = run(events, polls, post_every=every, opt_outs=opt_outs)
    for r in s.due_responses(final):
        posted.append(r)
        s.mark_posted(r)
    keys = [(r.subject, r.status) for r in posted]
    assert len(keys) == len(set(keys))
    assert [r.created for r in posted] == sorted(r.created for r in posted)
    assert s.due_responses(final + 1) == []
    # posting at every poll or only at the end makes no difference to what is reported
    s1, once = run(events, polls, post_every=1, opt_outs=opt_outs)
    once += s1.due_responses(final)
    assert sorted((r.subject, r.status, r.created) for r in once) == sorted((r.subject, r.status, r.created)
                                                                            for r in posted)  # fmt: skip
    for subject in set(mrids):
        statuses = [r.status for r in posted if r.subject == subject]
        if statuses:  # every event asks for its receipt: nothing is reported before it was read
            assert min(r.created for r in posted if r.subject == subject) == first_read(events, polls, subject)
        assert statuses.count(2) <= 1 and len([x for x in statuses if x in (3, 6, 7, 8, 10, 13, 14, 254)]) <= 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(server_events(), POLLS, st.integers(0, 7000), st.lists(st.floats(0, 1, exclude_max=True), max_size=5))
def test_the_situation_holds_until_the_next_wakeup(events, polls, now, fractions):
    s, _ = run(events, polls)
    now = max(now, polls[-1])
    wake = s.next_wakeup(now)
    here = replace(s.situation(now), now=0)
    horizon = wake if wake is not None else now + 10_000
    for f in fractions:
        t = now + int(f * (horizon - now))
        assert replace(s.situation(t), now=0) == here
    assert replace(s.situation(horizon - 1), now=0) == here
    if wake is not None:  # and something does happen then
        probe = copy.deepcopy(s)
        probe.due_responses(now)
        changed = replace(s.situation(wake), now=0) != here
        assert changed or any(r.created == wake for r in probe.due_responses(wake))


@st.composite
def price_and_message_walks(draw):
    """Tariff intervals (some overlays, randomized, cancelled) and text messages, walked at ``now``."""
    intervals, blocks, messages = [], {}, []
    for i in range(draw(st.integers(1, 6))):
        start, duration = draw(st.integers(0, 4000)), draw(st.integers(1, 2000))
        created = draw(st.integers(0, 1000))
        st_ = status(draw(st.sampled_from([0, 0, 2, 3])), created)
        t = replace(tti(f"T{i}", start, duration, draw(st.integers(0, 3)), created=created, st=st_),
                    randomizeStart=draw(st.none() | st.integers(-300, 300)))  # fmt: skip
        intervals.append(t)
        blocks[t.mRID] = [cti(0, draw(st.integers(1, 500)))]
    for i in range(draw(st.integers(0, 4))):
        created = draw(st.integers(0, 1000))
        messages.append(msg(f"M{i}", draw(st.integers(0, 4000)), draw(st.integers(1, 2000)), draw(st.integers(0, 3)),
                            created=created, st=status(draw(st.sampled_from([0, 0, 2])), created)))  # fmt: skip
    return intervals, blocks, messages


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 3000), st.integers(1, 1000), st.integers(0, 1000), st.sampled_from(
    [PCT, WATER_HEATER, "00000003"]), st.sampled_from(["A", "B"]), st.none() | st.integers(-300, 300)), max_size=6),
    st.integers(0, 4000))  # fmt: skip
def test_the_next_load_control_is_the_next_one_to_come_in_force(specs, now):
    programs = {"A": [], "B": []}
    for i, (start, duration, created, category, prog, rs) in enumerate(specs):
        programs[prog].append(edc(f"{i:04X}", start, duration, category, created=created, rs=rs))
    s = sched(PCT)
    s.update_drlc([WalkedDrProgram(DemandResponseProgram(mRID=p, primacy=n), c)
                   for n, (p, c) in enumerate(programs.items())], 1000)  # fmt: skip
    now = max(now, 1000)
    here = s.situation(now)
    current = here.load_control.mRID if here.load_control else None
    t, found = now, None
    while (t := s.next_wakeup(t)) is not None:
        assert replace(s.situation(t), now=0) != replace(here, now=0) or t in {r.created for r in s.due_responses(t)}
        control = s.situation(t).load_control
        if control is not None and control.mRID != current:
            found = control.mRID
            break
    assert (here.next_load_control.mRID if here.next_load_control else None) == found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(price_and_message_walks(), st.integers(1000, 5000), st.lists(st.floats(0, 1, exclude_max=True), max_size=5))
def test_prices_and_messages_hold_until_the_next_wakeup(walk, now, fractions):
    intervals, blocks, messages = walk
    s = sched(locale="en-US")
    s.update_pricing([rate(intervals, blocks)], 1000)
    s.update_messaging([messaging("EN", "en-US", messages)], 1000)
    wake = s.next_wakeup(now)
    here = replace(s.situation(now), now=0)
    horizon = wake if wake is not None else now + 10_000
    for t in [now + int(f * (horizon - now)) for f in fractions] + [horizon - 1]:
        assert replace(s.situation(t), now=0) == here
    if wake is not None:
        assert replace(s.situation(wake), now=0) != here or any(r.created == wake for r in s.due_responses(wake))
    price = s.situation(now).price
    if price is not None:  # read already cancelled, an interval never applies
        chosen = next(t for t in intervals if t.mRID == price.interval_mrid)
        assert chosen.EventStatus.currentStatus not in (2, 3)
