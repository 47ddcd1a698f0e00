"""Finding IEEE 2030.5 servers by DNS-SD over multicast DNS (IEEE 2030.5-2018 clause 7; clause 8.3.3: a
client locates servers by DNS-SD and reads DeviceCapability from the URI found).

A query asks for the PTR records of ``_smartenergy._tcp.local.`` (every server; clause 7.5 keeps this for
diagnostics) or of ``<subtype>._sub._smartenergy._tcp.local.`` (the servers of one function set, Table 17).
python-zeroconf's ServiceBrowser folds subtypes into their base type, so the PTR question is sent here
directly and its answers are taken from a record listener; each instance found is then resolved (SRV, TXT,
addresses) from the records that came with the answer, or by asking for them.

A TXT record is checked as clause 7.4 says: ``txtvers`` first and 1, ``dcap`` and ``level`` present, and
the TLS port from ``https`` (absent: the server offers plain HTTP only, which a 2030.5 client cannot use).
An instance that fails is skipped with the reason (:class:`DiscoveryReport`). An instance withdrawn by a
goodbye packet while the query runs is not reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from zeroconf import (
    DNSOutgoing,
    DNSPointer,
    DNSQuestion,
    InterfaceChoice,
    IPVersion,
    RecordUpdate,
    RecordUpdateListener,
    Zeroconf,
)
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from gridhan.schemas.dnssd import SERVICE_TYPE, TxtPairs, decode_txt, https_port, subtype_type, txt_problem, txt_value

log = logging.getLogger("gridhan.client.discovery")

#: RFC 1035 numbers: a standard query (no flags), record type PTR, class IN.
QUERY_FLAGS = 0x0000
TYPE_PTR = 12
CLASS_IN = 1

DEFAULT_TIMEOUT = 3.0
#: Delays of the repeated queries after the first (RFC 6762 clause 5.2: at least one second, then doubling).
REQUERY_DELAYS = (1.0, 2.0, 4.0, 8.0)
#: Least time given to resolving an instance whose PTR arrived at the very end of the query.
MIN_RESOLVE_SECONDS = 0.25


@dataclass(frozen=True)
class DiscoveredServer:
    """A 2030.5 server (or one of its function sets) found by DNS-SD."""

    instance: str  # the full service instance name, e.g. ``gridhan-000001111114._smartenergy._tcp.local.``
    host: str  # the address to connect to
    port: int  # the TLS port (TXT ``https``)
    dcap_path: str  # TXT ``dcap``
    level: str  # TXT ``level``, the schema extensibility level (clause 5.7.2)
    txt: tuple[tuple[str, str | None], ...]  # every TXT pair, in the order received
    addresses: tuple[str, ...] = ()  # every address advertised, the chosen ``host`` first
    path: str | None = None  # TXT ``path``: the function set's base path (subtype answers only)

    @property
    def name(self) -> str:
        """The instance label, without the service type."""
        return self.instance.removesuffix("." + SERVICE_TYPE)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host.replace('%', '%25')}:{self.port}"

    @property
    def dcap_url(self) -> str:
        """Where to GET DeviceCapability (over mutual TLS)."""
        return self.base_url + self.dcap_path

    @property
    def path_url(self) -> str | None:
        """Where the function set asked for starts, when the answer named one."""
        return self.base_url + self.path if self.path else None


@dataclass(frozen=True)
class SkippedInstance:
    instance: str
    reason: str


@dataclass
class DiscoveryReport:
    servers: list[DiscoveredServer] = field(default_factory=list)
    skipped: list[SkippedInstance] = field(default_factory=list)


class UnusableAdvertisement(ValueError):
    """An SRV/TXT pair a 2030.5 client ignores; the message says why."""


def server_from_records(
    instance: str, txt_data: bytes, addresses: Sequence[str], *, subtype_answer: bool = False
) -> DiscoveredServer:
    """The server an SRV/TXT pair and its addresses describe (clause 7.4), or UnusableAdvertisement."""
    try:
        pairs: TxtPairs = decode_txt(txt_data)
    except ValueError as exc:
        raise UnusableAdvertisement(f"malformed TXT record: {exc}") from None
    problem = txt_problem(pairs)
    if problem:
        raise UnusableAdvertisement(problem)
    try:
        port = https_port(pairs)
    except ValueError as exc:
        raise UnusableAdvertisement(str(exc)) from None
    if port is None:
        raise UnusableAdvertisement("no https key: the server offers plain HTTP only, and 2030.5 needs TLS")
    ordered = sorted(addresses, key=_address_preference)
    if not ordered:
        raise UnusableAdvertisement("no address")
    # the path key answers subtype queries only; in an answer to the service name it is ignored (7.4)
    path = txt_value(pairs, "path") if subtype_answer else None
    return DiscoveredServer(
        instance=instance,
        host=ordered[0],
        port=port,
        dcap_path=txt_value(pairs, "dcap") or "",
        level=txt_value(pairs, "level") or "",
        txt=tuple(pairs),
        addresses=tuple(ordered),
        path=path if path and path.startswith("/") else None,
    )


def _address_preference(address: str) -> tuple[int, str]:
    """IPv4 first, then routable IPv6, then link-local IPv6 (usable only with its scope)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    return (0 if ip.version == 4 else 2 if ip.is_link_local else 1, address)


def zeroconf_interfaces(interfaces: Sequence[str] | None) -> tuple[list[str] | InterfaceChoice, IPVersion | None]:
    """python-zeroconf's interface choice and IP version for a list of interface addresses (None: all)."""
    if not interfaces:
        return InterfaceChoice.All, None
    versions = {ipaddress.ip_address(a.split("%")[0]).version for a in interfaces}
    version = IPVersion.V4Only if versions == {4} else IPVersion.V6Only if versions == {6} else IPVersion.All
    return list(interfaces), version


class _PointerCollector(RecordUpdateListener):
    """The instances the PTR records of one name point to; a goodbye (TTL 0) withdraws one."""

    def __init__(self, name: str) -> None:
        self.name = name.lower()
        self.live: dict[str, None] = {}  # ordered set of instance names
        self.changed = asyncio.Event()

    def async_update_records(self, zc: Zeroconf, now: float, records: list[RecordUpdate]) -> None:
        for update in records:
            record = update.new
            if isinstance(record, DNSPointer) and record.name.lower() == self.name:
                if record.is_expired(now):
                    self.live.pop(record.alias, None)
                else:
                    self.live[record.alias] = None
                self.changed.set()


async def discover_report(
    *,
    subtype: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 (how long to listen for answers, not a deadline)
    interfaces: Sequence[str] | None = None,
    zeroconf: AsyncZeroconf | None = None,
) -> DiscoveryReport:
    """Ask for 2030.5 servers for ``timeout`` seconds, on the interfaces with these addresses (None: all),
    with a Zeroconf instance of its own unless one is given; report what answered and what was skipped."""
    name = subtype_type(subtype) if subtype else SERVICE_TYPE
    loop = asyncio.get_running_loop()
    if zeroconf is None:
        choice, version = zeroconf_interfaces(interfaces)
        aiozc = AsyncZeroconf(interfaces=choice, ip_version=version)
    else:
        aiozc = zeroconf
    zc = aiozc.zeroconf
    collector = _PointerCollector(name)
    resolving: dict[str, asyncio.Task[DiscoveredServer | SkippedInstance]] = {}
    try:
        await zc.async_wait_for_start()
        deadline = loop.time() + timeout  # counted from the moment the sockets listen
        zc.async_add_listener(collector, DNSQuestion(name, TYPE_PTR, CLASS_IN))  # also replays the cache
        sender = asyncio.create_task(_send_queries(zc, name, deadline))
        try:
            while True:
                for instance in collector.live:
                    if instance not in resolving:
                        task = _resolve(zc, instance, max(deadline - loop.time(), MIN_RESOLVE_SECONDS), bool(subtype))
                        resolving[instance] = asyncio.create_task(task)
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                collector.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(collector.changed.wait(), remaining)
        finally:
            sender.cancel()
        outcomes = dict(zip(resolving, await asyncio.gather(*resolving.values()), strict=True))
    finally:
        for task in resolving.values():
            task.cancel()
        zc.async_remove_listener(collector)
        if zeroconf is None:
            await aiozc.async_close()
    report = DiscoveryReport()
    for instance, outcome in sorted(outcomes.items()):
        if instance not in collector.live:
            continue  # withdrawn (goodbye) while the query ran
        if isinstance(outcome, SkippedInstance):
            log.info("DNS-SD: skipping %s: %s", outcome.instance, outcome.reason)
            report.skipped.append(outcome)
        else:
            report.servers.append(outcome)
    return report


async def discover(
    *,
    subtype: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 (how long to listen for answers, not a deadline)
    interfaces: Sequence[str] | None = None,
    zeroconf: AsyncZeroconf | None = None,
) -> list[DiscoveredServer]:
    """The usable 2030.5 servers (or, with ``subtype``, function sets such as ``"derp"``) that answered
    within ``timeout`` seconds; see :func:`discover_report` for the parameters and the skipped ones."""
    report = await discover_report(subtype=subtype, timeout=timeout, interfaces=interfaces, zeroconf=zeroconf)
    return report.servers


async def _send_queries(zc: Zeroconf, name: str, deadline: float) -> None:
    loop = asyncio.get_running_loop()
    delays = iter(REQUERY_DELAYS)
    while True:
        out = DNSOutgoing(QUERY_FLAGS)
        out.add_question(DNSQuestion(name, TYPE_PTR, CLASS_IN))
        zc.async_send(out)
        delay = next(delays, REQUERY_DELAYS[-1])
        if loop.time() + delay >= deadline:
            return
        await asyncio.sleep(delay)


async def _resolve(
    zc: Zeroconf, instance: str, seconds: float, subtype_answer: bool
) -> DiscoveredServer | SkippedInstance:
    try:
        info = AsyncServiceInfo(SERVICE_TYPE, instance)
    except Exception as exc:  # an instance name python-zeroconf refuses
        return SkippedInstance(instance, f"unusable instance name: {exc!r}")
    if not await info.async_request(zc, int(seconds * 1000)):
        return SkippedInstance(instance, "no SRV, TXT and address records answered in time")
    try:
        return server_from_records(
            instance, info.text or b"", info.parsed_scoped_addresses(), subtype_answer=subtype_answer
        )
    except UnusableAdvertisement as exc:
        return SkippedInstance(instance, str(exc))
