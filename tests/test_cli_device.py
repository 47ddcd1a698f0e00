"""``gridhan device`` and ``gridhan fleet`` as a user runs them, against a gridhan server over mutual TLS."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from sep_client import AdminClient

from gridhan.certs.pki import DevelopmentPki
from gridhan.client.fleet import allocate, parse_mix
from gridhan.client.session import DeviceCredentials

GRIDHAN = [sys.executable, "-m", "gridhan.cli.main"]


async def gridhan(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *GRIDHAN, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


def test_mix_is_allocated_by_largest_remainder() -> None:
    mix = parse_mix("pct=40,inverter=30,battery=10,display=20")
    kinds = allocate(7, mix)
    assert len(kinds) == 7
    assert {k: kinds.count(k) for k in mix} == {"pct": 3, "inverter": 2, "battery": 1, "display": 1}
    with pytest.raises(ValueError, match="unknown device kind 'toaster'"):
        parse_mix("toaster=1")
    with pytest.raises(ValueError, match="must be a number"):
        parse_mix("pct=lots")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_device_command_says_what_it_does(server, admin: AdminClient, pki: DevelopmentPki) -> None:
    creds = DeviceCredentials(pki.device_cert_path("dev3"), pki.device_key_path("dev3"), [pki.trust_anchor_path])
    status, _ = await admin.post("/devices", {"lfdi": creds.lfdi, "pin": 123455})
    assert status == 201
    common = ["--dcap", server.sep2_url + "/dcap", "--cert", str(creds.cert), "--key", str(creds.key),
              "--ca", str(pki.trust_anchor_path), "--duration", "3", "--tick", "1"]
    code, out, err = await gridhan("device", "pct", "--pin", "123455", *common)
    assert code == 0, err
    assert f"LFDI {creds.lfdi}" in out and "connected to" in out and "/edev/" in out
    code, out, err = await gridhan("device", "pct", "--pin", "999990", *common)
    assert code == 2 and "Registration PIN" in err, (out, err)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_fleet_registers_and_runs_its_devices(server, admin: AdminClient, pki: DevelopmentPki,
                                                   tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("test-operator-token")
    code, out, err = await gridhan(
        "fleet", "--count", "3", "--mix", "pct=1,inverter=1,display=1", "--dcap", server.sep2_url + "/dcap",
        "--pki", str(pki.directory), "--admin-url", server.admin_url, "--admin-token-file", str(token),
        "--prefix", f"fleet{tmp_path.name[-6:]}", "--ramp", "0.5", "--tick", "1", "--duration", "6",
    )
    assert code == 0, (out, err)
    last = out.strip().splitlines()[-1]
    assert "devices 3  connected 3  registered 3" in last, out
    status, devices = await admin.get("/devices")
    assert status == 200 and devices["total"] == 3
    status, groups = await admin.get("/groups")
    (fleet,) = [g for g in groups["items"] if g["name"] == "fleet"]
    assert sorted(fleet["members"]) == sorted(d["id"] for d in devices["items"])
