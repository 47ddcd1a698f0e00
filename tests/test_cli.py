"""The two commands a newcomer runs: ``gridhan serve --demo`` on a fresh directory, and the help of every
subcommand; plus production schema validation switched on from the settings."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import register

from gridhan.cli.main import parser
from gridhan.schemas.sep2 import DeviceCapability, EndDeviceList
from gridhan.schemas.xmlcodec import decode

GRIDHAN = [sys.executable, "-m", "gridhan.cli.main"]


def test_every_subcommand_has_help():
    top = parser()
    commands = top._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"serve", "certs"} <= set(commands)
    for name in commands:
        out = subprocess.run([*GRIDHAN, name, "--help"], capture_output=True, text=True, check=True).stdout
        assert f"usage: gridhan {name}" in out


async def _read_until(stream: asyncio.StreamReader, marker: str) -> str:
    seen = []
    async with asyncio.timeout(60):
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError("gridhan exited early:\n" + "".join(seen))
            seen.append(line)
            if marker in line:
                return "".join(seen)


async def _curl(command: str, cwd: Path) -> bytes:
    proc = await asyncio.create_subprocess_exec(
        *shlex.split(command), "-s", "--fail-with-body", cwd=cwd, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, out
    return out


async def test_serve_demo_on_a_fresh_directory(tmp_path: Path):
    env = {**os.environ, "GRIDHAN_PORT": "0", "GRIDHAN_ADMIN_PORT": "0"}
    for run in range(2):  # the second start finds the PKI and the demo devices already there
        proc = await asyncio.create_subprocess_exec(
            *GRIDHAN, "serve", "--demo", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            out = await _read_until(proc.stdout, "gridhan serving")
            assert "demo-thermostat" in out and "PIN" in out
            # the exact curl line the demo prints works as printed
            lines = out.splitlines()
            start = next(i for i, line in enumerate(lines) if line.strip().startswith("curl --tlsv1.2"))
            command = (lines[start] + " " + lines[start + 1]).replace("\\", " ")
            dcap = decode(await _curl(command, tmp_path), DeviceCapability)
            assert dcap.EndDeviceListLink.all == 1
            edev = decode(await _curl(command.replace("/dcap", "/edev"), tmp_path), EndDeviceList)
            assert edev.EndDevice[0].RegistrationLink is not None
            token_line = next(line for line in lines if "Authorization: Bearer" in line)
            admin = re.sub(r"\$\(cat ([^)]+)\)", lambda m: Path(m.group(1)).read_text().strip(), token_line)
            assert json.loads(await _curl(admin, tmp_path))["total"] == 5
        finally:
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 20)
        assert code == 0, f"run {run}: graceful shutdown exits 0, got {code}"
    assert (tmp_path / "gridhan-data" / "gridhan.db").exists()


def test_missing_certificates_give_a_clear_error(tmp_path: Path):
    result = subprocess.run([*GRIDHAN, "serve", "--data-dir", str(tmp_path / "empty")], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2
    assert "gridhan certs init" in result.stderr


async def test_configured_schema_validates_request_bodies(make_server, pki, optional_sep_schemas, tmp_path):
    from conftest import SHARED_SCHEMAS
    from sep_client import AdminClient, SepClient

    schema = SHARED_SCHEMAS / "sep2-2018" / "sep.xsd"
    if not schema.exists():
        pytest.skip(f"official schema not found at {schema}")
    digest = hashlib.sha256(schema.read_bytes()).hexdigest()
    with pytest.raises(ValueError, match="SHA-256"):
        await make_server(schema_path=schema, schema_sha256="00" * 32)
    server = await make_server(schema_path=schema, schema_sha256=digest)
    dev = SepClient(server.sep2_url, pki, "dev1", optional_sep_schemas)
    admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    try:
        device_id = await register(admin, dev)
        ns = 'xmlns="urn:ieee:std:2030.5:ns"'
        good = (
            f"<LogEvent {ns}><createdDateTime>1</createdDateTime><functionSet>0</functionSet><logEventCode>1"
            "</logEventCode><logEventID>2</logEventID><logEventPEN>3</logEventPEN><profileID>0</profileID></LogEvent>"
        )
        assert (await dev.post(f"/edev/{device_id}/lel", good.encode())).status == 201
        bad = good.replace("<logEventPEN>3</logEventPEN>", "<logEventPEN>3</logEventPEN><x/>")
        reply = await dev.post(f"/edev/{device_id}/lel", bad.encode())
        assert reply.status == 400 and "not valid against sep.xsd" in reply.text
    finally:
        await dev.close()
        await admin.close()
