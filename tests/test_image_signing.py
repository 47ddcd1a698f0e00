"""The manufacturer's signature on software images (gridhan's reference image format for the File Download
function set, IEEE 2030.5-2018 clause 9.8): what signs verifies, any change or truncation is refused with
the reason, and the ``gridhan certs`` commands a manufacturer uses."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridhan.certs.image_signing import (
    SIGNATURE_LENGTH,
    BadSignature,
    ImageError,
    MalformedImage,
    UnknownSigner,
    WrongTarget,
    generate_signing_key,
    key_id,
    load_trusted_keys,
    parse_header,
    public_key_pem,
    sign_image,
    verify_image,
    verify_image_file,
)
from gridhan.cli.main import main

PEN = 37244
KEY = generate_signing_key()
OTHER_KEY = generate_signing_key()
PAYLOAD = b"GRIDHAN-FW boot=ok\n" + bytes(range(256)) * 8
IMAGE = sign_image(PAYLOAD, KEY, mf_id=PEN, model="inv-5", version="2.1.0", hw_version="A")


def test_a_signed_image_verifies_and_says_what_it_is(tmp_path: Path) -> None:
    manifest = verify_image(IMAGE, [OTHER_KEY.public_key(), KEY.public_key()], mf_id=PEN, model="inv-5",
                            hw_version="A", version="2.1.0")  # fmt: skip
    assert (manifest.mf_id, manifest.model, manifest.version, manifest.hw_version) == (PEN, "inv-5", "2.1.0", "A")
    assert manifest.payload_length == len(PAYLOAD) and manifest.size == len(IMAGE)
    assert IMAGE[manifest.payload_offset : manifest.payload_offset + len(PAYLOAD)] == PAYLOAD
    assert manifest.key_id == key_id(KEY.public_key())
    assert len(IMAGE) == manifest.header_length + len(PAYLOAD) + SIGNATURE_LENGTH
    path = tmp_path / "image.bin"
    path.write_bytes(IMAGE)
    assert verify_image_file(path, [KEY.public_key()], model="inv-5") == manifest
    # an image built for any hardware suits every hardware version
    anyhw = sign_image(b"x", KEY, mf_id=PEN, model="inv-5", version="2.1.0")
    assert verify_image(anyhw, [KEY.public_key()], hw_version="B").hw_version is None


def test_refusals_name_their_reason(tmp_path: Path) -> None:
    trusted = [KEY.public_key()]
    with pytest.raises(UnknownSigner, match="not one of the device's trusted"):
        verify_image(IMAGE, [OTHER_KEY.public_key()])
    with pytest.raises(UnknownSigner):
        verify_image(IMAGE, [])
    with pytest.raises(WrongTarget, match="model 'inv-5', the device is a 'inv-9'"):
        verify_image(IMAGE, trusted, model="inv-9")
    with pytest.raises(WrongTarget, match="manufacturer"):
        verify_image(IMAGE, trusted, mf_id=PEN + 1)
    with pytest.raises(WrongTarget, match="hardware"):
        verify_image(IMAGE, trusted, hw_version="B")
    with pytest.raises(WrongTarget, match=r"announces '2\.2\.0'"):
        verify_image(IMAGE, trusted, version="2.2.0")
    with pytest.raises(MalformedImage, match="truncated"):
        verify_image(IMAGE[:-1], trusted)
    with pytest.raises(MalformedImage, match="extended"):
        verify_image(IMAGE + b"\0", trusted)
    with pytest.raises(MalformedImage, match="not a gridhan image"):
        verify_image(b"MZ" + IMAGE[2:], trusted)
    with pytest.raises(MalformedImage, match="format version 2"):
        verify_image(IMAGE[:4] + struct.pack(">H", 2) + IMAGE[6:], trusted)
    tampered = bytearray(IMAGE)
    tampered[-SIGNATURE_LENGTH - 1] ^= 1  # the payload's last byte
    with pytest.raises(BadSignature, match="altered or corrupted"):
        verify_image(bytes(tampered), trusted)
    path = tmp_path / "tampered.bin"
    path.write_bytes(bytes(tampered))
    with pytest.raises(BadSignature):
        verify_image_file(path, trusted)
    # the same payload signed with another key, then given this key's id, does not verify either
    forged = bytearray(sign_image(PAYLOAD, OTHER_KEY, mf_id=PEN, model="inv-5", version="2.1.0", hw_version="A"))
    forged[20:52] = key_id(KEY.public_key())
    with pytest.raises(BadSignature):
        verify_image(bytes(forged), trusted)
    for bad in ({"model": ""}, {"model": "m" * 33}, {"version": "v" * 17}, {"mf_id": 2**32}):
        with pytest.raises(ValueError):
            sign_image(b"x", KEY, **{"mf_id": PEN, "model": "inv-5", "version": "1", **bad})  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(position=st.integers(0, len(IMAGE) - 1), flip=st.integers(1, 255))
def test_any_changed_byte_is_refused(position: int, flip: int) -> None:
    changed = bytearray(IMAGE)
    changed[position] ^= flip
    with pytest.raises(ImageError):
        verify_image(bytes(changed), [KEY.public_key()])


@settings(max_examples=100, deadline=None)
@given(length=st.integers(0, len(IMAGE) - 1))
def test_any_truncation_is_refused_as_malformed(length: int) -> None:
    with pytest.raises(MalformedImage):
        verify_image(IMAGE[:length], [KEY.public_key()])


@settings(max_examples=50, deadline=None)
@given(
    payload=st.binary(max_size=300),
    model=st.text(min_size=1, max_size=8),
    version=st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,2}", fullmatch=True),
    hw=st.one_of(st.none(), st.text(min_size=1, max_size=8)),
)
def test_what_is_signed_is_what_verifies(payload: bytes, model: str, version: str, hw: str | None) -> None:
    image = sign_image(payload, KEY, mf_id=PEN, model=model, version=version, hw_version=hw)
    manifest = verify_image(image, [KEY.public_key()], mf_id=PEN, model=model, version=version)
    assert (manifest.model, manifest.version, manifest.hw_version) == (model, version, hw)
    assert parse_header(image) == manifest
    assert image[manifest.payload_offset : manifest.payload_offset + manifest.payload_length] == payload


def test_trusted_keys_load_from_public_keys_and_certificates(pki) -> None:
    bundle = public_key_pem(KEY.public_key()) + pki.trust_anchor_path.read_bytes()
    keys = load_trusted_keys(bundle)
    assert len(keys) == 2 and key_id(keys[0]) == key_id(KEY.public_key())
    with pytest.raises(ValueError, match="no PUBLIC KEY"):
        load_trusted_keys(b"nothing here")


def test_manufacturer_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "vendor.key"
    assert main(["certs", "image-key", str(key)]) == 0
    assert key.stat().st_mode & 0o077 == 0
    assert main(["certs", "image-key", str(key)]) == 1  # never overwrites a key
    payload = tmp_path / "fw.bin"
    payload.write_bytes(PAYLOAD)
    image = tmp_path / "fw.img"
    args = ["certs", "sign-image", str(payload), "-o", str(image), "--key", str(key), "--mf-id", str(PEN),
            "--model", "inv-5", "--version", "3.0.0", "--hw-version", "A"]  # fmt: skip
    assert main(args) == 0
    trusted = load_trusted_keys((tmp_path / "vendor.key.pub").read_bytes())
    manifest = verify_image(image.read_bytes(), trusted, model="inv-5")
    assert (manifest.version, manifest.hw_version, manifest.payload_length) == ("3.0.0", "A", len(PAYLOAD))
    capsys.readouterr()
    assert main(["certs", "verify-image", str(image), "--trusted", str(tmp_path / "vendor.key.pub")]) == 0
    assert "valid: manufacturer 37244, model inv-5, version 3.0.0" in capsys.readouterr().out
    other = tmp_path / "other.pub"
    other.write_bytes(public_key_pem(OTHER_KEY.public_key()))
    assert main(["certs", "verify-image", str(image), "--trusted", str(other)]) == 1
    assert "not one of the device's trusted manufacturer keys" in capsys.readouterr().err
    assert main(["certs", "verify-image", str(image), "--trusted", str(tmp_path / "vendor.key.pub"),
                 "--model", "inv-9"]) == 1  # fmt: skip
