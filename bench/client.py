"""The load generator's clients: mutual TLS, HTTP/1.1, measured per request.

:func:`keepalive_load` is the one the benchmark uses: a single-threaded ``selectors`` loop over
non-blocking :class:`ssl.SSLSocket` objects with a minimal HTTP/1.1 client (one request in flight per
connection, ``Content-Length`` bodies only). It skips asyncio's pure-Python TLS transport and aiohttp's
client machinery, so it needs several times less CPU per request than the servers it loads (see the
README for the measurement). :func:`aiohttp_load` does the same work with ``aiohttp.ClientSession`` and
exists to compare the two clients (``--client aiohttp``).

:func:`handshake_load` opens fresh connections (TCP connect, full TLS 1.2 handshake with client
certificate, one request with ``Connection: close``), a few at a time, non-blocking in the same loop.
"""

from __future__ import annotations

import asyncio
import selectors
import socket
import ssl
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp

READ_SIZE = 256 * 1024
HEADER_END = b"\r\n\r\n"
CONTENT_LENGTH = b"\r\ncontent-length:"


class BenchError(RuntimeError):
    """A failed benchmark: a non-200 status, a closed connection, a malformed response, a timeout."""


@dataclass(frozen=True)
class ConnectionPlan:
    """One client connection: its device's TLS context and the requests it cycles through."""

    context: ssl.SSLContext
    #: (index in --paths, path with {id} filled in, encoded GET) in the order the connection sends them.
    requests: Sequence[tuple[int, str, bytes]]


@dataclass
class LoadResult:
    """Completed requests of one measured phase; ``latencies[i]`` in seconds for path ``path_index[i]``."""

    elapsed: float
    latencies: array = field(default_factory=lambda: array("d"))
    path_index: array = field(default_factory=lambda: array("H"))
    client_cpu: float = 0.0
    tls: tuple[str, str] | None = None  # (version, cipher) of the first connection

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed > 0 else 0.0


def get_request(path: str, host: str, *, close: bool = False) -> bytes:
    """An HTTP/1.1 GET as a 2030.5 client sends it."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Accept: application/sep+xml"]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def parse_response(buf: bytearray, *, what: str) -> tuple[int, int, bool] | None:
    """(status, total length, connection close) of the complete response at the start of ``buf``, or
    None while it is incomplete. Only ``Content-Length`` framing is understood."""
    end = buf.find(HEADER_END)
    if end < 0:
        return None
    head = bytes(buf[:end]).lower()
    if not head.startswith(b"http/1.1 "):
        raise BenchError(f"{what}: not an HTTP/1.1 response: {bytes(buf[:80])!r}")
    status = int(head[9:12])
    i = head.find(CONTENT_LENGTH)
    if i < 0:
        raise BenchError(f"{what}: response without Content-Length: {bytes(buf[:end])!r}")
    j = head.find(b"\r\n", i + 2)
    length = int(head[i + len(CONTENT_LENGTH) : j if j >= 0 else len(head)])
    total = end + 4 + length
    if len(buf) < total:
        return None
    return status, total, b"\r\nconnection: close" in head


def _status_error(what: str, path: str, status: int, buf: bytearray) -> BenchError:
    return BenchError(f"{what}: GET {path} answered {status}: {bytes(buf[:400]).decode('latin-1')!r}")


def _recv_all(sock: ssl.SSLSocket, buf: bytearray) -> bool:
    """Read what is available (including TLS records OpenSSL already buffered); False on EOF."""
    while True:
        try:
            data = sock.recv(READ_SIZE)
        except (ssl.SSLWantReadError, BlockingIOError):
            return True
        if not data:
            return False
        buf += data
        if not sock.pending():
            return True


def _send(sock: ssl.SSLSocket, data: bytes) -> None:
    """Requests are small and sent when the previous response is read, so the socket buffer is empty."""
    view = memoryview(data)
    while view:
        try:
            n = sock.send(view)
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
            time.sleep(0.0005)
            continue
        view = view[n:]


def _connect(address: tuple[str, int], context: ssl.SSLContext, timeout: float) -> ssl.SSLSocket:
    raw = socket.create_connection(address, timeout=timeout)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        return context.wrap_socket(raw)  # blocking full handshake, outside any measurement
    except BaseException:
        raw.close()
        raise


class _KeepAlive:
    __slots__ = ("buf", "next", "path", "path_index", "requests", "sent", "sock")

    def __init__(self, sock: ssl.SSLSocket, requests: Sequence[tuple[int, str, bytes]]) -> None:
        self.sock = sock
        self.requests = requests
        self.next = 0
        self.buf = bytearray()
        self.sent = 0.0
        self.path = ""
        self.path_index = 0

    def send_next(self) -> None:
        index, path, request = self.requests[self.next]
        self.next = (self.next + 1) % len(self.requests)
        self.path_index, self.path = index, path
        self.sent = time.perf_counter()
        _send(self.sock, request)


def keepalive_load(
    address: tuple[str, int],
    plans: Sequence[ConnectionPlan],
    duration: float,
    *,
    what: str,
    timeout: float = 30.0,
) -> LoadResult:
    """Open one keep-alive connection per plan (handshakes not measured), then keep one request in
    flight on each for ``duration`` seconds. Stops at the first non-200 answer (:class:`BenchError`)."""
    selector = selectors.DefaultSelector()
    conns: list[_KeepAlive] = []
    try:
        for plan in plans:
            sock = _connect(address, plan.context, timeout)
            sock.setblocking(False)
            conn = _KeepAlive(sock, plan.requests)
            conns.append(conn)
            selector.register(sock, selectors.EVENT_READ, conn)
        tls = (conns[0].sock.version() or "", conns[0].sock.cipher()[0]) if conns else None
        latencies, path_index = array("d"), array("H")
        cpu0 = time.process_time()
        start = time.perf_counter()
        end = start + duration
        last = start
        for conn in conns:
            conn.send_next()
        active = len(conns)
        while active:
            events = selector.select(timeout=1.0)
            now = time.perf_counter()
            if not events and now > end + timeout:
                raise BenchError(f"{what}: no response for {timeout:.0f} s")
            for key, _mask in events:
                conn = key.data
                if not _recv_all(conn.sock, conn.buf):
                    raise BenchError(f"{what}: the server closed a keep-alive connection (GET {conn.path})")
                parsed = parse_response(conn.buf, what=what)
                if parsed is None:
                    continue
                status, total, close = parsed
                if status != 200:
                    raise _status_error(what, conn.path, status, conn.buf)
                if close:
                    raise BenchError(f"{what}: GET {conn.path} answered with Connection: close")
                if total != len(conn.buf):
                    raise BenchError(f"{what}: unexpected bytes after the response to GET {conn.path}")
                conn.buf.clear()
                now = time.perf_counter()
                latencies.append(now - conn.sent)
                path_index.append(conn.path_index)
                last = now
                if now < end:
                    conn.send_next()
                else:
                    selector.unregister(conn.sock)
                    active -= 1
        return LoadResult(last - start, latencies, path_index, time.process_time() - cpu0, tls)
    finally:
        selector.close()
        for conn in conns:
            conn.sock.close()


class _Fresh:
    __slots__ = ("buf", "connected", "sock", "started")

    def __init__(self, sock: ssl.SSLSocket, started: float) -> None:
        self.sock = sock
        self.started = started
        self.connected = False
        self.buf = bytearray()


def handshake_load(
    address: tuple[str, int],
    contexts: Sequence[ssl.SSLContext],
    path: str,
    total: int,
    concurrency: int,
    *,
    what: str,
    timeout: float = 30.0,
) -> LoadResult:
    """``total`` fresh connections, ``concurrency`` at a time, device certificates used in turn: TCP
    connect, full handshake, ``GET path`` with ``Connection: close``, close. Latency: connect to response."""
    host = f"{address[0]}:{address[1]}"
    request = get_request(path, host, close=True)
    selector = selectors.DefaultSelector()
    open_conns: set[_Fresh] = set()
    latencies, path_index = array("d"), array("H")
    started = 0

    def open_next() -> None:
        nonlocal started
        t = time.perf_counter()
        raw = socket.create_connection(address, timeout=timeout)  # a local connect completes at once
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        raw.setblocking(False)
        sock = contexts[started % len(contexts)].wrap_socket(raw, do_handshake_on_connect=False)
        started += 1
        conn = _Fresh(sock, t)
        open_conns.add(conn)
        selector.register(sock, selectors.EVENT_WRITE, conn)
        advance(conn)

    def advance(conn: _Fresh) -> None:
        if not conn.connected:
            try:
                conn.sock.do_handshake()
            except ssl.SSLWantReadError:
                selector.modify(conn.sock, selectors.EVENT_READ, conn)
                return
            except ssl.SSLWantWriteError:
                selector.modify(conn.sock, selectors.EVENT_WRITE, conn)
                return
            conn.connected = True
            _send(conn.sock, request)
            selector.modify(conn.sock, selectors.EVENT_READ, conn)
            return
        eof = not _recv_all(conn.sock, conn.buf)
        parsed = parse_response(conn.buf, what=what)
        if parsed is None:
            if eof:
                raise BenchError(f"{what}: connection closed before the response to GET {path}")
            return
        status = parsed[0]
        if status != 200:
            raise _status_error(what, path, status, conn.buf)
        latencies.append(time.perf_counter() - conn.started)
        path_index.append(0)
        selector.unregister(conn.sock)
        open_conns.discard(conn)
        conn.sock.close()

    cpu0 = time.process_time()
    start = time.perf_counter()
    try:
        while started < min(concurrency, total):
            open_next()
        while open_conns:
            events = selector.select(timeout=1.0)
            if not events and time.perf_counter() - start > timeout + total:
                raise BenchError(f"{what}: handshakes stalled")
            for key, _mask in events:
                try:
                    advance(key.data)
                except (ssl.SSLError, OSError) as exc:
                    raise BenchError(f"{what}: fresh connection failed: {exc}") from exc
            while started < total and len(open_conns) < concurrency:
                open_next()
        elapsed = time.perf_counter() - start
        return LoadResult(elapsed, latencies, path_index, time.process_time() - cpu0)
    finally:
        selector.close()
        for conn in open_conns:
            conn.sock.close()


async def aiohttp_load(
    base_url: str,
    plans: Sequence[ConnectionPlan],
    duration: float,
    *,
    what: str,
) -> LoadResult:
    """Like :func:`keepalive_load` with one ``aiohttp.ClientSession`` (limit 1) per device connection."""
    sessions = [aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1, ssl=plan.context)) for plan in plans]
    latencies, path_index = array("d"), array("H")
    try:
        tls = None
        for session, plan in zip(sessions, plans, strict=True):  # open the connections before the clock
            async with session.get(base_url + plan.requests[0][1]) as resp:
                transport = resp.connection.transport if resp.connection else None
                ssl_object = transport.get_extra_info("ssl_object") if transport else None
                if tls is None and ssl_object is not None:
                    tls = (ssl_object.version() or "", ssl_object.cipher()[0])
                await resp.read()
        cpu0 = time.process_time()
        start = time.perf_counter()
        end = start + duration

        async def worker(session: aiohttp.ClientSession, plan: ConnectionPlan) -> float:
            n, last = 0, start
            while last < end:
                index, path, _request = plan.requests[n % len(plan.requests)]
                n += 1
                sent = time.perf_counter()
                async with session.get(base_url + path, headers={"Accept": "application/sep+xml"}) as resp:
                    body = await resp.read()
                    if resp.status != 200:
                        raise BenchError(f"{what}: GET {path} answered {resp.status}: {body[:400]!r}")
                last = time.perf_counter()
                latencies.append(last - sent)
                path_index.append(index)
            return last

        ends = await asyncio.gather(*(worker(s, p) for s, p in zip(sessions, plans, strict=True)))
        return LoadResult(max(ends) - start, latencies, path_index, time.process_time() - cpu0, tls)
    finally:
        for session in sessions:
            await session.close()
