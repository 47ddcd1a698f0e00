"""The manufacturer's signature on a file a device loads (IEEE 2030.5-2018 clause 9.8, File Download).

2030.5 carries files (software images, security credentials, configurations, logs) as opaque bytes and
leaves their format, and how a loading device establishes that a file really comes from its manufacturer,
to the manufacturer: the FileStatus values 3 (loaded, verifying the signature) and 4 (signature
verification failed) only say that a device does check. This module defines gridhan's reference format,
used by the reference devices and the demo manufacturer.

Reference image format, version 1 (every integer big-endian)::

    offset  size  field
    0       4     magic "GHIM"
    4       2     format version (1)
    6       2     header length H, in bytes, from offset 0 to the first payload byte
    8       4     manufacturer IANA Private Enterprise Number (the File's mfID)
    12      8     payload length P, in bytes
    20      32    signer key id: SHA-256 of the signer's public key (DER SubjectPublicKeyInfo)
    52      1+n   model (the File's mfModel), a length byte then 1..32 bytes of UTF-8
    ..      1+n   version (the File's mfVer), a length byte then 1..16 bytes of UTF-8
    ..      1+n   hardware version (mfHwVer) the image is built for, 0..32 bytes (empty: any)
    H       P     payload: what the device installs or stores
    H+P     64    signature: ECDSA on P-256 with SHA-256 over bytes 0..H+P (header and payload), as r || s,
                  32 bytes each (IEEE P1363)

A file is exactly H + P + 64 bytes, which is its File ``size``. The signature covers every header field,
so a model, version or hardware version cannot be changed without the manufacturer's key; the key id picks
which of the device's trusted manufacturer keys to check with (a device may trust several, e.g. during a
key rollover). :func:`sign_image` is the manufacturer's tooling (``gridhan certs sign-image``),
:func:`verify_image` and :func:`verify_image_file` the device's check, which raises an
:class:`ImageError` saying what is wrong: :class:`MalformedImage` (not this format, or truncated),
:class:`UnknownSigner`, :class:`BadSignature` or :class:`WrongTarget` (another manufacturer, model,
hardware or version than the device expects).
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

MAGIC = b"GHIM"
FORMAT_VERSION = 1
SIGNATURE_LENGTH = 64
_FIXED = struct.Struct(">4sHHIQ32s")  # magic, format version, header length, PEN, payload length, key id
MAX_MODEL = 32
MAX_VERSION = 16
MAX_HW_VERSION = 32
#: The longest header this format produces (the fixed part and three full length-prefixed strings).
MAX_HEADER = _FIXED.size + 3 + MAX_MODEL + MAX_VERSION + MAX_HW_VERSION
_READ_CHUNK = 1024 * 1024

PrivateKey = ec.EllipticCurvePrivateKey
PublicKey = ec.EllipticCurvePublicKey


class ImageError(ValueError):
    """The file is not an image the device may use."""


class MalformedImage(ImageError):
    """Not gridhan's image format, an unsupported format version, or truncated/extended bytes."""


class UnknownSigner(ImageError):
    """Signed by a key the device does not trust."""


class BadSignature(ImageError):
    """The signature does not match the header and payload (altered or corrupted bytes)."""


class WrongTarget(ImageError):
    """A genuine image, but for another manufacturer, model, hardware version or software version."""


@dataclass(frozen=True)
class ImageManifest:
    """The signed header of an image."""

    mf_id: int
    model: str
    version: str
    hw_version: str | None
    payload_length: int
    key_id: bytes
    header_length: int

    @property
    def size(self) -> int:
        """The whole file in bytes (header, payload, signature)."""
        return self.header_length + self.payload_length + SIGNATURE_LENGTH

    @property
    def payload_offset(self) -> int:
        return self.header_length


def key_id(public_key: PublicKey) -> bytes:
    """SHA-256 of the DER SubjectPublicKeyInfo of ``public_key`` (the image header's signer key id)."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).digest()


def _short(name: str, value: str, lo: int, hi: int) -> bytes:
    raw = value.encode("utf-8")
    if not lo <= len(raw) <= hi:
        raise ValueError(f"{name} must be {lo} to {hi} bytes of UTF-8, got {len(raw)}")
    return bytes([len(raw)]) + raw


def _check_key(key: object) -> None:
    if not isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("image signing keys are ECDSA P-256 (secp256r1) keys")


def build_header(
    *, mf_id: int, model: str, version: str, payload_length: int, signer: PublicKey, hw_version: str | None = None
) -> bytes:
    """The header of an image (see the module docstring)."""
    if not 0 <= mf_id < 2**32:
        raise ValueError(f"mf_id must be a 32-bit Private Enterprise Number, got {mf_id}")
    if not 0 <= payload_length < 2**64:
        raise ValueError("payload_length out of range")
    strings = (
        _short("model", model, 1, MAX_MODEL)
        + _short("version", version, 1, MAX_VERSION)
        + _short("hw_version", hw_version or "", 0, MAX_HW_VERSION)
    )
    header_length = _FIXED.size + len(strings)
    fixed = _FIXED.pack(MAGIC, FORMAT_VERSION, header_length, mf_id, payload_length, key_id(signer))
    return fixed + strings


def _p1363(der_signature: bytes) -> bytes:
    r, s = decode_dss_signature(der_signature)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sign_image(
    payload: bytes,
    key: PrivateKey,
    *,
    mf_id: int,
    model: str,
    version: str,
    hw_version: str | None = None,
) -> bytes:
    """An image of ``payload`` signed with the manufacturer's ``key`` (ECDSA P-256, SHA-256)."""
    _check_key(key)
    header = build_header(
        mf_id=mf_id,
        model=model,
        version=version,
        payload_length=len(payload),
        signer=key.public_key(),
        hw_version=hw_version,
    )
    signature = key.sign(header + payload, ec.ECDSA(hashes.SHA256()))
    return header + payload + _p1363(signature)


def parse_header(data: bytes) -> ImageManifest:
    """The manifest of an image from (at least) its first bytes; :class:`MalformedImage` if they are not a
    version 1 header. Nothing is verified: use :func:`verify_image`."""
    if len(data) < _FIXED.size:
        raise MalformedImage(f"truncated: {len(data)} bytes, shorter than an image header")
    magic, version, header_length, mf_id, payload_length, signer = _FIXED.unpack_from(data)
    if magic != MAGIC:
        raise MalformedImage(f"not a gridhan image (magic {magic!r}, expected {MAGIC!r})")
    if version != FORMAT_VERSION:
        raise MalformedImage(f"image format version {version} is not supported (only {FORMAT_VERSION})")
    if not _FIXED.size + 3 <= header_length <= MAX_HEADER:
        raise MalformedImage(f"header length {header_length} is impossible")
    if len(data) < header_length:
        raise MalformedImage(f"truncated: {len(data)} bytes, the header alone has {header_length}")
    strings: list[str] = []
    at = _FIXED.size
    for name, lo, hi in (("model", 1, MAX_MODEL), ("version", 1, MAX_VERSION), ("hw_version", 0, MAX_HW_VERSION)):
        if at >= header_length:
            raise MalformedImage(f"header ends before its {name}")
        n = data[at]
        if not lo <= n <= hi or at + 1 + n > header_length:
            raise MalformedImage(f"header {name} length {n} is impossible")
        try:
            strings.append(data[at + 1 : at + 1 + n].decode("utf-8"))
        except UnicodeDecodeError:
            raise MalformedImage(f"header {name} is not UTF-8") from None
        at += 1 + n
    if at != header_length:
        raise MalformedImage(f"header length {header_length} does not match its fields ({at} bytes)")
    model, sw_version, hw_version = strings
    return ImageManifest(
        mf_id=mf_id,
        model=model,
        version=sw_version,
        hw_version=hw_version or None,
        payload_length=payload_length,
        key_id=signer,
        header_length=header_length,
    )


def _signer(manifest: ImageManifest, trusted: Iterable[PublicKey]) -> PublicKey:
    for key in trusted:
        if key_id(key) == manifest.key_id:
            return key
    raise UnknownSigner(
        f"signed by key {manifest.key_id.hex()[:16]}..., which is not one of the device's trusted manufacturer keys"
    )


def _check_target(
    manifest: ImageManifest, mf_id: int | None, model: str | None, hw_version: str | None, version: str | None
) -> None:
    if mf_id is not None and manifest.mf_id != mf_id:
        raise WrongTarget(f"image of manufacturer {manifest.mf_id}, the device's is {mf_id}")
    if model is not None and manifest.model != model:
        raise WrongTarget(f"image for model {manifest.model!r}, the device is a {model!r}")
    if hw_version is not None and manifest.hw_version is not None and manifest.hw_version != hw_version:
        raise WrongTarget(f"image for hardware {manifest.hw_version!r}, the device's is {hw_version!r}")
    if version is not None and manifest.version != version:
        raise WrongTarget(f"image of version {manifest.version!r}, the File announces {version!r}")


def _check_signature(key: PublicKey, digest: bytes, signature: bytes) -> None:
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        key.verify(encode_dss_signature(r, s), digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    except InvalidSignature:
        raise BadSignature("the signature does not match the image: altered or corrupted bytes") from None


def verify_image(
    data: bytes,
    trusted_public_keys: Iterable[PublicKey],
    *,
    mf_id: int | None = None,
    model: str | None = None,
    hw_version: str | None = None,
    version: str | None = None,
) -> ImageManifest:
    """Check an image held in memory: format, length, signer, signature, then (for the arguments given)
    that it is meant for this manufacturer, model, hardware version and announced software version.
    The manifest when all hold; an :class:`ImageError` otherwise."""
    manifest = parse_header(data)
    if len(data) != manifest.size:
        raise MalformedImage(
            f"{'truncated' if len(data) < manifest.size else 'extended'}: {len(data)} bytes, "
            f"the header announces {manifest.size}"
        )
    key = _signer(manifest, list(trusted_public_keys))
    signed_end = manifest.header_length + manifest.payload_length
    _check_signature(key, hashlib.sha256(data[:signed_end]).digest(), data[signed_end:])
    _check_target(manifest, mf_id, model, hw_version, version)
    return manifest


def verify_image_file(
    path: str | os.PathLike[str],
    trusted_public_keys: Iterable[PublicKey],
    *,
    mf_id: int | None = None,
    model: str | None = None,
    hw_version: str | None = None,
    version: str | None = None,
) -> ImageManifest:
    """:func:`verify_image` on a file, read in chunks (an image need not fit in memory)."""
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as fh:
        manifest = parse_header(fh.read(MAX_HEADER))
        if size != manifest.size:
            raise MalformedImage(
                f"{'truncated' if size < manifest.size else 'extended'}: {size} bytes, "
                f"the header announces {manifest.size}"
            )
        key = _signer(manifest, list(trusted_public_keys))
        fh.seek(0)
        digest = hashlib.sha256()
        remaining = manifest.header_length + manifest.payload_length
        while remaining:
            chunk = fh.read(min(_READ_CHUNK, remaining))
            if not chunk:
                raise MalformedImage(f"{path} shrank while it was read")
            digest.update(chunk)
            remaining -= len(chunk)
        signature = fh.read(SIGNATURE_LENGTH)
    _check_signature(key, digest.digest(), signature)
    _check_target(manifest, mf_id, model, hw_version, version)
    return manifest


def read_payload(path: str | os.PathLike[str], manifest: ImageManifest, limit: int | None = None) -> bytes:
    """The payload of a verified image file (its first ``limit`` bytes when given)."""
    length = manifest.payload_length if limit is None else min(limit, manifest.payload_length)
    with Path(path).open("rb") as fh:
        fh.seek(manifest.payload_offset)
        return fh.read(length)


def generate_signing_key() -> PrivateKey:
    """A new manufacturer image signing key (ECDSA P-256)."""
    return ec.generate_private_key(ec.SECP256R1())


def private_key_pem(key: PrivateKey) -> bytes:
    """``key`` as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_pem(key: PublicKey) -> bytes:
    """``key`` as a PEM SubjectPublicKeyInfo (what a device is provisioned with)."""
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_signing_key(pem: bytes) -> PrivateKey:
    """A manufacturer signing key from PEM (unencrypted PKCS#8 or SEC1)."""
    key = serialization.load_pem_private_key(pem, password=None)
    _check_key(key)
    return key  # type: ignore[return-value]


def load_trusted_keys(pem: bytes) -> list[PublicKey]:
    """Every public key of a PEM bundle: ``PUBLIC KEY`` blocks, or the keys of ``CERTIFICATE`` blocks."""
    from cryptography import x509

    keys: list[PublicKey] = []
    for block in pem.split(b"-----END ")[:-1]:
        start = block.rfind(b"-----BEGIN ")
        if start < 0:
            continue
        kind = block[start + 11 : block.index(b"-----", start + 11)]
        text = block[start:] + b"-----END " + kind + b"-----\n"
        key = (
            x509.load_pem_x509_certificate(text).public_key()
            if kind == b"CERTIFICATE"
            else serialization.load_pem_public_key(text)
        )
        _check_key(key)
        keys.append(key)  # type: ignore[arg-type]
    if not keys:
        raise ValueError("no PUBLIC KEY or CERTIFICATE block found")
    return keys
