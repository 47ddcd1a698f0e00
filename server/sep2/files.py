"""File Download function set, file-server side (IEEE 2030.5-2018 clause 9.8).

* ``/file``: FileList of the Files offered to the caller (DeviceCapability FileListLink): those its
  utility's campaign aims at it, at one of its groups, or at every device; a File naming an ``lFDI`` is
  offered to that device only.
* ``/edev/{e}/fsa/{g}/file``: FileList of the Files a campaign aims at group ``g`` (the group's
  FunctionSetAssignments FileListLink).
* ``/file/{f}``: File. ``/file/{f}/content``: its bytes (the File's ``fileURI``), on this same mutual-TLS
  site, with byte ranges and a limit on concurrent transfers (:mod:`gridhan.server.sep2.file_content`).
* ``/edev/{e}/fs``: FileStatus (the EndDevice's FileStatusLink), GET and PUT by the loading device; every
  PUT is kept, so a campaign sees each attempt, failure, success and revert with its time.

A File another device is offered but the caller is not answers exactly like a missing one (404).

FileList order (clause 9.8.2.2, Table 36): mfID ascending, mfModel ascending, mfVer descending, href
ascending. Versions compare part by part (numbers as numbers), so 1.10 is newer than 1.9. A loading
device may filter the list as in Annex C (Table C.20): ``type``, ``mfID`` (or ``mfId``), ``mfModel``,
``mfHwVer`` and ``lFDI`` match exactly (a File without ``mfHwVer`` or ``lFDI`` matches any), and
``mfVer`` keeps the Files newer than the version given.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from gridhan.schemas.sep2 import File, FileList, FileStatus, Link, ListLink
from gridhan.schemas.versions import version_key
from gridhan.schemas.xmlcodec import decode, encode
from gridhan.server.context import CONTEXT
from gridhan.server.identity import Principal
from gridhan.server.sep2 import file_content
from gridhan.server.sep2.edev import device_href
from gridhan.server.sep2.http import no_content, paging, read_resource, xml_response
from gridhan.server.sep2.registry import FunctionSets
from gridhan.server.sep2.scope import device_in_scope, group_in_scope, require_registered, visible_device_ids
from gridhan.server.store import files as files_store
from gridhan.server.store.tables import DeviceGroupRow, EndDeviceRow, FileRow, FileTargetRow, GroupMemberRow

log = logging.getLogger("gridhan.sep2.files")

LIST_PATH = "/file"
_FILE_PATH = re.compile(r"/file/([0-9]{1,10})")


def file_href(file_id: int) -> str:
    return f"{LIST_PATH}/{file_id}"


def content_href(file_id: int) -> str:
    return f"{file_href(file_id)}/content"


def sort_files(rows: list[FileRow]) -> list[FileRow]:
    """Table 36: mfID ascending, mfModel ascending, mfVer descending, href ascending."""
    rows = sorted(rows, key=lambda r: file_href(r.id))  # type: ignore[arg-type]
    rows.sort(key=lambda r: version_key(r.mf_ver), reverse=True)
    rows.sort(key=lambda r: (r.mf_id, r.mf_model))
    return rows


def render_file(row: FileRow, size: int) -> File:
    return File(
        href=file_href(row.id),  # type: ignore[arg-type]
        activateTime=row.activate_time,
        fileURI=content_href(row.id),  # type: ignore[arg-type]
        lFDI=row.lfdi,
        mfHwVer=row.mf_hw_ver,
        mfID=row.mf_id,
        mfModel=row.mf_model,
        mfSerNum=row.mf_ser_num,
        mfVer=row.mf_ver,
        size=size,
        type=row.file_type,
    )


# -- list filters (Annex C, Table C.20) ----------------------------------------------------------------


def _filters(request: web.Request) -> list[Any]:
    """Predicates on a FileRow from the query; 400 for a value that cannot match anything sensibly."""
    q = request.query
    tests: list[Any] = []
    raw_type = q.get("type")
    if raw_type is not None:
        digits = raw_type[2:] if raw_type[:2].lower() == "0x" else raw_type
        if not re.fullmatch(r"[0-9A-Fa-f]{1,4}", digits):
            raise web.HTTPBadRequest(text=f"query parameter type={raw_type!r} must be a HexBinary16 (e.g. 0000)")
        wanted_type = int(digits, 16)
        tests.append(lambda r: int(r.file_type, 16) == wanted_type)
    raw_mf = q.get("mfID", q.get("mfId"))
    if raw_mf is not None:
        if not (raw_mf.isdigit() and raw_mf.isascii()):
            raise web.HTTPBadRequest(text=f"query parameter mfID={raw_mf!r} must be a PEN (unsigned integer)")
        mf_id = int(raw_mf)
        tests.append(lambda r: r.mf_id == mf_id)
    model = q.get("mfModel")
    if model is not None:
        tests.append(lambda r: r.mf_model == model)
    hw = q.get("mfHwVer")
    if hw is not None:
        tests.append(lambda r: r.mf_hw_ver is None or r.mf_hw_ver == hw)
    lfdi = q.get("lFDI")
    if lfdi is not None:
        tests.append(lambda r: r.lfdi is None or r.lfdi == lfdi.upper())
    newer = q.get("mfVer")
    if newer is not None:
        floor = version_key(newer)
        tests.append(lambda r: version_key(r.mf_ver) > floor)
    return tests


async def _file_list(request: web.Request, rows: Sequence[FileRow]) -> web.Response:
    ctx = request.app[CONTEXT]
    page = paging(request)
    tests = _filters(request)
    chosen = sort_files([r for r in rows if all(t(r) for t in tests)])
    window = chosen[page.start : page.start + page.limit]
    sizes = await _sizes(request, window)
    items = [render_file(r, sizes[r.image_id]) for r in window]
    return xml_response(
        FileList(
            href=request.path,
            all=len(chosen),
            results=len(items),
            File=items,
            pollRate=ctx.runtime.poll_rates.get("FileList", ctx.settings.poll_rate),
        )
    )


async def _sizes(request: web.Request, rows: Sequence[FileRow]) -> dict[int, int]:
    store = request.app[CONTEXT].store
    sizes: dict[int, int] = {}
    for row in rows:
        if row.image_id not in sizes:
            image = await files_store.image(store, row.image_id)
            assert image is not None  # the foreign key keeps it
            sizes[row.image_id] = image.size
    return sizes


async def get_list(request: web.Request) -> web.Response:
    require_registered(request)
    rows = await files_store.files_for_devices(request.app[CONTEXT].store, await visible_device_ids(request))
    return await _file_list(request, rows)


async def get_group_list(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    device, group_id = await group_in_scope(request)
    rows = await files_store.files_for_devices(ctx.store, [device.id], group_id=group_id)  # type: ignore[list-item]
    return await _file_list(request, rows)


async def file_in_scope(request: web.Request) -> FileRow:
    """The File of the ``{file}`` path segment, if it is offered to the caller; 404 otherwise."""
    require_registered(request)
    raw = request.match_info["file"]
    row = None
    if raw.isdigit() and raw.isascii() and len(raw) <= 10:
        row = await files_store.file_for_devices(
            request.app[CONTEXT].store, int(raw), await visible_device_ids(request)
        )
    if row is None:
        raise web.HTTPNotFound(text="no such File")
    return row


async def get_file(request: web.Request) -> web.Response:
    row = await file_in_scope(request)
    sizes = await _sizes(request, [row])
    return xml_response(render_file(row, sizes[row.image_id]))


# -- FileStatus ---------------------------------------------------------------------------------------


def status_href(device_id: int) -> str:
    return f"{device_href(device_id)}/fs"


async def get_status(request: web.Request) -> web.Response:
    device = await device_in_scope(request)
    row = await files_store.latest_status(request.app[CONTEXT].store, device.id)  # type: ignore[arg-type]
    if row is None:
        raise web.HTTPNotFound(text="this EndDevice has not reported its FileStatus")
    doc = decode(row.document, FileStatus)
    doc.href = status_href(device.id)  # type: ignore[arg-type]
    return xml_response(doc)


async def put_status(request: web.Request) -> web.Response:
    """The loading device reports its progress (clause 9.8): the File its FileLink names must be one
    offered to it; a load status other than 0 (idle) needs that FileLink."""
    ctx = request.app[CONTEXT]
    device = await device_in_scope(request)
    doc = await read_resource(request, FileStatus)
    file_id = await _linked_file(ctx.store, device, doc)
    doc.href = None
    previous = await files_store.latest_status(ctx.store, device.id)  # type: ignore[arg-type]
    await files_store.put_status(
        ctx.store,
        device_id=device.id,
        file_id=file_id,
        status=doc.status,
        status_time=doc.statusTime,
        received_time=ctx.now(),
        document=encode(doc),
    )
    if previous is None or previous.status != doc.status or previous.file_id != file_id:
        log.info("EndDevice %s FileStatus: File %s status %d", device.id, file_id, doc.status)
    return no_content()


async def _linked_file(store: Any, device: EndDeviceRow, doc: FileStatus) -> int | None:
    if doc.FileLink is None:
        if doc.status != 0:
            raise web.HTTPBadRequest(text=f"FileStatus/FileLink: required when status is {doc.status} (not idle)")
        return None
    href = doc.FileLink.href
    match = _FILE_PATH.fullmatch(urlsplit(href).path)
    row = await files_store.file_for_devices(store, int(match.group(1)), [device.id]) if match else None  # type: ignore[list-item]
    if row is None:
        raise web.HTTPBadRequest(text=f"FileStatus/FileLink: {href} is not a File offered to this EndDevice")
    return row.id


# -- links ----------------------------------------------------------------------------------------------


async def _dcap_links(request: web.Request, who: Principal) -> dict[str, Any]:
    if not who.registered:
        return {}
    store = request.app[CONTEXT].store
    ids = await visible_device_ids(request)
    tables = (FileRow, FileTargetRow, GroupMemberRow, EndDeviceRow, DeviceGroupRow)

    async def count() -> int:
        return len(await files_store.files_for_devices(store, ids))

    return {
        "FileListLink": ListLink(href=LIST_PATH, all=await store.derived(("FileList", frozenset(ids)), tables, count))
    }


async def _fsa_links(request: web.Request, _who: Principal, group: DeviceGroupRow) -> dict[str, Any]:
    count = (await files_store.file_counts_of_groups(request.app[CONTEXT].store, [group.id]))[group.id]  # type: ignore[list-item, index]
    base = request.path.split("/fsa")[0]
    return {"FileListLink": ListLink(href=f"{base}/fsa/{group.id}/file", all=count)}


async def _edev_links(_request: web.Request, rows: Sequence[EndDeviceRow]) -> dict[int, dict[str, Any]]:
    return {row.id: {"FileStatusLink": Link(href=status_href(row.id))} for row in rows}  # type: ignore[arg-type, misc]


def setup(app: web.Application, fs: FunctionSets) -> None:
    r = app.router
    r.add_get(LIST_PATH, get_list, allow_head=True)
    r.add_get(LIST_PATH + "/{file}", get_file, allow_head=True)
    r.add_get("/edev/{edev}/fsa/{fsa}/file", get_group_list, allow_head=True)
    r.add_get("/edev/{edev}/fs", get_status, allow_head=True)
    r.add_put("/edev/{edev}/fs", put_status)
    file_content.setup(app, file_in_scope)
    fs.dcap_links.append(_dcap_links)
    fs.fsa_links.append(_fsa_links)
    fs.edev_links.append(_edev_links)
    fs.names += ["File", "FileStatus"]
