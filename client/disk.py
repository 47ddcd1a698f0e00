"""A device's state directory: JSON documents replaced atomically, so a device that loses power mid-write
finds either the old or the new state on restart, never a torn one."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_json(path: Path, value: Any, *, durable: bool = True) -> None:
    """Write ``value`` as JSON to ``path`` through a temporary file renamed over it; ``durable``: fsync the
    file and its directory first, so the new state survives a power cut (a simulator of many devices may
    do without)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(value, fh, indent=1, sort_keys=True)
        if durable:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, path)
    if durable:
        sync_directory(path.parent)


def read_json(path: Path) -> Any:
    """The JSON document at ``path``, or None if there is none."""
    try:
        with path.open(encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return None


def sync_directory(directory: Path) -> None:
    """fsync a directory so a rename in it survives a power cut (where the platform allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
