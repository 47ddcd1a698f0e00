"""Function-set registry of the 2030.5 application: each function-set module adds its routes and tells
DeviceCapability and FunctionSetAssignments (clause 8.6) which links it contributes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from gridhan.server.identity import Principal
from gridhan.server.store.tables import DeviceGroupRow, EndDeviceRow

#: (request, principal) -> {DeviceCapability field name: Link or ListLink}
DcapLinks = Callable[[web.Request, Principal], Awaitable[dict[str, Any]]]
#: (request, principal, group) -> {FunctionSetAssignments field name: Link or ListLink}
FsaLinks = Callable[[web.Request, Principal, DeviceGroupRow], Awaitable[dict[str, Any]]]
#: (request, EndDevices) -> {device id: {EndDevice field name: Link or ListLink}}, for every device given
EdevLinks = Callable[[web.Request, Sequence[EndDeviceRow]], Awaitable[dict[int, dict[str, Any]]]]


@dataclass(frozen=True)
class EventRef:
    """An event (DERControl, EndDeviceControl, TimeTariffInterval, TextMessage, ...) a Response can be
    about: the function set that owns it, its href, and the devices it targets."""

    function_set: str
    mrid: str
    href: str
    device_ids: frozenset[int]


#: (app context, subject mRID) -> the event with that mRID, if this function set has it
EventResolver = Callable[[Any, str], Awaitable[EventRef | None]]


@dataclass
class FunctionSets:
    dcap_links: list[DcapLinks] = field(default_factory=list)
    fsa_links: list[FsaLinks] = field(default_factory=list)
    #: Links a function set adds to every EndDevice (LoadShedAvailabilityListLink, FileStatusLink, ...).
    edev_links: list[EdevLinks] = field(default_factory=list)
    #: Each event-bearing function set tells the Response function set how to find its events.
    event_resolvers: list[EventResolver] = field(default_factory=list)
    #: The event rules' view (``EventSpec``) of a stored event and its program, by event-bearing function set
    #: (a family name of gridhan.server.notify.families): the event-boundary scheduler's input.
    event_specs: dict[str, Callable[[Any, Any], Any]] = field(default_factory=dict)
    #: Names of the function sets served, for the admin API and the README's table.
    names: list[str] = field(default_factory=list)


FUNCTION_SETS = web.AppKey("gridhan_function_sets", FunctionSets)


async def end_device_links(request: web.Request, rows: Sequence[EndDeviceRow]) -> dict[int, dict[str, Any]]:
    """The links the function sets add to each of the EndDevices ``rows`` (clause 8.5), by device id."""
    links: dict[int, dict[str, Any]] = {row.id: {} for row in rows}  # type: ignore[misc]
    for contribute in request.app[FUNCTION_SETS].edev_links:
        for device_id, more in (await contribute(request, rows)).items():
            links[device_id].update(more)
    return links


async def resolve_event(ctx: Any, mrid: str) -> EventRef | None:
    """The event a Response's subject names, asking every function set that has events (``ctx`` is the
    AppContext, whose ``function_sets`` the 2030.5 application filled in; the admin API uses it too)."""
    function_sets = ctx.function_sets
    if function_sets is None:
        return None
    for resolver in function_sets.event_resolvers:
        ref = await resolver(ctx, mrid)
        if ref is not None:
            return ref
    return None
