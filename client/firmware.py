"""The firmware of a reference device: a running image, the previous (safe) one, and a trial boot.

IEEE 2030.5-2018 clause 9.8 says when a loaded software image is put into operation (File activateTime)
and how the device reports it (FileStatus 7 activating, 8 activated, 6 activation failed), but not how a
device installs an image: that is the manufacturer's. The reference device does what field equipment with
two image banks does:

* a loaded, verified image is *installed* beside the running one (:meth:`FirmwareSlots.install`: it
  becomes ``pending``; the running image is never written over);
* the device then *boots* it on trial (:meth:`FirmwareSlots.boot`): the new image starts and runs its
  start-up self-test. If the test passes the image becomes the running one and the image that ran before
  is kept as ``previous``. If it fails, or the device is reset before the test finished (a watchdog reset
  in the middle of a trial boot), the device goes back to the image it ran before, and the failure is
  recorded with its time and reason: it is never booted again;
* everything lives in one directory (``slots.json`` and ``images/``, written atomically), which is the
  part of the device's storage that survives upgrades: after a restart the same images and versions run.

The reference payload (what the reference manufacturer signs with :mod:`gridhan.certs.image_signing`)
starts with one line its self-test reads: :data:`BOOT_OK` starts, anything else (e.g.
:data:`BOOT_PANIC`, which :func:`reference_payload` writes for ``boots=False``) is a critical start
failure. A test builds an image that will not start with ``reference_payload(b"...", boots=False)``.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from gridhan.certs.image_signing import ImageManifest, parse_header, read_payload
from gridhan.client.disk import read_json, sync_directory, write_json

log = logging.getLogger("gridhan.client.firmware")

_SAFE = re.compile(r"[^A-Za-z0-9._-]")
BOOT_OK = b"GRIDHAN-FW boot=ok\n"
BOOT_PANIC = b"GRIDHAN-FW boot=panic\n"

#: A start-up self-test: the installed image file and its manifest; None when it starts, else the reason.
SelfTest = Callable[[Path, ImageManifest], "str | None"]


def reference_payload(body: bytes = b"", *, boots: bool = True) -> bytes:
    """A payload for the reference device: its self-test line, then ``body``."""
    return (BOOT_OK if boots else BOOT_PANIC) + body


def reference_self_test(image: Path, manifest: ImageManifest) -> str | None:
    """The reference device's start-up check: the payload's first line must be :data:`BOOT_OK`."""
    head = read_payload(image, manifest, limit=64)
    if head.startswith(BOOT_OK):
        return None
    line = head.split(b"\n", 1)[0].decode("ascii", "replace")
    return f"self-test failed: {line!r}" if line else "self-test failed: empty payload"


@dataclass(frozen=True)
class Slot:
    """One image: its version, its file under ``images/`` (None for the factory image), when it was
    activated and from which File."""

    version: str
    image: str | None = None
    activated_time: int | None = None
    file_href: str | None = None


@dataclass(frozen=True)
class StartFailure:
    version: str
    file_href: str | None
    time: int
    reason: str


@dataclass(frozen=True)
class BootResult:
    """What a trial boot did: ``started`` the new image, or went back to ``running`` (the old one)."""

    started: bool
    tried: Slot
    running: Slot
    time: int
    reason: str | None = None


class FirmwareSlots:
    """The images of a reference device, kept in ``directory``.

    ``factory_version`` is the version the device runs before any download (used only when the directory
    holds no state yet); ``self_test`` is the start-up check of a new image; ``durable`` (the default)
    fsyncs each change of state.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        factory_version: str,
        self_test: SelfTest = reference_self_test,
        durable: bool = True,
    ) -> None:
        self.directory = Path(directory)
        self.durable = durable
        self.images = self.directory / "images"
        self.staging = self.directory / "staging"
        self.self_test = self_test
        for folder in (self.images, self.staging):
            folder.mkdir(parents=True, exist_ok=True)
        state = read_json(self._state_path)
        if state is None:
            self.running = Slot(factory_version)
            self.previous: Slot | None = None
            self.pending: Slot | None = None
            self.booting = False
            self.failures: list[StartFailure] = []
            self._save()
        else:
            self.running = Slot(**state["running"])
            self.previous = Slot(**state["previous"]) if state["previous"] else None
            self.pending = Slot(**state["pending"]) if state["pending"] else None
            self.booting = state["booting"]
            self.failures = [StartFailure(**f) for f in state["failures"]]

    @property
    def _state_path(self) -> Path:
        return self.directory / "slots.json"

    @property
    def version(self) -> str:
        """The version of the running image."""
        return self.running.version

    def _save(self) -> None:
        write_json(
            self._state_path,
            durable=self.durable,
            value={
                "running": asdict(self.running),
                "previous": asdict(self.previous) if self.previous else None,
                "pending": asdict(self.pending) if self.pending else None,
                "booting": self.booting,
                "failures": [asdict(f) for f in self.failures],
            },
        )

    def image_path(self, slot: Slot) -> Path | None:
        return self.images / slot.image if slot.image else None

    def install(self, staged: Path, manifest: ImageManifest, *, file_href: str | None, now: int) -> Slot:
        """Move a verified image from staging into ``images/`` as the pending image (the running image and
        the previous one are untouched). It runs at the next :meth:`boot`."""
        if self.pending is not None:
            self._discard(self.pending)
        name = f"{_SAFE.sub('_', manifest.version)}-{now}-{os.urandom(4).hex()}.img"
        target = self.images / name
        os.replace(staged, target)
        sync_directory(self.images)
        self.pending = Slot(manifest.version, name, now, file_href)
        self.booting = False
        self._save()
        log.info("firmware %s installed beside %s, to be booted", manifest.version, self.running.version)
        return self.pending

    def boot(self, now: int) -> BootResult | None:
        """Start the pending image on trial, if there is one (None otherwise); commit it when its self-test
        passes, otherwise go back to the running image and remember the failure."""
        if self.pending is None:
            return None
        tried = self.pending
        if self.booting:
            reason = "reset during its trial boot (the self-test never completed)"
        else:
            self.booting = True
            self._save()  # a reset from here on counts as a failed start
            reason = self._run_self_test(tried)
        self.booting = False
        self.pending = None
        if reason is None:
            old_previous = self.previous
            self.previous = self.running
            self.running = Slot(tried.version, tried.image, now, tried.file_href)
            self._save()
            if old_previous is not None:
                self._discard(old_previous)
            log.info("firmware %s started; %s kept as the previous image", tried.version, self.previous.version)
            return BootResult(True, tried, self.running, now)
        self.failures.append(StartFailure(tried.version, tried.file_href, now, reason))
        self._save()
        self._discard(tried)
        log.error("firmware %s failed to start (%s): back to %s", tried.version, reason, self.running.version)
        return BootResult(False, tried, self.running, now, reason)

    def _run_self_test(self, slot: Slot) -> str | None:
        path = self.image_path(slot)
        if path is None or not path.is_file():
            return "the installed image is missing"
        try:
            with path.open("rb") as fh:
                manifest = parse_header(fh.read(4096))
            return self.self_test(path, manifest)
        except Exception as exc:  # a crash of the new image's start is a failed start
            return f"crashed at start: {type(exc).__name__}: {exc}"

    def _discard(self, slot: Slot) -> None:
        path = self.image_path(slot)
        if path is not None and slot not in (self.running, self.previous):
            path.unlink(missing_ok=True)

    def clear_staging(self) -> None:
        """Remove every partial or unused download (not the running, previous or pending image)."""
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir(parents=True, exist_ok=True)
