"""TLS terminated by gridhan (IEEE 2030.5-2018 clause 6.11; TLS 1.2 with ECDHE-ECDSA-AES128-CCM8):
handshakes with openssl s_client and Python clients, refusals logged with the peer and the reason, and
the TLS-terminating proxy mode."""

from __future__ import annotations

import asyncio
import logging
import shutil
import ssl
from urllib.parse import quote

import aiohttp
import pytest
from cryptography import x509
from helpers import register

from gridhan.certs.pki import DevelopmentPki
from gridhan.certs.tls import client_context
from gridhan.schemas.sep2 import DeviceCapability, EndDeviceList

OPENSSL = shutil.which("openssl")


@pytest.fixture(scope="module")
def foreign_pki(tmp_path_factory: pytest.TempPathFactory) -> DevelopmentPki:
    return DevelopmentPki.create(tmp_path_factory.mktemp("foreign"), devices=["dev1"], with_mca=False)


async def _attempt(url: str, ctx: ssl.SSLContext) -> int:
    async with aiohttp.ClientSession() as session, session.get(url + "/dcap", ssl=ctx) as resp:
        await resp.read()
        return resp.status


@pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")
async def test_openssl_s_client_tls12_ccm8(server, admin, device, pki):
    await register(admin, device("dev1"))
    cert, key = pki.device_cert_path("dev1"), pki.device_key_path("dev1")
    proc = await asyncio.create_subprocess_exec(
        OPENSSL, "s_client", "-connect", f"127.0.0.1:{server.sep2_port}", "-tls1_2",
        "-cipher", "ECDHE-ECDSA-AES128-CCM8", "-cert", str(cert), "-cert_chain", str(cert), "-key", str(key),
        "-CAfile", str(pki.trust_anchor_path), "-ign_eof", "-verify_return_error",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(
        proc.communicate(b"GET /dcap HTTP/1.1\r\nHost: gridhan\r\nConnection: close\r\n\r\n"), 20
    )
    text = out.decode(errors="replace")
    assert "Cipher is ECDHE-ECDSA-AES128-CCM8" in text or "Cipher    : ECDHE-ECDSA-AES128-CCM8" in text, text
    assert "Protocol  : TLSv1.2" in text, text
    assert "HTTP/1.1 200 OK" in text
    assert "<DeviceCapability" in text


async def test_refused_handshakes_are_logged_with_peer_and_reason(server, pki, foreign_pki, caplog):
    caplog.set_level(logging.WARNING, logger="gridhan.tls")
    anchors = [pki.trust_anchor_path]
    no_cert = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    no_cert.check_hostname = False
    no_cert.load_verify_locations(cafile=str(pki.trust_anchor_path))
    no_cert.set_ciphers("ECDHE-ECDSA-AES128-CCM8")
    no_cert.maximum_version = ssl.TLSVersion.TLSv1_2
    stranger = client_context(
        foreign_pki.device_cert_path("dev1"), foreign_pki.device_key_path("dev1"), trust_anchors=anchors
    )
    tls13 = client_context(pki.device_cert_path("dev1"), pki.device_key_path("dev1"), trust_anchors=anchors)
    tls13.minimum_version = tls13.maximum_version = ssl.TLSVersion.TLSv1_3
    gcm_only = client_context(
        pki.device_cert_path("dev1"),
        pki.device_key_path("dev1"),
        trust_anchors=anchors,
        ciphers=("ECDHE-ECDSA-AES128-GCM-SHA256",),
    )
    for ctx, reason in (
        (no_cert, "PEER_DID_NOT_RETURN_A_CERTIFICATE"),
        (stranger, "CERTIFICATE_VERIFY_FAILED"),
        (tls13, "UNSUPPORTED_PROTOCOL"),
        (gcm_only, "NO_SHARED_CIPHER"),
    ):
        caplog.clear()
        with pytest.raises(aiohttp.ClientError):
            await _attempt(server.sep2_url, ctx)
        for _ in range(50):
            if caplog.records:
                break
            await asyncio.sleep(0.02)
        messages = " ".join(r.getMessage() for r in caplog.records)
        assert "TLS handshake with 127.0.0.1:" in messages and reason in messages, (reason, messages)


async def test_revoked_and_removed_certificates_refused_from_next_handshake(server, admin, device, pki, caplog):
    caplog.set_level(logging.WARNING, logger="gridhan.tls")
    first = device("dev1")
    device_id = await register(admin, first)
    assert (await first.get("/edev")).status == 200
    status, _ = await admin.post(f"/devices/{device_id}/revoke")
    assert status == 200
    # the connection already open is refused at its next request
    reply = await first.get("/edev")
    assert reply.status == 403 and "revoked" in reply.text
    # and a new connection does not get past the handshake
    with pytest.raises(aiohttp.ClientError):
        await device("dev1").get("/dcap")
    assert any("revoked" in r.getMessage() for r in caplog.records)
    status, _ = await admin.post(f"/devices/{device_id}/reinstate")
    assert status == 200
    assert (await device("dev1").get("/edev")).status == 200


async def test_self_signed_device_registered_by_certificate(server, admin, device, pki):
    pem = pki.device_cert_path("selfsigned1").read_text()
    # not registered: its handshake fails (it chains to no trust anchor)
    with pytest.raises(aiohttp.ClientError):
        await device("selfsigned1").get("/dcap")
    status, body = await admin.post("/devices", {"certificate": pem})
    assert status == 201, body
    assert body["self_signed"] is True
    listing = (await device("selfsigned1").get("/edev")).parse(EndDeviceList)
    assert listing.EndDevice[0].lFDI == body["lfdi"]
    assert (await admin.delete(f"/devices/{body['id']}"))[0] == 204
    with pytest.raises(aiohttp.ClientError):
        await device("selfsigned1").get("/dcap")


async def test_proxy_mode_trusts_forwarded_certificate_from_configured_proxies(make_server, pki):
    server = await make_server(trusted_proxies=("127.0.0.1/32",))
    pem = pki.device_cert_path("dev1").read_text().split("-----END CERTIFICATE-----")[0]
    pem += "-----END CERTIFICATE-----\n"
    header = {"X-Forwarded-Client-Cert": quote(pem)}  # nginx $ssl_client_escaped_cert
    async with aiohttp.ClientSession() as session:
        async with session.get(server.sep2_url + "/dcap", headers=header) as resp:
            assert resp.status == 200
            dcap_body = await resp.read()
        async with session.get(server.sep2_url + "/dcap") as resp:
            assert resp.status == 403
            assert "client certificate required" in await resp.text()
        async with session.get(server.sep2_url + "/dcap", headers={"X-Forwarded-Client-Cert": "garbage"}) as resp:
            assert resp.status == 400
    from gridhan.schemas.xmlcodec import decode

    assert decode(dcap_body, DeviceCapability).TimeLink.href == "/tm"


async def test_proxy_mode_refuses_untrusted_addresses(make_server, pki):
    server = await make_server(trusted_proxies=("192.0.2.0/24",))
    pem = pki.device_cert_path("dev1").read_text()
    async with aiohttp.ClientSession() as session:
        async with session.get(server.sep2_url + "/dcap", headers={"X-Forwarded-Client-Cert": quote(pem)}) as resp:
            assert resp.status == 403
            assert "not a trusted proxy" in await resp.text()


async def test_certificate_issued_under_a_self_signed_device_is_refused(server, admin, pki):
    """A registered self-signed device certificate is a trust anchor for that device only: a certificate
    naming it as issuer is refused at admission, whatever OpenSSL's chain building made of it."""
    import datetime

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from gridhan.certs.identity import load_certificate

    anchor_pem = pki.device_cert_path("selfsigned1").read_text()
    status, _ = await admin.post("/devices", {"certificate": anchor_pem})
    assert status == 201
    anchor = load_certificate(pki.device_cert_path("selfsigned1"))
    anchor_key = serialization.load_pem_private_key(pki.device_key_path("selfsigned1").read_bytes(), None)
    now = datetime.datetime.now(datetime.UTC)
    forged = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(anchor.subject)
        .public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(anchor_key, hashes.SHA256())
    )
    reason = await server.context.identities.admit_handshake(forged.public_bytes(serialization.Encoding.DER))
    assert reason is not None and "issued under a self-signed device certificate" in reason
    # the anchor itself, and MICA-issued devices, are admitted
    assert await server.context.identities.admit_handshake(anchor.public_bytes(serialization.Encoding.DER)) is None
    dev = load_certificate(pki.device_cert_path("dev1"))
    assert await server.context.identities.admit_handshake(dev.public_bytes(serialization.Encoding.DER)) is None
