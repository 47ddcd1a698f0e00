"""The client event scheduler: what the utility asks of one device, at any instant, and what it reports back.

Pure code: resources in, a :class:`~gridhan.client.situation.Situation` and Responses out; every time is a
parameter, nothing reads a clock or the network. The event rules themselves (supersession, primacy,
randomization, cancellation, defaults, device categories, prices) are those of
:mod:`gridhan.schemas.event_rules` and :mod:`gridhan.schemas.tariff`; this module applies them to one
device's events and keeps what the device has learned and answered.

Use::

    sched = ClientScheduler(lfdi, device_category="00000400", locale="en-US")
    sched.update_der([WalkedDerProgram(program, controls, default, curves)], now)   # after each walk
    sched.update_drlc(...); sched.update_pricing(...); sched.update_messaging(...); sched.update_flow(...)
    sched.customer_response(CustomerResponse(...))                                   # from the device model
    situation = sched.situation(now)                                                 # what to run
    for r in sched.due_responses(now): post(r.reply_to, r.response) and sched.mark_posted(r)
    sleep_until(sched.next_wakeup(now))

Each ``update_*`` hands over the function set's whole present picture: every program the device is
assigned now, each with everything walked under it. Hand over only what was fetched successfully; a
failed fetch is no reason to call (the scheduler keeps running from the last known state).

Rules applied (IEEE 2030.5-2018; clause letters of 10.2.3 as in :mod:`gridhan.schemas.event_rules`):

* Randomization (10.2.3, RandomizableEvent): the device draws its own Effective Start and End Time once per
  event, within randomizeStart / randomizeDuration, from a generator seeded by its LFDI and the event's mRID
  (:func:`device_draws`): the same device always draws the same, different devices differ. Pricing intervals
  are randomized too (the schema lets a client ignore the sign for price changes; this one keeps it).
* Supersession and primacy across every program of a function set (``in_force``): lower primacy wins, then
  the newer creationTime; differing DER controls and device categories are independent; a superseded mode
  never comes back. An event counts for the device only from when it read it: one read late starts late
  and supersedes others from then, never retroactively.
* DefaultDERControl (10.10, sep.xsd): per control mode, when no DERControl is in force for that mode, the
  value of the DefaultDERControl of the highest-primacy program whose default sets that mode.
* EventStatus (sep.xsd): Cancelled (2) stops the event when the device learns it; Cancelled with
  Randomization (3) stops it after a delay drawn within max(|randomizeStart|, |randomizeDuration|) from
  then; Superseded (4) stops it when learned. An event first read already cancelled or superseded never
  starts (no end randomization: the device has no load to release).
* Device categories (sep.xsd deviceCategory): a DERControl naming categories, or an EndDeviceControl, that
  does not name one of the device's categories is ignored, with no response.
* Responses (clause 8.8, :mod:`gridhan.client.response_outbox`): as ``responseRequired`` asks, each status
  once, stamped with when it happened in the device, queued until :meth:`ClientScheduler.mark_posted`.

Decisions where the standard is silent:

* An event missing from its program's list is kept and run to its end: servers cancel or supersede events,
  never edit or silently drop them (10.2.3 rule c; they keep cancelled events listed for their duration),
  and a paged or partial walk must not stop a running control. An event whose *program* is no longer
  handed over (the device left that group) stops when learned, and gets no further responses.
* A customer opt-out (Response 4) stops a DER or load control event for this device for good (a later
  opt-in is reported, but does not restart it). Its outcome is then 8 "partially completed with user
  opt-out" if it ran, 10 "completed, no user participation" if it never did, reported at the event's own
  end (or 6 / 7 if the server cancels or supersedes it first). A device that keeps its own account (a
  thermostat that overrode an event for some minutes) reports 8, 9 or 10 itself; that replaces the
  scheduler's completion for the event. Customer responses to prices, messages and flow reservations are
  only reported.
* ``Situation.next_load_control`` is the first other EndDeviceControl that will be in force for the device
  as things stand; ``Situation.messages`` shows every active message, but one published in several
  languages (same interval, priority and originator, from programs of different locales) only once, in
  the language closest to the device's (``message_locales`` names each one's).
* An event first read at or after its (device) end is answered 254 "received after it had expired" instead
  of 1, and never runs; one that sets no control is answered 253 "invalid event".
* An event that loses all its modes to an event of its own program is 7 (superseded); to another program's
  event, 14; to an event of another server (``server`` of the walked program differs), 13. Losing some
  modes only is not reported: the event still runs.
* Finished events absent from the server's list are forgotten; the last :data:`FORGET_MEMORY` forgotten
  mRIDs are remembered so an event that reappears is not answered twice.
"""

from __future__ import annotations

import hashlib
import random
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from gridhan.client.response_outbox import (
    CUSTOMER_STATUSES,
    DEFAULT_LIMIT,
    DEVICE_OUTCOMES,
    PendingResponse,
    ResponseOutbox,
    asks_for,
    make_response,
)
from gridhan.client.situation import CustomerResponse, DerSituation, FlowGrant, PriceSituation, Situation
from gridhan.schemas.event_rules import (
    EventSpec,
    Supersession,
    category_bits,
    category_modes,
    controls_for_device,
    device_effective_interval,
    device_view,
    in_force,
    outranks,
    supersessions,
)
from gridhan.schemas.sep2.base import Link
from gridhan.schemas.sep2.der import DefaultDERControl, DERControl, DERControlBase, DERCurve, DERProgram
from gridhan.schemas.sep2.drlc import DemandResponseProgram, EndDeviceControl
from gridhan.schemas.sep2.events import Event
from gridhan.schemas.sep2.flow import FlowReservationResponse
from gridhan.schemas.sep2.messaging import MessagingProgram, TextMessage
from gridhan.schemas.sep2.metering import ReadingType
from gridhan.schemas.sep2.pricing import ConsumptionTariffInterval, RateComponent, TariffProfile, TimeTariffInterval
from gridhan.schemas.tariff import (
    PRICE_MODE,
    Block,
    TariffInterval,
    check_blocks,
    money,
    next_price_change,
    overlap_groups,
    price_in_force,
)

#: The DER control modes of a DERControlBase (every field but rampTms, which qualifies the others).
DER_MODES: tuple[str, ...] = tuple(f.name for f in fields(DERControlBase) if f.name != "rampTms")
#: How many forgotten events the scheduler remembers, so that one listed again is not answered twice.
FORGET_MEMORY = 4096
#: The pseudo-program all pricing intervals handed over compete in (across profiles, primacy decides).
PRICE_POOL = "price"
#: uom of a ReadingType in watt-hours (sep.xsd UomType 72).
_UOM_WH = 72

_FUNCTION_SETS = ("der", "drlc", "pricing", "messaging", "flow")
#: Lifecycle statuses each function set reports (customer statuses are reported for all).
_LIFECYCLE: Mapping[str, frozenset[int]] = MappingProxyType(
    {
        "der": frozenset({1, 2, 3, 6, 7, 8, 10, 13, 14, 253, 254}),
        "drlc": frozenset({1, 2, 3, 6, 7, 8, 10, 13, 14, 253, 254}),
        "pricing": frozenset({1, 2, 3, 6, 7, 13, 14, 253, 254}),
        "messaging": frozenset({1, 6, 253, 254}),
        "flow": frozenset({1, 2, 3, 6, 7, 13, 14, 253, 254}),
    }
)
_OPT_OUT = 4


# --- what the discovery walk hands over -------------------------------------------------------------------


@dataclass(frozen=True)
class WalkedDerProgram:
    """A DERProgram as the device walked it: its DERControls (the full list, any status), its
    DefaultDERControl if it has one, and the DERCurves its controls and default link to, by href.
    ``server`` names the server it came from (any stable text; it tells Response 13 from 14)."""

    program: DERProgram
    controls: Sequence[DERControl] = ()
    default: DefaultDERControl | None = None
    curves: Mapping[str, DERCurve] = field(default_factory=dict)
    server: str = ""


@dataclass(frozen=True)
class WalkedDrProgram:
    """A DemandResponseProgram with its EndDeviceControls (the full list, any status)."""

    program: DemandResponseProgram
    controls: Sequence[EndDeviceControl] = ()
    server: str = ""


@dataclass(frozen=True)
class WalkedRateComponent:
    """A RateComponent that prices this device's consumption, with its TariffProfile, its
    TimeTariffIntervals and, by TimeTariffInterval mRID, their ConsumptionTariffIntervals. ``reading_type``
    (the RateComponent's ReadingTypeLink) scales prices to kWh when its uom is Wh; without it the unit is
    taken to be the kWh. Intervals of every rate component handed over compete for one price: hand over,
    per TariffProfile, the one rate component the device is billed by."""

    tariff: TariffProfile
    rate_component: RateComponent
    intervals: Sequence[TimeTariffInterval] = ()
    blocks: Mapping[str, Sequence[ConsumptionTariffInterval]] = field(default_factory=dict)
    reading_type: ReadingType | None = None
    server: str = ""


@dataclass(frozen=True)
class WalkedMessagingProgram:
    """A MessagingProgram (its locale and primacy) with its TextMessages."""

    program: MessagingProgram
    messages: Sequence[TextMessage] = ()
    server: str = ""


def device_draws(lfdi: str, mrid: str) -> tuple[float, float, float]:
    """The device's three uniform draws in [0, 1) for one event: start, duration and cancellation
    randomization. Seeded by the LFDI and the mRID (case-insensitive), so a device redraws the same values
    whenever it meets the event again and two devices draw independently."""
    seed = hashlib.sha256(f"{lfdi.upper()}|{mrid.upper()}".encode()).digest()
    rng = random.Random(int.from_bytes(seed, "big"))
    return rng.random(), rng.random(), rng.random()


def der_modes(base: DERControlBase) -> frozenset[str]:
    """The control modes a DERControlBase sets."""
    return frozenset(m for m in DER_MODES if getattr(base, m) is not None)


# --- what the scheduler keeps per event ---------------------------------------------------------------------


@dataclass
class _Record:
    """One event as this device knows it: the latest copy read, and what happened to it here."""

    fs: str
    mrid: str
    event: Any  # the latest Event read (DERControl, EndDeviceControl, TimeTariffInterval, ...)
    program: str
    primacy: int
    server: str
    first_seen: int
    modes: frozenset[str]
    listed: bool = True
    expired: bool = False
    invalid: bool = False
    cancel_base: int | None = None  # when the device learned of the cancellation
    cancel_randomized: bool = False
    superseded_at: int | None = None  # when the device learned the server marked it Superseded
    dropped_at: int | None = None  # when its program stopped being handed over
    opted_out_at: int | None = None
    customer: dict[int, CustomerResponse] = field(default_factory=dict)
    extra: Any = None  # pricing: the _Rate it belongs to
    draws: tuple[float, float, float] = (0.0, 0.0, 0.0)  # device_draws, once
    timeline: _Timeline | None = None  # cached; reset whenever the record changes

    @property
    def key(self) -> tuple[str, str]:
        return self.fs, self.mrid.upper()


@dataclass(frozen=True)
class _Rate:
    tariff: TariffProfile
    reading_type: ReadingType | None
    blocks: tuple[ConsumptionTariffInterval, ...]


@dataclass(frozen=True)
class _Timeline:
    spec: EventSpec  # the device's view: randomized interval, every stop folded into cancelled_at
    cancel: int | None  # when the server's cancellation stops it (end randomization applied)


@dataclass
class _Plan:
    """One function set's events resolved for this device (recomputed when what it knows changes)."""

    timelines: dict[str, _Timeline]  # by record mRID (upper)
    groups: list[tuple[int, int, list[EventSpec]]]  # overlap groups with their [lo, hi) window
    supersessions: list[Supersession]
    lifecycles: dict[str, list[tuple[int, int]]]  # (time, status) to report, by record mRID (upper)
    tariff: dict[str, TariffInterval] = field(default_factory=dict)  # pricing: by mRID (upper)

    def union_at(self, t: int) -> list[EventSpec]:
        return [e for lo, hi, g in self.groups if lo <= t < hi for e in g]

    def tariff_ahead(self, t: int) -> list[TariffInterval]:
        """The pricing intervals that decide the price at ``t`` and its next change: the overlap groups in
        force at ``t`` and the first one after it (groups are independent, so the rest cannot matter)."""
        chosen: list[EventSpec] = []
        for lo, hi, group in self.groups:  # in time order
            if hi <= t:
                continue
            chosen.extend(group)
            if lo > t:
                break
        return [self.tariff[e.mrid.upper()] for e in chosen]


# --- the scheduler ------------------------------------------------------------------------------------------


class ClientScheduler:
    """One device's event scheduler (see the module docstring).

    ``lfdi``: the device's LFDI (40 hex digits); ``device_category``: its sep.xsd DeviceCategoryType (hex
    text or integer); ``locale``: its RFC 5646 language tag, to pick text messages; ``outbox_limit``: how
    many unposted responses it keeps (:mod:`gridhan.client.response_outbox`)."""

    def __init__(
        self, lfdi: str, device_category: str | int, locale: str = "en-US", *, outbox_limit: int = DEFAULT_LIMIT
    ) -> None:
        if len(lfdi) != 40 or any(c not in "0123456789abcdefABCDEF" for c in lfdi):
            raise ValueError(f"an LFDI is 40 hex digits, got {lfdi!r}")
        self.lfdi = lfdi.upper()
        self.device_category = device_category
        self._bits = category_bits(device_category)
        self.locale = locale
        self.outbox = ResponseOutbox(outbox_limit)
        self._clock: int | None = None
        self._records: dict[str, dict[str, _Record]] = {fs: {} for fs in _FUNCTION_SETS}
        self._programs: dict[str, dict[str, Any]] = {fs: {} for fs in _FUNCTION_SETS}
        self._emitted: set[tuple[str, str, int]] = set()
        self._forgotten: deque[tuple[str, str]] = deque()
        self._forgotten_set: set[tuple[str, str]] = set()
        self._plans: dict[str, _Plan] | None = None

    # -- input ---------------------------------------------------------------------------------------------

    def update_der(self, programs: Iterable[WalkedDerProgram], now: int) -> None:
        """Every DERProgram the device is assigned, as walked (clause 10.10)."""
        now = self._advance(now)
        batches = [
            (f"{p.server}|{p.program.mRID.upper()}", p.program.primacy, p.server, list(p.controls), p) for p in programs
        ]
        self._update("der", batches, now, self._der_modes_of)

    def update_drlc(self, programs: Iterable[WalkedDrProgram], now: int) -> None:
        """Every DemandResponseProgram the device is assigned, with its EndDeviceControls (clause 10.3)."""
        now = self._advance(now)
        batches = [
            (f"{p.server}|{p.program.mRID.upper()}", p.program.primacy, p.server, list(p.controls), p) for p in programs
        ]
        self._update("drlc", batches, now, self._drlc_modes_of)

    def update_pricing(self, rate_components: Iterable[WalkedRateComponent], now: int) -> None:
        """The rate components that price this device's consumption (clause 10.5; see WalkedRateComponent)."""
        now = self._advance(now)
        batches = []
        for rc in rate_components:
            key = f"{rc.server}|{rc.tariff.mRID.upper()}|{rc.rate_component.mRID.upper()}"
            batches.append((key, rc.tariff.primacy, rc.server, list(rc.intervals), rc))
        self._update("pricing", batches, now, lambda _e: frozenset({PRICE_MODE}))
        for key, _, _, _, rc in batches:
            for tti in rc.intervals:
                record = self._records["pricing"].get(tti.mRID.upper())
                if record is not None and record.program == key:
                    blocks = rc.blocks.get(tti.mRID, rc.blocks.get(tti.mRID.upper(), ()))
                    record.extra = _Rate(rc.tariff, rc.reading_type, tuple(blocks))

    def update_messaging(self, programs: Iterable[WalkedMessagingProgram], now: int) -> None:
        """Every MessagingProgram the device is assigned, with its TextMessages."""
        now = self._advance(now)
        batches = [
            (f"{p.server}|{p.program.mRID.upper()}", p.program.primacy, p.server, list(p.messages), p) for p in programs
        ]
        self._update("messaging", batches, now, lambda e: frozenset({f"msg:{e.mRID.upper()}"}))

    def update_flow(self, responses: Iterable[FlowReservationResponse], now: int, server: str = "") -> None:
        """The device's FlowReservationResponseList (clause 10.9): the server's answers to its requests. A newer
        answer to the same request supersedes an older one."""
        now = self._advance(now)
        batch = [(f"{server}|flow", 0, server, list(responses), None)]
        self._update("flow", batch, now, lambda e: frozenset({f"flow:{e.subject.upper()}"}))

    def customer_response(self, response: CustomerResponse) -> bool:
        """Record what the customer did about an event or message (from ``DeviceModel.customer_responses``):
        4 opt-out, 5 opt-in, 11 acknowledgement, 12 cannot be displayed, reported under bit 2 of
        ``responseRequired``; or the device's own account of how it took part, reported under bit 1 in place
        of the "completed" the scheduler would report: 8 partially completed with an opt-out (with
        ``override_duration``, the DrResponse's overrideDuration), 9 partially completed due to an opt-in,
        10 completed with no participation. An opt-out (4) stops a DER or load control event for this device
        from ``response.at`` (or from when the scheduler learns of it, if later). Each status is taken once
        per event; False for an unknown event or a repeated status."""
        if response.status not in CUSTOMER_STATUSES | DEVICE_OUTCOMES:
            raise ValueError(f"a customer response is 4, 5, 8, 9, 10, 11 or 12, not {response.status}")
        record = self._find(response.event_mrid)
        if record is None or response.status in record.customer:
            return False
        effective = max(response.at, record.first_seen, self._clock if self._clock is not None else response.at)
        self._advance(response.at)
        record.customer[response.status] = response
        if response.status == _OPT_OUT and record.fs in ("der", "drlc") and record.opted_out_at is None:
            record.opted_out_at = effective
            record.timeline = None
        self._plans = None
        return True

    # -- output --------------------------------------------------------------------------------------------

    def situation(self, now: int) -> Situation:
        """Everything in force for this device at ``now`` (from what it knows; asking changes nothing). The
        scheduler fills ``der``, ``load_control``, ``price``, ``messages`` and ``flow_grants``; ``usage`` and
        the grid conditions are the runtime's to add."""
        plans = self._plan()
        load_control = self._load_control(plans["drlc"], now)
        messages = self._messages(plans["messaging"], now)
        return Situation(
            now=now,
            der=self._der_situation(plans["der"], now),
            load_control=load_control,
            next_load_control=self._next_load_control(plans["drlc"], now, load_control),
            price=self._price(plans["pricing"], now),
            messages=tuple(m for m, _ in messages),
            message_locales={m.mRID: locale for m, locale in messages},
            flow_grants=self._flow_grants(plans["flow"], now),
        )

    def due_responses(self, now: int) -> list[PendingResponse]:
        """Queue every response whose time has come by ``now`` and return all those not yet posted, oldest
        first. POST each to its ``reply_to`` and call :meth:`mark_posted` for those accepted."""
        now = self._advance(now)
        plans = self._plan()
        new: list[tuple[int, str, int, int, _Record]] = []
        for fs in _FUNCTION_SETS:
            for mrid, items in plans[fs].lifecycles.items():
                record = self._records[fs][mrid]
                for index, (t, status) in enumerate(items):
                    if t <= now and (fs, mrid, status) not in self._emitted:
                        new.append((t, mrid, index, status, record))
        for t, mrid, _, status, record in sorted(new, key=lambda n: n[:3]):
            self._emitted.add((record.fs, mrid, status))
            told = record.customer.get(status)
            override = told.override_duration if told is not None else None
            self.outbox.add(make_response(record.fs, self.lfdi, record.mrid, status, t, record.event.replyTo, override))
        self._collect(now)
        return self.outbox.pending()

    def mark_posted(self, response: PendingResponse) -> bool:
        """The server accepted ``response``: never offer it again."""
        return self.outbox.mark_posted(response)

    def next_wakeup(self, now: int) -> int | None:
        """The first instant after ``now`` at which the Situation changes or a response falls due, from what
        the device knows now; None if nothing will. The runtime can sleep until then (or until it learns
        something new)."""
        plans = self._plan()
        due: set[int] = set()
        candidates: set[int] = set()
        for fs in _FUNCTION_SETS:
            plan = plans[fs]
            for mrid, items in plan.lifecycles.items():
                due.update(t for t, status in items if t > now and (fs, mrid, status) not in self._emitted)
            for tl in plan.timelines.values():
                e = tl.spec
                candidates.update((e.known_from, e.start, e.specified_end, e.creation_time))
                if e.cancelled_at is not None:
                    candidates.add(e.cancelled_at)
            candidates.update(s.at for s in plan.supersessions)
        first_due = min(due, default=None)
        here = self._comparable(self.situation(now))
        for t in sorted(c for c in candidates if c > now):
            if first_due is not None and first_due <= t:
                return first_due
            if self._comparable(self.situation(t)) != here:
                return t
        return first_due

    # -- bookkeeping ---------------------------------------------------------------------------------------

    def _advance(self, now: int) -> int:
        """Move the scheduler's clock (the latest instant it was told of) and return it: what it learns at an
        earlier ``now`` than one it was already told of counts from that latest instant."""
        self._clock = now if self._clock is None else max(self._clock, now)
        return self._clock

    def _find(self, mrid: str) -> _Record | None:
        for fs in _FUNCTION_SETS:
            record = self._records[fs].get(mrid.upper())
            if record is not None:
                return record
        return None

    def _der_modes_of(self, control: DERControl) -> frozenset[str] | None:
        if control.deviceCategory is not None and not category_bits(control.deviceCategory) & self._bits:
            return None  # addressed to other kinds of devices: ignored, unanswered
        return der_modes(control.DERControlBase)

    def _drlc_modes_of(self, control: EndDeviceControl) -> frozenset[str] | None:
        try:
            modes = category_modes(control.deviceCategory) & category_modes(self.device_category)
        except ValueError:
            return None  # a control naming no category addresses no device
        return modes or None

    def _update(self, fs: str, batches: list[tuple[str, int, str, list[Event], Any]], now: int, modes_of) -> None:
        records = self._records[fs]
        assigned = {key for key, *_ in batches}
        for record in records.values():
            if record.program not in assigned and record.dropped_at is None:
                record.dropped_at = now
                record.timeline = None
            record.listed = False
        self._programs[fs] = {key: walked for key, _, _, _, walked in batches}
        for program, primacy, server, events, _ in batches:
            for event in events:
                mrid = event.mRID.upper()
                if (fs, mrid) in self._forgotten_set:
                    continue
                record = records.get(mrid)
                if record is None:
                    modes = modes_of(event)
                    if modes is None:
                        continue
                    record = _Record(fs, event.mRID, event, program, primacy, server, now, modes)
                    record.draws = device_draws(self.lfdi, record.mrid)
                    self._first_sight(record)
                    records[mrid] = record
                elif record.program != program:
                    continue  # listed by two programs: the first one the device met keeps it
                if record.event != event:
                    record.event = event
                    record.timeline = None
                record.listed = True
                self._read_status(record, now)
        self._plans = None

    def _first_sight(self, record: _Record) -> None:
        if not record.modes:
            record.invalid = True
            return
        try:
            spec = self._base_spec(record)
        except ValueError:
            record.invalid = True
            return
        u_start, u_duration, _ = record.draws
        _, end = device_effective_interval(spec, u_start, u_duration)
        record.expired = record.first_seen >= end

    def _read_status(self, record: _Record, now: int) -> None:
        status = record.event.EventStatus
        if status.currentStatus in (2, 3) and record.cancel_base is None:
            record.cancel_base = max(status.dateTime, now)
            # An event first read already cancelled never starts: nothing to release, no end randomization.
            record.cancel_randomized = status.currentStatus == 3 and now > record.first_seen
            record.timeline = None
        elif status.currentStatus == 4 and record.superseded_at is None:
            record.superseded_at = max(status.dateTime, now)
            record.timeline = None

    def _base_spec(self, record: _Record) -> EventSpec:
        e = record.event
        return EventSpec(
            mrid=record.mrid,
            program=record.program,
            primacy=record.primacy,
            creation_time=e.creationTime,
            start=e.interval.start,
            duration=e.interval.duration,
            randomize_start=getattr(e, "randomizeStart", None),
            randomize_duration=getattr(e, "randomizeDuration", None),
            modes=record.modes,
            received_at=record.first_seen,
        )

    def _timeline(self, record: _Record) -> _Timeline:
        if record.timeline is None:
            record.timeline = self._make_timeline(record)
        return record.timeline

    def _make_timeline(self, record: _Record) -> _Timeline:
        base = self._base_spec(record)
        u_start, u_duration, u_cancel = record.draws
        if record.cancel_base is not None:
            base = replace(
                base,
                cancelled_at=max(record.cancel_base, base.creation_time),
                cancel_randomized=record.cancel_randomized,
            )
        spec = device_view(base, u_start, u_duration, u_cancel)
        cancel = spec.cancelled_at
        stops = [t for t in (cancel, record.superseded_at, record.dropped_at, record.opted_out_at) if t is not None]
        if stops:
            spec = replace(spec, cancelled_at=max(min(stops), spec.creation_time))
        return _Timeline(spec, cancel)

    def _plan(self) -> dict[str, _Plan]:
        if self._plans is None:
            self._plans = {fs: self._plan_of(fs) for fs in _FUNCTION_SETS}
        return self._plans

    def _plan_of(self, fs: str) -> _Plan:
        records = self._records[fs]
        timelines = {mrid: self._timeline(r) for mrid, r in records.items() if not (r.expired or r.invalid)}
        groups = []
        found: list[Supersession] = []
        for group in overlap_groups(tl.spec for tl in timelines.values()):
            groups.append((min(e.start for e in group), max(e.specified_end for e in group), group))
            if len(group) > 1:
                found.extend(supersessions(group, view="device"))
        losses: dict[str, list[Supersession]] = {}
        for s in found:
            losses.setdefault(s.loser.upper(), []).append(s)
        lifecycles = {
            mrid: self._lifecycle(r, timelines.get(mrid), losses.get(mrid, [])) for mrid, r in records.items()
        }
        plan = _Plan(timelines, groups, sorted(found, key=lambda s: s.at), lifecycles)
        if fs == "pricing":
            plan.tariff = {m: self._tariff_interval(records[m], tl.spec) for m, tl in timelines.items()}
        return plan

    def _lifecycle(self, r: _Record, tl: _Timeline | None, losses: list[Supersession]) -> list[tuple[int, int]]:
        """The responses this event's story makes, as (when, status), in time order, filtered by what its
        ``responseRequired`` asks."""
        if not r.event.replyTo:
            return []  # nowhere to post (sep.xsd replyTo: required when a response is)
        out: list[tuple[int, int]] = []
        if r.expired or r.invalid or tl is None:
            out.append((r.first_seen, 254 if r.expired else 253))
        else:
            story, completion = self._run_story(r, tl, losses)
            out.extend(story)
            if completion is not None and not DEVICE_OUTCOMES & r.customer.keys():
                out.append(completion)  # unless the device gave its own account of how it took part
        out.extend((c.at, status) for status, c in r.customer.items())
        allowed = _LIFECYCLE[r.fs] | CUSTOMER_STATUSES | DEVICE_OUTCOMES
        return sorted((t, s) for t, s in out if s in allowed and asks_for(r.event.responseRequired, s))

    def _run_story(
        self, r: _Record, tl: _Timeline, losses: list[Supersession]
    ) -> tuple[list[tuple[int, int]], tuple[int, int] | None]:
        """What happened to the event here: receipt, start and how it ended, and apart from those its
        completion (3, or 8 / 10 after an opt-out) if it reached its own end."""
        spec = tl.spec
        story = [(r.first_seen, 1)]
        start, end = max(spec.known_from, spec.start), spec.specified_end
        remaining = set(spec.modes)
        lost: tuple[int, int] | None = None
        for s in sorted(losses, key=lambda s: s.at):
            remaining -= s.modes
            if not remaining:
                lost = (s.at, self._lost_status(r, s.winner))
                break
        # What ends the event here: (when, precedence at equal times, status to report or None)
        stops: list[tuple[int, int, int | None]] = [(end, 0, 3)]
        if tl.cancel is not None:
            stops.append((tl.cancel, 1, 6))
        if r.superseded_at is not None:
            stops.append((max(r.superseded_at, spec.creation_time), 2, 7))
        if r.dropped_at is not None:
            stops.append((r.dropped_at, 5, None))
        final = min([*stops, (lost[0], 3, lost[1])] if lost else stops)
        opt_out = r.opted_out_at
        ran_until = final[0] if opt_out is None else min(final[0], opt_out)
        ran = start < ran_until
        if ran:
            story.append((start, 2))
        if opt_out is not None and (opt_out, 4) < final[:2]:
            # The customer left first: the outcome is known when the event's own period ends (or the server
            # ends it); a device-side supersession no longer matters, the device is not running it.
            t, _, status = min(stops)
            if status == 3:
                return story, (t, 8 if start < opt_out else 10)
            if status is not None:
                story.append((t, status))
        elif final[2] == 3:
            return story, ((final[0], 3) if ran else None)
        elif final[2] is not None:
            story.append((final[0], final[2]))
        return story, None

    def _lost_status(self, r: _Record, winner_mrid: str) -> int:
        winner = self._records[r.fs].get(winner_mrid.upper())
        if winner is None or winner.program == r.program:
            return 7
        return 13 if winner.server != r.server else 14

    def _collect(self, now: int) -> None:
        """Forget events that are over for this device, answered, and no longer listed by the server."""
        plans = self._plan()
        forget: list[tuple[str, str]] = []
        for fs in _FUNCTION_SETS:
            records, plan = self._records[fs], plans[fs]

            def settled(mrid: str, fs: str = fs, plan: _Plan = plan) -> bool:
                r = self._records[fs][mrid]
                return not r.listed and all(
                    t <= now and (fs, mrid, s) in self._emitted for t, s in plan.lifecycles[mrid]
                )

            for _, _, group in plan.groups:
                over = all(
                    e.specified_end <= now or (e.cancelled_at is not None and e.cancelled_at <= now) for e in group
                )
                if over and all(settled(e.mrid.upper()) for e in group):
                    forget.extend((fs, e.mrid.upper()) for e in group)
            forget.extend((fs, m) for m, r in records.items() if (r.expired or r.invalid) and settled(m))
        for fs, mrid in forget:
            del self._records[fs][mrid]
            self._emitted -= {(fs, mrid, s) for _, s in plans[fs].lifecycles[mrid]}
            self._forgotten.append((fs, mrid))
            self._forgotten_set.add((fs, mrid))
            if len(self._forgotten) > FORGET_MEMORY:
                self._forgotten_set.discard(self._forgotten.popleft())
        if forget:
            self._plans = None

    # -- the Situation, function set by function set ------------------------------------------------------

    def _der_situation(self, plan: _Plan, now: int) -> DerSituation | None:
        walked: list[WalkedDerProgram] = list(self._programs["der"].values())
        if not walked and not plan.timelines:
            return None
        union = plan.union_at(now)
        records = self._records["der"]
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        holders: list[EventSpec] = []
        for mode in sorted({m for e in union for m in e.modes}):
            holder = in_force(union, now, mode)
            if holder is not None:
                values[mode] = getattr(records[holder.mrid.upper()].event.DERControlBase, mode)
                sources[mode] = holder.mrid
                holders.append(holder)
        ramp = None
        if holders:
            best = holders[0]
            for h in holders[1:]:
                if outranks(h, best):
                    best = h
            ramp = records[best.mrid.upper()].event.DERControlBase.rampTms
        # equal primacy: the walk's order
        defaults = sorted((p.program.primacy, i, p.default) for i, p in enumerate(walked) if p.default is not None)
        for _, _, default in defaults:
            for mode in der_modes(default.DERControlBase) - set(values):
                values[mode] = getattr(default.DERControlBase, mode)
                sources[mode] = "default"
            if ramp is None and not holders:
                ramp = default.DERControlBase.rampTms
        curves_by_href = {href: c for p in walked for href, c in p.curves.items()}
        links = {mode: v.href for mode, v in values.items() if isinstance(v, Link)}
        curves = {mode: curves_by_href[href] for mode, href in links.items() if href in curves_by_href}
        return DerSituation(base=DERControlBase(**values, rampTms=ramp), curves=curves, sources=sources)

    def _load_control(self, plan: _Plan, now: int) -> EndDeviceControl | None:
        found = list(controls_for_device(plan.union_at(now), now, self.device_category).values())
        if not found:
            return None
        best = found[0]
        for e in found[1:]:
            if outranks(e, best):
                best = e
        return self._records["drlc"][best.mrid.upper()].event

    def _next_load_control(self, plan: _Plan, now: int, current: EndDeviceControl | None) -> EndDeviceControl | None:
        """The first EndDeviceControl, other than the one in force, that will be in force for this device
        after ``now`` as things stand (the device's own start, after randomization)."""
        starts = sorted({max(tl.spec.known_from, tl.spec.start) for tl in plan.timelines.values()})
        for t in (t for t in starts if t > now):
            upcoming = self._load_control(plan, t)
            if upcoming is not None and (current is None or upcoming.mRID != current.mRID):
                return upcoming
        return None

    def _tariff_interval(self, record: _Record, spec: EventSpec) -> TariffInterval:
        rate: _Rate | None = record.extra
        blocks: tuple[Block, ...] = ()
        if rate is not None and rate.blocks:
            candidate = tuple(Block(b.startValue, b.price) for b in sorted(rate.blocks, key=lambda b: b.startValue))
            try:
                check_blocks(candidate)
                blocks = candidate
            except ValueError:
                blocks = ()
        return TariffInterval(
            mrid=record.mrid,
            creation_time=spec.creation_time,
            start=spec.start,
            duration=spec.duration,
            tou_tier=record.event.touTier,
            blocks=blocks,
            primacy=record.primacy,
            cancelled_at=spec.cancelled_at,
            received_at=spec.received_at,
        )

    def _per_kwh(self, record: _Record, price: int) -> float:
        rate: _Rate = record.extra
        value = float(money(price, rate.tariff.pricePowerOfTenMultiplier or 0))
        rt = rate.reading_type
        if rt is not None and rt.uom == _UOM_WH:
            value *= 1000 / 10 ** (rt.powerOfTenMultiplier or 0)
        return value

    def _kwh(self, record: _Record, quantity: int) -> float:
        rt = record.extra.reading_type
        if rt is not None and rt.uom == _UOM_WH:
            return quantity * 10 ** (rt.powerOfTenMultiplier or 0) / 1000
        return float(quantity)

    def _price(self, plan: _Plan, now: int) -> PriceSituation | None:
        intervals = plan.tariff_ahead(now)
        current = price_in_force(intervals, now, PRICE_POOL)
        if current is None or not current.blocks or current.blocks[0].price is None:
            return None
        record = self._records["pricing"][current.mrid.upper()]
        priced = [b for b in current.blocks if b.price is not None]
        blocks = tuple((self._kwh(record, b.start_value), self._per_kwh(record, b.price)) for b in priced)
        change = next_price_change(intervals, now, PRICE_POOL)
        next_tier = next_price = None
        if change is not None and change.interval is not None:
            nxt = change.interval
            next_tier = nxt.tou_tier
            if nxt.blocks and nxt.blocks[0].price is not None:
                next_price = self._per_kwh(self._records["pricing"][nxt.mrid.upper()], nxt.blocks[0].price)
        critical = any(s.winner.upper() == current.mrid.upper() and s.at <= now for s in plan.supersessions)
        return PriceSituation(
            interval_mrid=current.mrid,
            tier=current.tou_tier,
            price_per_kwh=blocks[0][1],
            currency=record.extra.tariff.currency,
            blocks=blocks if len(blocks) > 1 else (),
            next_change=change.at if change else None,
            next_tier=next_tier,
            next_price_per_kwh=next_price,
            critical_peak=critical,
        )

    def _messages(self, plan: _Plan, now: int) -> list[tuple[TextMessage, str]]:
        """The active messages with their program's locale, highest priority first, then newest. The same
        message published in several languages (same interval, priority and originator, from programs of
        different locales) is shown once, in the language closest to the device's."""
        programs: Mapping[str, WalkedMessagingProgram] = self._programs["messaging"]
        union = plan.union_at(now)
        versions: dict[tuple, list[tuple[tuple, TextMessage, str]]] = {}
        for e in union:
            record = self._records["messaging"][e.mrid.upper()]
            walked = programs.get(record.program)
            if walked is None or in_force(union, now, next(iter(e.modes))) is None:
                continue
            m: TextMessage = record.event
            locale = walked.program.locale
            same = (m.interval.start, m.interval.duration, m.priority, m.originator)
            preference = (-_locale_match(locale, self.locale), record.primacy, -m.creationTime, m.mRID.upper())
            versions.setdefault(same, []).append((preference, m, locale))
        shown = []
        for found in versions.values():
            by_locale: dict[str, tuple[tuple, TextMessage, str]] = {}
            for version in sorted(found, key=lambda v: v[0]):
                by_locale.setdefault(version[2].lower(), version)
            if len(by_locale) > 1:  # translations of one message: the best one
                found = [min(by_locale.values(), key=lambda v: v[0])]
            shown.extend(found)
        shown.sort(key=lambda v: (-v[1].priority, -v[1].creationTime, v[0][1], v[1].mRID.upper()))
        return [(m, locale) for _, m, locale in shown]

    def _flow_grants(self, plan: _Plan, now: int) -> tuple[FlowGrant, ...]:
        union = plan.union_at(now)
        grants = []
        for mode in sorted({m for e in union for m in e.modes}):
            holder = in_force(union, now, mode)
            if holder is None:
                continue
            response: FlowReservationResponse = self._records["flow"][holder.mrid.upper()].event
            grants.append(
                FlowGrant(
                    request_mrid=response.subject,
                    start=holder.start,
                    duration=holder.duration,
                    energy_wh=response.energyAvailable.value * 10.0**response.energyAvailable.multiplier,
                    power_w=response.powerAvailable.value * 10.0**response.powerAvailable.multiplier,
                )
            )
        return tuple(sorted(grants, key=lambda g: (g.start, g.request_mrid)))

    @staticmethod
    def _comparable(situation: Situation) -> Situation:
        return replace(situation, now=0)


def _locale_match(program_locale: str, device_locale: str) -> int:
    """2: the same language tag; 1: the same language; 0: another language."""
    a, b = program_locale.lower(), device_locale.lower()
    if a == b:
        return 2
    return 1 if a.split("-")[0] == b.split("-")[0] else 0
