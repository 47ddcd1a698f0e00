"""File Download function set and firmware campaigns end to end (IEEE 2030.5-2018 clause 9.8): the
operator uploads an image and announces a File to a test population through the admin API; devices find
it from DeviceCapability and their FunctionSetAssignments over mutual TLS, download it in resumable
ranges, report FileStatus, and the campaign status shows it; the campaign widens in stages."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import register
from sep_client import AdminClient, SepClient
from test_openapi import DocumentedAdmin

from gridhan.schemas.clock import ManualClock
from gridhan.schemas.sep2 import (
    DeviceCapability,
    DeviceInformation,
    EndDevice,
    File,
    FileList,
    FileStatus,
    FunctionSetAssignmentsList,
    Link,
)
from gridhan.schemas.xmlcodec import encode

T0 = 1_800_000_100
PEN = 37244


@dataclass
class Env:
    server: object
    clock: ManualClock
    api: DocumentedAdmin
    device: Callable[[str], SepClient]
    data_dir: Path


@pytest.fixture
async def start_env(make_server, pki, optional_sep_schemas) -> AsyncIterator[Callable]:
    """``await start_env(**settings)``: a server on a manual clock, the operator, and device clients."""
    clients: list[SepClient] = []
    admins: list[AdminClient] = []

    async def start(**settings: object) -> Env:
        clock = ManualClock(T0)
        server = await make_server(clock=clock, **settings)
        admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
        admins.append(admin)

        def device(name: str) -> SepClient:
            client = SepClient(server.sep2_url, pki, name, optional_sep_schemas)
            clients.append(client)
            return client

        return Env(server, clock, DocumentedAdmin(admin), device, server.settings.data_dir)

    yield start
    for client in clients:
        await client.close()
    for admin in admins:
        await admin.close()


@pytest.fixture
async def env(start_env) -> Env:
    return await start_env()


async def upload(env: Env, data: bytes, name: str = "inv-5-2.1.0.bin") -> dict:
    status, body = await env.api.post(
        f"/file-images?name={name}", data=data, headers={"Content-Type": "application/octet-stream"}
    )
    assert status in (200, 201), body
    return body


async def announce(env: Env, image_id: int, target: dict, **fields: object) -> dict:
    body = {"image_id": image_id, "mfID": PEN, "mfModel": "inv-5", "mfVer": "2.1.0", "type": "firmware",
            "target": target, **fields}  # fmt: skip
    status, created = await env.api.post("/files", body)
    assert status == 201, created
    return created


def file_status(status: int, file_href: str | None, **fields: int) -> FileStatus:
    return FileStatus(
        FileLink=Link(href=file_href) if file_href else None,
        loadPercent=fields.get("loadPercent", 0),
        nextRequestAttempt=fields.get("nextRequestAttempt", T0),
        request503Count=fields.get("request503Count", 0),
        requestFailCount=fields.get("requestFailCount", 0),
        status=status,
        statusTime=fields.get("statusTime", T0),
    )


async def file_list(dev: SepClient, href: str = "/file") -> FileList:
    return (await dev.get(href + ("&" if "?" in href else "?") + "l=10")).parse(FileList)


async def test_campaign_from_test_population_to_fleet(env: Env) -> None:
    dev1, dev2, dev3 = env.device("dev1"), env.device("dev2"), env.device("dev3")
    id1, id2, _id3 = [await register(env.api.client, d) for d in (dev1, dev2, dev3)]
    status, pilot = await env.api.post("/groups", {"name": "firmware-pilot"})
    assert status == 201
    assert (await env.api.client.put(f"/groups/{pilot['id']}/members", {"device_ids": [id1]}))[0] in (200, 204)

    data = os.urandom(300_000)
    image = await upload(env, data)
    assert image["sha256"] == hashlib.sha256(data).hexdigest() and image["size"] == len(data)
    again = await upload(env, data, name="same-bytes.bin")
    assert again["id"] == image["id"]  # content-addressed: the same bytes are one image

    created = await announce(env, image["id"], {"group_ids": [pilot["id"]]}, activateTime=T0 + 3601)
    assert created["stages"][0]["group_ids"] == [pilot["id"]] and created["warnings"] == []
    href = created["href"]

    # the test population sees the File, from DeviceCapability and from its group's FunctionSetAssignments
    dcap = (await dev1.get("/dcap")).parse(DeviceCapability)
    assert dcap.FileListLink.href == "/file" and dcap.FileListLink.all == 1
    (listed,) = (await file_list(dev1)).File
    assert (listed.href, listed.mfID, listed.mfModel, listed.mfVer, listed.type) == (
        href,
        PEN,
        "inv-5",
        "2.1.0",
        "0000",
    )
    assert listed.size == len(data) and listed.activateTime == T0 + 3601 and listed.lFDI is None
    edev = (await dev1.get(f"/edev/{id1}")).parse(EndDevice)
    assert edev.FileStatusLink.href == f"/edev/{id1}/fs"
    (fsa,) = (
        (await dev1.get(edev.FunctionSetAssignmentsListLink.href + "?l=10"))
        .parse(FunctionSetAssignmentsList)
        .FunctionSetAssignments
    )
    assert fsa.FileListLink.all == 1
    assert [f.href for f in (await file_list(dev1, fsa.FileListLink.href)).File] == [href]
    # filters of Annex C: a newer version than the device runs, its model
    assert (await file_list(dev1, f"/file?mfID={PEN}&mfModel=inv-5&mfVer=2.0.9&type=0000")).all == 1
    assert (await file_list(dev1, "/file?mfVer=2.1.0")).all == 0
    assert (await file_list(dev1, "/file?mfModel=other")).all == 0

    # the rest of the fleet does not see it yet
    assert (await dev2.get("/dcap")).parse(DeviceCapability).FileListLink.all == 0
    assert (await file_list(dev2)).all == 0
    assert (await dev2.get(href)).status == 404
    assert (await dev2.get(listed.fileURI)).status == 404

    # download in two ranges (a resumed download), then compare with the whole
    file = (await dev1.get(href)).parse(File)
    first = await dev1.get(file.fileURI, headers={"Range": "bytes=0-99999"})
    assert first.status == 206 and first.headers["Content-Range"] == f"bytes 0-99999/{len(data)}"
    etag = first.headers["ETag"]
    assert etag == f'"{image["sha256"]}"' and first.headers["Accept-Ranges"] == "bytes"
    assert first.headers["Content-Type"] == "application/octet-stream"
    rest = await dev1.get(file.fileURI, headers={"Range": "bytes=100000-", "If-Range": etag})
    assert rest.status == 206 and rest.headers["Content-Length"] == str(len(data) - 100_000)
    assert first.body + rest.body == data
    whole = await dev1.get(file.fileURI)
    assert whole.status == 200 and whole.body == data
    stale = await dev1.get(file.fileURI, headers={"Range": "bytes=5-9", "If-Range": '"other"'})
    assert stale.status == 200 and stale.body == data  # another validator: the whole file
    assert (await dev1.get(file.fileURI, headers={"Range": "bytes=-10"})).body == data[-10:]

    # FileStatus: loading, loaded, activated, each kept
    assert (await dev1.get(f"/edev/{id1}/fs")).status == 404
    for status_value, percent, t in ((1, 33, 10), (5, 100, 20), (8, 100, 3700)):
        env.clock.set(T0 + t)
        reply = await dev1.put(
            f"/edev/{id1}/fs", file_status(status_value, href, loadPercent=percent, statusTime=T0 + t)
        )
        assert reply.status == 204, reply.text
    current = (await dev1.get(f"/edev/{id1}/fs")).parse(FileStatus)
    assert current.status == 8 and current.FileLink.href == href and current.href == f"/edev/{id1}/fs"
    info = DeviceInformation(lFDI=dev1.lfdi, mfID=PEN, mfModel="inv-5", primaryPower=0, secondaryPower=0,
                             swActTime=T0 + 3700, swVer="2.1.0", mfHwVer="A", mfSerNum="1", mfDate=T0)  # fmt: skip
    assert (await dev1.put(f"/edev/{id1}/di", info)).status == 204

    status, campaign = await env.api.get(f"/files/{created['id']}/status")
    assert status == 200, campaign
    assert (campaign["targeted"], campaign["reported"], campaign["activated"]) == (1, 1, 1)
    assert campaign["by_status"]["activated"] == 1 and campaign["running_versions"] == {"2.1.0": 1}
    assert campaign["devices"][0]["id"] == id1 and campaign["devices"][0]["status"]["loadPercent"] == 100
    status, history = await env.api.get(f"/files/{created['id']}/history?device={id1}")
    assert status == 200 and [h["status_name"] for h in history["items"]] == ["activated", "awaiting_activation",
                                                                               "loading"]  # fmt: skip

    # widen: dev2 by LFDI; dev3 still waits
    status, widened = await env.api.post(f"/files/{created['id']}/stages", {"lfdis": [dev2.lfdi]})
    assert status == 200, widened
    assert [s["device_ids"] for s in widened["stages"]] == [[], [id2]]
    assert [f.href for f in (await file_list(dev2)).File] == [href]
    assert (await dev2.get(href)).status == 200
    assert (await file_list(dev3)).all == 0
    status, campaign = await env.api.get(f"/files/{created['id']}/status")
    assert (campaign["targeted"], campaign["not_reported"]) == (2, 1)
    assert [s["targeted"] for s in campaign["stages"]] == [1, 1]
    assert {d["id"] for d in campaign["devices"] if d["status"] is None} == {id2}

    # everyone, then withdrawal: the File disappears from every device
    assert (await env.api.post(f"/files/{created['id']}/stages", {"everyone": True}))[0] == 200
    assert (await file_list(dev3)).all == 1
    status, withdrawn = await env.api.post(f"/files/{created['id']}/withdraw")
    assert status == 200 and withdrawn["withdrawn_time"] is not None
    for dev in (dev1, dev2, dev3):
        assert (await file_list(dev)).all == 0
        assert (await dev.get(href)).status == 404
        assert (await dev.get(file.fileURI)).status == 404
    assert (await env.api.delete(f"/file-images/{image['id']}"))[0] == 409  # a File still names it


async def test_a_file_for_one_device_is_invisible_to_others(env: Env) -> None:
    dev1, dev2 = env.device("dev1"), env.device("dev2")
    id1 = await register(env.api.client, dev1)
    id2 = await register(env.api.client, dev2)
    image = await upload(env, b"config for dev1 only")
    created = await announce(env, image["id"], {"everyone": True}, lFDI=dev1.lfdi, type="configuration")
    assert any("no test population" in w for w in created["warnings"])
    (listed,) = (await file_list(dev1)).File
    assert listed.lFDI == dev1.lfdi and listed.type == "0002"
    assert (await file_list(dev2)).all == 0
    assert (await dev2.get(created["href"])).status == 404
    assert (await dev2.get(created["fileURI"])).status == 404
    # dev2 cannot report status about dev1's File
    reply = await dev2.put(f"/edev/{id2}/fs", file_status(1, created["href"]))
    assert reply.status == 400 and "FileStatus/FileLink" in reply.text
    # nor read or write dev1's FileStatus
    assert (await dev2.put(f"/edev/{id1}/fs", file_status(0, None))).status == 404


async def test_concurrent_downloads_beyond_the_limit_get_503_and_resume(start_env) -> None:
    env = await start_env(file_max_downloads=1, file_retry_after=42)
    dev1, dev2 = env.device("dev1"), env.device("dev2")
    for dev in (dev1, dev2):
        await register(env.api.client, dev)
    data = os.urandom(24 * 1024 * 1024)  # more than the socket buffers hold: the first transfer stays open
    image = await upload(env, data)
    created = await announce(env, image["id"], {"everyone": True})
    uri = created["fileURI"]
    async with dev1.session.get(dev1.base_url + uri) as first:
        assert first.status == 200
        head = await first.content.readexactly(1024)
        busy = await dev2.get(uri, headers={"Range": "bytes=0-"})
        assert busy.status == 503 and busy.headers["Retry-After"] == "42"
        body = head + await first.read()
    assert body == data
    # the place was released: dev2 resumes in two parts and gets the same bytes
    half = len(data) // 2
    part1 = await dev2.get(uri, headers={"Range": f"bytes=0-{half - 1}"})
    part2 = await dev2.get(uri, headers={"Range": f"bytes={half}-"})
    assert (part1.status, part2.status) == (206, 206)
    assert hashlib.sha256(part1.body + part2.body).hexdigest() == image["sha256"]

    # a device that goes away mid-transfer gives its place back
    async with dev1.session.get(dev1.base_url + uri) as abandoned:
        await abandoned.content.readexactly(1024)
        assert (await dev2.get(uri, headers={"Range": "bytes=0-9"})).status == 503
        abandoned.close()  # drops the connection
    for _ in range(200):  # the server notices the closed connection at its next write
        reply = await dev2.get(uri, headers={"Range": "bytes=0-9"})
        if reply.status != 503:
            break
        await asyncio.sleep(0.05)
    assert reply.status == 206 and reply.body == data[:10]


async def test_bad_requests_change_nothing(env: Env) -> None:
    dev1 = env.device("dev1")
    id1 = await register(env.api.client, dev1)
    data = b"x" * 1000
    image = await upload(env, data)
    created = await announce(env, image["id"], {"device_ids": [id1]})
    href, uri = created["href"], created["fileURI"]

    # ranges
    beyond = await dev1.get(uri, headers={"Range": "bytes=1000-"})
    assert beyond.status == 416 and beyond.headers["Content-Range"] == "bytes */1000"
    assert (await dev1.get(uri, headers={"Range": "bytes=-0"})).status == 416
    clipped = await dev1.get(uri, headers={"Range": "bytes=990-5000"})
    assert clipped.status == 206 and clipped.headers["Content-Range"] == "bytes 990-999/1000"
    for ignored in ("bytes=5-2", "items=0-1", "bytes=0-1,5-6", "bytes=x-"):
        reply = await dev1.get(uri, headers={"Range": ignored})
        assert reply.status == 200 and reply.body == data, ignored

    # FileStatus
    bad_status = encode(file_status(1, href)).replace(b"<status>1</status>", b"<status>9</status>")
    reply = await dev1.put(f"/edev/{id1}/fs", bad_status)
    assert reply.status == 400 and "status" in reply.text
    reply = await dev1.put(f"/edev/{id1}/fs", file_status(3, None))
    assert reply.status == 400 and "FileStatus/FileLink" in reply.text
    reply = await dev1.put(f"/edev/{id1}/fs", file_status(1, "/file/999"))
    assert reply.status == 400
    reply = await dev1.put(f"/edev/{id1}/fs", encode(file_status(1, href)), content_type="application/xml")
    assert reply.status == 415
    assert (await dev1.get(f"/edev/{id1}/fs")).status == 404  # nothing was kept
    assert (await dev1.get("/file/abc")).status == 404
    head = await dev1.request("HEAD", uri, headers={"Range": "bytes=10-19"})
    assert head.status == 206 and head.headers["Content-Length"] == "10" and head.body == b""
    unregistered = env.device("unreg1")
    assert (await unregistered.get("/file")).status == 403
    assert (await unregistered.get(uri)).status == 403
    assert (await dev1.get("/file?type=zz")).status == 400

    # malformed File metadata
    base = {"image_id": image["id"], "mfID": PEN, "mfModel": "inv-5", "mfVer": "2.1.0", "target": {"everyone": True}}
    for change, field in (
        ({"type": "0005"}, "type"),
        ({"type": "firmwar"}, "type"),
        ({"mfVer": "1" * 17}, "mfVer"),
        ({"mfID": -1}, "mfID"),
        ({"lFDI": "12"}, "lFDI"),
        ({"activateTime": "tomorrow"}, "activateTime"),
        ({"image_id": 999}, "image_id"),
        ({"target": {}}, "target"),
        ({"target": {"lfdis": ["ab" * 20]}}, "target.lfdis"),
        ({"target": {"group_ids": [999]}}, "target.group_ids"),
        ({"surprise": 1}, "surprise"),
    ):
        status, body = await env.api.post("/files", {**base, **change})
        assert status == 400 and body["error"].startswith(field), (change, body)
    status, files = await env.api.get("/files")
    assert files["total"] == 1
    status, body = await env.api.patch(f"/files/{created['id']}", {"activateTime": T0 - 100 + 3600})
    assert status == 200 and any("metering interval boundary" in w for w in body["warnings"])
    assert (await dev1.get(href)).parse(File).activateTime == T0 - 100 + 3600  # activation on command
    assert (await env.api.post(f"/files/{created['id']}/stages", {}))[0] == 400
    assert (await env.api.get("/files/999/status"))[0] == 404
    assert (await env.api.post("/files/999/withdraw", {}))[0] == 404

    # uploads: wrong media type, malformed name
    status, _ = await env.api.post("/file-images", data=b"abc", headers={"Content-Type": "text/plain"})
    assert status == 415
    status, body = await env.api.post(
        "/file-images?name=" + "n" * 129, data=b"abc", headers={"Content-Type": "application/octet-stream"}
    )
    assert status == 400 and "name" in body["error"]
    assert (await env.api.get("/file-images"))[1]["total"] == 1


async def test_an_upload_beyond_the_limit_leaves_nothing(start_env) -> None:
    env = await start_env(file_max_bytes=4096)
    big = os.urandom(10_000)
    status, body = await env.api.post("/file-images", data=big, headers={"Content-Type": "application/octet-stream"})
    assert status == 413, body

    async def chunked():  # no Content-Length: refused while streaming
        for i in range(0, len(big), 1000):
            yield big[i : i + 1000]

    status, body = await env.api.post(
        "/file-images", data=chunked(), headers={"Content-Type": "application/octet-stream"}
    )
    assert status == 413, body
    assert (await env.api.get("/file-images"))[1]["total"] == 0
    stored = (
        [p for p in (env.data_dir / "files").rglob("*") if p.is_file()] if (env.data_dir / "files").exists() else []
    )
    assert stored == []
    status, body = await env.api.post(
        "/file-images", data=big[:4096], headers={"Content-Type": "application/octet-stream"}
    )
    assert status == 201 and body["size"] == 4096
    assert (env.data_dir / "files" / body["sha256"][:2] / body["sha256"]).read_bytes() == big[:4096]
    assert (await env.api.delete(f"/file-images/{body['id']}"))[0] == 204
    assert not (env.data_dir / "files" / body["sha256"][:2] / body["sha256"]).exists()
