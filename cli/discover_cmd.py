"""``gridhan discover``: ask the local network for IEEE 2030.5 servers by DNS-SD (clause 7) and print them."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict

from gridhan.schemas.dnssd import SUBTYPES, check_subtype


def register(subparsers: argparse._SubParsersAction) -> None:
    cmd = subparsers.add_parser(
        "discover",
        help="find IEEE 2030.5 servers on the local network by DNS-SD (multicast DNS)",
        description="Ask for _smartenergy._tcp.local. (every server; meant for diagnostics) or, with --subtype, "
        "for the servers of one function set (<subtype>._sub._smartenergy._tcp.local.), and print each "
        "answer's DeviceCapability URL. Exits 1 when nothing usable answered.",
    )
    cmd.add_argument(
        "--subtype", help=f"function set to ask for (IEEE 2030.5 Table 17: {', '.join(SUBTYPES)}); default: none"
    )
    cmd.add_argument("--timeout", type=float, default=3.0, help="seconds to listen for answers (default 3)")
    cmd.add_argument(
        "--interface",
        action="append",
        dest="interfaces",
        metavar="ADDRESS",
        help="address of an interface to ask on (repeatable; e.g. 127.0.0.1); default: every interface",
    )
    cmd.add_argument("--json", action="store_true", help="print one JSON object per server instead")
    cmd.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.subtype is not None:
        try:
            check_subtype(args.subtype)
        except ValueError as exc:
            print(f"gridhan discover: {exc}", file=sys.stderr)
            return 2
    from gridhan.client.discovery import discover_report

    try:
        report = asyncio.run(
            discover_report(subtype=args.subtype, timeout=args.timeout, interfaces=args.interfaces or None)
        )
    except (OSError, ValueError) as exc:  # no usable interface, an address that is not one of this host's
        where = ", ".join(args.interfaces) if args.interfaces else "every interface"
        print(f"gridhan discover: cannot ask on {where}: {exc}", file=sys.stderr)
        return 2
    for server in report.servers:
        if args.json:
            print(json.dumps({**asdict(server), "name": server.name, "dcap_url": server.dcap_url}))
        else:
            extra = f"  path={server.path}" if server.path else ""
            print(f"{server.name}  {server.dcap_url}  level={server.level}{extra}")
    for skipped in report.skipped:
        print(f"skipped {skipped.instance}: {skipped.reason}", file=sys.stderr)
    if not report.servers:
        asked = f"subtype {args.subtype}" if args.subtype else "_smartenergy._tcp.local."
        print(f"gridhan discover: no 2030.5 server answered for {asked} within {args.timeout:g} s", file=sys.stderr)
        return 1
    return 0
