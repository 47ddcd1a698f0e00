"""IEEE 2030.5-2018 event rules (clause 10.2.3, sep.xsd EventStatus, clause 10.10): statuses the server
publishes, the ActiveDERControlList, the control a device runs, randomization and scheduling."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridhan.schemas.event_rules import (
    CurrentStatus,
    EventSpec,
    Status,
    Supersession,
    active_controls,
    categories_overlap,
    category_bits,
    category_mode,
    category_modes,
    control_for_category,
    controls_for_device,
    default_applies,
    device_cancel_time,
    device_effective_interval,
    device_view,
    event_status,
    event_statuses,
    expired_at_creation,
    in_force,
    next_transition,
    outranks,
    supersedes,
    supersessions,
)

S = CurrentStatus


def ev(mrid: str, **kw) -> EventSpec:
    fields = {"program": "P", "primacy": 1, "creation_time": 0, "start": 100, "duration": 100, "modes": {"W"}}
    fields.update(kw)
    return EventSpec(mrid=mrid, **fields)


def st_at(event: EventSpec, events: list[EventSpec], now: int) -> tuple[CurrentStatus, int]:
    s = event_status(event, events, now)
    return s.current_status, s.date_time


def mrids(events: list[EventSpec]) -> list[str]:
    return [e.mrid for e in events]


def forced(events: list[EventSpec], now: int, mode: str = "W") -> str | None:
    e = in_force(events, now, mode)
    return e.mrid if e else None


# --- lifecycle of one event --------------------------------------------------------------------------------


def test_scheduled_until_start_then_active_listed_until_end():
    a = ev("A", creation_time=10)
    assert event_status(a, [], 10) == Status(S.SCHEDULED, 10, False, None)
    assert st_at(a, [], 99) == (S.SCHEDULED, 10)
    assert st_at(a, [], 100) == (S.ACTIVE, 100)
    assert mrids(active_controls([a], 100)) == ["A"] == mrids(active_controls([a], 199))
    assert active_controls([a], 99) == [] == active_controls([a], 200)
    # 2018 has no "completed" value: the wire status stays Active, the active list drops it.
    assert st_at(a, [], 500) == (S.ACTIVE, 100)
    assert forced([a], 99) is None and forced([a], 100) == "A" and forced([a], 199) == "A" and forced([a], 200) is None


def test_start_in_the_past_starts_active_at_creation():
    a = ev("A", creation_time=150)  # interval 100..200, created at 150
    assert st_at(a, [], 150) == (S.ACTIVE, 150)
    assert mrids(active_controls([a], 150)) == ["A"]
    assert forced([a], 150) == "A"


def test_event_created_after_its_end_is_never_in_effect():
    a = ev("A", creation_time=300)
    assert expired_at_creation(a) and not expired_at_creation(ev("B", creation_time=199))
    # Scheduled may not be shown for a start in the past; the wire says Active but nothing runs it.
    assert st_at(a, [], 300) == (S.ACTIVE, 300)
    assert active_controls([a], 300) == []
    assert forced([a], 300) is None


def test_event_does_not_exist_before_creation():
    with pytest.raises(ValueError):
        event_status(ev("A", creation_time=10), [], 9)
    assert active_controls([ev("A", creation_time=150)], 120) == []


def test_cancelled_before_start_never_becomes_active():
    a = ev("A", cancelled_at=50)
    assert st_at(a, [], 49) == (S.SCHEDULED, 0)
    assert st_at(a, [], 50) == (S.CANCELLED, 50) == st_at(a, [], 150)
    assert active_controls([a], 150) == [] and forced([a], 150) is None


def test_cancelled_while_active():
    a = ev("A", cancelled_at=150)
    assert st_at(a, [], 149) == (S.ACTIVE, 100)
    assert st_at(a, [], 150) == (S.CANCELLED, 150)
    assert forced([a], 149) == "A" and forced([a], 150) is None
    assert active_controls([a], 150) == []


def test_cancelled_with_randomization_status_and_device_delay():
    a = ev("A", randomize_start=-30, randomize_duration=60, cancelled_at=150, cancel_randomized=True)
    assert st_at(a, [], 150) == (S.CANCELLED_WITH_RANDOMIZATION, 150)
    assert device_cancel_time(a, 0.0) == 150
    assert device_cancel_time(a, 0.9999) == 210  # max(|-30|, |60|) = 60
    assert device_cancel_time(ev("B", cancelled_at=150), 0.7) == 150
    assert device_cancel_time(ev("C"), 0.7) is None


def test_negative_randomize_start_activates_at_the_earliest_effective_start():
    a = ev("A", randomize_start=-20, randomize_duration=30)  # published 100..200
    assert (a.earliest_effective_start, a.latest_effective_end) == (80, 230)
    assert st_at(a, [], 79) == (S.SCHEDULED, 0)
    assert st_at(a, [], 80) == (S.ACTIVE, 80)
    assert mrids(active_controls([a], 229)) == ["A"] and active_controls([a], 230) == []
    b = ev("B", randomize_start=20)  # a positive bound cannot start before the Start Time
    assert st_at(b, [], 99) == (S.SCHEDULED, 0) and st_at(b, [], 100) == (S.ACTIVE, 100)


# --- supersession within a program (server view) --------------------------------------------------------


def test_nested_newer_event_supersedes_and_the_older_does_not_resume():
    a = ev("A", creation_time=0)  # 100..200
    b = ev("B", creation_time=10, start=150, duration=20)  # 150..170
    evs = [a, b]
    assert st_at(a, evs, 149) == (S.ACTIVE, 100)
    assert st_at(a, evs, 150) == (S.SUPERSEDED, 150)
    assert st_at(b, evs, 150) == (S.ACTIVE, 150)
    assert mrids(active_controls(evs, 150)) == ["B"]
    assert forced(evs, 149) == "A" and forced(evs, 150) == "B"
    assert forced(evs, 170) is None and default_applies(evs, 170, "W")
    assert supersessions(evs) == [Supersession("B", "A", frozenset({"W"}), 150)]


def test_superseded_at_the_newer_events_start_even_before_the_older_starts():
    a = ev("A", creation_time=0, start=150)  # 150..250
    b = ev("B", creation_time=20, start=100)  # 100..200, newer
    evs = [a, b]
    assert st_at(a, evs, 99) == (S.SCHEDULED, 0)
    assert st_at(a, evs, 100) == (S.SUPERSEDED, 100)  # never shown Active
    assert forced(evs, 220) is None  # A does not run after B ends


def test_newer_event_created_during_the_older_supersedes_at_creation():
    a = ev("A")  # 100..200
    b = ev("B", creation_time=150, start=120, duration=200)  # start already past when created
    evs = [a, b]
    assert st_at(a, evs, 150) == (S.SUPERSEDED, 150) and st_at(b, evs, 150) == (S.ACTIVE, 150)
    assert forced(evs, 149) == "A" and forced(evs, 150) == "B"


def test_partial_mode_overlap_flags_potentially_superseded():
    a = ev("A", modes={"W", "Var"})
    b = ev("B", creation_time=10, start=150, duration=20, modes={"W"})
    evs = [a, b]
    assert event_status(a, evs, 149) == Status(S.ACTIVE, 100, False, None)
    assert event_status(a, evs, 150) == Status(S.ACTIVE, 100, True, 150)
    assert mrids(active_controls(evs, 160)) == ["A", "B"]
    assert forced(evs, 160, "W") == "B" and forced(evs, 160, "Var") == "A"
    assert forced(evs, 180, "W") is None and forced(evs, 180, "Var") == "A"  # W is not resumed
    assert supersedes(b, a) == frozenset({"W"}) and supersedes(a, b) == frozenset()


def test_modes_taken_one_by_one_end_in_superseded_and_the_flag_stays():
    a = ev("A", modes={"W", "Var"})
    b = ev("B", creation_time=10, start=120, duration=10, modes={"W"})
    c = ev("C", creation_time=20, start=140, duration=10, modes={"Var", "PF"})
    evs = [a, b, c]
    assert event_status(a, evs, 130) == Status(S.ACTIVE, 100, True, 120)
    assert event_status(a, evs, 140) == Status(S.SUPERSEDED, 140, True, 120)


def test_differing_controls_are_independent():
    a = ev("A", modes={"W"})
    b = ev("B", creation_time=10, modes={"Var"})
    evs = [a, b]
    assert supersessions(evs) == [] and supersedes(b, a) == frozenset()
    assert mrids(active_controls(evs, 150)) == ["B", "A"]  # same start: newer first
    assert forced(evs, 150, "W") == "A" and forced(evs, 150, "Var") == "B"


def test_successive_events_do_not_overlap():
    a = ev("A")  # 100..200
    b = ev("B", creation_time=10, start=200)  # 200..300
    evs = [a, b]
    assert supersessions(evs) == [] and supersedes(b, a) == frozenset()
    assert forced(evs, 199) == "A" and forced(evs, 200) == "B"
    assert st_at(a, evs, 250) == (S.ACTIVE, 100)


def test_older_event_starting_inside_a_newer_one_is_superseded():
    a = ev("A", creation_time=0, start=150)  # older, 150..250
    b = ev("B", creation_time=10, start=120, duration=50)  # newer, 120..170
    evs = [a, b]
    assert st_at(a, evs, 120) == (S.SUPERSEDED, 120)
    assert forced(evs, 160) == "B" and forced(evs, 200) is None


def test_cancelled_event_never_supersedes():
    a = ev("A")
    b = ev("B", creation_time=10, start=150, duration=20, cancelled_at=140)
    evs = [a, b]
    assert supersessions(evs) == [] and supersedes(b, a) == frozenset()
    assert st_at(a, evs, 160) == (S.ACTIVE, 100) and forced(evs, 160) == "A"


def test_supersession_is_final_when_the_winner_is_cancelled_later():
    a = ev("A")
    b = ev("B", creation_time=10, start=150, duration=40, cancelled_at=160)
    evs = [a, b]
    assert st_at(a, evs, 170) == (S.SUPERSEDED, 150)
    assert st_at(b, evs, 170) == (S.CANCELLED, 160)
    assert forced(evs, 170) is None  # the default control applies, A stays terminated


def test_ended_events_are_neither_superseded_nor_superseding():
    a = ev("A")  # 100..200
    b = ev("B", creation_time=250, start=50, duration=300)  # created after A ended
    evs = [a, b]
    assert supersessions(evs) == [] and supersessions(evs, view="device") == []
    assert st_at(a, evs, 260) == (S.ACTIVE, 100)


# --- across programs: primacy (device view) -----------------------------------------------------------------


def test_server_status_ignores_other_programs_but_the_device_obeys_primacy():
    utility = ev("U", program="utility", primacy=1, creation_time=0, start=150, duration=20)
    aggregator = ev("G", program="aggregator", primacy=2, creation_time=10)  # newer, but lower priority
    evs = [utility, aggregator]
    assert supersessions(evs) == []  # EventStatus 4 is for events of the same program
    assert st_at(aggregator, evs, 160) == (S.ACTIVE, 100)
    assert mrids(active_controls(evs, 160)) == ["G", "U"]
    assert forced(evs, 149) == "G" and forced(evs, 150) == "U"
    assert forced(evs, 180) is None  # the aggregator's event was terminated, not paused
    assert supersessions(evs, view="device") == [Supersession("U", "G", frozenset({"W"}), 150)]


def test_lower_priority_event_starting_during_a_higher_one_loses_the_mode():
    utility = ev("U", program="utility", primacy=1, creation_time=20)  # 100..200
    aggregator = ev("G", program="aggregator", primacy=2, creation_time=10, start=150, duration=100)
    evs = [utility, aggregator]
    assert forced(evs, 160) == "U" and forced(evs, 210) is None


def test_equal_primacy_across_programs_uses_creation_time():
    a = ev("A", program="P1", creation_time=5)
    b = ev("B", program="P2", creation_time=6, start=150)
    assert outranks(b, a) and not outranks(a, b)
    assert forced([a, b], 160) == "B"


def test_identical_creation_time_ties_break_on_mrid():
    a = ev("0A", creation_time=5)
    b = ev("0B", creation_time=5, start=150)
    assert outranks(b, a) and outranks(ev("0b", creation_time=5), a)
    assert st_at(a, [a, b], 150) == (S.SUPERSEDED, 150)


def test_lower_primacy_number_wins_over_newer_event():
    old_high = ev("H", program="P1", primacy=0, creation_time=0)
    new_low = ev("L", program="P2", primacy=5, creation_time=50)
    assert outranks(old_high, new_low)
    assert forced([old_high, new_low], 150) == "H"


# --- randomization --------------------------------------------------------------------------------------


def test_device_effective_interval():
    a = ev("A", randomize_start=60, randomize_duration=-30)  # published 100..200
    assert device_effective_interval(a, 0.0, 0.0) == (100, 200)
    assert device_effective_interval(a, 0.9999, 0.9999) == (160, 230)  # start +60, duration -30
    assert device_effective_interval(a, 0.5, 0.5) == (130, 215)
    b = ev("B", randomize_start=-60)
    assert device_effective_interval(b, 0.9999, 0.3) == (40, 140)
    assert device_effective_interval(ev("C"), 0.7, 0.7) == (100, 200)
    short = ev("D", duration=10, randomize_duration=-3600)
    assert device_effective_interval(short, 0.0, 0.9999) == (100, 100)  # duration never below 0
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError):
            device_effective_interval(a, bad, 0.0)


@given(
    st.integers(-3600, 3600),
    st.integers(-3600, 3600),
    st.floats(0, 1, exclude_max=True),
    st.floats(0, 1, exclude_max=True),
)
def test_randomized_interval_stays_within_the_bounds(rs, rd, us, ud):
    e = ev("A", duration=1000, randomize_start=rs, randomize_duration=rd)
    start, end = device_effective_interval(e, us, ud)
    assert min(0, rs) <= start - e.start <= max(0, rs)
    assert min(0, rd) <= (end - start) - e.duration <= max(0, rd)
    assert e.earliest_effective_start <= start and end <= e.latest_effective_end


def test_device_view_feeds_in_force():
    a = ev("A", randomize_start=60, cancelled_at=190, cancel_randomized=True)
    seen = device_view(a, 0.9999, 0.0, 0.9999)
    assert (seen.start, seen.specified_end, seen.cancelled_at) == (160, 260, 250)
    assert seen.randomize_start is None and not seen.cancel_randomized
    assert forced([seen], 159) is None and forced([seen], 249) == "A" and forced([seen], 250) is None


def test_a_device_runs_an_event_only_from_when_it_read_it():
    a = ev("A", received_at=130)  # published 100..200, read by the device at 130
    assert a.known_from == 130 and ev("B", creation_time=50).known_from == 50
    assert forced([a], 129) is None and forced([a], 130) == "A" and forced([a], 199) == "A"
    # read before its creationTime (the device clock lags the server's): counted from creation
    assert ev("C", creation_time=40, received_at=20).known_from == 40


def test_an_event_read_late_supersedes_from_when_it_was_read_not_retroactively():
    old = ev("OLD", creation_time=0, received_at=0)  # 100..200
    new = ev("NEW", creation_time=50, start=100, duration=100, received_at=140)
    assert forced([old, new], 139) == "OLD"  # the device ran OLD until it learned of NEW
    assert forced([old, new], 140) == "NEW"
    assert supersessions([old, new], view="device") == [Supersession("NEW", "OLD", frozenset({"W"}), 140)]
    # the server view ignores when a device read an event
    assert supersessions([old, new], view="server") == [Supersession("NEW", "OLD", frozenset({"W"}), 100)]
    assert event_status(old, [new], 100).current_status == S.SUPERSEDED


# --- scheduling and validation ---------------------------------------------------------------------------


def test_next_transition_walks_the_boundaries():
    a = ev("A")  # 100..200
    b = ev("B", creation_time=10, start=150, duration=20)
    evs = [a, b]
    assert next_transition(evs, 0) == 10  # B comes into existence
    assert next_transition(evs, 10) == 100
    assert next_transition(evs, 100) == 150
    assert next_transition(evs, 150) == 170
    assert next_transition(evs, 170) is None  # A's Specified End changes nothing: it was superseded
    assert next_transition([], 0) is None


def test_active_list_order_and_duplicates():
    x = ev("X", start=100, creation_time=1)
    y = ev("Y", start=100, creation_time=2, modes={"Var"})
    z = ev("Z", start=90, creation_time=3, modes={"PF"})
    w = ev("W", start=100, creation_time=2, modes={"Hz"})
    assert mrids(active_controls([x, y, z, w], 150)) == ["Z", "Y", "W", "X"]
    with pytest.raises(ValueError):
        active_controls([x, ev("x")], 150)


@pytest.mark.parametrize(
    "kw",
    [
        {"mrid": ""},
        {"primacy": 256},
        {"duration": -1},
        {"randomize_start": 3601},
        {"randomize_duration": -3601},
        {"modes": set()},
        {"cancelled_at": -1},
        {"cancel_randomized": True},
    ],
)
def test_invalid_events_are_refused(kw):
    fields = {"mrid": "A", "program": "P", "primacy": 1, "creation_time": 0, "start": 0, "duration": 10}
    fields["modes"] = {"W"}
    fields.update(kw)
    with pytest.raises(ValueError):
        EventSpec(**fields)


# --- properties ------------------------------------------------------------------------------------------

MODES = ("A", "B", "C")


@st.composite
def events_strategy(draw, max_events: int = 5, randomized: bool = True) -> list[EventSpec]:
    n = draw(st.integers(1, max_events))
    out = []
    for i in range(n):
        creation = draw(st.integers(0, 30))
        cancelled = draw(st.none() | st.integers(creation, creation + 50))
        rs = draw(st.none() | st.integers(-5, 5)) if randomized else None
        rd = draw(st.none() | st.integers(-5, 5)) if randomized else None
        out.append(
            EventSpec(
                mrid=f"E{i}",
                program=draw(st.sampled_from(("P1", "P2"))),
                primacy=draw(st.integers(0, 2)),
                creation_time=creation,
                start=draw(st.integers(0, 40)),
                duration=draw(st.integers(0, 25)),
                randomize_start=rs,
                randomize_duration=rd,
                modes=frozenset(draw(st.sets(st.sampled_from(MODES), min_size=1))),
                cancelled_at=cancelled,
                cancel_randomized=cancelled is not None and draw(st.booleans()),
            )
        )
    return out


HORIZON = 85  # beyond every instant the strategy can produce


def holders(events: list[EventSpec], now: int, mode: str) -> list[str]:
    lost = supersessions(events, view="device")
    return [
        e.mrid
        for e in events
        if mode in e.modes
        and max(e.creation_time, e.start) <= now < e.specified_end
        and (e.cancelled_at is None or now < e.cancelled_at)
        and not any(s.loser == e.mrid and mode in s.modes and s.at <= now for s in lost)
    ]


@settings(max_examples=150, deadline=None)
@given(events_strategy(), st.integers(0, HORIZON), st.sampled_from(MODES))
def test_at_most_one_control_in_force(events, now, mode):
    found = holders(events, now, mode)
    assert len(found) <= 1
    got = in_force(events, now, mode)
    assert (got.mrid if got else None) == (found[0] if found else None)
    assert default_applies(events, now, mode) == (got is None)


def phase(event: EventSpec, events: list[EventSpec], now: int) -> int:
    status = event_status(event, events, now).current_status
    if status == S.SCHEDULED:
        return 0
    if status == S.ACTIVE:
        return 1 if event in active_controls(events, now) else 2
    return 3


@settings(max_examples=40, deadline=None)
@given(events_strategy())
def test_statuses_never_go_back_and_respect_cancellation_and_windows(events):
    for e in events:
        previous = 0
        for now in range(e.creation_time, HORIZON):
            status = event_status(e, events, now)
            assert status.date_time <= now  # a status change is never dated in the future
            p = phase(e, events, now)
            assert p >= previous
            previous = p
            listed = e in active_controls(events, now)
            assert not listed or e.earliest_effective_start <= now < e.latest_effective_end
            if status.current_status == S.ACTIVE:
                assert now >= e.earliest_effective_start
            if e.cancelled_at is not None and now >= e.cancelled_at:
                assert status.current_status in (S.CANCELLED, S.CANCELLED_WITH_RANDOMIZATION)
                assert not listed and all(in_force(events, now, m) != e for m in e.modes)
            if status.potentially_superseded:
                assert status.potentially_superseded_time is not None
                assert status.potentially_superseded_time <= now


@settings(max_examples=150, deadline=None)
@given(events_strategy(max_events=8), st.integers(0, HORIZON))
def test_statuses_of_a_whole_set_are_each_events_status(events, now):
    """``event_statuses`` (one analysis for a program's events, as the server serves a list) gives every
    event the status ``event_status`` gives it alone, and refuses an instant before some event exists."""
    if any(now < e.creation_time for e in events):
        with pytest.raises(ValueError, match="does not exist before its creationTime"):
            event_statuses(events, now)
        return
    assert event_statuses(events, now) == {e.mrid: event_status(e, events, now) for e in events}


@settings(max_examples=60, deadline=None)
@given(events_strategy(randomized=False), st.integers(0, HORIZON))
def test_never_active_outside_the_scheduled_period(events, now):
    for e in active_controls(events, now):
        assert e.start <= now < e.start + e.duration
    for mode in MODES:
        e = in_force(events, now, mode)
        assert e is None or e.start <= now < e.start + e.duration


@settings(max_examples=80, deadline=None)
@given(events_strategy())
def test_superseding_is_antisymmetric_and_follows_rank(events):
    for a in events:
        for b in events:
            assert not (supersedes(a, b) and supersedes(b, a))
    by_mrid = {e.mrid: e for e in events}
    for view in ("server", "device"):
        pairs = {(s.winner, s.loser) for s in supersessions(events, view=view)}
        for winner, loser in pairs:
            assert (loser, winner) not in pairs
            assert outranks(by_mrid[winner], by_mrid[loser])
            assert view == "device" or by_mrid[winner].program == by_mrid[loser].program


@st.composite
def two_live_events(draw):
    """Two events of different programs and primacies, both live at ``now`` and sharing ``mode``."""
    now = draw(st.integers(0, 60))
    mode = draw(st.sampled_from(MODES))
    primacies = draw(st.lists(st.integers(0, 5), min_size=2, max_size=2, unique=True))
    pair = []
    for i, primacy in enumerate(primacies):
        creation = draw(st.integers(0, now))
        start = draw(st.integers(0, now))
        pair.append(
            EventSpec(
                mrid=f"E{i}",
                program=f"P{i}",
                primacy=primacy,
                creation_time=creation,
                start=start,
                duration=now - start + draw(st.integers(1, 20)),
                modes=frozenset({mode, *draw(st.sets(st.sampled_from(MODES)))}),
                cancelled_at=draw(st.none() | st.integers(now + 1, now + 30)),
            )
        )
    return pair, now, mode


@settings(max_examples=80, deadline=None)
@given(two_live_events())
def test_lower_primacy_beats_higher_primacy(case):
    pair, now, mode = case
    winner = in_force(pair, now, mode)
    assert winner is not None and winner.primacy == min(e.primacy for e in pair)
    assert in_force(list(reversed(pair)), now, mode) == winner


def state(events: list[EventSpec], now: int):
    existing = [e for e in events if e.creation_time <= now]
    listed = set(mrids(active_controls(events, now)))
    statuses = tuple((e.mrid, event_status(e, events, now), e.mrid in listed) for e in existing)
    return statuses, tuple(forced(events, now, m) for m in MODES)


@settings(max_examples=50, deadline=None)
@given(events_strategy(max_events=4), st.integers(0, 60))
def test_next_transition_is_the_first_real_change(events, now):
    t = next_transition(events, now)
    here = state(events, now)
    end = HORIZON if t is None else t
    for s in range(now + 1, end):
        assert state(events, s) == here
    if t is not None:
        assert t > now
        assert state(events, t) != state(events, t - 1)


# --- EndDeviceControl: device categories as pseudo-modes (DRLC, clause 10.3) -----------------------------

THERMOSTAT, WATER_HEATER, POOL_PUMP = 0, 3, 4


def edc(mrid: str, categories: int, **kw) -> EventSpec:
    return ev(mrid, modes=category_modes(categories), **kw)


def test_category_modes_name_each_bit_and_refuse_an_empty_map():
    assert category_bits("09") == {THERMOSTAT, WATER_HEATER} == category_bits(0x9)
    assert category_modes("0009") == {category_mode(THERMOSTAT), category_mode(WATER_HEATER)}
    assert categories_overlap("09", "01") and not categories_overlap("08", "01")
    with pytest.raises(ValueError, match="no device category"):
        category_modes("00")
    with pytest.raises(ValueError, match="32-bit"):
        category_bits(2**32)
    with pytest.raises(ValueError, match="outside"):
        category_mode(32)


def test_newer_edc_supersedes_only_the_shared_categories():
    wide = edc("A", 0b1001, creation_time=0, start=100, duration=100)  # thermostats and water heaters
    thermostats = edc("B", 0b0001, creation_time=10, start=120, duration=50)
    assert event_status(wide, [wide, thermostats], 119) == Status(S.ACTIVE, 100, False, None)
    assert event_status(wide, [wide, thermostats], 120) == Status(S.ACTIVE, 100, True, 120)
    assert control_for_category([wide, thermostats], 130, THERMOSTAT).mrid == "B"
    assert control_for_category([wide, thermostats], 130, WATER_HEATER).mrid == "A"
    assert control_for_category([wide, thermostats], 130, POOL_PUMP) is None
    # the thermostats do not go back to the wide event when B ends (a superseded category is not resumed)
    assert control_for_category([wide, thermostats], 180, THERMOSTAT) is None
    heaters = edc("C", 0b1000, creation_time=20, start=150, duration=10)
    assert st_at(wide, [wide, thermostats, heaters], 150) == (S.SUPERSEDED, 150)
    assert mrids(active_controls([wide, thermostats, heaters], 155)) == ["B", "C"]


def test_disjoint_categories_are_independent():
    thermostats = edc("A", 0b0001, creation_time=0)
    pumps = edc("B", 0b10000, creation_time=5)
    assert supersessions([thermostats, pumps]) == [] == supersessions([thermostats, pumps], view="device")
    assert mrids(active_controls([thermostats, pumps], 150)) == ["B", "A"]


def test_device_takes_the_program_of_lowest_primacy_for_its_category():
    utility = edc("U", 0b0001, program="utility", primacy=1, creation_time=0)
    ems = edc("E", 0b1001, program="ems", primacy=0, creation_time=0)
    later = edc("L", 0b0001, program="utility", primacy=1, creation_time=50)
    # different programs never change each other's server EventStatus
    assert event_status(utility, [utility, ems, later], 150).potentially_superseded is False
    assert control_for_category([utility, ems, later], 150, THERMOSTAT).mrid == "E"
    assert controls_for_device([utility, ems, later], 150, "09") == {THERMOSTAT: ems, WATER_HEATER: ems}
    assert controls_for_device([utility, later], 150, "11") == {THERMOSTAT: later}


@st.composite
def edc_strategy(draw, max_events: int = 5) -> list[EventSpec]:
    events = draw(events_strategy(max_events=max_events))
    return [replace(e, modes=category_modes(draw(st.integers(1, 0b11111)))) for e in events]


@settings(max_examples=120, deadline=None)
@given(edc_strategy(), st.integers(0, HORIZON), st.integers(0, 5))
def test_a_device_runs_at_most_one_edc_and_only_one_addressed_to_its_category(events, now, bit):
    got = control_for_category(events, now, bit)
    assert got == in_force(events, now, category_mode(bit))
    if got is not None:
        assert category_mode(bit) in got.modes
        assert max(got.creation_time, got.start) <= now < got.specified_end
    mask = sum(1 << b for b in range(6))
    found = controls_for_device(events, now, mask)
    assert all(category_mode(b) in e.modes for b, e in found.items())
    assert (found.get(bit) if bit < 6 else None) == got


@settings(max_examples=80, deadline=None)
@given(edc_strategy())
def test_an_edc_sharing_no_category_with_others_is_never_superseded(events):
    lonely = replace(events[0], mrid="LONELY", modes=category_modes(1 << 20))
    everything = [lonely, *events]
    for view in ("server", "device"):
        assert all(lonely.mrid not in (s.winner, s.loser) for s in supersessions(everything, view=view))
    for now in range(lonely.creation_time, HORIZON, 7):
        assert not event_status(lonely, everything, now).potentially_superseded
