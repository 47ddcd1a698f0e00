"""``gridhan device`` and ``gridhan fleet``: reference devices against a 2030.5 server.

``gridhan device KIND`` runs one device (thermostat, inverter, battery, ...) with its certificate and says
what it does as it does it; ``gridhan fleet`` runs many in one process with a live progress line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from pathlib import Path

from gridhan.client.agent import AgentConfig, DeviceAgent
from gridhan.client.devices.catalog import KINDS, make_device
from gridhan.client.fleet import Fleet, FleetConfig, parse_mix
from gridhan.client.notifications import ListenerConfig
from gridhan.client.session import DeviceCredentials


def register(subparsers: argparse._SubParsersAction) -> None:
    device = subparsers.add_parser(
        "device",
        help="run one reference device (thermostat, inverter, battery, ...) against a 2030.5 server",
        description="Run one reference device: it finds the server (--dcap or --discover), walks its "
        "programs, obeys controls, prices and messages, and reports back; every step is printed.",
    )
    device.add_argument("kind", choices=sorted(KINDS), help="device kind")
    where = device.add_mutually_exclusive_group(required=True)
    where.add_argument("--dcap", metavar="URL", help="DeviceCapability URL, e.g. https://host:8443/dcap")
    where.add_argument("--discover", action="store_true", help="find the server with DNS-SD (_smartenergy._tcp)")
    device.add_argument("--subtype", default=None, help="with --discover: a function-set subtype, e.g. derp")
    device.add_argument("--cert", type=Path, required=True, help="device certificate (PEM, with its chain)")
    device.add_argument("--key", type=Path, required=True, help="device private key (PEM)")
    device.add_argument("--ca", type=Path, action="append", required=True, help="trust anchor (the SERCA)")
    device.add_argument("--pin", type=int, default=None, help="Registration PIN the device was installed with")
    device.add_argument("--inband", action="store_true", help="POST its EndDevice if the server lists none")
    device.add_argument("--subscribe", metavar="HOST:PORT", default=None,
                        help="run a notification listener there and subscribe where the server allows")
    device.add_argument("--locale", default="en-US", help="the customer's language (RFC 5646)")
    device.add_argument("--tick", type=float, default=5.0, help="seconds between steps at most")
    device.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    device.add_argument("--seed", type=int, default=1, help="seed of the device's simulated world")
    device.set_defaults(func=run_device)

    fleet = subparsers.add_parser(
        "fleet",
        help="run N reference devices in one process with a live progress line",
        description="Run a fleet of reference devices (certificates issued from a development PKI, "
        "registered through the admin API or in band) against a 2030.5 server.",
    )
    fleet.add_argument("--count", type=int, required=True, help="number of devices")
    fleet.add_argument("--mix", default="pct=40,inverter=30,battery=10,water_heater=10,display=10",
                       help=f"kind=share,... (kinds: {', '.join(sorted(KINDS))})")
    fleet.add_argument("--dcap", metavar="URL", required=True, help="DeviceCapability URL")
    fleet.add_argument("--pki", type=Path, required=True, help="development PKI directory (issues certificates)")
    fleet.add_argument("--ca", type=Path, action="append", default=[], help="trust anchor (default: the PKI's)")
    fleet.add_argument("--admin-url", default=None, help="admin API base URL, to register the devices")
    fleet.add_argument("--admin-token-file", type=Path, default=None, help="file holding the operator token")
    fleet.add_argument("--group", default="fleet", help="group the devices are made members of")
    fleet.add_argument("--inband", action="store_true", help="devices POST their own EndDevice")
    fleet.add_argument("--prefix", default="fleet", help="device certificate name prefix")
    fleet.add_argument("--ramp", type=float, default=5.0, help="seconds over which the devices start")
    fleet.add_argument("--tick", type=float, default=5.0, help="seconds between a device's steps at most")
    fleet.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    fleet.add_argument("--verbose", action="store_true", help="print every device's own lines too")
    fleet.add_argument("--seed", type=int, default=1)
    fleet.set_defaults(func=run_fleet)


def _say(line: str) -> None:
    print(time.strftime("%H:%M:%S ") + line, flush=True)


async def _until(stop: asyncio.Event, duration: float | None) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    if duration is not None:
        loop.call_later(duration, stop.set)


async def _device(args: argparse.Namespace) -> int:
    dcap = args.dcap
    if args.discover:
        from gridhan.client.discovery import discover

        found = await discover(subtype=args.subtype)
        if not found:
            print("no 2030.5 server found with DNS-SD (_smartenergy._tcp)", file=sys.stderr)
            return 1
        dcap = found[0].dcap_url
        _say(f"discovered {dcap}")
    creds = DeviceCredentials(args.cert, args.key, args.ca)
    listener = ListenerConfig()
    if args.subscribe:
        host, _, port = args.subscribe.rpartition(":")
        listener = ListenerConfig(host=host or "127.0.0.1", port=int(port))
    config = AgentConfig(dcap, creds, pin=args.pin, inband=args.inband, subscribe=bool(args.subscribe),
                         listener=listener, locale=args.locale, tick=args.tick)
    kit = make_device(args.kind, seed=args.seed, locale=args.locale)
    _say(f"{args.kind} LFDI {creds.lfdi} SFDI {creds.sfdi} -> {dcap}")
    agent = DeviceAgent(config, kit.model, grid=kit.grid, say=_say)
    stop = asyncio.Event()
    await _until(stop, args.duration)
    try:
        await agent.run(stop)
    finally:
        await agent.close()
    if agent.stopped_reason:
        print(f"stopped: {agent.stopped_reason}", file=sys.stderr)
        return 2
    return 0


def run_device(args: argparse.Namespace) -> int:
    return asyncio.run(_device(args))


async def _fleet(args: argparse.Namespace) -> int:
    token = args.admin_token_file.read_text().strip() if args.admin_token_file else None
    config = FleetConfig(
        dcap_url=args.dcap, pki_dir=args.pki, count=args.count, mix=parse_mix(args.mix), trust_anchors=args.ca,
        admin_url=args.admin_url, admin_token=token, group=args.group, inband=args.inband, prefix=args.prefix,
        ramp=args.ramp, tick=args.tick, seed=args.seed,
    )
    fleet = Fleet(config, say=_say if args.verbose else None)
    stop = asyncio.Event()
    await _until(stop, args.duration)
    final = await fleet.run(stop, progress=sys.stdout)
    for error in final.last_errors:
        print(f"  e.g. {error}", file=sys.stderr)
    return 0 if final.registered == final.devices else 1


def run_fleet(args: argparse.Namespace) -> int:
    if args.count < 1:
        print("--count must be at least 1", file=sys.stderr)
        return 2
    try:
        parse_mix(args.mix)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return asyncio.run(_fleet(args))
