"""LFDI (IEEE 2030.5-2018 6.3.4) and certificate reading helpers of gridhan.certs.identity."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from gridhan.certs import profile
from gridhan.certs.identity import (
    der_of,
    hardware_module_name,
    is_self_signed,
    lfdi_of,
    load_certificate,
    load_certificates,
    policies_of,
)
from gridhan.certs.pki import DevelopmentPki, create_self_signed_device_certificate, generate_key
from gridhan.schemas.identifiers import format_sfdi, sfdi_from_lfdi


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevelopmentPki:
    return DevelopmentPki.create(tmp_path_factory.mktemp("id") / "pki", devices=["d1"], self_signed=["s1"])


def test_lfdi_is_the_leftmost_160_bits_of_sha256_of_the_der(pki: DevelopmentPki) -> None:
    der = pki.server.der()
    expected = hashlib.sha256(der).digest()[:20].hex().upper()
    assert lfdi_of(der) == expected
    assert lfdi_of(pki.server.cert) == expected
    assert len(expected) == 40
    assert lfdi_of(pki.mica.der()) != expected


def test_lfdi_of_a_known_input() -> None:
    # SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    assert lfdi_of(b"abc") == "BA7816BF8F01CFEA414140DE5DAE2223B00361A3"


def test_sfdi_vector_of_the_standard() -> None:
    """The worked example of 6.3.4: LFDI 3E4F45AB... has SFDI 167261211391."""
    assert sfdi_from_lfdi("3E4F45AB31EDFE5B67E343E5E4562E31984E23E5") == 167261211391
    assert format_sfdi(167261211391) == "167261211391"


def test_load_certificate_from_pem_chain_der_and_text(pki: DevelopmentPki, tmp_path: Path) -> None:
    chain_file = pki.device_cert_path("d1")
    leaf = load_certificate(chain_file)
    assert leaf == load_certificates(chain_file)[0]
    assert len(load_certificates(chain_file)) == 3
    assert load_certificate(str(chain_file)) == leaf
    assert load_certificate(chain_file.read_bytes()) == leaf
    assert load_certificate(chain_file.read_text()) == leaf
    der_file = tmp_path / "leaf.der"
    der_file.write_bytes(leaf.public_bytes(Encoding.DER))
    assert load_certificate(der_file) == leaf
    assert load_certificate(der_file.read_bytes()) == leaf
    assert der_of(leaf) == der_file.read_bytes()


def test_hardware_module_name_and_policies(pki: DevelopmentPki) -> None:
    device = load_certificate(pki.device_cert_path("d1"))
    assert hardware_module_name(device) == (profile.DEVELOPMENT_HW_TYPE, b"d1")
    assert hardware_module_name(pki.serca.cert) is None
    assert policies_of(device) == [profile.POLICY_DEVICE_GENERIC, profile.POLICY_TEST]
    assert policies_of(pki.serca.cert) == [profile.ANY_POLICY]
    bare = create_self_signed_device_certificate(common_name="bare")
    assert hardware_module_name(bare.cert) is None


def test_is_self_signed(pki: DevelopmentPki) -> None:
    assert is_self_signed(load_certificate(pki.device_cert_path("s1")))
    assert is_self_signed(pki.serca.cert)
    assert not is_self_signed(load_certificate(pki.device_cert_path("d1")))
    assert not is_self_signed(pki.mica.cert)
    # issuer name equal to the subject, but signed by another key: not self-signed
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "s1")])
    impostor = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(generate_key().public_key())
        .serial_number(1)
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(profile.NOT_AFTER)
        .sign(generate_key(), hashes.SHA256())
    )
    assert not is_self_signed(impostor)
