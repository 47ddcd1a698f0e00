"""The two targets of the mTLS benchmark, each run in its own process (started with ``multiprocessing``
"spawn", so the load generator never shares an interpreter or a GIL with them).

* ``gridhan``: a :class:`~gridhan.server.app.GridhanServer` (TLS gate, identity, store, handlers, admin API).
* ``bare``: a plain aiohttp application behind ``web.TCPSite(ssl_context=...)`` with the *same* server
  context (:func:`gridhan.certs.tls.server_context` on the same files and ciphers, client certificate
  required), answering the benchmarked paths with fixed bodies (the ones gridhan returned).

The parent talks to a target over a :class:`multiprocessing.connection.Connection`:

* the target sends ``("ready", {...ports, pid})`` once it listens, or ``("error", traceback)``;
* the parent sends ``("profile-on",)`` / ``("profile-off",)`` to run cProfile on the target's event loop
  thread around the measured phases (when a profile file was configured), and ``("stop",)`` to end it;
  the target answers ``("stopped", None)`` after a clean shutdown (and after writing the profile).
"""

from __future__ import annotations

import asyncio
import cProfile
import logging
import os
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from aiohttp import web

log = logging.getLogger("gridhan.bench")


def serve(kind: str, config: dict[str, Any], conn: Connection) -> None:
    """Process entry point: run target ``kind`` (``"gridhan"`` or ``"bare"``) until told to stop."""
    try:
        asyncio.run(_serve(kind, config, conn))
    except BaseException:
        try:
            conn.send(("error", traceback.format_exc()))
        except OSError:
            pass
        raise


def _configure_logging(level: str) -> None:
    from gridhan.server.logs import configure_logging

    configure_logging(level, "text")


async def _serve(kind: str, config: dict[str, Any], conn: Connection) -> None:
    if config.get("cpu") is not None:  # before any thread starts: the store's threads inherit it
        os.sched_setaffinity(0, {config["cpu"]})
    _configure_logging(config["log_level"])
    if kind == "gridhan":
        server, info = await _start_gridhan(config)
        stop = server.stop
    elif kind == "bare":
        runner, info = await _start_bare(config)
        stop = runner.cleanup
    else:
        raise ValueError(f"unknown target {kind!r}")
    info["pid"] = os.getpid()
    profile_path = config.get("profile")
    profiler = cProfile.Profile() if profile_path else None

    loop = asyncio.get_running_loop()
    stopping = loop.create_future()

    def on_message() -> None:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            message = ("stop",)
        command = message[0]
        if command == "profile-on" and profiler is not None:
            profiler.enable()
        elif command == "profile-off" and profiler is not None:
            profiler.disable()
        elif command == "stop" and not stopping.done():
            loop.remove_reader(conn.fileno())
            stopping.set_result(None)

    loop.add_reader(conn.fileno(), on_message)
    conn.send(("ready", info))
    await stopping
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile_path)
    await stop()
    conn.send(("stopped", None))


async def _start_gridhan(config: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from gridhan.server.app import GridhanServer
    from gridhan.server.settings import Settings

    settings = Settings(
        data_dir=Path(config["data_dir"]),
        host="127.0.0.1",
        port=0,
        admin_host="127.0.0.1",
        admin_port=0,
        tls_cert=Path(config["cert"]),
        tls_key=Path(config["key"]),
        trust_anchors=(Path(config["trust_anchor"]),),
        ciphers=tuple(config["ciphers"]),
        admin_token=config["admin_token"],
        log_level=config["log_level"],
    )
    server = GridhanServer(settings)
    await server.start()
    return server, {"port": server.sep2_port, "admin_port": server.admin_port}


def build_bare_app(bodies: dict[str, tuple[str, bytes]]) -> web.Application:
    """GET routes (aiohttp path templates such as ``/edev/{id}``) answering fixed (content type, body)."""
    app = web.Application()

    def handler_for(content_type: str, body: bytes) -> Any:
        async def handler(_request: web.Request) -> web.Response:
            return web.Response(body=body, headers={"Content-Type": content_type})

        return handler

    for template, (content_type, body) in bodies.items():
        app.router.add_get(template, handler_for(content_type, body))
    return app


async def _start_bare(config: dict[str, Any]) -> tuple[web.AppRunner, dict[str, Any]]:
    from gridhan.certs.tls import server_context

    context = server_context(
        Path(config["cert"]),
        Path(config["key"]),
        trust_anchors=(Path(config["trust_anchor"]),),
        ciphers=tuple(config["ciphers"]),
    )
    bodies = {template: (ctype, bytes.fromhex(body)) for template, (ctype, body) in config["bodies"].items()}
    runner = web.AppRunner(build_bare_app(bodies), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    server = site._server  # aiohttp keeps the asyncio server here
    assert server is not None and server.sockets
    return runner, {"port": server.sockets[0].getsockname()[1]}
