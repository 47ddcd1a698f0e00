"""``gridhan serve``: run the 2030.5 server and the admin API until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
import sys
from pathlib import Path

from gridhan.server.settings import ENV_PREFIX, Settings, SettingsError, describe, load_settings

log = logging.getLogger("gridhan.serve")


def register(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="run the IEEE 2030.5 server and the admin API",
        description="Run the IEEE 2030.5 server (mutual TLS) and the admin API. Settings come from the "
        f"defaults, then --config FILE (TOML), then {ENV_PREFIX}<NAME> environment variables, then these "
        "flags. --demo creates a development PKI and demo devices in the data directory first.",
    )
    serve.add_argument("--config", type=Path, help="TOML file of settings (keys as below, without dashes)")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="create the development PKI and demo devices, print how to talk to the server; unless "
        "notify_allowed_hosts is set, notifications may go to this machine's loopback addresses",
    )
    for name, env, default, text in describe():
        serve.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            default=None,
            metavar=name.upper(),
            help=f"{text} (env {env}; default {default or 'empty'})",
        )
    serve.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(Settings)}
    try:
        settings = load_settings(args.config, overrides=overrides)
    except (SettingsError, OSError) as exc:
        print(f"gridhan serve: {exc}", file=sys.stderr)
        return 2
    from gridhan.server.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    try:
        return asyncio.run(_serve(settings, demo=args.demo))
    except OSError as exc:  # a missing certificate file, a port already in use, ...
        print(f"gridhan serve: {exc}", file=sys.stderr)
        return 2


async def _serve(settings: Settings, *, demo: bool) -> int:
    from gridhan.server.app import GridhanServer, admin_token

    pki = None
    if demo:
        from gridhan.server.demo import demo_pki

        pki = demo_pki(settings.data_dir)
        if not settings.notify_allowed_hosts:  # demo devices listen on this machine
            settings = settings.replace(notify_allowed_hosts=("127.0.0.0/8", "::1"))
        admin_token(settings)
    server = GridhanServer(settings)
    await server.start()
    if demo:
        from gridhan.server.demo import instructions, provision_demo

        assert pki is not None
        devices = await provision_demo(server.context.store, pki, server.context.now())
        print(
            instructions(server.sep2_url, server.admin_url, settings.data_dir / "admin-token", pki, devices), flush=True
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"gridhan serving {server.sep2_url}/dcap (admin {server.admin_url})", flush=True)
    await stop.wait()
    log.info("shutting down")
    await server.stop()
    return 0
