"""Constants of the IEEE 2030.5-2018 certificate profile (clause 6.11) and the HardwareModuleName codec.

Clause 6.11 ("Certificate management") defines the Manufacturing PKI: a Smart Energy Root CA (SERCA),
optional Manufacturer CAs (MCA), Manufacturer Issuing CAs (MICA) and the device certificates they issue,
plus the other certificate classes 2030.5 entities may meet (test, self-signed, additional server
certificates; 6.11.1, 6.11.8.4). Its object identifiers hang under the IANA private enterprise arc
registered for 2030.5 (``id-sep2`` = 1.3.6.1.4.1.40732, 6.11.7): one branch for the device type of a
certificate (6.11.7.2) and one for the other certificate policies (6.11.7.3). A device certificate names
its hardware with an RFC 4108 HardwareModuleName in a critical subjectAltName (6.11.7.4 / 6.11.8), and
Manufacturing PKI certificates never expire: notAfter is the GeneralizedTime 99991231235959Z
(RFC 5280 4.1.2.5, 6.11.8).

This module holds values only (no mutable state) and imports nothing from the rest of the project.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType
from typing import Final

# --- 6.11.7.1: the 2030.5 OID arc (IANA private enterprise number 40732) --------------------------
ID_SEP2: Final = "1.3.6.1.4.1.40732"

# --- 6.11.7.2: device type policies (certificatePolicies of a device certificate) -----------------
POLICY_DEVICE_GENERIC: Final = f"{ID_SEP2}.1.1"
"""Device installed and provisioned at manufacture or commissioning (the usual case)."""
POLICY_DEVICE_MOBILE: Final = f"{ID_SEP2}.1.2"
"""Mobile device (e.g. a vehicle) that may move between service territories."""
POLICY_DEVICE_POST_MANUFACTURE: Final = f"{ID_SEP2}.1.3"
"""Device whose certificate was issued after manufacture (post-manufacture provisioning)."""

# --- 6.11.7.3: additional certificate policies -----------------------------------------------------
POLICY_TEST: Final = f"{ID_SEP2}.2.1"
"""Device test certificate (6.11.1: issued under the Manufacturing PKI for test purposes)."""
POLICY_SELF_SIGNED: Final = f"{ID_SEP2}.2.2"
"""Self-signed client certificate (registered out of band by its LFDI, not chained to a SERCA)."""
POLICY_SERVICE_PROVIDER: Final = f"{ID_SEP2}.2.3"
"""Servers / service providers (e.g. a utility server holding a Manufacturing PKI certificate)."""
POLICY_BULK: Final = f"{ID_SEP2}.2.4"
"""Bulk-issued certificate."""

DEVICE_TYPE_POLICIES: Final = (POLICY_DEVICE_GENERIC, POLICY_DEVICE_MOBILE, POLICY_DEVICE_POST_MANUFACTURE)
ADDITIONAL_POLICIES: Final = (POLICY_TEST, POLICY_SELF_SIGNED, POLICY_SERVICE_PROVIDER, POLICY_BULK)

POLICY_NAMES: Final = MappingProxyType(
    {
        POLICY_DEVICE_GENERIC: "device type: generic",
        POLICY_DEVICE_MOBILE: "device type: mobile",
        POLICY_DEVICE_POST_MANUFACTURE: "device type: post-manufacture",
        POLICY_TEST: "test certificate",
        POLICY_SELF_SIGNED: "self-signed",
        POLICY_SERVICE_PROVIDER: "servers / service provider",
        POLICY_BULK: "bulk certificate",
    }
)
"""Human-readable names of the 2030.5 policy OIDs (descriptive, not the ASN.1 identifiers)."""

ANY_POLICY: Final = "2.5.29.32.0"
"""RFC 5280 anyPolicy, asserted by the CAs of the development PKI (they may issue every 2030.5 policy)."""

# --- 6.11.7.4: the subjectAltName otherName naming the device hardware (RFC 4108 section 5) ---------
HARDWARE_MODULE_NAME_OID: Final = "1.3.6.1.5.5.7.8.4"
"""id-on-hardwareModuleName: ``HardwareModuleName ::= SEQUENCE { hwType OID, hwSerialNum OCTET STRING }``."""

# --- 6.11.8: validity and algorithms of Manufacturing PKI certificates -----------------------------
NOT_AFTER_GENERALIZED_TIME: Final = "99991231235959Z"
"""notAfter of every Manufacturing PKI certificate: no well-defined expiration date (RFC 5280 4.1.2.5)."""
NOT_AFTER: Final = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
SIGNATURE_ALGORITHM_OID: Final = "1.2.840.10045.4.3.2"
"""ecdsa-with-SHA256, the only signature algorithm of the profile."""
CURVE_NAME: Final = "secp256r1"
"""NIST P-256 (prime256v1), the only key type of the profile."""

DEVELOPMENT_HW_TYPE: Final = "1.3.6.1.4.1.32473.1"
"""hwType used by the development PKI: under PEN 32473, reserved for documentation (RFC 5612).

A real device uses an OID under its manufacturer's own arc; this one can never clash with one.
"""


# --- DER codec for HardwareModuleName (cryptography has no helper for this otherName) --------------
_TAG_SEQUENCE = 0x30
_TAG_OID = 0x06
_TAG_OCTET_STRING = 0x04


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _der_tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


def _encode_oid(dotted: str) -> bytes:
    try:
        arcs = [int(part) for part in dotted.split(".")]
    except ValueError:
        raise ValueError(f"not a dotted object identifier: {dotted!r}") from None
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] > 39) or min(arcs) < 0:
        raise ValueError(f"not a valid object identifier: {dotted!r}")
    out = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return _der_tlv(_TAG_OID, bytes(out))


def _decode_oid(content: bytes) -> str:
    if not content or content[-1] & 0x80:
        raise ValueError("truncated object identifier")
    arcs: list[int] = []
    value = 0
    for i, byte in enumerate(content):
        if value == 0 and byte == 0x80 and (i == 0 or not content[i - 1] & 0x80):
            raise ValueError("non-minimal object identifier encoding")
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(arc) for arc in head + arcs[1:])


def _read_tlv(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """(tag, content, next offset) of the DER element at ``offset``; ``ValueError`` if malformed."""
    if offset + 2 > len(data):
        raise ValueError("truncated DER element")
    tag, first = data[offset], data[offset + 1]
    offset += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or offset + count > len(data):
            raise ValueError("unsupported DER length")
        length = int.from_bytes(data[offset : offset + count], "big")
        if length < 0x80 or data[offset] == 0:
            raise ValueError("non-minimal DER length")
        offset += count
    end = offset + length
    if end > len(data):
        raise ValueError("truncated DER element")
    return tag, data[offset:end], end


def encode_hardware_module_name(hw_type_oid: str, hw_serial_num: bytes) -> bytes:
    """DER of ``HardwareModuleName ::= SEQUENCE { hwType OBJECT IDENTIFIER, hwSerialNum OCTET STRING }``.

    This is the value of the subjectAltName otherName of type :data:`HARDWARE_MODULE_NAME_OID`
    (RFC 4108 section 5) that identifies the hardware of a 2030.5 device certificate (6.11.7.4).
    """
    return _der_tlv(_TAG_SEQUENCE, _encode_oid(hw_type_oid) + _der_tlv(_TAG_OCTET_STRING, hw_serial_num))


def decode_hardware_module_name(der: bytes) -> tuple[str, bytes]:
    """``(hwType dotted OID, hwSerialNum bytes)`` of a DER HardwareModuleName; ``ValueError`` otherwise."""
    tag, body, end = _read_tlv(der, 0)
    if tag != _TAG_SEQUENCE or end != len(der):
        raise ValueError("HardwareModuleName is a single DER SEQUENCE")
    oid_tag, oid_content, offset = _read_tlv(body, 0)
    serial_tag, serial, offset = _read_tlv(body, offset)
    if oid_tag != _TAG_OID or serial_tag != _TAG_OCTET_STRING or offset != len(body):
        raise ValueError("HardwareModuleName is SEQUENCE { OBJECT IDENTIFIER, OCTET STRING }")
    return _decode_oid(oid_content), serial
