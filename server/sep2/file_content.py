"""File content (the ``fileURI`` of a File, IEEE 2030.5-2018 clause 9.8) served from the content store.

* Streamed from disk in chunks, never read whole into memory.
* ``ETag`` is the image's SHA-256; ``Accept-Ranges: bytes``; a single ``Range`` answers 206 Partial
  Content with ``Content-Range`` (so a loading device resumes an interrupted download), a range starting
  beyond the file 416 with ``Content-Range: bytes */size``; ``If-Range`` with another validator gets the
  whole file; ``If-None-Match`` with the current one 304.
* At most ``file_max_downloads`` transfers run at once across the server; beyond that a request gets 503
  with ``Retry-After: file_retry_after`` (the loading device counts these in FileStatus.request503Count
  and retries at its nextRequestAttempt). A transfer holds its place until its last byte is written or
  the device goes away.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from gridhan.server.context import CONTEXT
from gridhan.server.sep2.ranges import ByteRange, Unsatisfiable, parse_range
from gridhan.server.settings import Settings
from gridhan.server.store import files as files_store
from gridhan.server.store.blobs import ContentStore
from gridhan.server.store.tables import FileRow

log = logging.getLogger("gridhan.sep2.files")

CHUNK = 256 * 1024
OCTET_STREAM = "application/octet-stream"


@dataclass
class DownloadGate:
    """Counts the content transfers in flight (one per server application)."""

    limit: int
    active: int = 0

    def enter(self) -> bool:
        if self.active >= self.limit:
            return False
        self.active += 1
        return True

    def leave(self) -> None:
        self.active -= 1


DOWNLOADS = web.AppKey("gridhan_file_downloads", DownloadGate)
CONTENT = web.AppKey("gridhan_file_content", ContentStore)


def content_store(settings: Settings) -> ContentStore:
    """Where file images are kept: ``data_dir/files``."""
    return ContentStore(settings.data_dir / "files")


def _etag(sha256: str) -> str:
    return f'"{sha256}"'


def _matches(header: str, etag: str) -> bool:
    return header.strip() == "*" or etag in (v.strip() for v in header.split(","))


FileInScope = Callable[[web.Request], Awaitable[FileRow]]


async def get_content(request: web.Request, file_in_scope: FileInScope) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    row = await file_in_scope(request)
    image = await files_store.image(ctx.store, row.image_id)
    assert image is not None  # the foreign key keeps it
    path = request.app[CONTENT].path(image.sha256)
    etag = _etag(image.sha256)
    headers = {"ETag": etag, "Accept-Ranges": "bytes"}
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None and _matches(if_none_match, etag):
        return web.Response(status=304, headers=headers)
    wanted = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != etag:
        wanted = None  # the device holds other bytes: send the whole file
    try:
        span = parse_range(wanted, image.size)
    except Unsatisfiable:
        raise web.HTTPRequestRangeNotSatisfiable(
            headers={**headers, "Content-Range": f"bytes */{image.size}"},
            text=f"Range {wanted}: the File has {image.size} bytes",
        ) from None
    if not await asyncio.to_thread(path.is_file):
        log.error("File %s: the content of image %s (%s) is missing from %s", row.id, image.id, image.sha256, path)
        raise web.HTTPNotFound(text="the content of this File is not available")
    if request.method == "HEAD":
        return await _head(request, headers, span, image.size)
    gate = request.app[DOWNLOADS]
    if not gate.enter():
        retry = ctx.settings.file_retry_after
        raise web.HTTPServiceUnavailable(
            headers={"Retry-After": str(retry)},
            text=f"{gate.limit} File downloads are in progress: retry in {retry} seconds",
        )
    try:
        return await _send(request, path, headers, span, image.size)
    finally:
        gate.leave()


async def _head(request: web.Request, headers: dict[str, str], span: ByteRange | None, size: int) -> web.StreamResponse:
    """The headers a GET would send (HEAD holds no place among the transfers)."""
    response = web.StreamResponse(status=200 if span is None else 206, headers=headers)
    response.content_type = OCTET_STREAM
    response.content_length = size if span is None else span.length
    if span is not None:
        response.headers["Content-Range"] = span.content_range
    await response.prepare(request)
    await response.write_eof()
    return response


async def _send(
    request: web.Request, path: Path, headers: dict[str, str], span: ByteRange | None, size: int
) -> web.StreamResponse:
    first, length = (0, size) if span is None else (span.first, span.length)
    response = web.StreamResponse(status=200 if span is None else 206, headers=headers)
    response.content_type = OCTET_STREAM
    response.content_length = length
    if span is not None:
        response.headers["Content-Range"] = span.content_range
    fh = await asyncio.to_thread(path.open, "rb")
    with fh:
        await response.prepare(request)
        await asyncio.to_thread(fh.seek, first)
        remaining = length
        while remaining:
            chunk = await asyncio.to_thread(fh.read, min(CHUNK, remaining))
            if not chunk:
                raise OSError(f"{path}: shorter than its recorded size")
            await response.write(chunk)
            remaining -= len(chunk)
    await response.write_eof()
    return response


def setup(app: web.Application, file_in_scope: FileInScope) -> None:
    settings = app[CONTEXT].settings
    app[DOWNLOADS] = DownloadGate(settings.file_max_downloads)
    app[CONTENT] = content_store(settings)

    async def handler(request: web.Request) -> web.StreamResponse:
        return await get_content(request, file_in_scope)

    app.router.add_get("/file/{file}/content", handler, allow_head=True)
