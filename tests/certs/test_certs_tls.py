"""TLS contexts of gridhan.certs.tls: real handshakes on 127.0.0.1 (Python clients and openssl s_client)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gridhan.certs import tls
from gridhan.certs.identity import der_of, lfdi_of, load_certificate
from gridhan.certs.pki import DevelopmentPki

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")
CCM8 = "ECDHE-ECDSA-AES128-CCM8"
TIMEOUT = 10


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevelopmentPki:
    return DevelopmentPki.create(tmp_path_factory.mktemp("tls") / "pki", devices=["dev"], self_signed=["ss"])


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> DevelopmentPki:
    return DevelopmentPki.create(tmp_path_factory.mktemp("tls") / "foreign", devices=["dev"], with_mca=False)


def server_ctx(pki: DevelopmentPki, trusted_der: list[bytes] | None = None) -> ssl.SSLContext:
    return tls.server_context(
        pki.server_cert_path, pki.server_key_path, trust_anchors=[pki.trust_anchor_path],
        trusted_der=trusted_der or [],
    )  # fmt: skip


def device_ctx(pki: DevelopmentPki, name: str, anchors: DevelopmentPki | None = None) -> ssl.SSLContext:
    return tls.client_context(
        pki.device_cert_path(name), pki.device_key_path(name),
        trust_anchors=[(anchors or pki).trust_anchor_path],
    )  # fmt: skip


@dataclass
class Seen:
    """What the server saw: accepted connections (cipher, version, peer LFDI) and refused handshakes."""

    connections: list[tuple[str, str, str]] = field(default_factory=list)
    errors: list[ssl.SSLError] = field(default_factory=list)

    def reasons(self) -> str:
        return " | ".join(f"{e.reason} {getattr(e, 'verify_message', '')}" for e in self.errors)


class _HandshakeErrors(logging.Handler):
    """asyncio drops a failed server handshake silently, except for a debug log record carrying the error."""

    def __init__(self, seen: Seen) -> None:
        super().__init__(logging.DEBUG)
        self.seen = seen

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and isinstance(record.exc_info[1], ssl.SSLError):
            self.seen.errors.append(record.exc_info[1])


@contextlib.asynccontextmanager
async def serving(ctx: ssl.SSLContext) -> AsyncIterator[tuple[int, Seen]]:
    seen = Seen()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = writer.get_extra_info("ssl_object")
        peer = conn.getpeercert(binary_form=True)
        seen.connections.append((conn.cipher()[0], conn.version(), lfdi_of(peer) if peer else ""))
        writer.write(b"ok\n")
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    loop = asyncio.get_running_loop()
    asyncio_log = logging.getLogger("asyncio")
    handler, old_level, old_debug = _HandshakeErrors(seen), asyncio_log.level, loop.get_debug()
    asyncio_log.addHandler(handler)
    asyncio_log.setLevel(logging.DEBUG)
    loop.set_debug(True)
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx, ssl_handshake_timeout=TIMEOUT)
    try:
        yield server.sockets[0].getsockname()[1], seen
    finally:
        server.close()
        await server.wait_closed()
        loop.set_debug(old_debug)
        asyncio_log.setLevel(old_level)
        asyncio_log.removeHandler(handler)


async def exchange(port: int, ctx: ssl.SSLContext) -> tuple[bytes, ssl.SSLObject]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, ssl=ctx), TIMEOUT)
    try:
        line = await asyncio.wait_for(reader.readline(), TIMEOUT)
        return line, writer.get_extra_info("ssl_object")
    finally:
        writer.close()


async def refused(port: int, ctx: ssl.SSLContext) -> None:
    """Connect with a client the server must refuse; the server's reason is then in ``Seen.errors``."""
    with pytest.raises((ssl.SSLError, ConnectionError)):
        line, _ = await exchange(port, ctx)
        assert line == b"", "the server answered a client it should have refused"
        raise ConnectionResetError("closed without data")


async def s_client(port: int, *args: str | Path) -> tuple[int, str]:
    assert OPENSSL is not None
    proc = await asyncio.create_subprocess_exec(
        OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", *map(str, args),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    return proc.returncode or 0, out.decode(errors="replace")


# --- context configuration ------------------------------------------------------------------------


def test_cipher_string_for_this_openssl() -> None:
    expected = CCM8 + (":@SECLEVEL=0" if ssl.OPENSSL_VERSION_INFO >= (3, 2) else "")
    assert tls.cipher_string() == expected
    assert tls.cipher_string([CCM8, "ECDHE-ECDSA-AES128-GCM-SHA256"]).startswith(
        f"{CCM8}:ECDHE-ECDSA-AES128-GCM-SHA256"
    )


def test_cipher_string_names_what_openssl_cannot_offer() -> None:
    with pytest.raises(ValueError, match="NO-SUCH-CIPHER") as info:
        tls.cipher_string([CCM8, "NO-SUCH-CIPHER"])
    assert CCM8 not in str(info.value).split("suite(s)")[1]
    with pytest.raises(ValueError, match="TLS_AES_128_GCM_SHA256"):
        tls.cipher_string(["TLS_AES_128_GCM_SHA256"])  # a TLS 1.3 suite: not a TLS 1.2 cipher
    for bad in ([], ["A:B"], ["HIGH:@SECLEVEL=0"]):
        with pytest.raises(ValueError):
            tls.cipher_string(bad)


def test_probe_sees_what_the_security_level_disables() -> None:
    """get_ciphers() lists CCM8 at any level; the ClientHello probe only where OpenSSL really offers it."""
    assert 0xC0AE not in tls._offered_suite_ids(f"{CCM8}:@SECLEVEL=4")  # 128-bit suite, level 4 needs 192
    assert 0xC0AE in tls._offered_suite_ids(f"{CCM8}:@SECLEVEL=0")


def test_seclevel_0_is_appended_when_openssl_3_2_semantics_demand_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenSSL >= 3.2 rates CCM8 at 64 bits: offered at security level 0 only (openssl/openssl#16154).

    Checked against the OpenSSL that pyOpenSSL/cryptography bundle (>= 3.2), whose ClientHello replaces
    the probe of the stdlib's OpenSSL.
    """
    openssl_ssl = pytest.importorskip("OpenSSL.SSL")
    version = openssl_ssl.OpenSSL_version(openssl_ssl.OPENSSL_VERSION).decode()
    if tuple(int(x) for x in version.split()[1].split(".")[:2]) < (3, 2):
        pytest.skip(f"bundled {version} predates the 3.2 CCM8 change")

    def bundled_probe(spec: str) -> frozenset[int]:
        ctx = openssl_ssl.Context(openssl_ssl.TLS_METHOD)
        ctx.set_min_proto_version(openssl_ssl.TLS1_2_VERSION)
        ctx.set_max_proto_version(openssl_ssl.TLS1_2_VERSION)
        try:
            ctx.set_cipher_list(spec.encode())
            conn = openssl_ssl.Connection(ctx, None)
            conn.set_connect_state()
            conn.do_handshake()
        except openssl_ssl.WantReadError:
            pass
        except openssl_ssl.Error:
            return frozenset()
        hello = conn.bio_read(65536)
        offset = 43 + 1 + hello[43]
        length = int.from_bytes(hello[offset : offset + 2], "big")
        return frozenset(int.from_bytes(hello[i : i + 2], "big") for i in range(offset + 2, offset + 2 + length, 2))

    assert bundled_probe(CCM8) == frozenset()  # the 3.2+ behaviour itself
    monkeypatch.setattr(tls, "_offered_suite_ids", bundled_probe)
    assert tls.cipher_string() == f"{CCM8}:@SECLEVEL=0"
    monkeypatch.setattr(tls, "_offered_suite_ids", lambda spec: frozenset())
    with pytest.raises(ValueError, match="even at security level 0"):
        tls.cipher_string()


def test_context_settings(pki: DevelopmentPki) -> None:
    for ctx in (server_ctx(pki), device_ctx(pki, "dev")):
        assert ctx.minimum_version == ctx.maximum_version == ssl.TLSVersion.TLSv1_2
        assert ctx.verify_mode == ssl.CERT_REQUIRED
        assert ctx.options & ssl.OP_NO_COMPRESSION and ctx.options & ssl.OP_NO_TICKET
        assert [c["name"] for c in ctx.get_ciphers() if c["protocol"] == "TLSv1.2"] == [CCM8]
    assert device_ctx(pki, "dev").check_hostname is False
    optional = tls.server_context(
        pki.server_cert_path,
        pki.server_key_path,
        trust_anchors=[pki.trust_anchor_path],
        require_client_cert=False,
    )
    assert optional.verify_mode == ssl.CERT_OPTIONAL
    with pytest.raises(ValueError):
        tls.client_context(pki.device_cert_path("dev"), pki.device_key_path("dev"), trust_anchors=[])
    with pytest.raises(ValueError, match="NOPE"):
        tls.server_context(pki.server_cert_path, pki.server_key_path, ciphers=["NOPE"])


# --- handshakes ----------------------------------------------------------------------------------------


async def test_device_handshake_negotiates_ccm8_tls12(pki: DevelopmentPki) -> None:
    async with serving(server_ctx(pki)) as (port, seen):
        line, conn = await exchange(port, device_ctx(pki, "dev"))
    assert line == b"ok\n"
    assert conn.cipher()[0] == CCM8
    assert conn.version() == "TLSv1.2"
    assert lfdi_of(conn.getpeercert(binary_form=True)) == lfdi_of(pki.server.cert)
    device_lfdi = lfdi_of(der_of(load_certificate(pki.device_cert_path("dev"))))
    assert seen.connections == [(CCM8, "TLSv1.2", device_lfdi)]


@needs_openssl
async def test_openssl_s_client_handshake(pki: DevelopmentPki) -> None:
    device = pki.device_cert_path("dev")
    async with serving(server_ctx(pki)) as (port, seen):
        code, out = await s_client(
            port, "-tls1_2", "-cipher", f"{CCM8}:@SECLEVEL=0",  # SECLEVEL for an s_client of OpenSSL >= 3.2
            "-cert", device, "-cert_chain", device, "-key", pki.device_key_path("dev"),
            "-CAfile", pki.trust_anchor_path, "-verify_return_error",
        )  # fmt: skip
    assert code == 0, out
    assert f"Cipher is {CCM8}" in out
    assert "Verify return code: 0 (ok)" in out
    assert seen.connections and seen.connections[0][:2] == (CCM8, "TLSv1.2")
    assert seen.connections[0][2] == lfdi_of(load_certificate(device))


async def test_tls13_client_is_refused(pki: DevelopmentPki) -> None:
    ctx = device_ctx(pki, "dev")
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    async with serving(server_ctx(pki)) as (port, seen):
        await refused(port, ctx)
    assert "UNSUPPORTED_PROTOCOL" in seen.reasons()
    assert seen.connections == []


@needs_openssl
async def test_tls11_client_is_refused(pki: DevelopmentPki) -> None:
    device = pki.device_cert_path("dev")
    async with serving(server_ctx(pki)) as (port, seen):
        code, out = await s_client(
            port, "-tls1_1", "-cipher", "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0",
            "-cert", device, "-cert_chain", device, "-key", pki.device_key_path("dev"),
        )  # fmt: skip
    assert code != 0
    assert "Protocol  : TLSv1.1" in out, out  # the client did offer TLS 1.1 ...
    assert "UNSUPPORTED_PROTOCOL" in seen.reasons()  # ... and the server refused that version
    assert seen.connections == []


async def test_other_cipher_suites_are_refused(pki: DevelopmentPki) -> None:
    ctx = device_ctx(pki, "dev")
    ctx.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
    async with serving(server_ctx(pki)) as (port, seen):
        await refused(port, ctx)
    assert "NO_SHARED_CIPHER" in seen.reasons()
    assert seen.connections == []


async def test_client_without_certificate_is_refused(pki: DevelopmentPki) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(tls.cipher_string())
    ctx.load_verify_locations(cafile=str(pki.trust_anchor_path))
    async with serving(server_ctx(pki)) as (port, seen):
        await refused(port, ctx)
    assert "PEER_DID_NOT_RETURN_A_CERTIFICATE" in seen.reasons()
    assert seen.connections == []


async def test_device_of_another_pki_is_refused_and_client_checks_the_server(
    pki: DevelopmentPki, foreign: DevelopmentPki
) -> None:
    async with serving(server_ctx(pki)) as (port, seen):
        await refused(port, device_ctx(foreign, "dev", anchors=pki))
        assert "CERTIFICATE_VERIFY_FAILED unable to get local issuer certificate" in seen.reasons()
        # a device of this PKI that only trusts the foreign SERCA refuses our server
        with pytest.raises(ssl.SSLCertVerificationError):
            await exchange(port, device_ctx(pki, "dev", anchors=foreign))
    assert seen.connections == []


async def test_self_signed_device_needs_registration(pki: DevelopmentPki) -> None:
    client = device_ctx(pki, "ss")
    async with serving(server_ctx(pki)) as (port, seen):
        await refused(port, client)
    assert "CERTIFICATE_VERIFY_FAILED self-signed certificate" in seen.reasons()
    assert seen.connections == []

    registered = der_of(load_certificate(pki.device_cert_path("ss")))
    async with serving(server_ctx(pki, trusted_der=[registered])) as (port, seen):
        line, conn = await exchange(port, client)
    assert line == b"ok\n" and conn.cipher()[0] == CCM8
    assert seen.connections == [(CCM8, "TLSv1.2", lfdi_of(registered))]
