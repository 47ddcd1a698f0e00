"""Which resources gridhan lets devices subscribe to, and which of them a change of the store touches.

A resource is subscribable when its ``subscribable`` attribute says so (IEEE 2030.5-2018 clause 8.7.3.1;
sep.xsd SubscribableType: 1 = non-conditional subscriptions only). gridhan serves these with ``subscribable="1"``:

======================================  ==========================  =========================
path                                    resource                    topic (the change key)
======================================  ==========================  =========================
``/edev/{e}``                           EndDevice                   ``/edev/{e}``
``/edev/{e}/fsa``                       FunctionSetAssignmentsList  ``/edev/{e}/fsa``
``/edev/{e}/fsa/{g}``                   FunctionSetAssignments      ``/fsa/{g}``
``/edev/{e}/fsa/{g}/derp``              DERProgramList              ``/fsa/{g}/derp``
``/derp/{p}``                           DERProgram                  ``/derp/{p}``
``/derp/{p}/derc``                      DERControlList              ``/derp/{p}/derc``
``/derp/{p}/derc/{c}``                  DERControl                  ``/derp/{p}/derc/{c}``
``/derp/{p}/actderc``                   ActiveDERControlList        ``/derp/{p}/actderc``
``/derp/{p}/dderc``                     DefaultDERControl           ``/derp/{p}/dderc``
``/edev/{e}/fsa/{g}/dr``                DemandResponseProgramList   ``/fsa/{g}/dr``
``/dr/{p}/edc``                         EndDeviceControlList        ``/dr/{p}/edc``
``/dr/{p}/edc/{c}``                     EndDeviceControl            ``/dr/{p}/edc/{c}``
``/dr/{p}/actedc``                      ActiveEndDeviceControlList  ``/dr/{p}/actedc``
======================================  ==========================  =========================

DemandResponseProgram (``/dr/{p}``) is an IdentifiedObject in sep.xsd, without a ``subscribable`` attribute:
its changes are heard through the DemandResponseProgramList that embeds it. What is common to the
event-bearing function sets (DER, DRLC) is declared once per function set in
:mod:`gridhan.server.notify.families` and handled by the same code here.

A change is described by :class:`Changes` (collected from the rows a transaction wrote, see
:mod:`gridhan.server.notify.outbox`) and resolved by :func:`resolve` into :class:`Targets`: topics every
matching subscription hears, path prefixes (a deleted resource and everything below it) and, for changes
that only alter what some devices may *see* (a device left a group, an aggregator stopped managing a device),
topics and prefixes heard only by the subscriptions of those devices. The notification itself is rendered at
delivery time as a GET by the subscriber would be (clause 8.7.3.2), so a resource that has become invisible to
a subscriber is reported to it as deleted (status 4).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from gridhan.schemas.sep2 import (
    DefaultDERControl,
    DemandResponseProgramList,
    DERControl,
    DERControlList,
    DERProgram,
    DERProgramList,
    EndDevice,
    EndDeviceControl,
    EndDeviceControlList,
    FunctionSetAssignments,
    FunctionSetAssignmentsList,
)
from gridhan.schemas.xmlcodec import XmlResource
from gridhan.server.notify.families import DER, EVENT_FAMILIES, FAMILIES_BY_NAME, ProgramKey
from gridhan.server.store.tables import EndDeviceRow, GroupMemberRow

#: sep.xsd SubscribableType 1: the resource supports non-conditional subscriptions (Condition applies to
#: Reading values only, attributeIdentifier 0, and gridhan offers no subscribable Reading).
SUBSCRIBABLE_NON_CONDITIONAL = 1


@dataclass(frozen=True)
class Subscribable:
    """One subscribable resource: its path pattern, class, and how changes reach it.

    ``per_device``: the representation depends on the subscribing EndDevice itself (its href holds the
    device's path); otherwise it depends only on which groups the subscriber can see, so subscribers that see
    the same groups share one rendering.
    """

    name: str
    pattern: re.Pattern[str]
    cls: type[XmlResource]
    is_list: bool
    topic_template: str
    per_device: bool

    def topic(self, match: re.Match[str]) -> str:
        return self.topic_template.format(*match.groups())


def _s(name: str, pattern: str, cls: type[XmlResource], is_list: bool, topic: str, per_device: bool) -> Subscribable:
    return Subscribable(name, re.compile(pattern), cls, is_list, topic, per_device)


SUBSCRIBABLE: tuple[Subscribable, ...] = (
    _s("EndDevice", r"/edev/(\d+)", EndDevice, False, "/edev/{0}", True),
    _s("FunctionSetAssignmentsList", r"/edev/(\d+)/fsa", FunctionSetAssignmentsList, True, "/edev/{0}/fsa", True),
    _s("FunctionSetAssignments", r"/edev/(\d+)/fsa/(\d+)", FunctionSetAssignments, False, "/fsa/{1}", True),
    _s("DERProgramList", r"/edev/(\d+)/fsa/(\d+)/derp", DERProgramList, True, "/fsa/{1}/derp", True),
    _s("DERProgram", r"/derp/(\d+)", DERProgram, False, "/derp/{0}", False),
    _s("DERControlList", r"/derp/(\d+)/derc", DERControlList, True, "/derp/{0}/derc", False),
    _s("DERControl", r"/derp/(\d+)/derc/(\d+)", DERControl, False, "/derp/{0}/derc/{1}", False),
    _s("ActiveDERControlList", r"/derp/(\d+)/actderc", DERControlList, True, "/derp/{0}/actderc", False),
    _s("DefaultDERControl", r"/derp/(\d+)/dderc", DefaultDERControl, False, "/derp/{0}/dderc", False),
    _s("DemandResponseProgramList", r"/edev/(\d+)/fsa/(\d+)/dr", DemandResponseProgramList, True, "/fsa/{1}/dr", True),
    _s("EndDeviceControlList", r"/dr/(\d+)/edc", EndDeviceControlList, True, "/dr/{0}/edc", False),
    _s("EndDeviceControl", r"/dr/(\d+)/edc/(\d+)", EndDeviceControl, False, "/dr/{0}/edc/{1}", False),
    _s("ActiveEndDeviceControlList", r"/dr/(\d+)/actedc", EndDeviceControlList, True, "/dr/{0}/actedc", False),
)


def render_limit(entry: Subscribable, limit: int, max_page_size: int) -> int:
    """The ``l`` of the GET a notification renders: a list's ``limit`` (sep.xsd Subscription.limit works as
    the ``l`` query parameter does, capped like it); 1 for a resource that is not a list."""
    return min(limit, max_page_size) if entry.is_list else 1


def subscription_list_href(device_id: int) -> str:
    """The SubscriptionList of an EndDevice (8.7; Annex C shows ``/edev/{id}/sub``)."""
    return f"/edev/{device_id}/sub"


def subscription_href(device_id: int, subscription_id: int) -> str:
    return f"{subscription_list_href(device_id)}/{subscription_id}"


def subscribable(path: str) -> tuple[Subscribable, str] | None:
    """The subscribable resource ``path`` names and its topic, or None when gridhan does not offer it."""
    for entry in SUBSCRIBABLE:
        match = entry.pattern.fullmatch(path)
        if match is not None:
            return entry, entry.topic(match)
    return None


def subscribable_at(path: str) -> Subscribable | None:
    found = subscribable(path)
    return found[0] if found else None


# -- changes ----------------------------------------------------------------------------------------


@dataclass
class Changes:
    """What one transaction changed, as far as subscribable resources are concerned (filled by the session
    listener, resolved before commit). Ids are database ids; ``(g, e)`` pairs are group and device. Programs
    and events of the event-bearing function sets are keyed by family name (:mod:`~gridhan.server.notify.families`):
    a :data:`~gridhan.server.notify.families.ProgramKey` is ``(family, program id)``."""

    #: events written: (family, program, event)
    events: set[tuple[str, int, int]] = field(default_factory=set)
    programs_changed: set[ProgramKey] = field(default_factory=set)
    programs_added: dict[ProgramKey, int] = field(default_factory=dict)  # program -> group
    programs_deleted: dict[ProgramKey, int] = field(default_factory=dict)  # program -> group
    program_created: dict[ProgramKey, int] = field(default_factory=dict)  # new program -> its created_time
    defaults: set[int] = field(default_factory=set)  # DERPrograms whose DefaultDERControl changed
    curves: set[int] = field(default_factory=set)  # DERPrograms whose DERCurves changed
    groups_changed: set[int] = field(default_factory=set)
    groups_deleted: dict[int, list[int]] = field(default_factory=dict)  # group -> members before
    members_added: set[tuple[int, int]] = field(default_factory=set)
    members_removed: set[tuple[int, int]] = field(default_factory=set)
    devices_changed: set[int] = field(default_factory=set)
    #: device -> its aggregator before this transaction (an aggregator change narrows what the old one sees)
    aggregators_before: dict[int, int | None] = field(default_factory=dict)
    devices_deleted: set[int] = field(default_factory=set)
    #: devices whose SubscriptionList changed (for the ``all`` of SubscriptionListLink)
    subscription_devices: set[int] = field(default_factory=set)
    #: explicit topics (the event-boundary scheduler's)
    topics: set[str] = field(default_factory=set)
    #: notification rows prepared before a cascade removed what they describe (device deletion)
    captured: list[dict[str, object]] = field(default_factory=list)

    def event_programs(self) -> set[ProgramKey]:
        """Programs whose events changed (the scheduler recomputes their next event boundary)."""
        return {(f, p) for f, p, _ in self.events} | set(self.programs_added) | set(self.programs_deleted)

    def touches_resources(self) -> bool:
        return any(
            (
                self.events,
                self.programs_changed,
                self.programs_added,
                self.programs_deleted,
                self.defaults,
                self.curves,
                self.groups_changed,
                self.groups_deleted,
                self.members_added,
                self.members_removed,
                self.devices_changed,
                self.subscription_devices,
                self.topics,
            )
        )


@dataclass
class Targets:
    """Where a change is heard: ``topics`` and ``prefixes`` by every subscription; ``scoped`` (owner device
    ids -> topics, prefixes) only by the subscriptions those EndDevices hold."""

    topics: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)
    scoped: dict[frozenset[int], tuple[set[str], set[str]]] = field(default_factory=dict)

    def scope(self, owners: Iterable[int], topics: Iterable[str] = (), prefixes: Iterable[str] = ()) -> None:
        key = frozenset(o for o in owners if o is not None)
        if not key:
            return
        t, p = self.scoped.setdefault(key, (set(), set()))
        t.update(topics)
        p.update(prefixes)


def _groups_of_programs(conn: Connection, programs: Iterable[ProgramKey]) -> dict[ProgramKey, int]:
    found: dict[ProgramKey, int] = {}
    for family in EVENT_FAMILIES:
        ids = sorted({p for f, p in programs if f == family.name})
        if ids:
            table = family.program
            rows = conn.execute(select(table.id, table.group_id).where(table.id.in_(ids)))
            found.update(((family.name, p), g) for p, g in rows.all())
    return found


def _members(conn: Connection, groups: Iterable[int]) -> dict[int, list[int]]:
    ids = sorted(set(groups))
    found: dict[int, list[int]] = {g: [] for g in ids}
    if ids:
        rows = conn.execute(
            select(GroupMemberRow.group_id, GroupMemberRow.device_id).where(GroupMemberRow.group_id.in_(ids))
        )
        for g, e in rows.all():
            found[g].append(e)
    return found


def programs_of_groups(conn: Connection, groups: Iterable[int]) -> dict[int, list[ProgramKey]]:
    """The programs of every event-bearing function set in each of ``groups``."""
    ids = sorted(set(groups))
    found: dict[int, list[ProgramKey]] = {g: [] for g in ids}
    if ids:
        for family in EVENT_FAMILIES:
            table = family.program
            rows = conn.execute(select(table.group_id, table.id).where(table.group_id.in_(ids)))
            for g, p in rows.all():
                found[g].append((family.name, p))
    return found


def _group_topics(g: int) -> list[str]:
    """A group's FunctionSetAssignments and the per-group program list of every event-bearing function set."""
    return [f"/fsa/{g}"] + [family.group_list.format(g=g) for family in EVENT_FAMILIES]


def _program_prefix(key: ProgramKey) -> str:
    return FAMILIES_BY_NAME[key[0]].program_prefix.format(p=key[1])


def _aggregators(conn: Connection, devices: Iterable[int]) -> dict[int, int | None]:
    ids = sorted(set(devices))
    if not ids:
        return {}
    rows = conn.execute(select(EndDeviceRow.id, EndDeviceRow.aggregator_id).where(EndDeviceRow.id.in_(ids)))
    return dict(rows.all())  # type: ignore[arg-type]


def _groups_of_devices(conn: Connection, devices: Iterable[int]) -> dict[int, list[int]]:
    ids = sorted(set(devices))
    found: dict[int, list[int]] = {e: [] for e in ids}
    if ids:
        rows = conn.execute(
            select(GroupMemberRow.device_id, GroupMemberRow.group_id).where(GroupMemberRow.device_id.in_(ids))
        )
        for e, g in rows.all():
            found[e].append(g)
    return found


def resolve(conn: Connection, changes: Changes) -> Targets:
    """The topics and prefixes a transaction's changes reach (inside that transaction, before it commits).

    The representations involved, per the DER (10.10), DRLC (10.3), FunctionSetAssignments (8.6) and EndDevice
    (8.5) function sets: an event (DERControl, EndDeviceControl) is listed in its program's event list and
    active list; a program carries the ``all`` of its event and active lists (a DERProgram also those of its
    curve list and its DefaultDERControlLink) and is listed in its group's program list; a
    FunctionSetAssignments links each program list with its ``all``; an EndDevice carries the ``all`` of its
    FunctionSetAssignmentsList, LogEventList, LoadShedAvailabilityList and SubscriptionList. A topic reached
    when the representation did not in fact change costs a rendering, not a notification: the delivery worker
    sends only representations that differ from the last one sent.
    """
    out = Targets(topics=set(changes.topics))
    moved = {**changes.programs_added, **changes.programs_deleted}
    program_groups = dict(moved)
    touched = {(f, p) for f, p, _ in changes.events} | changes.programs_changed
    touched |= {(DER.name, p) for p in changes.defaults | changes.curves}
    program_groups.update(_groups_of_programs(conn, touched - set(program_groups)))

    def program_touched(key: ProgramKey) -> None:
        out.topics.update(FAMILIES_BY_NAME[key[0]].program_topics(key[1], program_groups.get(key)))

    for f, p, c in changes.events:
        out.topics.update(FAMILIES_BY_NAME[f].event_topics(p, c))
        program_touched((f, p))
    for key in changes.programs_changed:
        program_touched(key)
    for p in changes.curves:
        program_touched((DER.name, p))
    for p in changes.defaults:
        out.topics.add(f"/derp/{p}/dderc")
        program_touched((DER.name, p))
    # a program added to or removed from a group changes that group's FunctionSetAssignments (its program
    # list link) and so the FunctionSetAssignmentsList of every member
    fsa_groups = set(moved.values()) | changes.groups_changed
    for key, g in moved.items():
        out.topics.update((FAMILIES_BY_NAME[key[0]].group_list.format(g=g), f"/fsa/{g}"))
        if key in changes.programs_deleted:
            out.prefixes.add(_program_prefix(key))
    members = _members(conn, fsa_groups - set(changes.groups_deleted))
    for g in fsa_groups:
        out.topics.add(f"/fsa/{g}")
        out.topics.update(f"/edev/{e}/fsa" for e in members.get(g, ()))
    for g, former in changes.groups_deleted.items():
        out.topics.update(_group_topics(g))
        out.topics.update(f"/edev/{e}/fsa" for e in former)
        out.topics.update(f"/edev/{e}" for e in former)
    # membership: the device's FSA list and EndDevice change; a device that left a group (and its
    # aggregator) may no longer see the group's programs
    removed = {(g, e) for g, e in changes.members_removed if g not in changes.groups_deleted}
    net_removed = removed - changes.members_added
    net_added = changes.members_added - changes.members_removed
    for _, e in net_added | net_removed:
        out.topics.update((f"/edev/{e}/fsa", f"/edev/{e}"))
    if net_removed:
        left_groups = {g for g, _ in net_removed}
        programs = programs_of_groups(conn, left_groups)
        aggregators = _aggregators(conn, {e for _, e in net_removed})
        for g, e in net_removed:
            out.scope(
                (e, aggregators.get(e)),
                topics=_group_topics(g),
                prefixes=[_program_prefix(k) for k in programs.get(g, ())],
            )
    # an EndDevice carries the ``all`` of its SubscriptionListLink too
    for e in (changes.devices_changed | changes.subscription_devices) - changes.devices_deleted:
        out.topics.add(f"/edev/{e}")
    # an aggregator that stopped managing a device no longer sees it, nor its groups' programs
    if changes.aggregators_before:
        now = _aggregators(conn, changes.aggregators_before)
        lost = {e: old for e, old in changes.aggregators_before.items() if old is not None and now.get(e) != old}
        if lost:
            groups = _groups_of_devices(conn, lost)
            programs = programs_of_groups(conn, {g for gs in groups.values() for g in gs})
            for e, old in lost.items():
                prefixes = [f"/edev/{e}"] + [_program_prefix(k) for g in groups[e] for k in programs.get(g, ())]
                out.scope((old,), topics=[f"/fsa/{g}" for g in groups[e]], prefixes=prefixes)
                out.scope((old,), topics=[t for g in groups[e] for t in _group_topics(g)[1:]])
    return out
