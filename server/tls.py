"""TLS terminated by gridhan itself (IEEE 2030.5-2018 clause 6.11 and 5.4 on TLS).

Each accepted TCP connection is handed to :class:`TlsGate`, which runs the TLS handshake explicitly
(``loop.start_tls``) with the server context current at that moment, so that:

* a handshake failure is logged with the peer address and the reason (asyncio and aiohttp log nothing);
* a device certificate registered or revoked through the admin API takes effect from the next handshake,
  without a restart: registered self-signed certificates become trust anchors of a rebuilt context, and
  every handshake's peer certificate is checked against the device registry before any HTTP byte is read;
* the HTTP protocol (aiohttp's request handler) only ever sees authenticated connections.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger("gridhan.tls")

#: Decides whether a handshaken peer may proceed: returns None to admit, or the reason to refuse.
Admission = Callable[[bytes], Awaitable[str | None]]


class TlsContextHolder:
    """The server's current SSL context; :meth:`rebuild` swaps in a new one for later handshakes."""

    def __init__(self, build: Callable[[list[bytes]], ssl.SSLContext], trusted_der: list[bytes]) -> None:
        self._build = build
        self.context = build(trusted_der)

    def rebuild(self, trusted_der: list[bytes]) -> None:
        self.context = self._build(trusted_der)


class TlsGate(asyncio.Protocol):
    """Per-connection protocol: handshake, admission, then hand-over to the HTTP protocol."""

    def __init__(
        self,
        http_factory: Callable[[], asyncio.Protocol],
        contexts: TlsContextHolder,
        admit: Admission,
        handshake_timeout: float,
    ) -> None:
        self._http_factory = http_factory
        self._contexts = contexts
        self._admit = admit
        self._timeout = handshake_timeout
        self._buffer: list[bytes] = []
        self._eof = False
        self._lost: Exception | None = None
        self._closed = False
        self._task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()  # the ClientHello waits in the socket until start_tls reads it
        self._task = asyncio.get_running_loop().create_task(self._establish(transport))

    # Application data that arrives after the handshake but before the hand-over is kept for the handler.
    def data_received(self, data: bytes) -> None:
        self._buffer.append(data)

    def eof_received(self) -> bool | None:
        self._eof = True
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._lost = exc

    async def _establish(self, transport: asyncio.Transport) -> None:
        peer = _peer(transport)
        loop = asyncio.get_running_loop()
        try:
            tls = await loop.start_tls(
                transport, self, self._contexts.context, server_side=True, ssl_handshake_timeout=self._timeout
            )
        except (ssl.SSLError, OSError, TimeoutError, ConnectionError) as exc:
            log.warning("TLS handshake with %s failed: %s", peer, _reason(exc))
            transport.abort()
            return
        if tls is None:
            transport.abort()
            return
        ssl_object = tls.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if not der:
            log.warning("TLS connection from %s refused: no client certificate", peer)
            tls.abort()
            return
        try:
            refusal = await self._admit(der)
        except Exception:
            log.exception("TLS connection from %s refused: the device registry could not be read", peer)
            tls.abort()
            return
        if refusal is not None:
            log.warning("TLS connection from %s refused: %s", peer, refusal)
            tls.abort()
            return
        if self._closed:
            return
        http = self._http_factory()
        tls.set_protocol(http)
        http.connection_made(tls)
        for chunk in self._buffer:
            http.data_received(chunk)
        self._buffer.clear()
        if self._eof:
            http.eof_received()


def _peer(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return exc.reason or exc.strerror or str(exc)
    if isinstance(exc, TimeoutError):
        return "handshake timed out"
    return str(exc) or type(exc).__name__


class TlsGateSite(web.BaseSite):
    """An aiohttp site whose connections pass through :class:`TlsGate`."""

    __slots__ = ("_admit", "_contexts", "_handshake_timeout", "_host", "_port", "_reuse_port")

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        contexts: TlsContextHolder,
        admit: Admission,
        handshake_timeout: float = 10.0,
        backlog: int = 512,
    ) -> None:
        super().__init__(runner, backlog=backlog)
        self._host, self._port = host, port
        self._contexts, self._admit, self._handshake_timeout = contexts, admit, handshake_timeout

    @property
    def name(self) -> str:
        return f"https://{self._host}:{self.port}"

    @property
    def port(self) -> int:
        if self._server is not None and self._server.sockets:
            return self._server.sockets[0].getsockname()[1]
        return self._port

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None

        def factory() -> asyncio.Protocol:
            return TlsGate(server, self._contexts, self._admit, self._handshake_timeout)

        self._server = await loop.create_server(
            factory, self._host, self._port, backlog=self._backlog, reuse_address=True
        )


def peer_certificate_der(request: web.BaseRequest) -> bytes | None:
    """The DER certificate of the TLS peer of ``request`` (the dict form would drop SubjectAltName)."""
    transport: Any = request.transport
    if transport is None:
        return None
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    return ssl_object.getpeercert(binary_form=True)
