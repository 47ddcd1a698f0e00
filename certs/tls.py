"""TLS contexts for IEEE 2030.5 links: TLS 1.2 only, ECDHE-ECDSA-AES128-CCM8, P-256, mutual authentication.

IEEE 2030.5-2018 (TLS rules cited by this project as 5.4; certificates in 6.11) secures HTTP with TLS 1.2
and the mandatory cipher suite TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 (RFC 7251; OpenSSL name
``ECDHE-ECDSA-AES128-CCM8``), ephemeral ECDH and ECDSA on the secp256r1 curve only, and both peers present
Manufacturing PKI certificates (6.11) that the other validates up to a SERCA. Host names play no part: a
2030.5 device certificate has an empty subject and is recognised by its LFDI (6.3.4).

OpenSSL specifics handled by :func:`cipher_string`:

* unknown names in an OpenSSL cipher list are skipped silently, so each requested suite is checked for;
* since OpenSSL 3.2 the CCM8 suites count as 64-bit strength and are only enabled at security level 0
  (``@SECLEVEL=0``), while Python's contexts start at level 2. ``SSLContext.get_ciphers()`` still lists a
  suite that the security level disables, so the check looks at what a TLS 1.2 ClientHello really offers
  (generated in memory, nothing is sent) and appends ``:@SECLEVEL=0`` only when that is what it takes.
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Sequence
from pathlib import Path

DEFAULT_CIPHERS: tuple[str, ...] = ("ECDHE-ECDSA-AES128-CCM8",)
"""TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 (RFC 7251, 0xC0AE): the 2030.5 cipher suite."""
ECDH_CURVE = "prime256v1"
"""secp256r1 / NIST P-256, the only curve of the profile (ECDHE and certificates)."""
SECLEVEL_0 = "@SECLEVEL=0"

_CIPHER_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_TLS12_RECORD_HEADER = 5
_HANDSHAKE_HEADER = 4
_CLIENT_RANDOM_OFFSET = 2  # client_version precedes the 32-byte random


def _offered_suite_ids(spec: str) -> frozenset[int]:
    """TLS 1.2 cipher suite ids a client context with cipher list ``spec`` puts in its ClientHello.

    The ClientHello is produced into a memory BIO and parsed; it reflects every filter OpenSSL applies
    (availability, protocol version, security level). Empty when OpenSSL would offer nothing.
    """
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_NONE
    probe.minimum_version = probe.maximum_version = ssl.TLSVersion.TLSv1_2
    probe.set_ecdh_curve(ECDH_CURVE)
    try:
        probe.set_ciphers(spec)
    except ssl.SSLError:
        return frozenset()
    outgoing = ssl.MemoryBIO()
    conn = probe.wrap_bio(ssl.MemoryBIO(), outgoing)
    try:
        conn.do_handshake()
    except ssl.SSLWantReadError:
        pass
    except ssl.SSLError:  # e.g. NO_CIPHERS_AVAILABLE
        return frozenset()
    hello = outgoing.read()
    if len(hello) < 44 or hello[0] != 0x16 or hello[_TLS12_RECORD_HEADER] != 0x01:
        raise RuntimeError("unexpected TLS ClientHello produced by OpenSSL")
    offset = _TLS12_RECORD_HEADER + _HANDSHAKE_HEADER + _CLIENT_RANDOM_OFFSET + 32
    offset += 1 + hello[offset]  # session_id
    length = int.from_bytes(hello[offset : offset + 2], "big")
    suites = hello[offset + 2 : offset + 2 + length]
    return frozenset(int.from_bytes(suites[i : i + 2], "big") for i in range(0, len(suites), 2))


def _suite_ids(names: Sequence[str]) -> dict[str, int]:
    """Map each known cipher name to its TLS id; names this OpenSSL does not know are left out."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ids: dict[str, int] = {}
    for name in names:
        try:
            ctx.set_ciphers(name)
        except ssl.SSLError:
            continue
        for cipher in ctx.get_ciphers():
            if cipher["name"] == name and cipher["protocol"] != "TLSv1.3":
                ids[name] = cipher["id"] & 0xFFFF
    return ids


def cipher_string(ciphers: Sequence[str] = DEFAULT_CIPHERS) -> str:
    """The OpenSSL cipher list that enables exactly ``ciphers`` for TLS 1.2 with the linked OpenSSL.

    ``"ECDHE-ECDSA-AES128-CCM8"`` on OpenSSL 3.0/3.1, ``"ECDHE-ECDSA-AES128-CCM8:@SECLEVEL=0"`` on 3.2 and
    later (where CCM8 needs security level 0). ``ValueError`` naming every requested cipher this OpenSSL
    cannot offer at all, or when the list is empty or malformed.
    """
    names = list(ciphers)
    if not names:
        raise ValueError("at least one cipher suite is needed")
    malformed = [name for name in names if not _CIPHER_NAME.match(name)]
    if malformed:
        raise ValueError(f"give plain OpenSSL cipher names, one per item (got {malformed!r})")
    ids = _suite_ids(names)
    unknown = [name for name in names if name not in ids]
    if unknown:
        raise ValueError(f"{ssl.OPENSSL_VERSION} cannot offer TLS 1.2 cipher suite(s) {', '.join(unknown)}")
    spec = ":".join(names)
    wanted = set(ids.values())
    if wanted <= _offered_suite_ids(spec):
        return spec
    spec = f"{spec}:{SECLEVEL_0}"
    missing = [name for name in names if ids[name] not in _offered_suite_ids(spec)]
    if missing:
        raise ValueError(
            f"{ssl.OPENSSL_VERSION} cannot enable cipher suite(s) {', '.join(missing)} "
            "for TLS 1.2, even at security level 0"
        )
    return spec


def _common(ctx: ssl.SSLContext, ciphers: Sequence[str]) -> None:
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(cipher_string(ciphers))
    ctx.set_ecdh_curve(ECDH_CURVE)
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_TICKET | ssl.OP_NO_RENEGOTIATION
    ctx.verify_mode = ssl.CERT_REQUIRED


def _load_anchors(ctx: ssl.SSLContext, trust_anchors: Sequence[os.PathLike[str] | str]) -> None:
    for anchor in trust_anchors:
        ctx.load_verify_locations(cafile=os.fspath(anchor))


def server_context(
    cert_chain: Path,
    key: Path,
    *,
    trust_anchors: Sequence[Path] = (),
    trusted_der: Sequence[bytes] = (),
    ciphers: Sequence[str] = DEFAULT_CIPHERS,
    require_client_cert: bool = True,
) -> ssl.SSLContext:
    """Server-side context of a 2030.5 server.

    ``cert_chain`` is the server certificate followed by its intermediates (MICA, MCA). Clients must
    present a certificate chaining to one of ``trust_anchors`` (SERCA files), or be one of ``trusted_der``
    (DER certificates trusted directly: registered self-signed device certificates). TLS 1.2 only, the
    given cipher suites only, ECDHE on P-256, no compression, no session tickets, no renegotiation.
    With ``require_client_cert=False`` a client may omit its certificate (a presented one is still
    verified).
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _common(ctx, ciphers)
    if not require_client_cert:
        ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.load_cert_chain(os.fspath(cert_chain), os.fspath(key))
    _load_anchors(ctx, trust_anchors)
    for der in trusted_der:
        ctx.load_verify_locations(cadata=bytes(der))
    return ctx


def client_context(
    cert_chain: Path,
    key: Path,
    *,
    trust_anchors: Sequence[Path],
    ciphers: Sequence[str] = DEFAULT_CIPHERS,
) -> ssl.SSLContext:
    """Client-side context of a 2030.5 device: same TLS rules, server verified against the SERCA(s).

    ``check_hostname`` is off because 2030.5 certificates carry no host name; the server is authenticated
    by its chain to ``trust_anchors`` (and the application may compare its LFDI).
    """
    if not trust_anchors:
        raise ValueError("a 2030.5 client needs at least one trust anchor (SERCA) to verify the server")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    _common(ctx, ciphers)
    ctx.load_cert_chain(os.fspath(cert_chain), os.fspath(key))
    _load_anchors(ctx, trust_anchors)
    return ctx
