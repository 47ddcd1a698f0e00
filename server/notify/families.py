"""Event-bearing function sets, as the notification machinery sees them: one declaration each.

A *family* is a function set whose events (clause 10.2: DERControl, EndDeviceControl, ...) belong to a
program-like container that belongs to a group (FunctionSetAssignments, clause 8.6). What a change of such a
function set touches is the same for all of them, and so is how time moves their EventStatus (clause 10.2.3):
the outbox (:mod:`gridhan.server.notify.outbox`), :func:`gridhan.server.notify.topics.resolve` and the
event-boundary scheduler (:mod:`gridhan.server.notify.scheduler`) read these declarations and hold no code of
their own per function set. Adding one (pricing TimeTariffIntervals, messaging TextMessages) means declaring
its :class:`EventFamily` here, its subscribable resources in ``topics.SUBSCRIBABLE`` and, in its 2030.5
module's ``setup``, the event rules' view of its rows (``FunctionSets.event_specs[name]``).

The path templates are formatted with ``p`` (container id), ``c`` (event id) and ``g`` (group id). A topic is
the change key a subscription stores (see ``topics.SUBSCRIBABLE``): for a per-group list the path without
the ``/edev/{e}`` prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from gridhan.server.store.tables import DerControlRow, DerProgramRow, DrControlRow, DrProgramRow


@dataclass(frozen=True)
class EventFamily:
    """One event-bearing function set.

    ``program``: the container row class (columns ``id``, ``group_id``, ``created_time``); ``event``: the event
    row class (``id``, ``program_id``, ``creation_time``, ``cancelled_time``, ``mrid``). ``program_topic`` is
    None when the container itself carries no ``subscribable`` attribute in sep.xsd (DemandResponseProgram is
    an IdentifiedObject): its changes are then heard through the group's list, which embeds it.
    """

    name: str
    program: Any
    event: Any
    group_list: str
    program_prefix: str
    program_topic: str | None
    event_list: str
    event_path: str
    active_list: str

    def program_topics(self, p: int, g: int | None) -> list[str]:
        """What a change of container ``p`` (in group ``g``, when known) touches: itself and the group list."""
        out = [self.program_topic.format(p=p)] if self.program_topic else []
        if g is not None:
            out.append(self.group_list.format(g=g))
        return out

    def event_topics(self, p: int, c: int) -> list[str]:
        """What a change of event ``c`` of container ``p`` touches (besides the container)."""
        return [self.event_list.format(p=p), self.event_path.format(p=p, c=c), self.active_list.format(p=p)]


#: DER (clause 10.10): DERPrograms and their DERControls.
DER = EventFamily(
    name="der",
    program=DerProgramRow,
    event=DerControlRow,
    group_list="/fsa/{g}/derp",
    program_prefix="/derp/{p}",
    program_topic="/derp/{p}",
    event_list="/derp/{p}/derc",
    event_path="/derp/{p}/derc/{c}",
    active_list="/derp/{p}/actderc",
)

#: Demand Response and Load Control (clause 10.3): DemandResponsePrograms and their EndDeviceControls.
DRLC = EventFamily(
    name="drlc",
    program=DrProgramRow,
    event=DrControlRow,
    group_list="/fsa/{g}/dr",
    program_prefix="/dr/{p}",
    program_topic=None,
    event_list="/dr/{p}/edc",
    event_path="/dr/{p}/edc/{c}",
    active_list="/dr/{p}/actedc",
)

EVENT_FAMILIES: tuple[EventFamily, ...] = (DER, DRLC)
FAMILIES_BY_NAME = MappingProxyType({f.name: f for f in EVENT_FAMILIES})

#: (family name, container id): how changes and watermarks name a program of any family.
ProgramKey = tuple[str, int]
