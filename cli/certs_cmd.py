"""``gridhan certs``: the development PKI of IEEE 2030.5 (clause 6.11) and device identities (6.3.4).

Wire it into the top-level parser with :func:`register`; the parsed arguments carry ``func=run``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gridhan.certs.identity import der_of, lfdi_of, load_certificate
from gridhan.certs.pki import DevelopmentPki
from gridhan.certs.profile import DEVELOPMENT_HW_TYPE
from gridhan.schemas.identifiers import format_sfdi, sfdi_from_lfdi


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``certs`` command and its ``init``, ``device`` and ``id`` subcommands."""
    certs = subparsers.add_parser(
        "certs",
        help="development PKI and device identities (IEEE 2030.5 6.11, 6.3.4)",
        description="Create a development IEEE 2030.5 PKI (SERCA, MCA, MICA, server and device "
        "certificates) and print the LFDI/SFDI of certificates.",
    )
    certs.set_defaults(func=run)
    commands = certs.add_subparsers(dest="certs_command", metavar="COMMAND", required=True)

    init = commands.add_parser(
        "init",
        help="create a development PKI in a directory",
        description="Create serca.pem, [mca.pem,] mica.pem, server.pem (with chain) and their keys in DIR, "
        "plus devices/<NAME>.pem/.key for each --device and --self-signed. Fails if DIR already holds a "
        "PKI.",
    )
    init.add_argument("directory", metavar="DIR", type=Path, help="directory to create the PKI in")
    init.add_argument("--no-mca", action="store_true", help="let the SERCA issue the MICA directly")
    init.add_argument(
        "--device",
        metavar="NAME",
        action="append",
        default=[],
        help="issue a device certificate (by the MICA) named NAME; repeatable",
    )
    init.add_argument(
        "--self-signed",
        metavar="NAME",
        action="append",
        default=[],
        help="create a self-signed device certificate named NAME; repeatable",
    )

    device = commands.add_parser(
        "device",
        help="issue one more device certificate from an existing development PKI",
        description="Write DIR/devices/NAME.pem (certificate and chain) and DIR/devices/NAME.key.",
    )
    device.add_argument("directory", metavar="DIR", type=Path, help="directory of an existing PKI")
    device.add_argument("name", metavar="NAME", help="device name (letters, digits, '.', '_', '-')")
    device.add_argument("--self-signed", action="store_true", help="self-signed instead of MICA-issued")
    device.add_argument(
        "--hw-type",
        metavar="OID",
        default=DEVELOPMENT_HW_TYPE,
        help=f"hwType of the HardwareModuleName (default {DEVELOPMENT_HW_TYPE}, a documentation OID)",
    )
    device.add_argument(
        "--serial", metavar="S", default=None, help="hwSerialNum of the HardwareModuleName (default NAME)"
    )

    ident = commands.add_parser(
        "id",
        help="print the LFDI and SFDI of a certificate",
        description="Print 'LFDI: <40 hex digits>' and 'SFDI: <12 digits>' for the first certificate of "
        "FILE (PEM or DER).",
    )
    ident.add_argument("file", metavar="FILE", type=Path, help="certificate file (PEM or DER)")


def _init(args: argparse.Namespace) -> int:
    pki = DevelopmentPki.create(
        args.directory, with_mca=not args.no_mca, devices=args.device, self_signed=args.self_signed
    )
    print(f"trust anchor: {pki.trust_anchor_path}")
    print(f"server: {pki.server_cert_path} {pki.server_key_path}")
    for name in pki.device_names():
        print(f"device {name}: {pki.device_cert_path(name)} {pki.device_key_path(name)}")
    return 0


def _device(args: argparse.Namespace) -> int:
    pki = DevelopmentPki.load(args.directory)
    path = pki.issue_device(
        args.name, self_signed=args.self_signed, hw_type_oid=args.hw_type, serial_number=args.serial
    )
    print(f"device {args.name}: {path} {pki.device_key_path(args.name)}")
    return 0


def _id(args: argparse.Namespace) -> int:
    lfdi = lfdi_of(der_of(load_certificate(args.file)))
    print(f"LFDI: {lfdi}")
    print(f"SFDI: {format_sfdi(sfdi_from_lfdi(lfdi))}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the parsed ``certs`` subcommand; 0 on success, 1 with a message on stderr on failure."""
    handler = {"init": _init, "device": _device, "id": _id}[args.certs_command]
    try:
        return handler(args)
    except (OSError, ValueError) as exc:
        print(f"gridhan certs {args.certs_command}: {exc}", file=sys.stderr)
        return 1
