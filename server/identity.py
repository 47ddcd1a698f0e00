"""Identity first (IEEE 2030.5-2018 clause 6.11 on certificate-based identity, 6.3.4 on LFDI/SFDI).

The peer certificate, from the TLS connection or from a trusted TLS-terminating proxy, becomes a
:class:`Principal`. Every 2030.5 query is then scoped by that principal.
"""

from __future__ import annotations

import ipaddress
import logging
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from gridhan.certs.identity import is_self_signed, lfdi_of
from gridhan.schemas.identifiers import sfdi_from_lfdi
from gridhan.server.store.repo import Store
from gridhan.server.tls import peer_certificate_der

log = logging.getLogger("gridhan.identity")

PrincipalKind = Literal["device", "aggregator", "unregistered"]


@dataclass(frozen=True)
class DeviceIdentity:
    """What the registry says about one LFDI (cached)."""

    device_id: int
    is_aggregator: bool
    revoked: bool


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    lfdi: str
    sfdi: int
    device_id: int | None = None

    @property
    def registered(self) -> bool:
        return self.device_id is not None


class IdentityRegistry:
    """LFDI -> registered identity, with a bounded in-process cache the admin API invalidates."""

    def __init__(self, store: Store, capacity: int = 100_000) -> None:
        self._store = store
        self._capacity = capacity
        self._cache: OrderedDict[str, tuple[DeviceIdentity | None, Principal | None]] = OrderedDict()
        #: Subject names (DER) of the registered self-signed device certificates, which are TLS trust
        #: anchors for exactly those devices and must never act as issuers of other certificates.
        self.self_signed_subjects: frozenset[bytes] = frozenset()

    async def _entry(self, lfdi: str) -> tuple[DeviceIdentity | None, Principal | None]:
        entry = self._cache.get(lfdi)
        if entry is not None:
            self._cache.move_to_end(lfdi)
            return entry
        row = await self._store.device_by_lfdi(lfdi)
        sfdi = sfdi_from_lfdi(lfdi)
        if row is None:
            entry = (None, Principal("unregistered", lfdi, sfdi))
        else:
            ident = DeviceIdentity(row.id, row.is_aggregator, row.revoked)  # type: ignore[arg-type]
            kind: PrincipalKind = "aggregator" if row.is_aggregator else "device"
            entry = (ident, None if row.revoked else Principal(kind, lfdi, sfdi, row.id))
        self._cache[lfdi] = entry
        if len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        return entry

    async def lookup(self, lfdi: str) -> DeviceIdentity | None:
        return (await self._entry(lfdi))[0]

    def invalidate(self, lfdi: str | None = None) -> None:
        if lfdi is None:
            self._cache.clear()
        else:
            self._cache.pop(lfdi, None)

    async def principal(self, lfdi: str) -> Principal | None:
        """The principal of a certificate's LFDI; None when its device was revoked."""
        return (await self._entry(lfdi))[1]

    async def admit_handshake(self, der: bytes) -> str | None:
        """Admission of a freshly handshaken peer (see :mod:`gridhan.server.tls`): None or a reason."""
        lfdi = lfdi_of(der)
        ident = await self.lookup(lfdi)
        if ident is not None and ident.revoked:
            return f"certificate of LFDI {lfdi} is revoked"
        cert = x509.load_der_x509_certificate(der)
        if is_self_signed(cert):
            if ident is None:
                return f"self-signed certificate of LFDI {lfdi} is not registered"
        elif cert.issuer.public_bytes() in self.self_signed_subjects:
            return f"certificate of LFDI {lfdi} is issued under a self-signed device certificate"
        return None


PRINCIPAL = web.RequestKey("principal", Principal)


class ProxyTrust:
    """Addresses of TLS-terminating proxies allowed to forward a client certificate in a header."""

    def __init__(self, networks: tuple[str, ...], header: str) -> None:
        self.networks = tuple(ipaddress.ip_network(n, strict=False) for n in networks)
        self.header = header

    @property
    def enabled(self) -> bool:
        return bool(self.networks)

    def trusts(self, remote: str | None) -> bool:
        if remote is None:
            return False
        try:
            address = ipaddress.ip_address(remote)
        except ValueError:
            return False
        return any(address in net for net in self.networks)

    def certificate(self, request: web.Request) -> bytes | None:
        """DER of the client certificate forwarded by a trusted proxy (nginx ``$ssl_client_escaped_cert``)."""
        value = request.headers.get(self.header)
        if not value:
            return None
        pem = unquote(value).encode()
        try:
            cert = x509.load_pem_x509_certificate(pem)
        except ValueError:
            raise web.HTTPBadRequest(text=f"{self.header} does not hold a PEM certificate") from None
        return cert.public_bytes(Encoding.DER)


def identity_middleware(registry: IdentityRegistry, proxy: ProxyTrust | None) -> web.Middleware:
    """Attach the request's :class:`Principal`; refuse requests with no usable certificate."""
    connection_lfdi: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()

    @web.middleware
    async def middleware(request: web.Request, handler: web.Handler) -> web.StreamResponse:
        if proxy is not None and proxy.enabled:
            if not proxy.trusts(request.remote):
                log.warning("request from %s refused: not a trusted proxy", request.remote)
                raise web.HTTPForbidden(text="client certificate required (this address is not a trusted proxy)")
            der = proxy.certificate(request)
            refusal = await registry.admit_handshake(der) if der else None
            if refusal is not None:
                log.warning("request from %s via proxy refused: %s", request.remote, refusal)
                raise web.HTTPForbidden(text=refusal)
            if not der:
                raise web.HTTPForbidden(text="client certificate required")
            lfdi = lfdi_of(der)
        else:
            # the certificate of a TLS connection does not change: hash it once per connection
            transport = request.transport
            lfdi = connection_lfdi.get(transport) if transport is not None else None
            if lfdi is None:
                der = peer_certificate_der(request)
                if not der:
                    raise web.HTTPForbidden(text="client certificate required")
                lfdi = lfdi_of(der)
                if transport is not None:
                    connection_lfdi[transport] = lfdi
        principal = await registry.principal(lfdi)
        if principal is None:
            raise web.HTTPForbidden(text="certificate revoked")
        request[PRINCIPAL] = principal
        return await handler(request)

    return middleware
