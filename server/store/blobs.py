"""The content store of file images (File Download function set, IEEE 2030.5-2018 clause 9.8): bytes on
disk under the data directory, named by their SHA-256, never in the database.

A write streams into a temporary file in the store's own folder, hashing as it goes, is flushed to disk,
and is then renamed into place: a reader sees a whole image or none, and a refused or broken upload leaves
nothing behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_SHA256 = re.compile(r"[0-9a-f]{64}")


class TooLarge(Exception):
    """The stream exceeded the size limit; nothing was kept."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"file image exceeds {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class Stored:
    sha256: str
    size: int
    #: False when an image with these bytes was already in the store.
    new: bool


class ContentStore:
    """Content-addressed files: ``root/ab/abcdef...`` for the SHA-256 ``abcdef...``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._incoming = root / "incoming"

    def path(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    async def write(self, chunks: AsyncIterator[bytes], limit: int) -> Stored:
        """Store the bytes of ``chunks`` (at most ``limit`` of them; :class:`TooLarge` beyond)."""
        fh, temp = await asyncio.to_thread(self._open_incoming)
        digest = hashlib.sha256()
        size = 0
        try:
            with fh:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(limit)
                    digest.update(chunk)
                    await asyncio.to_thread(fh.write, chunk)
                await asyncio.to_thread(_flush, fh)
            sha256 = digest.hexdigest()
            new = await asyncio.to_thread(self._commit, temp, sha256)
            return Stored(sha256, size, new)
        finally:
            await asyncio.to_thread(temp.unlink, missing_ok=True)

    def _open_incoming(self) -> tuple[BinaryIO, Path]:
        self._incoming.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self._incoming, prefix="upload-")
        return os.fdopen(fd, "wb"), Path(name)

    def _commit(self, temp: Path, sha256: str) -> bool:
        """Rename the finished temporary file into place (atomic); False when the bytes were there."""
        target = self.path(sha256)
        if target.is_file():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, target)
        _sync_dir(target.parent)
        return True

    def remove(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def incoming(self) -> list[Path]:
        """Temporary files of uploads in progress (or of a crash): what a refused upload must not leave."""
        return sorted(self._incoming.glob("*")) if self._incoming.is_dir() else []


def _flush(fh: BinaryIO) -> None:
    fh.flush()
    os.fsync(fh.fileno())


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
