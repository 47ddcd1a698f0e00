"""The client's discovery walk: from DeviceCapability to every program the server assigned the device.

IEEE 2030.5-2018 clause 6 (resource discovery): a client starts at DeviceCapability, finds its own
EndDevice in the EndDeviceList (by its LFDI / SFDI; with in-band registration it POSTs itself there
first), checks the Registration PIN it was installed with (clause 6.11.11), reads its
FunctionSetAssignments (clause 8.6) and, through them, the function set instances it must follow: DER
programs with their controls, default control and curves (clause 10.10), demand response programs and
their EndDeviceControls (10.3), tariff profiles, rate components, time tariff intervals and their
consumption blocks (10.5), messaging programs (10.6, also the public ones DeviceCapability links), files
(9.8) and the device's flow reservation responses (10.9).

Polling (clause 6.5 / the ``pollRate`` attribute, default 900 s): a top-level list's ``pollRate`` applies
to it and to everything read through it. A walk fetches only what is due and reuses the rest, so a client
that walks every few seconds still asks the server for each resource at its own rate. A notification
(clause 8.7) replaces the copy it carries and resets its due time: resources a subscription covers are
then read again only when the subscription lapses or the walk is forced.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gridhan.client.session import SepError, SepSession, list_items
from gridhan.schemas.sep2 import (
    ConsumptionTariffIntervalList,
    DefaultDERControl,
    DemandResponseProgram,
    DemandResponseProgramList,
    DERControl,
    DERControlList,
    DERCurve,
    DERCurveList,
    DERProgram,
    DERProgramList,
    DeviceCapability,
    EndDevice,
    EndDeviceControl,
    EndDeviceControlList,
    EndDeviceList,
    File,
    FileList,
    FlowReservationResponse,
    FlowReservationResponseList,
    FunctionSetAssignments,
    FunctionSetAssignmentsList,
    MessagingProgram,
    MessagingProgramList,
    RateComponent,
    RateComponentList,
    ReadingType,
    Registration,
    TariffProfile,
    TariffProfileList,
    TextMessage,
    TextMessageList,
    Time,
    TimeTariffInterval,
    TimeTariffIntervalList,
)
from gridhan.schemas.sep2.pricing import ConsumptionTariffInterval
from gridhan.schemas.xmlcodec import XmlResource

T = TypeVar("T", bound=XmlResource)

#: ``pollRate`` default of sep.xsd (seconds) for a resource that names none.
DEFAULT_POLL_RATE = 900


class RegistrationMismatch(Exception):
    """The server's Registration PIN is not the one the device was installed with (clause 6.11.11):
    the device does not trust this server's programs."""


class NotRegistered(Exception):
    """The server does not list this device's EndDevice (and in-band registration is off or refused)."""


@dataclass
class DerProgramView:
    """One DER program as the device read it: its controls, default control and curves by href."""

    program: DERProgram
    controls: list[DERControl] = field(default_factory=list)
    default: DefaultDERControl | None = None
    curves: dict[str, DERCurve] = field(default_factory=dict)


@dataclass
class DrProgramView:
    program: DemandResponseProgram
    controls: list[EndDeviceControl] = field(default_factory=list)


@dataclass
class TariffIntervalView:
    interval: TimeTariffInterval
    blocks: list[ConsumptionTariffInterval] = field(default_factory=list)


@dataclass
class RateComponentView:
    component: RateComponent
    reading_type: ReadingType | None = None
    intervals: list[TariffIntervalView] = field(default_factory=list)


@dataclass
class TariffView:
    profile: TariffProfile
    components: list[RateComponentView] = field(default_factory=list)


@dataclass
class MessagingView:
    program: MessagingProgram
    messages: list[TextMessage] = field(default_factory=list)


@dataclass
class WalkResult:
    """Everything one walk found, deduplicated by href (a program reached through two FSAs once)."""

    dcap: DeviceCapability
    end_device: EndDevice
    time: Time | None = None
    registration: Registration | None = None
    fsas: list[FunctionSetAssignments] = field(default_factory=list)
    der: list[DerProgramView] = field(default_factory=list)
    dr: list[DrProgramView] = field(default_factory=list)
    tariffs: list[TariffView] = field(default_factory=list)
    messaging: list[MessagingView] = field(default_factory=list)
    files: list[File] = field(default_factory=list)
    flow_responses: list[FlowReservationResponse] = field(default_factory=list)
    #: List pages by href (the first page of each list read), for their ``subscribable`` attribute.
    lists: dict[str, Any] = field(default_factory=dict)
    #: Local clock instants around the GET of Time when this walk read it afresh (for clock sync).
    time_exchange: tuple[float, float] | None = None
    #: Resources fetched from the server during this walk (the rest came from the client's copies).
    fetched: int = 0
    #: Something may differ from the previous walk: a resource was fetched or a notification arrived.
    changed: bool = True


@dataclass
class _Copy:
    resource: Any
    items: list[Any] | None
    due: float


class Walker:
    """Walks the server for one device, each resource at its poll rate.

    ``pin``: the Registration PIN the device was installed with (None: not checked). ``inband``: POST the
    device's EndDevice when the server does not list it (clause 6.11.10 in-band registration).
    """

    def __init__(
        self,
        session: SepSession,
        *,
        pin: int | None = None,
        inband: bool = False,
        local_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.local_clock = local_clock
        self.pin = pin
        self.inband = inband
        self._copies: dict[str, _Copy] = {}
        self._lists: dict[str, Any] = {}
        self._now = 0.0
        self._fetched = 0
        self._notified = False

    # -- the cache of fetched resources ----------------------------------------------------------------
    def forget(self, hrefs: Iterable[str] | None = None) -> None:
        """Drop copies (all of them by default) so the next walk reads them again."""
        if hrefs is None:
            self._copies.clear()
        else:
            for href in hrefs:
                self._copies.pop(href, None)

    def accept(self, href: str, resource: XmlResource, hold: float) -> None:
        """A notification brought ``resource`` for ``href``: keep it for ``hold`` seconds from the last
        walk's time. A list carried whole replaces the copy; a partial list (fewer entries than ``all``)
        only marks the copy due again."""
        self._notified = True
        items = _items_or_none(resource)
        if items is not None and getattr(resource, "all", len(items)) > len(items):
            self._copies.pop(href, None)
            return
        self._copies[href] = _Copy(resource, items, self._now + hold)

    def hold(self, href: str, until: float) -> None:
        """Keep the copy of ``href`` until ``until`` (a subscription covers it)."""
        copy = self._copies.get(href)
        if copy is not None:
            copy.due = max(copy.due, until)

    def due(self, href: str) -> float | None:
        copy = self._copies.get(href)
        return copy.due if copy else None

    async def _get(self, href: str, cls: type[T], rate: float) -> T:
        copy = self._copies.get(href)
        if copy is not None and copy.due > self._now and isinstance(copy.resource, cls):
            return copy.resource
        resource = await self.session.get(href, cls)
        self._fetched += 1
        self._copies[href] = _Copy(resource, None, self._now + _rate(resource, rate))
        return resource

    async def _list(self, href: str, cls: type[T], rate: float) -> tuple[T, list[Any]]:
        copy = self._copies.get(href)
        if copy is not None and copy.due > self._now and isinstance(copy.resource, cls) and copy.items is not None:
            self._lists[href] = copy.resource
            return copy.resource, copy.items
        first, items = await self.session.get_all(href, cls)
        self._fetched += 1
        self._copies[href] = _Copy(first, items, self._now + _rate(first, rate))
        self._lists[href] = first
        return first, items

    # -- the walk ------------------------------------------------------------------------------------
    async def walk(self, now: float, dcap_href: str) -> WalkResult:
        """One walk at device time ``now`` (seconds) from the DeviceCapability at ``dcap_href``."""
        self._now = now
        self._fetched = 0
        self._lists = {}
        dcap = await self._get(dcap_href, DeviceCapability, DEFAULT_POLL_RATE)
        top = dcap.pollRate or DEFAULT_POLL_RATE
        end_device = await self._find_self(dcap, top)
        result = WalkResult(dcap=dcap, end_device=end_device)
        if dcap.TimeLink is not None:
            fresh = self._copies.get(dcap.TimeLink.href)
            sent = self.local_clock()
            result.time = await self._get(dcap.TimeLink.href, Time, top)
            if fresh is None or self._copies[dcap.TimeLink.href] is not fresh:
                result.time_exchange = (sent, self.local_clock())
        if end_device.RegistrationLink is not None:
            result.registration = await self._get(end_device.RegistrationLink.href, Registration, top)
            if self.pin is not None and result.registration.pIN != self.pin:
                raise RegistrationMismatch(
                    f"the server's Registration PIN {result.registration.pIN} is not the device's {self.pin}"
                )
        if end_device.FunctionSetAssignmentsListLink is not None:
            fsa_list, result.fsas = await self._list(
                end_device.FunctionSetAssignmentsListLink.href, FunctionSetAssignmentsList, top
            )
            top_fsa = _rate(fsa_list, top)
        else:
            top_fsa = top
        seen: set[str] = set()
        sources: list[Any] = [*result.fsas, dcap]
        for source in sources:
            await self._walk_function_sets(source, top_fsa, result, seen)
        if end_device.FlowReservationResponseListLink is not None:
            _, result.flow_responses = await self._list(
                end_device.FlowReservationResponseListLink.href, FlowReservationResponseList, top
            )
        result.fetched = self._fetched
        result.changed = bool(self._fetched) or self._notified
        self._notified = False
        result.lists = dict(self._lists)
        return result

    async def _find_self(self, dcap: DeviceCapability, rate: float) -> EndDevice:
        if dcap.EndDeviceListLink is None:
            raise NotRegistered("DeviceCapability links no EndDeviceList")
        lfdi = self.session.credentials.lfdi
        sfdi = self.session.credentials.sfdi
        href = dcap.EndDeviceListLink.href
        for attempt in range(2):
            _, devices = await self._list(href, EndDeviceList, rate)
            for device in devices:
                if (device.lFDI or "").upper() == lfdi or device.sFDI == sfdi:
                    return device
            if attempt or not self.inband:
                break
            await self.session.post(href, EndDevice(sFDI=sfdi, lFDI=lfdi, changedTime=int(self._now)))
            self._copies.pop(href, None)
        raise NotRegistered(f"the server lists no EndDevice with LFDI {lfdi} (SFDI {sfdi})")

    async def _walk_function_sets(self, source: Any, rate: float, result: WalkResult, seen: set[str]) -> None:
        link = getattr(source, "DERProgramListLink", None)
        if link is not None and link.href not in seen:
            seen.add(link.href)
            page, programs = await self._list(link.href, DERProgramList, rate)
            for program in programs:
                result.der.append(await self._der_program(program, _rate(page, rate)))
        link = getattr(source, "DemandResponseProgramListLink", None)
        if link is not None and link.href not in seen:
            seen.add(link.href)
            page, programs = await self._list(link.href, DemandResponseProgramList, rate)
            for program in programs:
                view = DrProgramView(program)
                if program.EndDeviceControlListLink is not None:
                    _, view.controls = await self._list(
                        program.EndDeviceControlListLink.href, EndDeviceControlList, _rate(page, rate)
                    )
                result.dr.append(view)
        link = getattr(source, "TariffProfileListLink", None)
        if link is not None and link.href not in seen:
            seen.add(link.href)
            page, profiles = await self._list(link.href, TariffProfileList, rate)
            for profile in profiles:
                result.tariffs.append(await self._tariff(profile, _rate(page, rate)))
        link = getattr(source, "MessagingProgramListLink", None)
        if link is not None and link.href not in seen:
            seen.add(link.href)
            page, programs = await self._list(link.href, MessagingProgramList, rate)
            for program in programs:
                view = MessagingView(program)
                if program.TextMessageListLink is not None:
                    _, view.messages = await self._list(
                        program.TextMessageListLink.href, TextMessageList, _rate(page, rate)
                    )
                result.messaging.append(view)
        link = getattr(source, "FileListLink", None)
        if link is not None and link.href not in seen:
            seen.add(link.href)
            _, files = await self._list(link.href, FileList, rate)
            known = {f.href for f in result.files}
            result.files.extend(f for f in files if f.href not in known)

    async def _der_program(self, program: DERProgram, rate: float) -> DerProgramView:
        view = DerProgramView(program)
        if program.DERControlListLink is not None:
            _, view.controls = await self._list(program.DERControlListLink.href, DERControlList, rate)
        if program.DefaultDERControlLink is not None:
            try:
                view.default = await self._get(program.DefaultDERControlLink.href, DefaultDERControl, rate)
            except SepError as exc:
                if exc.status != 404:  # a program may link a default it has not set yet
                    raise
        if program.DERCurveListLink is not None:
            _, curves = await self._list(program.DERCurveListLink.href, DERCurveList, rate)
            view.curves = {c.href: c for c in curves if c.href}
        return view

    async def _tariff(self, profile: TariffProfile, rate: float) -> TariffView:
        view = TariffView(profile)
        if profile.RateComponentListLink is None:
            return view
        _, components = await self._list(profile.RateComponentListLink.href, RateComponentList, rate)
        for component in components:
            rc = RateComponentView(component)
            rc.reading_type = await self._get(component.ReadingTypeLink.href, ReadingType, rate)
            _, intervals = await self._list(component.TimeTariffIntervalListLink.href, TimeTariffIntervalList, rate)
            for interval in intervals:
                tti = TariffIntervalView(interval)
                if interval.ConsumptionTariffIntervalListLink is not None:
                    _, tti.blocks = await self._list(
                        interval.ConsumptionTariffIntervalListLink.href, ConsumptionTariffIntervalList, rate
                    )
                rc.intervals.append(tti)
            view.components.append(rc)
        return view


def _rate(resource: Any, inherited: float) -> float:
    rate = getattr(resource, "pollRate", None)
    return float(rate) if rate else float(inherited)


def _items_or_none(resource: XmlResource) -> list[Any] | None:
    """The entries of a list resource (:func:`~gridhan.client.session.list_items`), None for other resources."""
    if not hasattr(resource, "results"):
        return None
    try:
        return list_items(resource)
    except TypeError:
        return None
