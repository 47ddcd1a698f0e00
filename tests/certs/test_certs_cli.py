"""``gridhan certs`` subcommands (wired through their own parser until cli/main.py registers them)."""

from __future__ import annotations

import argparse
import hashlib
import re
from pathlib import Path

import pytest

from gridhan.certs.identity import der_of, hardware_module_name, load_certificate, load_certificates
from gridhan.certs.pki import DevelopmentPki
from gridhan.cli import certs_cmd
from gridhan.schemas.identifiers import format_sfdi, sfdi_from_lfdi


def gridhan(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="gridhan")
    certs_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    assert args.func is certs_cmd.run
    return args.func(args)


def test_init_device_and_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "pki"
    assert gridhan("certs", "init", str(directory), "--device", "inv-1", "--self-signed", "han") == 0
    out = capsys.readouterr().out
    assert str(directory / "serca.pem") in out
    pki = DevelopmentPki.load(directory)
    assert pki.mca is not None
    assert pki.device_names() == ["han", "inv-1"]

    assert (
        gridhan(
            "certs",
            "device",
            str(directory),
            "inv-2",
            "--hw-type",
            "1.3.6.1.4.1.32473.5",
            "--serial",
            "SN-0002",
        )
        == 0
    )
    capsys.readouterr()
    cert = load_certificate(pki.device_cert_path("inv-2"))
    assert hardware_module_name(cert) == ("1.3.6.1.4.1.32473.5", b"SN-0002")
    assert len(load_certificates(pki.device_cert_path("inv-2"))) == 3

    assert gridhan("certs", "id", str(pki.device_cert_path("inv-2"))) == 0
    lines = capsys.readouterr().out.splitlines()
    lfdi = hashlib.sha256(der_of(cert)).hexdigest()[:40].upper()
    assert lines == [f"LFDI: {lfdi}", f"SFDI: {format_sfdi(sfdi_from_lfdi(lfdi))}"]
    assert re.fullmatch(r"SFDI: \d{12}", lines[1])


def test_init_without_mca_and_self_signed_device(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "flat"
    assert gridhan("certs", "init", str(directory), "--no-mca") == 0
    assert not (directory / "mca.pem").exists()
    assert gridhan("certs", "device", str(directory), "client", "--self-signed") == 0
    cert = load_certificate(directory / "devices" / "client.pem")
    assert cert.issuer == cert.subject


def test_errors_are_reported_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "pki"
    assert gridhan("certs", "init", str(directory)) == 0
    capsys.readouterr()
    assert gridhan("certs", "init", str(directory)) == 1
    assert "already holds" in capsys.readouterr().err
    assert gridhan("certs", "device", str(directory), "../x") == 1
    assert "device names" in capsys.readouterr().err
    assert gridhan("certs", "device", str(tmp_path / "nothing"), "x") == 1
    assert gridhan("certs", "id", str(tmp_path / "missing.pem")) == 1


def test_every_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["certs", "--help"],
        ["certs", "init", "--help"],
        ["certs", "device", "--help"],
        ["certs", "id", "--help"],
    ):
        with pytest.raises(SystemExit) as exit_info:
            gridhan(*argv)
        assert exit_info.value.code == 0
        assert "usage: gridhan certs" in capsys.readouterr().out
