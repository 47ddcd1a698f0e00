"""IEEE 2030.5-2018 event rules as pure functions: EventStatus, ActiveDERControlList, controls in force.

Sources (paraphrased, never quoted at length):

* Clause 10.2.2 (Active List elements): an active list holds the subset of a list's events that is active now.
* Clause 10.2.3 (Event rules and guidelines), 10.2.3.2 (Definitions): Start Time and Duration come from the
  event's ``interval``; Specified End Time = Start Time + Duration; the Scheduled Period runs from the Start
  Time to the Specified End Time; the Effective Start/End Time and Effective Scheduled Period are the same
  after the client applied randomization.
* Clause 10.2.3 rule c): a served event is never edited except for its status; providers cancel events or
  issue new, superseding events. Rule f): between nested or overlapping events from servers with the same
  primacy, the larger (more recent) creationTime is the newer event and supersedes the older one. Rule t):
  differing DERControl controls are independent and may overlap or nest without superseding; q)/t) tell
  the server to set potentiallySuperseded (and its time) when an event is superseded for some of its
  controls only. (Rule letters are those of the 2018 edition.)
* sep.xsd / Annex B, ``EventStatus`` (checked against the 2018 schema): 0 Scheduled is shown from when the
  event is first scheduled until it becomes active or is cancelled, and never for an event whose start is
  at or before the current time (it starts Active); 1 Active is set when the event reaches its *earliest*
  Effective Start Time; 2 Cancelled carries the instant of cancellation; 3 Cancelled with Randomization
  makes clients end the event after a random delay bounded by max(|randomizeStart|, |randomizeDuration|);
  4 Superseded marks an event replaced by a newer overlapping event *of the same program* over the same
  controls, set at the earliest Effective Start Time of the overlapping event; clients terminate a
  superseded event at once. ``potentiallySuperseded`` flags an overlap in some but not all controls within
  the same function set instance; ``potentiallySupersededTime`` is when the flag was set.
* sep.xsd ``PrimacyType``: lower numbers have higher priority. ``RandomizableEvent.randomizeStart`` /
  ``randomizeDuration``: signed bound (-3600..3600 s, default 0) inside which a random value is applied to
  the start time / duration.
* Clause 10.10 (DER function set) and sep.xsd ``DefaultDERControl``: the default control is used when no
  active DERControl is found.

Model. One ``EventSpec`` per event (a DERControl; other function sets use one pseudo-mode). Supersession
is a one-off, terminal act: when the higher-ranked of two overlapping events that share control modes
meets the other, the lower one loses the shared modes for good (it does not resume when the winner
ends). Ranking: lower primacy first, then later creationTime, then (tie the standard leaves open) the
greater mRID. An event that has lost every mode is Superseded; one that lost some is still Active with
potentiallySuperseded set. The *server* view (``event_status``, ``active_controls``) follows the schema:
supersession only within one program, over the widest Effective Scheduled Period. The *device* view
(``in_force``) resolves across programs by primacy over each event's own interval (apply the device's
randomization first with ``device_view``). Every function takes data and an instant (TimeType seconds)
and returns data; nothing here reads a clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Literal

ONE_HOUR = 3600  # OneHourRangeType bounds randomizeStart / randomizeDuration (sep.xsd)
_UINT32_MAX = 2**32 - 1

View = Literal["server", "device"]


class CurrentStatus(IntEnum):
    """``EventStatus.currentStatus`` values of sep.xsd (IEEE 2030.5-2018 Annex B)."""

    SCHEDULED = 0
    ACTIVE = 1
    CANCELLED = 2
    CANCELLED_WITH_RANDOMIZATION = 3
    SUPERSEDED = 4


@dataclass(frozen=True, kw_only=True)
class EventSpec:
    """What the event rules need to know about one event (no dependency on the XML classes).

    ``modes``: the control modes the event sets (``{"opModExpLimW", ...}``); function sets without modes use
    one pseudo-mode. ``cancelled_at``: when the server cancelled it; ``cancel_randomized``: the cancellation
    is "Cancelled with Randomization" (status 3).
    """

    mrid: str
    program: str
    primacy: int
    creation_time: int
    start: int
    duration: int
    randomize_start: int | None = None
    randomize_duration: int | None = None
    modes: frozenset[str]
    cancelled_at: int | None = None
    cancel_randomized: bool = False
    #: Device view only: when the device first read the event. A device cannot run an event, nor let it
    #: supersede another one, before it knew of it (an event read late starts late, never retroactively).
    received_at: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.modes, frozenset):
            object.__setattr__(self, "modes", frozenset(self.modes))
        if not self.mrid:
            raise ValueError("an event needs an mRID")
        if not 0 <= self.primacy <= 255:
            raise ValueError(f"primacy is a UInt8, got {self.primacy}")
        if not 0 <= self.duration <= _UINT32_MAX:
            raise ValueError(f"interval.duration is a UInt32, got {self.duration}")
        for name in ("randomize_start", "randomize_duration"):
            value = getattr(self, name)
            if value is not None and not -ONE_HOUR <= value <= ONE_HOUR:
                raise ValueError(f"{name} is a OneHourRangeType (-3600..3600), got {value}")
        if not self.modes or not all(isinstance(m, str) and m for m in self.modes):
            raise ValueError("an event sets at least one control mode (use a pseudo-mode outside DER)")
        if self.cancelled_at is not None and self.cancelled_at < self.creation_time:
            raise ValueError("an event cannot be cancelled before it was created")
        if self.cancel_randomized and self.cancelled_at is None:
            raise ValueError("cancel_randomized needs cancelled_at")

    @property
    def known_from(self) -> int:
        """When the event exists for whoever holds this spec: its creationTime, or for a device that read it
        later, the instant it read it (``received_at``)."""
        if self.received_at is None:
            return self.creation_time
        return max(self.creation_time, self.received_at)

    @property
    def specified_end(self) -> int:
        """Specified End Time = Start Time + Duration (10.2.3.2)."""
        return self.start + self.duration

    @property
    def earliest_effective_start(self) -> int:
        """The earliest Effective Start Time any device can draw (a negative randomizeStart starts early)."""
        return self.start + min(0, self.randomize_start or 0)

    @property
    def latest_effective_end(self) -> int:
        """The latest Effective End Time any device can draw."""
        return self.start + max(0, self.randomize_start or 0) + self.duration + max(0, self.randomize_duration or 0)

    @property
    def activation_time(self) -> int:
        """When the server shows the event Active: its earliest Effective Start Time, or its creation if that
        is later (an event created with a start in the past starts Active; sep.xsd EventStatus 0/1)."""
        return max(self.creation_time, self.earliest_effective_start)


@dataclass(frozen=True)
class Status:
    """The ``EventStatus`` fields the server publishes (sep.xsd / Annex B)."""

    current_status: CurrentStatus
    date_time: int  # when the current status began
    potentially_superseded: bool
    potentially_superseded_time: int | None


@dataclass(frozen=True)
class Supersession:
    """``winner`` took ``modes`` away from ``loser`` at instant ``at`` (for good)."""

    winner: str
    loser: str
    modes: frozenset[str]
    at: int


# --- ranking and the pairwise rule -------------------------------------------------------------------------


def _rank(e: EventSpec) -> tuple[int, int, str]:
    return (-e.primacy, e.creation_time, e.mrid.upper())


def outranks(a: EventSpec, b: EventSpec) -> bool:
    """True when ``a`` wins over ``b`` where they overlap on a shared mode: lower primacy (PrimacyType),
    then the larger creationTime (10.2.3 rule f), then, for identical creationTime, the greater mRID (the
    standard gives no rule; servers should not issue two events with one creationTime). A strict total
    order on events with distinct mRIDs."""
    return _rank(a) > _rank(b)


def _cancelled_by(e: EventSpec, t: int) -> bool:
    return e.cancelled_at is not None and e.cancelled_at <= t


def _server_window(e: EventSpec) -> tuple[int, int]:
    # The server cannot know the devices' draws: the widest Effective Scheduled Period.
    return e.earliest_effective_start, e.latest_effective_end


def _device_window(e: EventSpec) -> tuple[int, int]:
    # The event's own interval (a device passes events already randomized by ``device_view``).
    return e.start, e.specified_end


_Window = Callable[[EventSpec], tuple[int, int]]
_Known = Callable[[EventSpec], int]


def _server_known(e: EventSpec) -> int:
    return e.creation_time  # the server holds every event from its creation


def _device_known(e: EventSpec) -> int:
    return e.known_from


def _pair(a: EventSpec, b: EventSpec, window: _Window, known: _Known) -> tuple[int, frozenset[str]] | None:
    """When and on which modes higher-ranked ``a`` supersedes ``b``, looking at these two events alone.

    They meet when ``a`` has reached its (effective) start and ``b`` exists: max(activation of a, creation
    of b), where a device counts an event from when it read it (``known_from``). At that instant neither may
    have ended or been cancelled, and their windows must overlap."""
    shared = a.modes & b.modes
    if not shared:
        return None
    a_lo, a_hi = window(a)
    b_lo, b_hi = window(b)
    t = max(known(a), a_lo, known(b))
    if t >= a_hi or t >= b_hi or b_lo >= a_hi or _cancelled_by(a, t) or _cancelled_by(b, t):
        return None
    return t, shared


def supersedes(a: EventSpec, b: EventSpec) -> frozenset[str]:
    """The modes of ``b`` that ``a`` supersedes when the two meet with no third event involved (empty if
    none), over their Scheduled Periods and across programs (device rule). ``a`` must outrank ``b``
    (``outranks``), share modes with it (rule t: differing controls are independent), overlap it in time,
    and neither may be cancelled or over when they meet: a cancelled event never supersedes."""
    if a.mrid.upper() == b.mrid.upper() or not outranks(a, b):
        return frozenset()
    found = _pair(a, b, _device_window, _device_known)
    return found[1] if found else frozenset()


def _check_unique(events: Iterable[EventSpec]) -> list[EventSpec]:
    out = list(events)
    seen: set[str] = set()
    for e in out:
        key = e.mrid.upper()
        if key in seen:
            raise ValueError(f"two events carry mRID {e.mrid}")
        seen.add(key)
    return out


def _compute_supersessions(events: Sequence[EventSpec], view: View) -> list[Supersession]:
    window = _server_window if view == "server" else _device_window
    known = _server_known if view == "server" else _device_known
    ranked = sorted(events, key=_rank, reverse=True)
    meetings: list[tuple[int, int, int, EventSpec, EventSpec]] = []
    for i, a in enumerate(ranked):
        for j in range(i + 1, len(ranked)):
            b = ranked[j]
            if view == "server" and a.program != b.program:
                continue  # EventStatus 4 / potentiallySuperseded: same program (function set instance)
            found = _pair(a, b, window, known)
            if found:
                meetings.append((found[0], i, j, a, b))
    # In time order; at one instant the highest-ranked winner acts first, so an event that loses a mode
    # at that instant no longer passes it on.
    meetings.sort(key=lambda m: (m[0], m[1], m[2]))
    remaining = {e.mrid: set(e.modes) for e in ranked}
    out: list[Supersession] = []
    for t, _, _, a, b in meetings:
        taken = remaining[a.mrid] & remaining[b.mrid]
        if taken:
            remaining[b.mrid] -= taken
            out.append(Supersession(a.mrid, b.mrid, frozenset(taken), t))
    return out


def supersessions(events: Iterable[EventSpec], *, view: View = "server") -> list[Supersession]:
    """Every supersession among ``events``, in time order.

    ``view="server"``: within one program only, over the widest Effective Scheduled Period; this is what
    the server's EventStatus shows (sep.xsd EventStatus 4: same program, marked at the earliest Effective
    Start Time of the overlapping event). ``view="device"``: across programs (primacy first), over each
    event's own interval; this is what decides which control a device runs. A superseded mode never comes
    back, even if the winner is later cancelled or ends first (clients terminate superseded events)."""
    return _compute_supersessions(_check_unique(events), view)


class _Analysis:
    """Supersessions of one event set plus, per event, when it lost which modes."""

    def __init__(self, events: Sequence[EventSpec], view: View) -> None:
        self.events = list(events)
        self.supersessions = _compute_supersessions(self.events, view)
        self._losses: dict[str, list[Supersession]] = {e.mrid: [] for e in self.events}
        for s in self.supersessions:
            self._losses[s.loser].append(s)
        self.full: dict[str, int] = {}
        self.partial: dict[str, int] = {}
        for e in self.events:
            lost: set[str] = set()
            for s in self._losses[e.mrid]:
                lost |= s.modes
                if lost >= e.modes:
                    self.full[e.mrid] = s.at
                    break
                self.partial.setdefault(e.mrid, s.at)

    def removed(self, e: EventSpec, now: int) -> frozenset[str]:
        return frozenset(m for s in self._losses[e.mrid] if s.at <= now for m in s.modes)


# --- server side: EventStatus and the ActiveDERControlList ------------------------------------------------


def _status(an: _Analysis, e: EventSpec, now: int) -> Status:
    if now < e.creation_time:
        raise ValueError(f"event {e.mrid} does not exist before its creationTime {e.creation_time}")
    partial = an.partial.get(e.mrid)
    flagged = partial is not None and partial <= now
    flag_time = partial if flagged else None
    if _cancelled_by(e, now):
        assert e.cancelled_at is not None
        code = CurrentStatus.CANCELLED_WITH_RANDOMIZATION if e.cancel_randomized else CurrentStatus.CANCELLED
        return Status(code, e.cancelled_at, flagged, flag_time)
    full = an.full.get(e.mrid)
    if full is not None and full <= now:
        return Status(CurrentStatus.SUPERSEDED, full, flagged, flag_time)
    if e.activation_time <= now:
        return Status(CurrentStatus.ACTIVE, e.activation_time, flagged, flag_time)
    return Status(CurrentStatus.SCHEDULED, e.creation_time, flagged, flag_time)


def event_status(event: EventSpec, others: Sequence[EventSpec], now: int) -> Status:
    """The EventStatus the server publishes for ``event`` at ``now`` (sep.xsd / Annex B EventStatus).

    ``others``: the other events the server holds (any program; ``event`` itself may be among them).

    * Cancelled (2) or Cancelled with Randomization (3) from ``cancelled_at``, which is ``date_time``.
    * Superseded (4) once other events of the *same program* that outrank it and overlap it have taken all
      its modes; ``date_time`` is when the last mode went, i.e. the earliest Effective Start Time of the
      superseding event, or this event's creation if that is later (possibly before this event starts).
    * Active (1) from the earliest Effective Start Time, or from creation for an event created with a start
      in the past (0 is never shown then). 2018 has no "completed" value, so an event that ran to its end
      stays 1 on the wire; ``active_controls`` no longer lists it. An event created after its end is shown 1
      too but is never in effect (devices answer 254, "received after it had expired"; see
      ``expired_at_creation``).
    * Scheduled (0) otherwise, since its creation.

    ``potentially_superseded`` is set (with its time) once some but not all of the event's modes were
    superseded within its program; it stays set. Raises ValueError before the event's creationTime."""
    key = event.mrid.upper()
    an = _Analysis(_check_unique([event, *(e for e in others if e.mrid.upper() != key)]), "server")
    return _status(an, event, now)


def event_statuses(events: Iterable[EventSpec], now: int) -> dict[str, Status]:
    """The EventStatus of each of ``events`` at ``now``, by mRID: for each event what ``event_status`` gives
    with the others as ``others``, from one supersession analysis of the whole set (``event_status`` called
    per event repeats that analysis for each, which is cubic in the number of events). Raises ValueError
    like ``event_status`` when ``now`` is before one event's creationTime."""
    an = _Analysis(_check_unique(events), "server")
    return {e.mrid: _status(an, e, now) for e in an.events}


def _in_active_list(an: _Analysis, e: EventSpec, now: int) -> bool:
    return (
        e.creation_time <= now
        and _status(an, e, now).current_status == CurrentStatus.ACTIVE
        and now < e.latest_effective_end
    )


def active_controls(events: Iterable[EventSpec], now: int) -> list[EventSpec]:
    """What the ActiveDERControlList (10.2.2) shows at ``now``: events created by ``now`` whose status is
    Active (``event_status``) and whose widest Effective Scheduled Period has not ended, in DERControl list
    order. Partially superseded events are listed. An ActiveDERControlList belongs to one DERProgram, so
    pass one program's events, or filter the result by ``program``."""
    an = _Analysis(_check_unique(events), "server")
    listed = [e for e in an.events if _in_active_list(an, e, now)]
    # DERControl list ordering: interval.start ascending, creationTime descending, mRID descending.
    listed.sort(key=lambda e: e.mrid.upper(), reverse=True)
    listed.sort(key=lambda e: (e.start, -e.creation_time))
    return listed


def expired_at_creation(event: EventSpec) -> bool:
    """True when the event was created at or after its Specified End Time: it can never be in effect, so a
    server should refuse to create it (a device answers Response 254, received after it had expired)."""
    return event.creation_time >= event.specified_end


# --- device side: what is in force, defaults, randomization ----------------------------------------------


def _live(e: EventSpec, now: int) -> bool:
    return max(e.known_from, e.start) <= now < e.specified_end and not _cancelled_by(e, now)


def _holders(an: _Analysis, now: int, mode: str) -> list[EventSpec]:
    return [e for e in an.events if mode in e.modes and _live(e, now) and mode not in an.removed(e, now)]


def in_force(events: Iterable[EventSpec], now: int, mode: str) -> EventSpec | None:
    """The event whose control for ``mode`` a device runs at ``now``, or None (then the default applies).

    Device rule: every program the device is assigned counts; lower primacy wins, then later creationTime
    (rule f); only shared modes are superseded (rule t); a superseded mode is never resumed; an event is in
    force from its start (or its creation, or when the device read it, if later) until its end or
    cancellation. Pass events through
    ``device_view`` first to apply the device's randomization. At most one event is in force per mode."""
    an = _Analysis(_check_unique(events), "device")
    found = _holders(an, now, mode)
    if len(found) > 1:  # cannot happen: two holders would have met and one lost the mode
        raise RuntimeError(f"two controls in force for {mode}: {[e.mrid for e in found]}")
    return found[0] if found else None


def default_applies(events: Iterable[EventSpec], now: int, mode: str) -> bool:
    """True when the DefaultDERControl governs ``mode`` at ``now``: no DERControl is in force for that mode
    (sep.xsd DefaultDERControl, clause 10.10; applied per mode, since controls are independent)."""
    return in_force(events, now, mode) is None


def _check_unit(u: float) -> None:
    if not 0.0 <= u < 1.0:
        raise ValueError(f"a uniform draw lies in [0, 1), got {u}")


def _draw(bound: int | None, u: float) -> int:
    _check_unit(u)
    if not bound:
        return 0
    magnitude = min(abs(bound), math.floor(u * (abs(bound) + 1)))
    return magnitude if bound > 0 else -magnitude


def device_effective_interval(event: EventSpec, rng_value_start: float, rng_value_duration: float) -> tuple[int, int]:
    """A device's Effective Start and End Time for ``event`` given two uniform draws in [0, 1).

    randomizeStart R shifts the start by a whole number of seconds drawn uniformly from [0, R] when R > 0
    and from [R, 0] when R < 0 (a negative bound starts earlier); randomizeDuration does the same to the
    duration, which cannot drop below 0. Absent means 0. The server keeps publishing the unrandomized
    interval; only the device applies this (RandomizableEvent, 10.2.3.2)."""
    start = event.start + _draw(event.randomize_start, rng_value_start)
    duration = max(0, event.duration + _draw(event.randomize_duration, rng_value_duration))
    return start, start + duration


def device_cancel_time(event: EventSpec, rng_value: float) -> int | None:
    """When a device stops a cancelled event: at once for Cancelled (2); for Cancelled with Randomization
    (3) after a delay drawn from [0, max(|randomizeStart|, |randomizeDuration|)] (sep.xsd EventStatus 3)."""
    _check_unit(rng_value)
    if event.cancelled_at is None:
        return None
    if not event.cancel_randomized:
        return event.cancelled_at
    bound = max(abs(event.randomize_start or 0), abs(event.randomize_duration or 0))
    return event.cancelled_at + _draw(bound, rng_value)


def device_view(
    event: EventSpec, rng_value_start: float, rng_value_duration: float, rng_value_cancel: float = 0.0
) -> EventSpec:
    """``event`` as one device executes it: its interval replaced by the device's effective one and its
    cancellation delayed by the device's end randomization, randomization fields cleared. Feed the result
    to ``in_force``."""
    start, end = device_effective_interval(event, rng_value_start, rng_value_duration)
    return replace(
        event,
        start=start,
        duration=end - start,
        randomize_start=None,
        randomize_duration=None,
        cancelled_at=device_cancel_time(event, rng_value_cancel),
        cancel_randomized=False,
    )


# --- EndDeviceControl: device categories as pseudo-modes (DRLC, clause 10.3) ----------------------------

#: sep.xsd DeviceCategoryType is a 32-bit map; bits 0 (programmable communicating thermostat) to 25 (other
#: storage system) are defined, the others reserved.
DEVICE_CATEGORY_BITS = 32
_CATEGORY_MODE = "deviceCategory:"


def category_bits(device_category: str | int) -> frozenset[int]:
    """The bit positions set in a DeviceCategoryType (hex text as the schema writes it, or an integer)."""
    value = int(device_category, 16) if isinstance(device_category, str) else device_category
    if not 0 <= value < 2**DEVICE_CATEGORY_BITS:
        raise ValueError(f"a DeviceCategoryType is a 32-bit map, got {device_category!r}")
    return frozenset(bit for bit in range(DEVICE_CATEGORY_BITS) if value >> bit & 1)


def category_mode(bit: int) -> str:
    """The pseudo-mode of one device category bit."""
    if not 0 <= bit < DEVICE_CATEGORY_BITS:
        raise ValueError(f"device category bit {bit} is outside 0..31")
    return f"{_CATEGORY_MODE}{bit}"


def category_modes(device_category: str | int) -> frozenset[str]:
    """The pseudo-modes of an EndDeviceControl: one per device category bit it addresses.

    EndDeviceControls of one program supersede each other only for the device categories both address (a
    water-heater event does not replace a thermostat event that overlaps it), just as differing DERControl
    modes are independent (10.2.3 rule t); an event whose categories were all taken is Superseded, one that
    lost some is flagged potentiallySuperseded. ValueError for a map that addresses no category: such an
    event would control nothing."""
    modes = frozenset(category_mode(bit) for bit in category_bits(device_category))
    if not modes:
        raise ValueError("deviceCategory addresses no device category (no bit set)")
    return modes


def categories_overlap(a: str | int, b: str | int) -> bool:
    """True when two DeviceCategoryType maps share a category (a device SHOULD ignore an EndDeviceControl
    that does not indicate its category: sep.xsd EndDeviceControl.deviceCategory)."""
    return bool(category_bits(a) & category_bits(b))


def control_for_category(events: Iterable[EventSpec], now: int, bit: int) -> EventSpec | None:
    """The EndDeviceControl a device of category ``bit`` runs at ``now``, across every program it is
    assigned (pass events whose ``modes`` are ``category_modes``; apply the device's randomization with
    ``device_view`` first): the ``in_force`` rule on that category's pseudo-mode, so lower primacy wins, then
    the later creationTime, and a category once superseded is not resumed."""
    return in_force(events, now, category_mode(bit))


def controls_for_device(events: Iterable[EventSpec], now: int, device_category: str | int) -> dict[int, EventSpec]:
    """For a device whose DeviceCategoryType is ``device_category`` (an EMS may name several categories),
    the EndDeviceControl in force at ``now`` for each of its categories that has one."""
    evs = _check_unique(events)
    found = {bit: control_for_category(evs, now, bit) for bit in sorted(category_bits(device_category))}
    return {bit: e for bit, e in found.items() if e is not None}


# --- scheduling ------------------------------------------------------------------------------------------


_State = tuple[tuple[tuple[str, Status, bool], ...], tuple[str | None, ...]]


def _snapshot(
    events: Sequence[EventSpec], server: _Analysis, device: _Analysis, modes: Sequence[str], t: int
) -> _State:
    existing = [e for e in events if e.creation_time <= t]
    statuses = tuple(sorted((e.mrid, _status(server, e, t), _in_active_list(server, e, t)) for e in existing))
    forced: list[str | None] = []
    for mode in modes:
        found = _holders(device, t, mode)
        forced.append(found[0].mrid if found else None)
    return statuses, tuple(forced)


def next_transition(events: Iterable[EventSpec], now: int) -> int | None:
    """The first instant after ``now`` at which something observable changes, or None if nothing will:
    an event's EventStatus (as ``event_status``), the ActiveDERControlList (``active_controls``), the control
    in force for some mode (``in_force`` on the published intervals), or an event coming into existence.

    Candidates are creation times, starts and ends (published and the widest effective bounds, where the
    server's status flips), cancellations and supersession instants; a candidate is returned only if the
    state there differs from the state one second earlier. Device-drawn randomized bounds are not
    included: the server does not know them."""
    evs = _check_unique(events)
    server = _Analysis(evs, "server")
    device = _Analysis(evs, "device")
    candidates: set[int] = set()
    for e in evs:
        candidates.update((e.creation_time, e.start, e.specified_end, e.activation_time, e.latest_effective_end))
        if e.cancelled_at is not None:
            candidates.add(e.cancelled_at)
    candidates.update(s.at for s in server.supersessions)
    candidates.update(s.at for s in device.supersessions)
    modes = sorted({m for e in evs for m in e.modes})
    for t in sorted(c for c in candidates if c > now):
        if _snapshot(evs, server, device, modes, t) != _snapshot(evs, server, device, modes, t - 1):
            return t
    return None
