"""DNS-SD advertisement of the 2030.5 server over multicast DNS (IEEE 2030.5-2018 clause 7), with
python-zeroconf's asyncio API.

What is advertised (names and TXT rules in :mod:`gridhan.schemas.dnssd`):

- one SRV/TXT pair for the server itself, the only instance the ``_smartenergy._tcp.local.`` PTR record
  points to (clause 7.5); its TXT record is ``txtvers=1``, ``dcap=/dcap``, ``https=<TLS port>``,
  ``level=-S1``;
- for each function set of Table 17, a PTR record ``<subtype>._sub._smartenergy._tcp.local.`` (no leading
  underscore) pointing to an SRV/TXT pair of its own, instance ``<subtype>-<name>`` (clause 7.2), whose TXT
  record adds the ``path`` where a device starts for that function set.

The SRV port is the TLS port too: clause 7.5 asks for the plain-HTTP port there, which gridhan does not
serve; clients take the port from the ``https`` key. The extensibility level is ``-S1`` (clause 5.7.2):
gridhan reads request bodies strictly against the 2018 schema and refuses elements it does not define.

The instance name is probed for uniqueness on the link (RFC 6762 clause 8); on a conflict the server takes
``name(2)``, ``name(3)``, ... as clause 7.2 suggests. Stopping sends goodbye packets (TTL 0) for every
record, so caches drop the server at once. Each :class:`DnssdAdvertiser` owns its own Zeroconf instance:
two servers in one process advertise independently.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass

import ifaddr
from zeroconf import InterfaceChoice, IPVersion, NonUniqueNameException
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from gridhan.schemas.dnssd import (
    MAX_LABEL_BYTES,
    MAX_SERVER_NAME_BYTES,
    SERVICE_TYPE,
    SUBTYPES,
    advertised_txt,
    check_server_name,
    encode_txt,
    subtype_type,
)
from gridhan.schemas.identifiers import format_sfdi
from gridhan.server.sep2 import billing, dcap, edev, files, messaging, mirror, prepayment, response, tm

log = logging.getLogger("gridhan.server.dnssd")

#: Clause 5.7.2: the 2018 base schema, arbitrary extensions not accepted.
EXTENSIBILITY_LEVEL = "-S1"

#: The ``path`` key of each Table 17 subtype's TXT record: where a device starts for that function set.
#: DER programs, demand response and pricing are assigned per group through FunctionSetAssignments
#: (clause 8.6), so a device starts from its EndDevice there.
FUNCTION_SET_PATHS: dict[str, str] = {
    "bill": billing.PATH,
    "derp": edev.LIST_PATH,
    "dr": edev.LIST_PATH,
    "edev": edev.LIST_PATH,
    "file": files.LIST_PATH,
    "msg": messaging.PUBLIC_LIST,
    "mup": mirror.MIRROR_PATH,
    "ppy": prepayment.PATH,
    "rsps": response.LIST_PATH,
    "sdev": edev.SELF_PATH,
    "tm": tm.PATH,
    "tp": edev.LIST_PATH,
    "upt": mirror.USAGE_POINT_PATH,
}

#: Renames tried after a name conflict before giving up.
MAX_RENAMES = 20
_WILDCARDS = ("", "0.0.0.0", "::")


def default_instance_name(sfdi: int) -> str:
    """``gridhan-<SFDI>``: a meaningful prefix, a hyphen and the server certificate's SFDI (clause 7.2)."""
    return f"gridhan-{format_sfdi(sfdi)}"


def subtype_instance(subtype: str, name: str) -> str:
    """The instance of a function set's SRV/TXT pair: the Table 17 string, a hyphen, the server's name."""
    return f"{subtype}-{name}"


def renamed(name: str, attempt: int) -> str:
    """``name(2)``, ``name(3)``, ... (clause 7.2), shortened so that it still fits."""
    suffix = f"({attempt})"
    while len((name + suffix).encode("utf-8")) > MAX_SERVER_NAME_BYTES:
        name = name[:-1]
    return name + suffix


def host_name(name: str) -> str:
    """The ``.local.`` host name the SRV records point to: the instance name as a DNS host label."""
    label = re.sub(r"[^A-Za-z0-9-]+", "-", name).strip("-")[:MAX_LABEL_BYTES] or "gridhan"
    return f"{label}.local."


@dataclass(frozen=True)
class AdvertisementPlan:
    """Where to advertise (the interfaces' addresses, or all interfaces) and the addresses advertised."""

    interfaces: tuple[str, ...] | None  # None: every interface
    addresses: tuple[str, ...]

    @property
    def ip_version(self) -> IPVersion:
        versions = {ipaddress.ip_address(a.split("%")[0]).version for a in self.interfaces or self.addresses}
        if versions == {4}:
            return IPVersion.V4Only
        if versions == {6}:
            return IPVersion.V6Only
        return IPVersion.All


async def plan_advertisement(listen_host: str, interfaces: Sequence[str] = ()) -> AdvertisementPlan:
    """Advertise on the configured interfaces, announcing their addresses; when none are configured, on the
    interface of the address the 2030.5 listener is bound to (loopback for 127.0.0.1), announcing that
    address; for a wildcard listener (0.0.0.0, ::), on every interface, announcing this host's addresses."""
    if interfaces:
        return AdvertisementPlan(tuple(interfaces), tuple(interfaces))
    if listen_host in _WILDCARDS:
        families = (4,) if listen_host == "0.0.0.0" else (4, 6)
        return AdvertisementPlan(None, host_addresses(families))
    try:
        ipaddress.ip_address(listen_host)
        addresses: tuple[str, ...] = (listen_host,)
    except ValueError:  # a host name: the addresses it resolves to
        infos = await asyncio.get_running_loop().getaddrinfo(listen_host, None, type=socket.SOCK_STREAM)
        addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    return AdvertisementPlan(addresses, addresses)


def host_addresses(families: Sequence[int]) -> tuple[str, ...]:
    """This host's addresses of the given IP versions, loopback and IPv6 link-local left out (an AAAA
    record cannot carry the scope a link-local address needs); loopback when nothing else is left."""
    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            text = ip.ip if isinstance(ip.ip, str) else ip.ip[0]
            address = ipaddress.ip_address(text)
            if address.version in families and not address.is_loopback and not address.is_link_local:
                found.append(text)
    if not found:
        found = ["127.0.0.1"] if 4 in families else ["::1"]
    return tuple(dict.fromkeys(found))


class DnssdAdvertiser:
    """The DNS-SD records of one 2030.5 server, registered from :meth:`start` until :meth:`stop`."""

    def __init__(self, name: str, https_port: int, plan: AdvertisementPlan, dcap_path: str = dcap.PATH) -> None:
        check_server_name(name)
        self.requested_name = name
        self.name = name
        self.https_port = https_port
        self.plan = plan
        self.dcap_path = dcap_path
        self._zc: AsyncZeroconf | None = None
        self._announcements: list[Awaitable] = []

    def _info(self, name: str, subtype: str | None) -> AsyncServiceInfo:
        path = FUNCTION_SET_PATHS[subtype] if subtype else None
        txt = advertised_txt(dcap=self.dcap_path, https_port=self.https_port, level=EXTENSIBILITY_LEVEL, path=path)
        instance = subtype_instance(subtype, name) if subtype else name
        return AsyncServiceInfo(
            subtype_type(subtype) if subtype else SERVICE_TYPE,
            f"{instance}.{SERVICE_TYPE}",
            port=self.https_port,
            properties=encode_txt(txt),
            server=host_name(name),
            parsed_addresses=list(self.plan.addresses),
        )

    @property
    def instances(self) -> list[str]:
        """The service instance names advertised: the server's, then one per function set."""
        return [f"{self.name}.{SERVICE_TYPE}"] + [f"{subtype_instance(s, self.name)}.{SERVICE_TYPE}" for s in SUBTYPES]

    async def start(self) -> None:
        interfaces = list(self.plan.interfaces) if self.plan.interfaces is not None else InterfaceChoice.All
        self._zc = zc = AsyncZeroconf(interfaces=interfaces, ip_version=self.plan.ip_version)
        for attempt in range(1, MAX_RENAMES + 2):
            name = self.requested_name if attempt == 1 else renamed(self.requested_name, attempt)
            try:
                # probes the link for the name first (RFC 6762 clause 8.1)
                self._announcements.append(await zc.async_register_service(self._info(name, None)))
            except NonUniqueNameException:
                log.warning("DNS-SD instance name %r is taken on the link; trying another", name)
                continue
            self.name = name
            break
        else:
            raise RuntimeError(f"DNS-SD: {MAX_RENAMES + 1} names derived from {self.requested_name!r} are all taken")
        for subtype in SUBTYPES:
            # named after the instance just probed: no second probing round
            info = self._info(self.name, subtype)
            self._announcements.append(await zc.async_register_service(info, cooperating_responders=True))
        log.info(
            "DNS-SD: advertising %r (%s, https port %d) on %s",
            self.name,
            ", ".join(self.plan.addresses),
            self.https_port,
            ", ".join(self.plan.interfaces) if self.plan.interfaces is not None else "every interface",
        )

    async def stop(self) -> None:
        """Withdraw every record with goodbye packets, then close the sockets."""
        for task in self._announcements:
            if isinstance(task, asyncio.Future):
                task.cancel()
        self._announcements.clear()
        zc, self._zc = self._zc, None
        if zc is not None:
            await zc.async_close()  # unregisters all services first: TTL 0 goodbyes (RFC 6762 clause 10.1)
