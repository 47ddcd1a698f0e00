"""One device's HTTPS session with a 2030.5 server.

IEEE 2030.5-2018 clause 5 (security: TLS 1.2 with TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, mutual
authentication with the device certificate, the server's chain verified up to the SERCA; certificates
carry no host name, so none is checked) and clause 6 (the RESTful exchange): resources are ``GET``,
``POST``, ``PUT`` and ``DELETE`` over HTTP/1.1 with ``application/sep+xml`` bodies; hrefs are URIs
relative to the server; lists are paged with the ``s`` (start) and ``l`` (limit) query parameters and
say how many entries there are in ``all`` and in this page in ``results`` (clause 6.6 paging).

Failures are split the way a device must treat them: :class:`SepError` is the server's answer (a status
other than the one expected, or a body that is not the resource asked for) and :class:`Unreachable`
means no answer at all (connection refused, TLS failure, timeout), after which a device keeps running
its schedule and retries later.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import aiohttp

from gridhan.certs.identity import lfdi_of, load_certificate
from gridhan.certs.tls import DEFAULT_CIPHERS, client_context
from gridhan.schemas.identifiers import sfdi_from_lfdi
from gridhan.schemas.sep2 import CONTENT_TYPE
from gridhan.schemas.xmlcodec import XmlDecodeError, XmlResource, decode, encode

T = TypeVar("T", bound=XmlResource)

#: Entries asked for per page when a list is read in full (``l`` is a UInt32; servers may send fewer).
PAGE_SIZE = 100
#: A list read in full stops after this many entries, so a server that reports a huge ``all`` cannot
#: keep a device reading forever.
MAX_LIST_ENTRIES = 10_000


class Unreachable(Exception):
    """No answer from the server: connection refused or lost, TLS handshake failed, or a timeout."""


@dataclass
class SepError(Exception):
    """The server answered, but not with what was asked for."""

    method: str
    url: str
    status: int
    text: str

    def __str__(self) -> str:
        detail = self.text.strip().replace("\n", " ")[:200]
        return f"{self.method} {self.url}: HTTP {self.status}{': ' + detail if detail else ''}"


@dataclass(frozen=True)
class DeviceCredentials:
    """The device certificate and key (PEM files) and the trust anchors (the SERCA) it verifies with."""

    cert: str | os.PathLike[str]
    key: str | os.PathLike[str]
    trust_anchors: Sequence[str | os.PathLike[str]]

    @property
    def lfdi(self) -> str:
        """The Long Form Device Identifier of the certificate (clause 6.3.4), upper-case hex."""
        return lfdi_of(load_certificate(self.cert))

    @property
    def sfdi(self) -> int:
        """The Short Form Device Identifier with its check digit (clause 6.3.3)."""
        return sfdi_from_lfdi(self.lfdi)


def list_items(page: XmlResource) -> list[Any]:
    """The entries of a 2030.5 list resource: the values of its one repeated child element."""
    for f in type(page).XML_FIELDS:
        if f.many:
            return list(getattr(page, f.name))
    raise TypeError(f"{type(page).__name__} is not a list resource")


class SepSession:
    """HTTPS requests as one device to the server that published ``dcap_url``.

    ``timeout`` bounds each request (seconds); ``ciphers`` are OpenSSL names (the standard's suite by
    default). The session is an async context manager; :meth:`close` releases its connections.
    """

    def __init__(
        self,
        dcap_url: str,
        credentials: DeviceCredentials,
        *,
        ciphers: Sequence[str] = DEFAULT_CIPHERS,
        timeout: float = 30.0,
    ) -> None:
        parts = urlsplit(dcap_url)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(f"a DeviceCapability URL is https://host[:port]/path, got {dcap_url!r}")
        self.dcap_url = dcap_url
        self.base_url = urlunsplit((parts.scheme, parts.netloc, "/", "", ""))
        self.credentials = credentials
        self.ssl = client_context(
            credentials.cert, credentials.key, trust_anchors=list(credentials.trust_anchors), ciphers=ciphers
        )
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SepSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self.ssl, limit=4), timeout=self.timeout
            )
        return self._session

    def url(self, href: str) -> str:
        """The absolute URL of an href (hrefs are relative to the server, clause 6.2)."""
        return urljoin(self.base_url, href)

    @asynccontextmanager
    async def raw(self, method: str, href: str, **kwargs: Any) -> AsyncIterator[aiohttp.ClientResponse]:
        """The HTTP response itself (streamed bodies, Range requests); connection failures become
        :class:`Unreachable`."""
        url = self.url(href)
        try:
            async with self.http.request(method, url, **kwargs) as resp:
                yield resp
        except (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, OSError) as exc:
            raise Unreachable(f"{method} {url}: {type(exc).__name__}: {exc}") from exc

    async def _exchange(
        self, method: str, href: str, body: XmlResource | None = None, params: dict[str, Any] | None = None
    ) -> tuple[int, Any, bytes, str]:
        data = encode(body) if body is not None else None
        headers = {"Accept": CONTENT_TYPE}
        if data is not None:
            headers["Content-Type"] = CONTENT_TYPE
        url = self.url(href)
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        async with self.raw(method, url, data=data, headers=headers) as resp:
            try:
                payload = await resp.read()
            except (TimeoutError, aiohttp.ClientPayloadError) as exc:
                raise Unreachable(f"{method} {url}: body not received: {exc}") from exc
            return resp.status, resp.headers, payload, url

    async def get(self, href: str, cls: type[T], **params: Any) -> T:
        """GET a resource and decode it as ``cls`` (strictly: a wrong root or field is a :class:`SepError`)."""
        status, headers, payload, url = await self._exchange("GET", href, params=params or None)
        if status != 200:
            raise SepError("GET", url, status, payload.decode("utf-8", "replace"))
        if not headers.get("Content-Type", "").startswith(CONTENT_TYPE):
            raise SepError("GET", url, status, f"Content-Type {headers.get('Content-Type')!r}, not {CONTENT_TYPE}")
        try:
            return decode(payload, cls)
        except XmlDecodeError as exc:
            raise SepError("GET", url, status, f"not a valid {cls.__name__}: {exc}") from exc

    async def get_all(self, href: str, cls: type[T], *, page_size: int = PAGE_SIZE) -> tuple[T, list[Any]]:
        """Read a whole list page by page (clause 6.6): the first page and every entry of the list."""
        first = await self.get(href, cls, s=0, l=page_size)
        items = list_items(first)
        total = min(getattr(first, "all", len(items)), MAX_LIST_ENTRIES)
        while len(items) < total:
            page = await self.get(href, cls, s=len(items), l=page_size)
            more = list_items(page)
            if not more:
                break  # the list shrank while it was read
            items.extend(more)
        return first, items[:total]

    async def post(self, href: str, body: XmlResource) -> str | None:
        """POST a resource; the Location of what was created (an absolute path), if the server gave one."""
        status, headers, payload, url = await self._exchange("POST", href, body)
        if status not in (200, 201, 204):
            raise SepError("POST", url, status, payload.decode("utf-8", "replace"))
        location = headers.get("Location")
        return urlsplit(location).path if location else None

    async def put(self, href: str, body: XmlResource) -> None:
        status, _, payload, url = await self._exchange("PUT", href, body)
        if status not in (200, 201, 204):
            raise SepError("PUT", url, status, payload.decode("utf-8", "replace"))

    async def delete(self, href: str) -> None:
        status, _, payload, url = await self._exchange("DELETE", href)
        if status not in (200, 204):
            raise SepError("DELETE", url, status, payload.decode("utf-8", "replace"))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
