"""Software download and firmware campaigns for the utility (File Download function set, IEEE 2030.5-2018
clause 9.8; AMI I3 firmware campaigns).

* ``POST /api/v1/file-images?name=...``: upload an image as the raw request body (streamed to disk,
  at most ``file_max_bytes``; 413 above, with nothing kept); answers its SHA-256 and size. An upload of
  bytes the server already holds answers 200 with the existing image. ``GET /api/v1/file-images[/{id}]``,
  ``DELETE /api/v1/file-images/{id}`` (409 while a File offers it).
* ``POST /api/v1/files``: a File for an image (mfID, mfModel, mfVer, mfHwVer, type, activateTime) and
  the first stage of its campaign (``target``: groups, devices, LFDIs, or everyone), which should be the
  utility's permanent test population. Announcing (the File) is separate from the image, and
  ``activateTime`` may be left out so devices load the image beside the running one and wait.
* ``POST /api/v1/files/{id}/stages``: widen the campaign (the next stage's targets).
* ``PATCH /api/v1/files/{id}``: set or clear ``activateTime`` (activate on command: a time now or past
  makes devices activate at once; or at a set time), or the description.
* ``POST /api/v1/files/{id}/withdraw``: devices no longer see the File or its content.
* ``GET /api/v1/files/{id}/status``: the campaign: per-device FileStatus tallies (load status, status
  codes, 503 counts), devices that never reported, and the software versions devices run.
* ``GET /api/v1/files/{id}/history``: every FileStatus reported about the File, newest first.

Warnings (in every File's JSON, never a refusal): an activateTime on a multiple of five minutes (a
metering interval boundary), an activateTime not in the future, a first stage aimed at every device.
Demand response events and prices are not consulted (those function sets are not part of this module).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Mapping
from types import MappingProxyType
from typing import Any

from aiohttp import web

from gridhan.schemas.sep2 import DeviceInformation, FileStatus
from gridhan.schemas.xmlcodec import XmlDecodeError, decode
from gridhan.server.admin.serialize import API
from gridhan.server.admin.validation import (
    Member,
    bad_request,
    boolean,
    date_time,
    identifier,
    identifier_list,
    integer,
    lfdi,
    not_found,
    page_params,
    path_id,
    query_int,
    read_json_object,
    read_members,
    string,
)
from gridhan.server.context import CONTEXT, AppContext
from gridhan.server.sep2.file_content import content_store
from gridhan.server.sep2.files import content_href, file_href
from gridhan.server.store import files as files_store
from gridhan.server.store.blobs import TooLarge
from gridhan.server.store.files import Campaign, InUse, Targets
from gridhan.server.store.repo import Conflict
from gridhan.server.store.tables import FileImageRow, FileRow, FileStatusRow, FileTargetRow

UPLOAD_CHUNK = 256 * 1024
#: Metering intervals are commonly 5, 15, 30 or 60 minutes: all boundaries fall on multiples of 5 minutes.
METERING_BOUNDARY = 300
#: FileStatus.status values (clause 9.8): their names in the admin API.
STATUS_NAMES = (
    "idle",
    "loading",
    "load_failed",
    "verifying",
    "verification_failed",
    "awaiting_activation",
    "activation_failed",
    "activating",
    "activated",
)
FAILED = frozenset({2, 4, 6})
#: File.type names the operator may use instead of the hex value.
TYPE_NAMES = {"software": "0000", "firmware": "0000", "security_credential": "0001", "configuration": "0002",
              "log": "0003"}  # fmt: skip


def _file_type(name: str, value: Any) -> str:
    """File.type: a HexBinary16 (``"0000"``) or one of the names of :data:`TYPE_NAMES`."""
    if isinstance(value, str) and value in TYPE_NAMES:
        return TYPE_NAMES[value]
    if not isinstance(value, str) or not 1 <= len(value) <= 4 or any(c not in "0123456789abcdefABCDEF" for c in value):
        raise bad_request(
            f"{name}: must be 1 to 4 hexadecimal digits (0000 software image, 0001 security credential, "
            f"0002 configuration, 0003 log, 8000-FFFF manufacturer) or one of {', '.join(TYPE_NAMES)}; got {value!r}"
        )
    number = int(value, 16)
    if 0x0004 <= number <= 0x7FFF:
        raise bad_request(f"{name}: {value!r} is reserved by IEEE 2030.5 (0004-7FFF)")
    return f"{number:04X}"


def _lfdi_list(name: str, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise bad_request(f"{name}: must be an array of LFDIs")
    return list(dict.fromkeys(lfdi(f"{name}[{i}]", v) for i, v in enumerate(value)))


TARGET_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "group_ids": Member(identifier_list),
        "device_ids": Member(identifier_list),
        "lfdis": Member(_lfdi_list),
        "everyone": Member(boolean),
    }
)


def _target(name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request(f"{name}: must be an object with group_ids, device_ids, lfdis or everyone")
    return read_members(value, TARGET_MEMBERS, where=name)


FILE_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "image_id": Member(identifier),
        "mfID": Member(integer(0, 2**32 - 1)),
        "mfModel": Member(string(32, min_length=1)),
        "mfVer": Member(string(16, min_length=1)),
        "mfHwVer": Member(string(32, min_length=1), nullable=True),
        "mfSerNum": Member(string(32, min_length=1), nullable=True),
        "type": Member(_file_type),
        "activateTime": Member(date_time, nullable=True),
        "lFDI": Member(lfdi, nullable=True),
        "description": Member(string(64), nullable=True),
        "target": Member(_target),
    }
)
FILE_PATCH: Mapping[str, Member] = MappingProxyType(
    {"activateTime": FILE_MEMBERS["activateTime"], "description": FILE_MEMBERS["description"]}
)


# -- JSON shapes --------------------------------------------------------------------------------------


def image_json(row: FileImageRow) -> dict[str, Any]:
    return {"id": row.id, "sha256": row.sha256, "size": row.size, "name": row.name, "uploaded_time": row.uploaded_time}


def stages_json(targets: list[FileTargetRow]) -> list[dict[str, Any]]:
    stages: dict[int, dict[str, Any]] = {}
    for t in targets:
        stage = stages.setdefault(
            t.stage,
            {"stage": t.stage, "added_time": t.added_time, "group_ids": [], "device_ids": [], "everyone": False},
        )
        if t.group_id is not None:
            stage["group_ids"].append(t.group_id)
        elif t.device_id is not None:
            stage["device_ids"].append(t.device_id)
        else:
            stage["everyone"] = True
    return [stages[n] for n in sorted(stages)]


def warnings(row: FileRow, stages: list[dict[str, Any]], now: int) -> list[str]:
    out = []
    when = row.activate_time
    if when is not None and when % METERING_BOUNDARY == 0:
        out.append(f"activateTime {when} falls on a metering interval boundary (a multiple of 5 minutes): "
                   "devices would restart while closing an interval")  # fmt: skip
    if when is not None and when <= now and row.withdrawn_time is None:
        out.append(f"activateTime {when} is not in the future: a device activates the file as soon as it is loaded")
    if stages and stages[0]["everyone"]:
        out.append("the first stage reaches every device: no test population goes first")
    return out


def file_json(row: FileRow, image: FileImageRow, targets: list[FileTargetRow], now: int) -> dict[str, Any]:
    stages = stages_json(targets)
    return {
        "id": row.id,
        "href": file_href(row.id),  # type: ignore[arg-type]
        "fileURI": content_href(row.id),  # type: ignore[arg-type]
        "image_id": row.image_id,
        "sha256": image.sha256,
        "size": image.size,
        "mfID": row.mf_id,
        "mfModel": row.mf_model,
        "mfVer": row.mf_ver,
        "mfHwVer": row.mf_hw_ver,
        "mfSerNum": row.mf_ser_num,
        "type": row.file_type,
        "activateTime": row.activate_time,
        "lFDI": row.lfdi,
        "description": row.description,
        "created_time": row.created_time,
        "withdrawn_time": row.withdrawn_time,
        "stages": stages,
        "warnings": warnings(row, stages, now),
        "status": f"{API}/files/{row.id}/status",
    }


async def _file_view(ctx: AppContext, row: FileRow) -> dict[str, Any]:
    image = await files_store.image(ctx.store, row.image_id)
    assert image is not None
    return file_json(row, image, await files_store.targets_of_file(ctx.store, row.id), ctx.now())  # type: ignore[arg-type]


def status_json(row: FileStatusRow) -> dict[str, Any]:
    doc = decode(row.document, FileStatus)
    return {
        "device_id": row.device_id,
        "status": doc.status,
        "status_name": STATUS_NAMES[doc.status],
        "statusTime": doc.statusTime,
        "received_time": row.received_time,
        "loadPercent": doc.loadPercent,
        "request503Count": doc.request503Count,
        "requestFailCount": doc.requestFailCount,
        "nextRequestAttempt": doc.nextRequestAttempt,
        "activateTime": doc.activateTime,
    }


# -- images -----------------------------------------------------------------------------------------


async def upload_image(request: web.Request) -> web.Response:
    """Stream the request body into the content store (the admin application's body limit does not apply
    to this route: it has its own, ``file_max_bytes``)."""
    ctx = request.app[CONTEXT]
    name = request.query.get("name")
    if name is not None:
        name = string(128, min_length=1)("query parameter name", name)
    if request.content_type != "application/octet-stream":
        raise web.HTTPUnsupportedMediaType(
            text=f"an image is uploaded as application/octet-stream, not {request.content_type or 'absent'}"
        )
    limit = ctx.settings.file_max_bytes
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(
            max_size=limit, actual_size=request.content_length, text=f"the image exceeds file_max_bytes ({limit})"
        )

    async def chunks() -> AsyncIterator[bytes]:
        async for chunk in request.content.iter_chunked(UPLOAD_CHUNK):
            yield chunk

    blobs = content_store(ctx.settings)
    try:
        stored = await blobs.write(chunks(), limit)
    except TooLarge:
        raise web.HTTPRequestEntityTooLarge(
            max_size=limit, actual_size=limit + 1, text=f"the image exceeds file_max_bytes ({limit})"
        ) from None
    if stored.size == 0:
        if stored.new:
            blobs.remove(stored.sha256)
        raise bad_request("the image is empty")
    existing = await files_store.image_by_sha256(ctx.store, stored.sha256)
    if existing is not None:
        return web.json_response(image_json(existing), headers={"Location": f"{API}/file-images/{existing.id}"})
    try:
        row = await files_store.create_image(
            ctx.store, sha256=stored.sha256, size=stored.size, name=name, uploaded_time=ctx.now()
        )
    except Conflict:  # the same bytes were uploaded concurrently
        row = await files_store.image_by_sha256(ctx.store, stored.sha256)
        assert row is not None
        return web.json_response(image_json(row), headers={"Location": f"{API}/file-images/{row.id}"})
    except BaseException:
        if stored.new:
            blobs.remove(stored.sha256)
        raise
    return web.json_response(image_json(row), status=201, headers={"Location": f"{API}/file-images/{row.id}"})


async def list_images(request: web.Request) -> web.Response:
    offset, limit = page_params(request)
    page = await files_store.list_images(request.app[CONTEXT].store, offset, limit)
    return web.json_response({"total": page.total, "items": [image_json(r) for r in page.rows]})


async def get_image(request: web.Request) -> web.Response:
    image_id = path_id(request, "file image")
    row = await files_store.image(request.app[CONTEXT].store, image_id)
    if row is None:
        raise not_found(f"no file image with id {image_id}")
    return web.json_response(image_json(row))


async def delete_image(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    image_id = path_id(request, "file image")
    try:
        row = await files_store.delete_image(ctx.store, image_id)
    except InUse as exc:
        raise web.HTTPConflict(text=f"{exc}: an image a File offers cannot be deleted") from None
    if row is None:
        raise not_found(f"no file image with id {image_id}")
    content_store(ctx.settings).remove(row.sha256)
    return web.Response(status=204)


# -- Files and stages -------------------------------------------------------------------------------


async def _targets(ctx: AppContext, body: dict[str, Any], name: str = "target") -> Targets:
    groups = body.get("group_ids", [])
    for group_id in groups:
        if await ctx.store.group(group_id) is None:
            raise bad_request(f"{name}.group_ids: no group with id {group_id}")
    devices = list(body.get("device_ids", []))
    for device_id in devices:
        if await ctx.store.device(device_id) is None:
            raise bad_request(f"{name}.device_ids: no device with id {device_id}")
    for value in body.get("lfdis", []):
        row = await ctx.store.device_by_lfdi(value)
        if row is None:
            raise bad_request(f"{name}.lfdis: no device with LFDI {value} is registered")
        if row.id not in devices:
            devices.append(row.id)  # type: ignore[arg-type]
    targets = Targets(tuple(groups), tuple(devices), body.get("everyone", False))
    if not targets:
        raise bad_request(f"{name}: name at least one group, device or LFDI, or everyone: true")
    return targets


async def create_file(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    body = read_members(
        await read_json_object(request), FILE_MEMBERS, required=("image_id", "mfID", "mfModel", "mfVer", "target")
    )
    targets = await _targets(ctx, body["target"])
    try:
        row = await files_store.create_file(
            ctx.store,
            targets,
            image_id=body["image_id"],
            mf_id=body["mfID"],
            mf_model=body["mfModel"],
            mf_ver=body["mfVer"],
            mf_hw_ver=body.get("mfHwVer"),
            mf_ser_num=body.get("mfSerNum"),
            file_type=body.get("type", "0000"),
            activate_time=body.get("activateTime"),
            lfdi=body.get("lFDI"),
            description=body.get("description"),
            created_time=ctx.now(),
        )
    except KeyError as exc:
        raise bad_request(f"image_id: {exc.args[0]}") from None
    return web.json_response(await _file_view(ctx, row), status=201, headers={"Location": f"{API}/files/{row.id}"})


async def list_files(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    offset, limit = page_params(request)
    withdrawn = query_int(request, "withdrawn", 1, hi=1) == 1
    page = await files_store.list_files(ctx.store, offset, limit, withdrawn=withdrawn)
    return web.json_response({"total": page.total, "items": [await _file_view(ctx, r) for r in page.rows]})


async def _file_or_404(ctx: AppContext, file_id: int) -> FileRow:
    row = await files_store.file(ctx.store, file_id)
    if row is None:
        raise not_found(f"no File with id {file_id}")
    return row


async def get_file(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    return web.json_response(await _file_view(ctx, await _file_or_404(ctx, path_id(request, "File"))))


async def patch_file(request: web.Request) -> web.Response:
    """Set activateTime (activate on command, or at a set time) or the description."""
    ctx = request.app[CONTEXT]
    file_id = path_id(request, "File")
    body = read_members(await read_json_object(request), FILE_PATCH)
    row = await _file_or_404(ctx, file_id)
    if row.withdrawn_time is not None:
        raise web.HTTPConflict(text=f"File {file_id} was withdrawn")
    names = {"activateTime": "activate_time", "description": "description"}
    row = await files_store.update_file(ctx.store, file_id, **{names[k]: v for k, v in body.items()})  # type: ignore[assignment]
    assert row is not None
    return web.json_response(await _file_view(ctx, row))


async def add_stage(request: web.Request) -> web.Response:
    """Widen the campaign: the File becomes visible to the next stage's targets too."""
    ctx = request.app[CONTEXT]
    file_id = path_id(request, "File")
    body = read_members(await read_json_object(request), TARGET_MEMBERS)
    row = await _file_or_404(ctx, file_id)
    if row.withdrawn_time is not None:
        raise web.HTTPConflict(text=f"File {file_id} was withdrawn")
    await files_store.add_stage(ctx.store, file_id, await _targets(ctx, body, "stage"), ctx.now())
    return web.json_response(await _file_view(ctx, row))


async def withdraw_file(request: web.Request) -> web.Response:
    """Withdraw a File: devices no longer see it (404) nor download it; its status stays readable."""
    ctx = request.app[CONTEXT]
    file_id = path_id(request, "File")
    row = await files_store.withdraw_file(ctx.store, file_id, ctx.now())
    if row is None:
        raise not_found(f"no File with id {file_id}")
    return web.json_response(await _file_view(ctx, row))


def campaign_json(row: FileRow, campaign: Campaign) -> dict[str, Any]:
    by_status = dict.fromkeys((*STATUS_NAMES, "not_reported"), 0)
    per_stage: dict[int, dict[str, Any]] = {}
    versions: Counter[str] = Counter()
    devices = []
    request503 = 0
    for device_id, device in sorted(campaign.devices.items()):
        stage = campaign.stage_of[device_id]
        tally = per_stage.setdefault(stage, {"stage": stage, "targeted": 0, "by_status": {}})
        tally["targeted"] += 1
        status = campaign.status_of.get(device_id)
        view = status_json(status) if status is not None else None
        name = view["status_name"] if view else "not_reported"
        by_status[name] += 1
        tally["by_status"][name] = tally["by_status"].get(name, 0) + 1
        if view:
            request503 += view["request503Count"]
        sw_ver = None
        if device_id in campaign.information_of:
            try:
                sw_ver = decode(campaign.information_of[device_id], DeviceInformation).swVer
            except XmlDecodeError:
                sw_ver = None
        versions[sw_ver or "unknown"] += 1
        devices.append({"id": device_id, "lfdi": device.lfdi, "stage": stage, "swVer": sw_ver, "status": view})
    reported = len(campaign.devices) - by_status["not_reported"]
    return {
        "file_id": row.id,
        "href": file_href(row.id),  # type: ignore[arg-type]
        "mfVer": row.mf_ver,
        "withdrawn": row.withdrawn_time is not None,
        "targeted": len(campaign.devices),
        "reported": reported,
        "not_reported": by_status["not_reported"],
        "activated": by_status["activated"],
        "failed": sum(by_status[STATUS_NAMES[s]] for s in FAILED),
        "by_status": by_status,
        "request503_total": request503,
        "running_versions": dict(sorted(versions.items())),
        "stages": [per_stage[n] for n in sorted(per_stage)],
        "devices": devices,
    }


async def campaign_status(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    row = await _file_or_404(ctx, path_id(request, "File"))
    return web.json_response(campaign_json(row, await files_store.campaign(ctx.store, row)))


async def history(request: web.Request) -> web.Response:
    """Every FileStatus reported about the File (each attempt, failure, success, revert), newest first."""
    ctx = request.app[CONTEXT]
    row = await _file_or_404(ctx, path_id(request, "File"))
    offset, limit = page_params(request)
    device = query_int(request, "device", None, lo=1)
    page = await files_store.status_history(ctx.store, row.id, device, offset, limit)  # type: ignore[arg-type]
    return web.json_response({"total": page.total, "items": [status_json(r) for r in page.rows]})


UPLOAD_PATH = f"{API}/file-images"


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post(UPLOAD_PATH, upload_image)
    r.add_get(UPLOAD_PATH, list_images)
    r.add_get(f"{UPLOAD_PATH}/{{id}}", get_image)
    r.add_delete(f"{UPLOAD_PATH}/{{id}}", delete_image)
    r.add_post(f"{API}/files", create_file)
    r.add_get(f"{API}/files", list_files)
    r.add_get(f"{API}/files/{{id}}", get_file)
    r.add_patch(f"{API}/files/{{id}}", patch_file)
    r.add_post(f"{API}/files/{{id}}/stages", add_stage)
    r.add_post(f"{API}/files/{{id}}/withdraw", withdraw_file)
    r.add_get(f"{API}/files/{{id}}/status", campaign_status)
    r.add_get(f"{API}/files/{{id}}/history", history)
