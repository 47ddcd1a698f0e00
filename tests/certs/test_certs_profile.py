"""Generated certificates follow the IEEE 2030.5-2018 6.11 profile, read back by cryptography and openssl."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from gridhan.certs import profile
from gridhan.certs.identity import hardware_module_name, load_certificates, policies_of
from gridhan.certs.pki import (
    DevelopmentPki,
    Issued,
    create_device_certificate,
    create_mica,
    create_serca,
    generate_key,
)

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevelopmentPki:
    return DevelopmentPki.create(
        tmp_path_factory.mktemp("pki") / "dev", devices=["meter-1"], self_signed=["han-client"]
    )


def openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, *map(str, args)], capture_output=True, text=True, timeout=30)


def text_of(path: Path) -> str:
    result = openssl("x509", "-in", path, "-text", "-noout")
    assert result.returncode == 0, result.stderr
    return result.stdout


def constraints(cert: x509.Certificate) -> x509.Extension[x509.BasicConstraints]:
    return cert.extensions.get_extension_for_class(x509.BasicConstraints)


def key_usage(cert: x509.Certificate) -> x509.Extension[x509.KeyUsage]:
    return cert.extensions.get_extension_for_class(x509.KeyUsage)


# --- read back with cryptography -----------------------------------------------------------------


def test_every_certificate_is_p256_ecdsa_sha256_and_never_expires(pki: DevelopmentPki) -> None:
    certs = [pki.serca.cert, pki.mica.cert, pki.server.cert]
    assert pki.mca is not None
    certs.append(pki.mca.cert)
    certs += [load_certificates(pki.device_cert_path(n))[0] for n in ("meter-1", "han-client")]
    now = datetime.now(UTC)
    for cert in certs:
        assert cert.version == x509.Version.v3
        assert cert.signature_algorithm_oid.dotted_string == profile.SIGNATURE_ALGORITHM_OID
        public_key = cert.public_key()
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        assert public_key.curve.name == "secp256r1"
        assert cert.not_valid_after_utc == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
        assert now - timedelta(minutes=5) <= cert.not_valid_before_utc <= now
        assert cert.serial_number > 0


def test_device_certificate_profile(pki: DevelopmentPki) -> None:
    cert = load_certificates(pki.device_cert_path("meter-1"))[0]
    assert len(cert.subject) == 0
    assert cert.issuer == pki.mica.cert.subject
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.critical
    assert len(san.value) == 1 and isinstance(san.value[0], x509.OtherName)
    assert san.value[0].type_id.dotted_string == "1.3.6.1.5.5.7.8.4"
    assert hardware_module_name(cert) == (profile.DEVELOPMENT_HW_TYPE, b"meter-1")
    assert key_usage(cert).critical
    usage = key_usage(cert).value
    assert usage.digital_signature and usage.key_agreement
    assert not (usage.key_cert_sign or usage.crl_sign or usage.key_encipherment)
    assert constraints(cert).critical and not constraints(cert).value.ca
    cp = cert.extensions.get_extension_for_class(x509.CertificatePolicies)
    assert cp.critical
    assert policies_of(cert) == ["1.3.6.1.4.1.40732.1.1", "1.3.6.1.4.1.40732.2.1"]
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = pki.mica.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)


def test_server_certificate_is_a_device_certificate_without_host_names(pki: DevelopmentPki) -> None:
    cert = pki.server.cert
    assert len(cert.subject) == 0
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == []
    assert san.get_values_for_type(x509.IPAddress) == []
    assert hardware_module_name(cert) == (profile.DEVELOPMENT_HW_TYPE, b"server")
    assert policies_of(cert) == [profile.POLICY_DEVICE_GENERIC, profile.POLICY_SERVICE_PROVIDER]


def test_ca_certificates_profile(pki: DevelopmentPki) -> None:
    assert pki.mca is not None
    expected = [(pki.serca, 2, None), (pki.mca, 1, pki.serca), (pki.mica, 0, pki.mca)]
    for issued, path_length, issuer in expected:
        cert = issued.cert
        assert len(cert.subject) > 0
        bc = constraints(cert)
        assert bc.critical and bc.value.ca and bc.value.path_length == path_length
        usage = key_usage(cert)
        assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
        assert not usage.value.key_agreement
        assert cert.extensions.get_extension_for_class(x509.CertificatePolicies).critical
        assert policies_of(cert) == [profile.ANY_POLICY]
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        assert ski == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
        if issuer is None:
            assert cert.issuer == cert.subject
            with pytest.raises(x509.ExtensionNotFound):
                cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
        else:
            assert cert.issuer == issuer.cert.subject
            cert.verify_directly_issued_by(issuer.cert)


def test_self_signed_device_certificate_profile(pki: DevelopmentPki) -> None:
    certs = load_certificates(pki.device_cert_path("han-client"))
    assert len(certs) == 1
    cert = certs[0]
    assert cert.issuer == cert.subject and len(cert.subject) == 1
    cert.verify_directly_issued_by(cert)
    assert policies_of(cert) == [profile.POLICY_SELF_SIGNED]
    assert not constraints(cert).value.ca
    assert key_usage(cert).value.digital_signature
    assert hardware_module_name(cert) == (profile.DEVELOPMENT_HW_TYPE, b"han-client")


def test_device_certificate_for_an_external_public_key() -> None:
    serca = create_serca()
    mica = create_mica(serca)
    key = generate_key()
    issued = create_device_certificate(
        mica,
        hw_type_oid="1.3.6.1.4.1.32473.7",
        serial_number=b"\x00\xffSN",
        policies=[profile.POLICY_DEVICE_MOBILE],
        public_key=key.public_key(),
    )
    assert issued.key is None
    assert issued.cert.public_key() == key.public_key()
    assert hardware_module_name(issued.cert) == ("1.3.6.1.4.1.32473.7", b"\x00\xffSN")
    with pytest.raises(ValueError):
        issued.key_pem()


def test_profile_violations_are_refused() -> None:
    serca = create_serca()
    mica = create_mica(serca)
    with pytest.raises(ValueError, match="P-256"):
        create_device_certificate(
            mica,
            hw_type_oid=profile.DEVELOPMENT_HW_TYPE,
            serial_number="x",
            policies=[profile.POLICY_TEST],
            public_key=ec.generate_private_key(ec.SECP384R1()).public_key(),
        )
    with pytest.raises(ValueError, match="policy"):
        create_device_certificate(mica, hw_type_oid=profile.DEVELOPMENT_HW_TYPE, serial_number="x", policies=[])
    with pytest.raises(ValueError, match="CA"):
        device = create_device_certificate(
            mica, hw_type_oid=profile.DEVELOPMENT_HW_TYPE, serial_number="x", policies=[profile.POLICY_TEST]
        )
        create_device_certificate(
            device, hw_type_oid=profile.DEVELOPMENT_HW_TYPE, serial_number="y", policies=[profile.POLICY_TEST]
        )
    with pytest.raises(ValueError, match="pathLen"):
        create_mica(mica)


def test_hardware_module_name_der_round_trip() -> None:
    der = profile.encode_hardware_module_name("1.3.6.1.4.1.40732.99", b"ABC")
    # SEQUENCE { OID 1.3.6.1.4.1.40732.99, OCTET STRING "ABC" }, encoded by hand (RFC 4108 section 5)
    assert der == bytes.fromhex("301006092b0601040182be1c630403414243")
    assert profile.decode_hardware_module_name(der) == ("1.3.6.1.4.1.40732.99", b"ABC")
    long_serial = bytes(range(256)) * 2
    der = profile.encode_hardware_module_name("2.999.1", long_serial)
    assert profile.decode_hardware_module_name(der) == ("2.999.1", long_serial)
    for bad in (der[:-1], der + b"\x00", bytes.fromhex("3003020101")):
        with pytest.raises(ValueError):
            profile.decode_hardware_module_name(bad)
    with pytest.raises(ValueError):
        profile.encode_hardware_module_name("not.an.oid", b"x")


# --- read back with openssl ------------------------------------------------------------------------


@needs_openssl
def test_openssl_reads_the_device_certificate(pki: DevelopmentPki) -> None:
    text = text_of(pki.device_cert_path("meter-1"))
    assert "Signature Algorithm: ecdsa-with-SHA256" in text
    assert re.search(r"^\s*Subject:\s*$", text, re.MULTILINE), "device subject must be empty"
    assert "Not After : Dec 31 23:59:59 9999 GMT" in text
    assert re.search(r"ASN1 OID: prime256v1", text)
    assert re.search(
        r"X509v3 Subject Alternative Name: critical\n\s*othername: ?(1\.3\.6\.1\.5\.5\.7\.8\.4|[Hh]ardware)",
        text,
    )
    assert re.search(r"X509v3 Key Usage: critical\n\s*Digital Signature, Key Agreement\n", text)
    assert re.search(r"X509v3 Basic Constraints: critical\n\s*CA:FALSE", text)
    assert re.search(
        r"X509v3 Certificate Policies: critical\n\s*Policy: 1\.3\.6\.1\.4\.1\.40732\.1\.1\n"
        r"\s*Policy: 1\.3\.6\.1\.4\.1\.40732\.2\.1\n",
        text,
    )
    parsed = openssl("asn1parse", "-in", pki.device_cert_path("meter-1"))
    assert re.search(r"GENERALIZEDTIME\s*:99991231235959Z", parsed.stdout)


@needs_openssl
def test_openssl_reads_the_ca_certificates(pki: DevelopmentPki) -> None:
    for name, path_length in (("serca", 2), ("mca", 1), ("mica", 0)):
        text = text_of(pki.directory / f"{name}.pem")
        assert "Signature Algorithm: ecdsa-with-SHA256" in text
        assert re.search(rf"X509v3 Basic Constraints: critical\n\s*CA:TRUE, pathlen:{path_length}\n", text)
        assert re.search(r"X509v3 Key Usage: critical\n\s*Certificate Sign, CRL Sign\n", text)
        assert "Not After : Dec 31 23:59:59 9999 GMT" in text
        assert "X509v3 Subject Key Identifier" in text
        assert ("X509v3 Authority Key Identifier" in text) == (name != "serca")


@needs_openssl
@pytest.mark.parametrize("leaf", ["devices/meter-1.pem", "server.pem"])
def test_openssl_verifies_the_chain_to_the_serca(pki: DevelopmentPki, leaf: str) -> None:
    path = pki.directory / leaf
    purpose = "sslserver" if leaf == "server.pem" else "sslclient"
    ok = openssl(
        "verify",
        "-x509_strict",
        "-purpose",
        purpose,
        "-policy_check",
        "-explicit_policy",
        "-policy",
        profile.POLICY_DEVICE_GENERIC,
        "-CAfile",
        pki.trust_anchor_path,
        "-untrusted",
        path,
        path,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.strip().endswith(": OK")
    # the leaf alone does not chain to the SERCA: the MICA and MCA in the file are what make it valid
    alone = openssl("verify", "-CAfile", pki.trust_anchor_path, path)
    assert alone.returncode != 0


@needs_openssl
def test_openssl_refuses_a_foreign_root_and_a_missing_policy(pki: DevelopmentPki, tmp_path: Path) -> None:
    other = DevelopmentPki.create(tmp_path / "other", with_mca=False)
    device = pki.device_cert_path("meter-1")
    foreign = openssl("verify", "-CAfile", other.trust_anchor_path, "-untrusted", device, device)
    assert foreign.returncode != 0
    mobile = openssl(
        "verify",
        "-policy_check",
        "-explicit_policy",
        "-policy",
        profile.POLICY_DEVICE_MOBILE,
        "-CAfile",
        pki.trust_anchor_path,
        "-untrusted",
        device,
        device,
    )
    assert mobile.returncode != 0


# --- the development PKI on disk --------------------------------------------------------------------


def test_layout_chain_files_and_key_modes(pki: DevelopmentPki) -> None:
    d = pki.directory
    for name in ("serca", "mca", "mica", "server", "devices/meter-1", "devices/han-client"):
        assert (d / f"{name}.pem").is_file()
        assert stat.S_IMODE((d / f"{name}.key").stat().st_mode) == 0o600
    assert pki.mca is not None
    server_chain = load_certificates(d / "server.pem")
    assert server_chain == [pki.server.cert, pki.mica.cert, pki.mca.cert]
    device_chain = load_certificates(d / "devices/meter-1.pem")
    assert device_chain[1:] == [pki.mica.cert, pki.mca.cert]
    assert pki.serca.cert not in server_chain + device_chain
    assert load_certificates(pki.trust_anchor_path) == [pki.serca.cert]
    assert b"ENCRYPTED" not in (d / "server.key").read_bytes()


def test_load_and_create_are_idempotent(pki: DevelopmentPki) -> None:
    loaded = DevelopmentPki.load(pki.directory)
    assert loaded == pki  # same certificates and same private keys
    assert loaded.server.key_pem() == pki.server.key_pem()
    assert loaded.server != Issued(pki.server.cert, None)
    with pytest.raises(FileExistsError):
        DevelopmentPki.create(pki.directory)
    again = DevelopmentPki.create(pki.directory, devices=["meter-1"], exist_ok=True)
    assert again.serca.cert == pki.serca.cert
    assert (
        load_certificates(pki.device_cert_path("meter-1"))[0]
        == load_certificates(loaded.device_cert_path("meter-1"))[0]
    )


def test_without_mca_and_issuing_later(tmp_path: Path) -> None:
    pki = DevelopmentPki.create(tmp_path / "p", with_mca=False)
    assert pki.mca is None and not (pki.directory / "mca.pem").exists()
    assert pki.mica.cert.issuer == pki.serca.cert.subject
    assert load_certificates(pki.server_cert_path) == [pki.server.cert, pki.mica.cert]
    path = pki.issue_device("late", serial_number="SN-42")
    cert = load_certificates(path)[0]
    assert hardware_module_name(cert) == (profile.DEVELOPMENT_HW_TYPE, b"SN-42")
    assert DevelopmentPki.load(pki.directory).device_names() == ["late"]
    with pytest.raises(FileExistsError):
        pki.issue_device("late")
    for bad in ("../escape", "", "a/b", ".hidden"):
        with pytest.raises(ValueError):
            pki.issue_device(bad)
