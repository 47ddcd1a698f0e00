"""``gridhan certs``: the development PKI of IEEE 2030.5 (clause 6.11), device identities (6.3.4), and the
manufacturer's signature on software images (File Download, 9.8; :mod:`gridhan.certs.image_signing`).

Wire it into the top-level parser with :func:`register`; the parsed arguments carry ``func=run``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

from gridhan.certs import image_signing
from gridhan.certs.identity import der_of, lfdi_of, load_certificate
from gridhan.certs.pki import DevelopmentPki
from gridhan.certs.profile import DEVELOPMENT_HW_TYPE
from gridhan.schemas.identifiers import format_sfdi, sfdi_from_lfdi


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``certs`` command and its ``init``, ``device``, ``id``, ``image-key``, ``sign-image`` and
    ``verify-image`` subcommands."""
    certs = subparsers.add_parser(
        "certs",
        help="development PKI, device identities, image signing (IEEE 2030.5 6.11, 6.3.4, 9.8)",
        description="Create a development IEEE 2030.5 PKI (SERCA, MCA, MICA, server and device "
        "certificates), print the LFDI/SFDI of certificates, and sign or verify software images.",
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

    image_key = commands.add_parser(
        "image-key",
        help="create a manufacturer image signing key (ECDSA P-256)",
        description="Write KEY (the private key, PKCS#8 PEM, mode 0600) and KEY.pub (its public key, the PEM a "
        "device is provisioned with to verify images). Fails if KEY exists.",
    )
    image_key.add_argument("key", metavar="KEY", type=Path, help="private key file to create")

    sign = commands.add_parser(
        "sign-image",
        help="sign a software image for the File Download function set (IEEE 2030.5 9.8)",
        description="Wrap PAYLOAD in gridhan's reference image format (header with manufacturer PEN, model, "
        "version, hardware version; ECDSA P-256 / SHA-256 signature) and write it to OUT.",
    )
    sign.add_argument("payload", metavar="PAYLOAD", type=Path, help="the bytes the device installs")
    sign.add_argument("-o", "--output", metavar="OUT", type=Path, required=True, help="signed image to write")
    sign.add_argument("--key", metavar="KEY", type=Path, required=True, help="manufacturer signing key (PEM)")
    sign.add_argument("--mf-id", metavar="PEN", type=int, required=True, help="manufacturer IANA PEN (File mfID)")
    sign.add_argument("--model", required=True, help="model the image is for (File mfModel)")
    sign.add_argument("--version", required=True, help="software version of the image (File mfVer)")
    sign.add_argument("--hw-version", default=None, help="hardware version the image is for (default: any)")

    verify = commands.add_parser(
        "verify-image",
        help="check a signed image against trusted manufacturer keys",
        description="Verify IMAGE with the public keys (or certificates) of TRUSTED and print its manifest.",
    )
    verify.add_argument("image", metavar="IMAGE", type=Path, help="signed image")
    verify.add_argument("--trusted", metavar="TRUSTED", type=Path, required=True, help="PEM public keys")
    verify.add_argument("--model", default=None, help="also require this model")


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


def _image_key(args: argparse.Namespace) -> int:
    key = image_signing.generate_signing_key()
    public = args.key.with_name(args.key.name + ".pub")
    fd = os.open(args.key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(image_signing.private_key_pem(key))
    public.write_bytes(image_signing.public_key_pem(key.public_key()))
    print(f"signing key: {args.key}")
    print(f"public key: {public} (key id {image_signing.key_id(key.public_key()).hex()})")
    return 0


def _sign_image(args: argparse.Namespace) -> int:
    key = image_signing.load_signing_key(args.key.read_bytes())
    image = image_signing.sign_image(
        args.payload.read_bytes(),
        key,
        mf_id=args.mf_id,
        model=args.model,
        version=args.version,
        hw_version=args.hw_version,
    )
    args.output.write_bytes(image)
    print(f"{args.output}: {len(image)} bytes, sha256 {hashlib.sha256(image).hexdigest()}")
    return 0


def _verify_image(args: argparse.Namespace) -> int:
    keys = image_signing.load_trusted_keys(args.trusted.read_bytes())
    manifest = image_signing.verify_image_file(args.image, keys, model=args.model)
    print(f"valid: manufacturer {manifest.mf_id}, model {manifest.model}, version {manifest.version}, "
          f"hardware {manifest.hw_version or 'any'}, payload {manifest.payload_length} bytes")  # fmt: skip
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the parsed ``certs`` subcommand; 0 on success, 1 with a message on stderr on failure."""
    handler = {
        "init": _init,
        "device": _device,
        "id": _id,
        "image-key": _image_key,
        "sign-image": _sign_image,
        "verify-image": _verify_image,
    }[args.certs_command]
    try:
        return handler(args)
    except (OSError, ValueError) as exc:
        print(f"gridhan certs {args.certs_command}: {exc}", file=sys.stderr)
        return 1
