"""Reading 2030.5 identities out of certificates: LFDI (6.3.4), HardwareModuleName, policies.

IEEE 2030.5-2018 6.3.4: the Long Form Device Identifier (LFDI) of a device is the leftmost 160 bits of the
SHA-256 hash of its DER-encoded certificate, written as 40 hexadecimal digits. The Short Form (SFDI) is
derived from the LFDI alone (``gridhan.schemas.identifiers.sfdi_from_lfdi``); this package deliberately
imports nothing from the rest of the project.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding

from .profile import HARDWARE_MODULE_NAME_OID, decode_hardware_module_name

_PEM_MARKER = b"-----BEGIN CERTIFICATE-----"
LFDI_BITS = 160


def der_of(cert: x509.Certificate) -> bytes:
    """The DER encoding of ``cert`` (the bytes the LFDI hashes)."""
    return cert.public_bytes(Encoding.DER)


def lfdi_of(cert_der: bytes | x509.Certificate) -> str:
    """LFDI of a certificate: leftmost 160 bits of SHA-256(DER), 40 upper-case hex digits (6.3.4)."""
    der = der_of(cert_der) if isinstance(cert_der, x509.Certificate) else bytes(cert_der)
    return hashlib.sha256(der).hexdigest()[: LFDI_BITS // 4].upper()


def _read(source: str | os.PathLike[str] | bytes) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, str) and _PEM_MARKER.decode() in source:
        return source.encode()
    return Path(source).read_bytes()


def load_certificate(path_or_pem_bytes: str | os.PathLike[str] | bytes) -> x509.Certificate:
    """The first certificate of a PEM file or PEM/DER bytes (a chain file gives its leaf).

    ``bytes`` are PEM when they contain a ``BEGIN CERTIFICATE`` line, else DER; a ``str`` holding PEM text
    is accepted too, any other ``str`` or path-like is a file name.
    """
    data = _read(path_or_pem_bytes)
    if _PEM_MARKER in data:
        return x509.load_pem_x509_certificate(data[data.index(_PEM_MARKER) :])
    return x509.load_der_x509_certificate(data)


def load_certificates(path_or_pem_bytes: str | os.PathLike[str] | bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM file or PEM bytes, in file order (leaf first for a chain file)."""
    data = _read(path_or_pem_bytes)
    if _PEM_MARKER not in data:
        return [x509.load_der_x509_certificate(data)]
    return x509.load_pem_x509_certificates(data)


def hardware_module_name(cert: x509.Certificate) -> tuple[str, bytes] | None:
    """``(hwType OID, hwSerialNum)`` of the HardwareModuleName otherName in subjectAltName (6.11.7.4).

    ``None`` when the certificate has no subjectAltName or no HardwareModuleName in it; ``ValueError`` when
    the otherName is present but not a well-formed HardwareModuleName.
    """
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for name in san.get_values_for_type(x509.OtherName):
        if name.type_id.dotted_string == HARDWARE_MODULE_NAME_OID:
            return decode_hardware_module_name(name.value)
    return None


def policies_of(cert: x509.Certificate) -> list[str]:
    """Dotted policy OIDs of the certificatePolicies extension, in order (empty when absent)."""
    try:
        policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return []
    return [info.policy_identifier.dotted_string for info in policies]


def is_self_signed(cert: x509.Certificate) -> bool:
    """True when ``cert`` names itself as issuer and its signature verifies with its own public key."""
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
