"""The loading device of the File Download function set (IEEE 2030.5-2018 clause 9.8) against the real server
over mutual TLS: an operator uploads a signed image and starts a campaign; the device finds it, loads it
resumably, verifies the manufacturer's signature, activates it at activateTime on a controlled clock and
reports each step in FileStatus (checked through the campaign's status and history) and LogEvents. Also the
pure decisions (which File, when to retry) and the reference firmware slots on their own."""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import register
from hypothesis import given, settings
from hypothesis import strategies as st
from sep_client import AdminClient, SepClient
from test_openapi import DocumentedAdmin

from gridhan.certs.image_signing import generate_signing_key, sign_image, verify_image
from gridhan.client.file_jobs import (
    DeviceIdentity,
    LogCode,
    Status,
    choose,
    load_percent,
    retry_after,
    retry_delay,
    skip_reason,
)
from gridhan.client.files import FileManager
from gridhan.client.firmware import FirmwareSlots, reference_payload
from gridhan.client.session import DeviceCredentials, SepSession, Unreachable
from gridhan.schemas.clock import ManualClock
from gridhan.schemas.sep2 import (
    DeviceCapability,
    DeviceInformation,
    EndDevice,
    File,
    FileList,
    FileStatus,
    FunctionSetAssignmentsList,
    LogEventList,
)

T0 = 1_800_000_100
PEN = 37244
MODEL = "inv-5"
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def vendor_key():
    return generate_signing_key()


def image(key, version: str, *, size: int = 200_000, boots: bool = True, model: str = MODEL) -> bytes:
    """A signed reference image of about ``size`` bytes."""
    payload = reference_payload(os.urandom(size), boots=boots)
    return sign_image(payload, key, mf_id=PEN, model=model, version=version, hw_version="A")


# -- the device side, wired as the runtime would ----------------------------------------------------------


def factory_information(lfdi: str) -> DeviceInformation:
    """What the device says about itself before any download: the factory software 1.0.0."""
    return DeviceInformation(lFDI=lfdi, mfDate=T0, mfHwVer="A", mfID=PEN, mfModel=MODEL, mfSerNum="SN-1",
                             primaryPower=0, secondaryPower=0, swActTime=T0 - 86400, swVer="1.0.0")  # fmt: skip


@dataclass
class Device:
    name: str
    id: int
    lfdi: str
    session: SepSession
    end_device: EndDevice
    list_hrefs: list[str]
    state_dir: Path
    vendor_key: object
    managers: list[FileManager] = field(default_factory=list)

    def manager(self, **options: object) -> FileManager:
        identity = DeviceIdentity(mf_id=PEN, mf_model=MODEL, lfdi=self.lfdi, mf_hw_ver="A", mf_ser_num="SN-1")
        manager = FileManager(
            self.session,
            self.state_dir,
            identity=identity,
            trusted_keys=[self.vendor_key.public_key()],  # type: ignore[attr-defined]
            factory_version="1.0.0",
            device_information=factory_information(self.lfdi),
            **options,  # type: ignore[arg-type]
        )
        manager.use_end_device(self.end_device)
        self.managers.append(manager)
        return manager

    async def cycle(self, manager: FileManager, now: int) -> None:
        """What the runtime does at a poll: read the FileLists, then act."""
        await manager.poll(self.list_hrefs, now)
        await manager.tick(now)


@dataclass
class Env:
    server: object
    clock: ManualClock
    api: DocumentedAdmin
    client: Callable[[str], SepClient]
    device: Callable[..., object]
    pki: object


@pytest.fixture
async def start_env(make_server, pki, optional_sep_schemas, tmp_path, vendor_key) -> AsyncIterator[Callable]:
    closers: list = []

    async def start(**settings: object) -> Env:
        clock = ManualClock(T0)
        server = await make_server(clock=clock, **settings)
        admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
        closers.append(admin.close)
        api = DocumentedAdmin(admin)

        def client(name: str) -> SepClient:
            c = SepClient(server.sep2_url, pki, name, optional_sep_schemas)
            closers.append(c.close)
            return c

        async def device(name: str, *, via: str | None = None, device_id: int | None = None) -> Device:
            """Register ``name`` (unless ``device_id`` is given) and walk to its File lists and EndDevice."""
            if device_id is None:
                device_id = await register(admin, client(name))
            base = via or server.sep2_url
            credentials = DeviceCredentials(pki.device_cert_path(name), pki.device_key_path(name),
                                            [pki.trust_anchor_path])  # fmt: skip
            session = SepSession(base + "/dcap", credentials)
            closers.append(session.close)
            dcap = await session.get("/dcap", DeviceCapability)
            edev = await session.get(f"/edev/{device_id}", EndDevice)
            hrefs = [dcap.FileListLink.href] if dcap.FileListLink else []
            if edev.FunctionSetAssignmentsListLink is not None:
                _, fsas = await session.get_all(edev.FunctionSetAssignmentsListLink.href, FunctionSetAssignmentsList)
                hrefs += [f.FileListLink.href for f in fsas if f.FileListLink is not None]
            await session.put(edev.DeviceInformationLink.href, factory_information(credentials.lfdi))
            return Device(name, device_id, credentials.lfdi, session, edev, hrefs, tmp_path / name, vendor_key)

        return Env(server, clock, api, client, device, pki)

    yield start
    for close in reversed(closers):
        await close()


async def upload(env: Env, data: bytes, name: str = "image.bin") -> dict:
    status, body = await env.api.post(
        f"/file-images?name={name}", data=data, headers={"Content-Type": "application/octet-stream"}
    )
    assert status in (200, 201), body
    return body


async def announce(env: Env, data: bytes, version: str, target: dict, **fields: object) -> dict:
    uploaded = await upload(env, data, f"{version}.img")
    body = {"image_id": uploaded["id"], "mfID": PEN, "mfModel": MODEL, "mfVer": version, "type": "firmware",
            "target": target, **fields}  # fmt: skip
    status, created = await env.api.post("/files", body)
    assert status == 201, created
    return created


async def history(env: Env, file: dict, device: Device) -> list[dict]:
    """The FileStatus reports the server kept about ``file`` from ``device``, oldest first."""
    status, body = await env.api.get(f"/files/{file['id']}/history?device={device.id}&limit=100")
    assert status == 200, body
    return list(reversed(body["items"]))


def statuses(reports: list[dict]) -> list[int]:
    """The status values in order, repeats of the same value collapsed."""
    out: list[int] = []
    for r in reports:
        if not out or out[-1] != r["status"]:
            out.append(r["status"])
    return out


async def log_codes(device: Device) -> list[int]:
    _, events = await device.session.get_all(device.end_device.LogEventListLink.href, LogEventList)
    return [e.logEventCode for e in sorted(events, key=lambda e: e.logEventID)]


async def running_version(env: Env, file: dict) -> dict:
    status, campaign = await env.api.get(f"/files/{file['id']}/status")
    assert status == 200, campaign
    return campaign["running_versions"]


# -- end to end -----------------------------------------------------------------------------------------


async def test_campaign_loads_waits_for_activate_time_and_activates(start_env, vendor_key) -> None:
    env = await start_env()
    dev = await env.device("dev1")
    other = await env.device("dev2")
    status, pilot = await env.api.post("/groups", {"name": "firmware-pilot"})
    assert status == 201
    assert (await env.api.client.put(f"/groups/{pilot['id']}/members", {"device_ids": [dev.id]}))[0] in (200, 204)
    dev = await env.device("dev1", device_id=dev.id)  # walk again: the pilot group's FileList is linked now
    assert any("/fsa/" in h for h in dev.list_hrefs)

    data = image(vendor_key, "2.1.0")
    file = await announce(env, data, "2.1.0", {"group_ids": [pilot["id"]]})  # no activateTime yet
    # Files this device must leave alone: another model, another device, an older version, an unkept type
    await announce(env, image(vendor_key, "9.0.0", model="inv-9"), "9.0.0", {"everyone": True}, mfModel="inv-9")
    await announce(env, image(vendor_key, "9.1.0"), "9.1.0", {"everyone": True}, lFDI=other.lfdi)
    await announce(env, image(vendor_key, "0.9.0"), "0.9.0", {"everyone": True})
    await announce(env, image(vendor_key, "9.2.0"), "9.2.0", {"everyone": True}, type="configuration")
    await announce(env, image(vendor_key, "9.3.0"), "9.3.0", {"everyone": True}, mfHwVer="B")

    manager = dev.manager()
    assert manager.running_version == "1.0.0"
    await dev.cycle(manager, T0)
    assert [(t.href, t.first_byte, t.status, t.outcome) for t in manager.transfers] == [
        (file["href"], 0, 200, "complete")
    ]
    reports = await history(env, file, dev)
    assert statuses(reports) == [Status.LOADING, Status.VERIFYING, Status.AWAITING_ACTIVATION]
    percents = [r["loadPercent"] for r in reports]
    assert percents[0] == 0 and percents == sorted(percents) and percents[-2:] == [100, 100]
    assert len([r for r in reports if r["status"] == Status.LOADING]) > 1  # progress was reported
    assert all(r["activateTime"] is None and r["requestFailCount"] == 0 for r in reports)
    assert reports[-1]["statusTime"] == T0

    # without an activateTime the device waits, however long
    await dev.cycle(manager, T0 + 86_400)
    assert manager.running_version == "1.0.0" and len(await history(env, file, dev)) == len(reports)

    # activation at a set time: the device learns it at its next poll and waits for it
    when = T0 + 86_400 + 3_601
    status, _ = await env.api.patch(f"/files/{file['id']}", {"activateTime": when})
    assert status == 200
    await dev.cycle(manager, T0 + 86_500)
    latest = (await history(env, file, dev))[-1]
    assert (latest["status"], latest["activateTime"]) == (Status.AWAITING_ACTIVATION, when)
    assert manager.next_due() == when
    await manager.tick(when - 1)
    assert manager.running_version == "1.0.0"
    await manager.tick(when)
    assert manager.running_version == "2.1.0"
    reports = await history(env, file, dev)
    assert statuses(reports) == [1, 3, 5, 7, 8]
    assert (reports[-1]["statusTime"], reports[-1]["activateTime"], reports[-1]["loadPercent"]) == (when, when, 100)
    status, campaign = await env.api.get(f"/files/{file['id']}/status")
    assert (campaign["activated"], campaign["running_versions"]) == (1, {"2.1.0": 1})
    codes = await log_codes(dev)
    assert codes == [LogCode.LOAD_STARTED, LogCode.LOADED, LogCode.ACTIVATED]

    # nothing more to load: the next polls fetch no content and report nothing
    await dev.cycle(manager, when + 900)
    assert len(manager.transfers) == 1 and len(await history(env, file, dev)) == len(reports)
    # the firmware state survives a restart: the new image runs, the factory one is kept as previous
    slots = FirmwareSlots(dev.state_dir / "firmware", factory_version="1.0.0")
    assert (slots.version, slots.previous.version, slots.running.activated_time) == ("2.1.0", "1.0.0", when)
    assert hashlib.sha256((slots.images / slots.running.image).read_bytes()).digest() == hashlib.sha256(data).digest()
    assert list(slots.staging.iterdir()) == []


class CuttingProxy:
    """A TCP relay in front of the server that drops the first connection on which more than ``cut_after``
    bytes flow from the server to the device (a link lost in the middle of a download); while ``down``, no
    connection gets through (:meth:`go_down` drops those open)."""

    def __init__(self, port: int, cut_after: int | None = None) -> None:
        self.port = port
        self.cut_after = cut_after
        self.downstream = 0  #: bytes relayed from the server to the device
        self.cuts = 0
        self.down = False
        self.open: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    def go_down(self) -> None:
        self.down = True
        for writer in list(self.open):
            writer.transport.abort()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return f"https://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.open |= {writer, up_writer}
        seen = 0

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, downstream: bool) -> None:
            nonlocal seen
            try:
                while data := await src.read(65536):
                    if downstream:
                        self.downstream += len(data)
                        seen += len(data)
                        if self.cut_after is not None and seen > self.cut_after:
                            self.cut_after = None
                            self.cuts += 1
                            writer.transport.abort()
                            up_writer.transport.abort()
                            return
                    dst.write(data)
                    await dst.drain()
            except OSError:
                pass
            finally:
                dst.close()

        try:
            await asyncio.gather(pump(reader, up_writer, False), pump(up_reader, writer, True))
        finally:
            self.open -= {writer, up_writer}


@SQLITE_ONLY
async def test_reports_wait_while_the_server_cannot_be_reached(start_env, vendor_key) -> None:
    env = await start_env()
    dev1 = await env.device("dev1")
    file = await announce(env, image(vendor_key, "2.1.0"), "2.1.0", {"device_ids": [dev1.id]}, activateTime=T0 + 601)
    proxy = CuttingProxy(env.server.sep2_port)
    url = await proxy.start()
    try:
        dev = await env.device("dev1", via=url, device_id=dev1.id)
        manager = dev.manager(progress_step=None)
        await dev.cycle(manager, T0)
        assert statuses(await history(env, file, dev)) == [1, 3, 5]
        proxy.go_down()
        await dev.cycle(manager, T0 + 601)  # the lists cannot be read; the loaded File activates all the same
        assert manager.running_version == "2.1.0"
        assert [e["kind"] for e in manager.outbox if e["kind"] != "LogEvent"] == ["FileStatus", "FileStatus",
                                                                                   "DeviceInformation"]  # fmt: skip
        assert statuses(await history(env, file, dev)) == [1, 3, 5]  # the server has heard nothing yet
        restarted = dev.manager(progress_step=None)  # the reports are on disk
        assert restarted.outbox == manager.outbox
        proxy.down = False
        await restarted.tick(T0 + 700)
        assert restarted.outbox == []
    finally:
        await proxy.close()
    reports = await history(env, file, dev)
    assert statuses(reports) == [1, 3, 5, 7, 8]
    assert [r["statusTime"] for r in reports[-2:]] == [T0 + 601, T0 + 601]  # when it happened, not when sent
    assert await running_version(env, file) == {"2.1.0": 1}


@SQLITE_ONLY
async def test_an_interrupted_download_resumes_with_a_range_after_a_restart(start_env, vendor_key) -> None:
    env = await start_env()
    dev1 = await env.device("dev1")
    data = image(vendor_key, "2.1.0", size=3_000_000)
    file = await announce(env, data, "2.1.0", {"device_ids": [dev1.id]}, activateTime=T0 + 601)
    proxy = CuttingProxy(env.server.sep2_port, cut_after=1_000_000)
    url = await proxy.start()
    try:
        dev = await env.device("dev1", via=url, device_id=dev1.id)
        manager = dev.manager(progress_step=None)
        await dev.cycle(manager, T0)
        assert proxy.cuts == 1
        (cut,) = manager.transfers
        assert (cut.first_byte, cut.status, cut.outcome) == (0, 200, "interrupted")
        held = sum(p.stat().st_size for p in (dev.state_dir / "firmware" / "staging").iterdir())
        assert 0 < held < len(data) and held == cut.received
        assert manager.job.etag == f'"{hashlib.sha256(data).hexdigest()}"'  # the validator If-Range will send
        latest = (await history(env, file, dev))[-1]
        assert (latest["status"], latest["requestFailCount"], latest["nextRequestAttempt"]) == (1, 1, T0 + 30)
        assert latest["loadPercent"] == held * 100 // len(data)

        # the device restarts: a new manager on the same state directory, a new connection
        await dev.session.close()
        dev = await env.device("dev1", via=url, device_id=dev1.id)
        manager = dev.manager(progress_step=None)
        await dev.cycle(manager, T0 + 29)  # not before its nextRequestAttempt
        assert manager.transfers == []
        before = proxy.downstream
        await manager.tick(T0 + 30)
        (resumed,) = manager.transfers
        assert (resumed.first_byte, resumed.status, resumed.outcome) == (held, 206, "complete")
        assert resumed.received == len(data) - held
        assert proxy.downstream - before < len(data)  # only the rest crossed the link
        await manager.tick(T0 + 601)
        assert manager.running_version == "2.1.0"
        slots = manager.firmware
        assert (slots.images / slots.running.image).read_bytes() == data
    finally:
        await proxy.close()
    reports = await history(env, file, dev)
    assert statuses(reports) == [1, 3, 5, 7, 8]
    assert [r["requestFailCount"] for r in reports][-1] == 1  # counted once, never reset for this File
    assert await log_codes(dev) == [LogCode.LOAD_STARTED, LogCode.LOAD_INTERRUPTED, LogCode.LOAD_STARTED,
                                    LogCode.LOADED, LogCode.ACTIVATED]  # fmt: skip


@SQLITE_ONLY
async def test_a_busy_server_is_honoured(start_env, vendor_key) -> None:
    env = await start_env(file_max_downloads=1, file_retry_after=42)
    dev = await env.device("dev1")
    holder = env.client("dev2")
    holder_id = await register(env.api.client, holder)
    big = os.urandom(24 * 1024 * 1024)  # more than socket buffers hold: its transfer keeps the only place
    uploaded = await upload(env, big, "logs.bin")
    body = {"image_id": uploaded["id"], "mfID": PEN, "mfModel": "logger", "mfVer": "1", "type": "log",
            "target": {"device_ids": [holder_id]}}  # fmt: skip
    status, log_file = await env.api.post("/files", body)
    assert status == 201
    file = await announce(env, image(vendor_key, "2.1.0"), "2.1.0", {"device_ids": [dev.id]}, activateTime=T0 - 1)
    manager = dev.manager(progress_step=None)
    async with holder.session.get(holder.base_url + log_file["fileURI"]) as transfer:
        assert transfer.status == 200
        await transfer.content.readexactly(1024)
        await dev.cycle(manager, T0)
        assert [(t.status, t.outcome) for t in manager.transfers] == [(503, "busy")]
        latest = (await history(env, file, dev))[-1]
        assert (latest["status"], latest["request503Count"], latest["nextRequestAttempt"]) == (1, 1, T0 + 42)
        assert latest["requestFailCount"] == 0  # a 503 is not a failed request
        await dev.cycle(manager, T0 + 41)  # while the place is still taken, the device does not ask
        assert len(manager.transfers) == 1
        assert len(await transfer.read()) == len(big) - 1024
    await dev.cycle(manager, T0 + 42)
    assert [t.status for t in manager.transfers] == [503, 200]
    assert manager.running_version == "2.1.0"
    reports = await history(env, file, dev)
    assert statuses(reports) == [1, 3, 5, 7, 8]
    assert (reports[-1]["request503Count"], reports[-1]["requestFailCount"]) == (1, 0)
    status, campaign = await env.api.get(f"/files/{file['id']}/status")
    assert campaign["request503_total"] == 1
    assert LogCode.SERVER_BUSY in await log_codes(dev)


@SQLITE_ONLY
async def test_images_the_manufacturer_did_not_sign_are_refused(start_env, vendor_key) -> None:
    env = await start_env()
    dev = await env.device("dev1")
    rogue = image(generate_signing_key(), "2.1.0")
    forged = await announce(env, rogue, "2.1.0", {"device_ids": [dev.id]}, activateTime=T0 - 1)
    manager = dev.manager(progress_step=None)
    await dev.cycle(manager, T0)
    reports = await history(env, forged, dev)
    assert statuses(reports) == [Status.LOADING, Status.VERIFYING, Status.VERIFICATION_FAILED]
    assert manager.running_version == "1.0.0" and manager.finished[forged["href"]]["status"] == 4
    assert "trusted manufacturer keys" in manager.finished[forged["href"]]["reason"]
    assert list((dev.state_dir / "firmware" / "staging").iterdir()) == []  # the bytes are gone

    # a genuine image altered on the way (one payload byte) is refused too
    altered = bytearray(image(vendor_key, "2.1.1"))
    altered[len(altered) // 2] ^= 0x40
    tampered = await announce(env, bytes(altered), "2.1.1", {"device_ids": [dev.id]}, activateTime=T0 - 1)
    await dev.cycle(manager, T0 + 10)
    assert statuses(await history(env, tampered, dev)) == [1, 3, 4]
    assert "altered or corrupted" in manager.finished[tampered["href"]]["reason"]

    # neither is loaded again, and nothing was activated
    await dev.cycle(manager, T0 + 1000)
    assert len(manager.transfers) == 2 and manager.running_version == "1.0.0"
    assert await running_version(env, forged) == {"1.0.0": 1}
    assert (await log_codes(dev)).count(LogCode.VERIFICATION_FAILED) == 2


@SQLITE_ONLY
async def test_an_image_that_fails_to_start_is_reverted_and_not_retried(start_env, vendor_key) -> None:
    env = await start_env()
    dev = await env.device("dev1")
    bad = await announce(env, image(vendor_key, "2.1.0", boots=False), "2.1.0", {"device_ids": [dev.id]},
                         activateTime=T0 + 301)  # fmt: skip
    manager = dev.manager(progress_step=None)
    await dev.cycle(manager, T0)
    await manager.tick(T0 + 301)
    assert manager.running_version == "1.0.0"
    reports = await history(env, bad, dev)
    assert statuses(reports) == [1, 3, 5, 7, 6]
    assert (reports[-1]["statusTime"], reports[-1]["activateTime"]) == (T0 + 301, T0 + 301)
    (failure,) = manager.firmware.failures
    assert (failure.version, failure.file_href, failure.time) == ("2.1.0", bad["href"], T0 + 301)
    assert "self-test failed" in failure.reason
    assert manager.firmware.previous is None  # the factory image never stopped being the running one
    assert await running_version(env, bad) == {"1.0.0": 1}
    assert (await log_codes(dev))[-1] == LogCode.START_FAILED

    # no loop: later polls and ticks leave that File alone, even after a restart
    for now in (T0 + 302, T0 + 5000):
        await dev.cycle(manager, now)
    restarted = dev.manager(progress_step=None)
    await dev.cycle(restarted, T0 + 6000)
    assert len(manager.transfers) == 1 and restarted.transfers == []
    assert len(await history(env, bad, dev)) == len(reports)
    assert restarted.running_version == "1.0.0"

    # a fixed image goes through
    fixed = await announce(env, image(vendor_key, "2.1.1"), "2.1.1", {"device_ids": [dev.id]}, activateTime=T0)
    await dev.cycle(restarted, T0 + 7000)
    assert restarted.running_version == "2.1.1"
    assert statuses(await history(env, fixed, dev)) == [1, 3, 5, 7, 8]
    assert await running_version(env, fixed) == {"2.1.1": 1}


@SQLITE_ONLY
async def test_withdrawn_files_are_abandoned_and_other_types_stored(start_env, vendor_key) -> None:
    env = await start_env()
    dev = await env.device("dev1")
    file = await announce(env, image(vendor_key, "2.1.0"), "2.1.0", {"device_ids": [dev.id]})
    manager = dev.manager(progress_step=None, store_types=("0002",))
    await dev.cycle(manager, T0)
    assert manager.job is not None and manager.job.status == Status.AWAITING_ACTIVATION
    assert (await env.api.post(f"/files/{file['id']}/withdraw"))[0] == 200
    await dev.cycle(manager, T0 + 900)
    assert manager.job is None and manager.running_version == "1.0.0"
    assert list((dev.state_dir / "firmware" / "staging").iterdir()) == []
    current = await dev.session.get(dev.end_device.FileStatusLink.href, FileStatus)
    assert (current.status, current.FileLink) == (Status.IDLE, None)
    assert LogCode.WITHDRAWN in await log_codes(dev)

    # a configuration file (type 0002), kept by this device, is stored when activated
    config = image(vendor_key, "7", size=500)
    stored = await announce(env, config, "7", {"device_ids": [dev.id]}, type="configuration", activateTime=T0)
    await dev.cycle(manager, T0 + 1800)
    assert statuses(await history(env, stored, dev)) == [1, 3, 5, 7, 8]
    assert manager.stored_file("0002").read_bytes() == config
    assert manager.running_version == "1.0.0"


# -- the decisions on their own ---------------------------------------------------------------------------

ME = DeviceIdentity(mf_id=PEN, mf_model=MODEL, lfdi="AB" * 20, mf_hw_ver="A", mf_ser_num="SN-1")


def a_file(href: str = "/file/1", **fields: object) -> File:
    values = {"fileURI": href + "/content", "mfID": PEN, "mfModel": MODEL, "mfVer": "2.0.0", "size": 10,
              "type": "0000", **fields}  # fmt: skip
    return File(href=href, **values)  # type: ignore[arg-type]


def test_which_files_are_for_this_device() -> None:
    assert skip_reason(a_file(), ME, "1.9") is None
    assert skip_reason(a_file(lFDI="ab" * 20, mfHwVer="A", mfSerNum="SN-1"), ME, "1.9") is None
    for fields, reason in (
        ({"mfID": PEN + 1}, "manufacturer"),
        ({"mfModel": "inv-9"}, "model"),
        ({"mfHwVer": "B"}, "hardware"),
        ({"mfSerNum": "SN-2"}, "serial"),
        ({"lFDI": "CD" * 20}, "for the device"),
        ({"mfVer": "1.10"}, "not newer"),
        ({"type": "0002"}, "type 0002"),
        ({"type": "8001"}, "type 8001"),
    ):
        assert reason in (skip_reason(a_file(**fields), ME, "1.10") or ""), fields
    assert skip_reason(a_file(type="2"), ME, "1.0", store_types=("0002",)) is None
    files = [a_file("/file/1", mfVer="1.9"), a_file("/file/2", mfVer="1.10"), a_file("/file/3", type="0002"),
             a_file("/file/4", mfVer="3.0", mfModel="inv-9")]  # fmt: skip
    assert choose(files, ME, "1.0", store_types=("0002",)).href == "/file/2"  # newest of this model
    assert choose(files, ME, "1.0", finished=["/file/2"], store_types=("0002",)).href == "/file/1"
    assert choose(files, ME, "1.10", store_types=("0002",)).href == "/file/3"
    assert choose(files, ME, "1.10") is None


def test_retry_times() -> None:
    assert retry_after("42", T0, 120) == T0 + 42
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", T0, 120) == T0  # a date in the past: now
    later = email.utils.format_datetime(datetime.fromtimestamp(T0 + 500, UTC), usegmt=True)
    assert retry_after(later, T0, 120) == T0 + 500
    assert retry_after(None, T0, 120) == T0 + 120 and retry_after("soon", T0, 120) == T0 + 120
    assert [retry_delay(n) for n in range(0, 5)] == [0, 30, 60, 120, 240] and retry_delay(30) == 3600


@given(size=st.integers(1, 10**9), data=st.data())
def test_load_percent_is_100_only_when_every_byte_is_held(size: int, data: st.DataObject) -> None:
    received = data.draw(st.integers(0, size))
    percent = load_percent(received, size)
    assert 0 <= percent <= 100 and (percent == 100) == (received == size)
    assert percent <= load_percent(min(size, received + 1), size)


def test_firmware_slots_commit_revert_and_survive_restarts(tmp_path: Path) -> None:
    key = generate_signing_key()
    slots = FirmwareSlots(tmp_path, factory_version="1.0.0")

    def stage(version: str, boots: bool) -> object:
        data = sign_image(reference_payload(b"body", boots=boots), key, mf_id=PEN, model=MODEL, version=version)
        path = slots.staging / f"{version}.part"
        path.write_bytes(data)
        return path, verify_image(data, [key.public_key()])

    path, manifest = stage("2.0", boots=True)
    slots.install(path, manifest, file_href="/file/1", now=T0)
    assert slots.version == "1.0.0" and slots.pending.version == "2.0"  # installed beside, not yet running
    result = slots.boot(T0)
    assert result.started and slots.version == "2.0" and slots.previous.version == "1.0.0"
    assert slots.boot(T0) is None  # nothing pending

    path, manifest = stage("3.0", boots=False)
    slots.install(path, manifest, file_href="/file/2", now=T0 + 1)
    result = slots.boot(T0 + 1)
    assert not result.started and "boot=panic" in result.reason and result.running.version == "2.0"
    reopened = FirmwareSlots(tmp_path, factory_version="9.9")
    assert (reopened.version, reopened.previous.version) == ("2.0", "1.0.0")
    assert [(f.version, f.time) for f in reopened.failures] == [("3.0", T0 + 1)]

    # a reset during the trial boot of an image counts as a failed start at the next boot
    path, manifest = stage("4.0", boots=True)
    reopened.install(path, manifest, file_href="/file/3", now=T0 + 2)
    reopened.booting = True
    reopened._save()
    after_reset = FirmwareSlots(tmp_path, factory_version="9.9")
    result = after_reset.boot(T0 + 3)
    assert not result.started and "reset during its trial boot" in result.reason
    assert after_reset.version == "2.0"
    # only the running image and the previous one (the factory image, not a file here) stay on disk
    assert after_reset.previous.image is None
    assert [p.name for p in after_reset.images.iterdir()] == [after_reset.running.image]


# -- the download under any sequence of faults (no server: a scripted one) -------------------------------


class ScriptedResponse:
    def __init__(self, status: int, headers: dict[str, str], body: bytes, cut: int | None) -> None:
        self.status, self.headers, self.body, self.cut = status, headers, body, cut
        self.content = self

    async def iter_chunked(self, size: int) -> AsyncIterator[bytes]:
        end = len(self.body) if self.cut is None else self.cut
        for at in range(0, end, size):
            yield self.body[at : min(at + size, end)]
        if self.cut is not None:
            raise Unreachable("the link dropped")

    async def text(self, errors: str = "strict") -> str:
        return ""


class ScriptedServer:
    """Stands in for the SepSession: offers one File and answers content requests from a script of faults
    (("503", seconds) or ("cut", fraction of the rest)), then normally; honours Range like the server."""

    def __init__(self, data: bytes, faults: list[tuple[str, float]]) -> None:
        self.data, self.faults = data, list(faults)
        self.now = T0
        self.file = File(href="/file/1", fileURI="/file/1/content", mfID=PEN, mfModel=MODEL, mfVer="2.0",
                         size=len(data), type="0000", activateTime=T0)  # fmt: skip
        self.requests: list[tuple[int, int]] = []  #: (time, first byte asked for)
        self.reports: list[tuple[int, FileStatus]] = []
        self.events: list[tuple[int, object]] = []  #: requests (the first byte) and reports, in order
        self.sent = 0  #: the bytes of the file the device has been sent so far
        self.resumes: list[tuple[int, int]] = []  #: (first byte asked for, bytes sent before)

    async def get_all(self, href: str, cls: type) -> tuple[object, list[File]]:
        return FileList(all=1, results=1, File=[self.file]), [self.file]

    async def get(self, href: str, cls: type) -> File:
        return self.file

    async def put(self, href: str, body: object) -> None:
        if isinstance(body, FileStatus):
            self.reports.append((self.now, body))
            self.events.append((self.now, body))

    async def post(self, href: str, body: object) -> None:
        return None

    @asynccontextmanager
    async def raw(self, method: str, href: str, headers: dict[str, str], **_: object) -> AsyncIterator[object]:
        first = int(headers["Range"][6:-1]) if "Range" in headers else 0
        self.requests.append((self.now, first))
        self.events.append((self.now, first))
        self.resumes.append((first, self.sent))
        kind, value = self.faults.pop(0) if self.faults else ("ok", 0)
        if kind == "503":
            yield ScriptedResponse(503, {"Retry-After": str(int(value))}, b"", None)
            return
        body = self.data[first:]
        reply = {"ETag": '"v1"', "Content-Length": str(len(body))}
        if first:
            reply["Content-Range"] = f"bytes {first}-{len(self.data) - 1}/{len(self.data)}"
        cut = int(len(body) * value) if kind == "cut" else None
        self.sent = first + (len(body) if cut is None else cut)
        yield ScriptedResponse(206 if first else 200, reply, body, cut)


FAULTS = st.lists(
    st.one_of(st.tuples(st.just("503"), st.integers(1, 900)), st.tuples(st.just("cut"), st.floats(0, 0.99))),
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(faults=FAULTS)
async def test_any_sequence_of_faults_ends_with_the_whole_image_activated(faults: list[tuple[str, float]]) -> None:
    key = generate_signing_key()
    data = sign_image(reference_payload(os.urandom(5000)), key, mf_id=PEN, model=MODEL, version="2.0")
    server = ScriptedServer(data, faults)
    with tempfile.TemporaryDirectory() as state_dir:
        manager = FileManager(server, state_dir, identity=ME, trusted_keys=[key.public_key()],  # type: ignore[arg-type]
                              progress_step=10, chunk_size=700, max_request_failures=100, durable=False)  # fmt: skip
        manager.use_end_device(EndDevice(href="/edev/1", sFDI=1, changedTime=T0))
        await manager.poll(["/file"], T0)
        for _ in range(50):
            server.now = max(server.now, manager.next_due() or server.now)
            await manager.tick(server.now)
            if manager.job is None:
                break
        images = manager.firmware.images
        assert manager.running_version == "2.0" and (images / manager.firmware.running.image).read_bytes() == data
    # each request asks for the bytes after those held, never before the time the last report announced
    assert all(first == sent for first, sent in server.resumes)  # a resume asks for exactly the rest
    announced = T0
    for when, event in server.events:
        if isinstance(event, FileStatus):
            announced = event.nextRequestAttempt if event.status == 1 else announced
        else:
            assert when >= announced
    final = server.reports[-1][1]
    assert statuses([{"status": r.status} for _, r in server.reports]) == [1, 3, 5, 7, 8]
    assert final.request503Count == sum(1 for kind, _ in faults if kind == "503")
    assert final.requestFailCount == sum(1 for kind, _ in faults if kind == "cut")
    percents = [r.loadPercent for _, r in server.reports]
    assert percents == sorted(percents) and percents[-1] == 100
