"""The loading device of the File Download function set (IEEE 2030.5-2018 clause 9.8): finds the Files meant
for it, downloads them resumably, checks the manufacturer's signature, activates them at their
activateTime and reports every step in its FileStatus (and LogEvents, clause 9.6).

How the runtime drives a :class:`FileManager` (all times are 2030.5 TimeType seconds from the runtime's
clock; the manager never reads a clock itself):

* :meth:`FileManager.use_end_device` with the device's EndDevice (its FileStatusLink, LogEventListLink and
  DeviceInformationLink), once it has been read;
* :meth:`FileManager.poll` every FileList ``pollRate`` (:attr:`FileManager.poll_rate`) with the FileList
  hrefs of the walk (DeviceCapability and FunctionSetAssignments ``FileListLink``), or
  :meth:`FileManager.offer` with File resources the walker read itself;
* :meth:`FileManager.tick` whenever :meth:`FileManager.next_due` says (or simply every few seconds): it
  sends what is waiting to be reported, downloads, verifies and activates.

The load of one File at a time (FileStatus names one File):

1. a new File is chosen (:func:`gridhan.client.file_jobs.choose`: the newest software image for this
   device, type 0000, newer than the running version; other types only if kept, ``store_types``);
2. FileStatus 1 (loading); the content (``fileURI``) is streamed into a staging file beside the running
   image, never over it. After an interruption the next request asks for the rest with
   ``Range: bytes=N-`` and ``If-Range`` (the ETag of the bytes held): a 206 continues the file, a 200 (the
   content changed) starts it again. A 503 counts in request503Count and the next request waits for its
   Retry-After; any other failed request counts in requestFailCount and waits longer each time (30 s
   doubling, at most an hour); after ``max_request_failures`` in a row that brought no bytes the attempt
   is reported load failed (2) and a new one starts ``load_failed_delay`` seconds later, resuming from
   the bytes held (content that is not the File announced, by length, range or ETag, is dropped and
   loaded again from the start);
3. all ``size`` bytes held: 3 (verifying) then the manufacturer's signature and the image's manufacturer,
   model, hardware version and version are checked (:mod:`gridhan.certs.image_signing`): 4 (verification
   failed, the bytes are deleted, the File is never loaded again) or 5 (awaiting activation);
4. at activateTime (at once if it is past; never while the File has none: the manager GETs the File at
   each poll until it has one), 7 (activating): a software image is installed beside the running one and
   booted on trial (:class:`gridhan.client.firmware.FirmwareSlots`); 8 (activated) if it starts, 6
   (activation failed) if its start-up self-test fails, in which case the device is back on the previous
   image and never tries that File again. Other types are stored under ``stored/<type>/`` (8).
5. a File no longer offered before activation is abandoned (FileStatus 0, its bytes deleted); a newer
   software image supersedes one not yet activating.

Everything the device must remember is in ``state_dir`` (``files.json``, the staging files, the firmware
slots), written atomically, so a restart resumes a download where it stopped and completes or reverts an
activation that a reset interrupted. FileStatus PUTs and LogEvent POSTs wait in an outbox there until the
server has taken them (an unreachable server loses no report).

LogEvents (when the EndDevice links a LogEventList) use the manufacturer's codes of
:class:`gridhan.client.file_jobs.LogCode`: profileID 1 (vendor defined), functionSet 13, logEventPEN the
device's mfID.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp

from gridhan.certs.image_signing import ImageError, PublicKey, verify_image_file
from gridhan.client.disk import read_json, sync_directory, write_json
from gridhan.client.file_jobs import (
    FUNCTION_SET_SOFTWARE_DOWNLOAD,
    PROFILE_VENDOR,
    SOFTWARE_IMAGE,
    Action,
    DeviceIdentity,
    FileJob,
    LogCode,
    Status,
    choose,
    due_time,
    file_status,
    idle_status,
    load_percent,
    next_action,
    retry_after,
    retry_delay,
    supersedes,
)
from gridhan.client.firmware import BootResult, FirmwareSlots
from gridhan.client.session import SepError, SepSession, Unreachable
from gridhan.schemas.sep2 import DeviceInformation, EndDevice, File, FileList, FileStatus, LogEvent
from gridhan.schemas.xmlcodec import XmlResource, decode, encode

log = logging.getLogger("gridhan.client.files")

#: FileList pollRate when the server gives none (clause 9.8, FileStatus/FileList pollRate: 900 s).
DEFAULT_POLL_RATE = 900
#: Reports kept while the server cannot be reached; the oldest go first beyond this.
OUTBOX_LIMIT = 500
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_SAFE = re.compile(r"[^A-Za-z0-9._-]")
_OUTBOX_TYPES: dict[str, type[XmlResource]] = {
    "FileStatus": FileStatus,
    "LogEvent": LogEvent,
    "DeviceInformation": DeviceInformation,
}


@dataclass(frozen=True)
class Transfer:
    """One request for File content: where it started, what the server answered, the bytes it brought."""

    href: str
    first_byte: int
    status: int | None
    received: int
    outcome: str


def _open_at(path: Path, first: int) -> BinaryIO:
    """The staging file opened for writing from byte ``first`` (what follows it is dropped)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = path.open("r+b" if path.exists() else "wb")
    fh.truncate(first)
    fh.seek(first)
    return fh


class _Mismatch(Exception):
    """The bytes served are not the File announced (length, range or validator): start the load over."""


class FileManager:
    """One device's loads of Files (see the module docstring).

    ``identity`` is what Files are matched against; ``trusted_keys`` the manufacturer's image signing keys;
    ``firmware`` the device's image slots (by default ``state_dir/firmware`` starting at
    ``factory_version``); ``store_types`` the File types other than 0000 the device keeps;
    ``device_information``, if given, is PUT to the EndDevice's DeviceInformationLink with the new swVer and
    swActTime after each activation. ``progress_step`` (per cent) reports loadPercent while loading
    (None: only at the start and end of each request). ``durable`` (the default) fsyncs every change of
    state; a simulator of many devices may turn it off.
    """

    def __init__(
        self,
        session: SepSession,
        state_dir: str | os.PathLike[str],
        *,
        identity: DeviceIdentity,
        trusted_keys: Sequence[PublicKey],
        firmware: FirmwareSlots | None = None,
        factory_version: str = "1.0.0",
        store_types: Iterable[str] = (),
        device_information: DeviceInformation | None = None,
        max_request_failures: int = 5,
        load_failed_delay: int = 3600,
        busy_default: int = 120,
        progress_step: int | None = 25,
        chunk_size: int = 64 * 1024,
        read_timeout: float = 60.0,
        durable: bool = True,
    ) -> None:
        self.session = session
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.identity = identity
        self.trusted_keys = list(trusted_keys)
        self.durable = durable
        self.firmware = firmware or FirmwareSlots(
            self.state_dir / "firmware", factory_version=factory_version, durable=durable
        )
        self.store_types = tuple(store_types)
        self.device_information = device_information
        self.max_request_failures = max_request_failures
        self.load_failed_delay = load_failed_delay
        self.busy_default = busy_default
        self.progress_step = progress_step
        self.chunk_size = chunk_size
        #: A content transfer may take as long as it needs while bytes keep coming (the session's total
        #: request timeout would cut large images on slow links).
        self.content_timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=read_timeout)
        self.stored_dir = self.state_dir / "stored"
        self.poll_rate = DEFAULT_POLL_RATE
        #: Every content request of this process, oldest first (not persisted; for operators and tests).
        self.transfers: list[Transfer] = []
        self.end_device_href: str | None = None
        self.file_status_href: str | None = None
        self.log_href: str | None = None
        self.device_information_href: str | None = None
        self._lock = asyncio.Lock()
        self._booted = False
        state = read_json(self._state_path) or {}
        self._saved: dict[str, Any] | None = copy.deepcopy(state) if state else None
        self.job: FileJob | None = FileJob.from_json(state["job"]) if state.get("job") else None
        #: Files this device is done with (activated, refused, failed to start), by href.
        self.finished: dict[str, dict[str, Any]] = state.get("finished", {})
        self.outbox: list[dict[str, Any]] = state.get("outbox", [])
        self._log_event_id: int = state.get("log_event_id", 0)
        keep = self._staging_path(self.job) if self.job is not None else None
        for leftover in self.firmware.staging.iterdir():  # loads abandoned when the device lost power
            if leftover != keep:
                leftover.unlink()

    # -- what the runtime calls ---------------------------------------------------------------------

    @property
    def running_version(self) -> str:
        return self.firmware.version

    def use_end_device(self, end_device: EndDevice) -> None:
        """Where to report: the EndDevice's FileStatusLink (else ``{href}/fs``), LogEventListLink and
        DeviceInformationLink."""
        self.end_device_href = end_device.href
        if end_device.FileStatusLink is not None:
            self.file_status_href = end_device.FileStatusLink.href
        elif end_device.href is not None:
            self.file_status_href = f"{end_device.href}/fs"
        self.log_href = end_device.LogEventListLink.href if end_device.LogEventListLink else None
        self.device_information_href = (
            end_device.DeviceInformationLink.href if end_device.DeviceInformationLink else None
        )

    async def poll(self, list_hrefs: Iterable[str], now: int) -> list[File]:
        """Read the FileLists (every page) and :meth:`offer` their Files; the Files read. A list that
        cannot be read makes the offer partial (nothing is abandoned for being absent from it)."""
        files: dict[str, File] = {}
        complete = True
        rates = []
        for href in dict.fromkeys(list_hrefs):
            try:
                first, items = await self.session.get_all(href, FileList)
            except (Unreachable, SepError) as exc:
                log.warning("FileList %s not read: %s", href, exc)
                complete = False
                continue
            if first.pollRate:
                rates.append(first.pollRate)
            for item in items:
                if item.href is not None:
                    files.setdefault(item.href, item)
        if rates:
            self.poll_rate = min(rates)
        await self.offer(files.values(), now, complete=complete)
        await self._refresh_awaited_file(now)
        async with self._lock:
            await self._flush()
        return list(files.values())

    async def offer(self, files: Iterable[File], now: int, *, complete: bool = True) -> None:
        """The Files the server offers this device now (``complete``: all of them, so a File being loaded
        that is not among them was withdrawn)."""
        async with self._lock:
            files = [f for f in files if f.href is not None]
            by_href = {f.href: f for f in files}
            job = self.job
            if job is not None:
                fresh = by_href.get(job.href)
                if fresh is not None:
                    self._refresh(job, fresh, now)
                elif complete and job.status < Status.ACTIVATING:
                    self._abandon(job, now, "the File is no longer offered", report_idle=True)
            chosen = choose(
                files,
                self.identity,
                self.running_version,
                finished=self.finished,
                store_types=self.store_types,
            )
            if chosen is not None and self.job is not None and supersedes(chosen, self.job):
                self._abandon(self.job, now, f"superseded by {chosen.mfVer}", report_idle=False)
            if chosen is not None and self.job is None:
                self.job = FileJob.for_file(chosen, now)
                log.info("File %s (%s %s, %d bytes) to be loaded", chosen.href, chosen.mfModel, chosen.mfVer,
                         chosen.size)  # fmt: skip
            self._save()

    async def tick(self, now: int) -> None:
        """Do what is due at ``now``: finish an activation a reset interrupted, send waiting reports, and
        download, verify or activate the current File."""
        async with self._lock:
            if not self._booted:
                self._booted = True
                self._resume_boot(now)
            await self._flush()
            for _ in range(4):  # a small File can load, verify and activate in one tick
                job = self.job
                if job is None:
                    break
                action = next_action(job, now)
                if action == Action.WAIT:
                    break
                if action == Action.DOWNLOAD:
                    await self._download(job, now)
                    if job.status != Status.VERIFYING:
                        break
                elif action == Action.VERIFY:
                    await self._verify(job, now)
                elif action == Action.ACTIVATE:
                    await self._activate(job, now)
            await self._flush()

    def next_due(self) -> int | None:
        """When :meth:`tick` has something to do on its own (None: nothing until a poll brings news)."""
        return due_time(self.job) if self.job is not None else None

    def stored_file(self, file_type: str) -> Path | None:
        """The active stored File of a type other than 0000, if one was activated."""
        path = self.stored_dir / f"{int(file_type, 16):04X}" / "current"
        return path if path.is_file() else None

    # -- refreshing and abandoning --------------------------------------------------------------------

    def _refresh(self, job: FileJob, file: File, now: int) -> None:
        """A new representation of the File being loaded: take a changed activateTime (reported again
        while awaiting activation, since FileStatus repeats it)."""
        if file.activateTime != job.activate_time and job.status < Status.ACTIVATING:
            log.info("File %s: activateTime %s -> %s", job.href, job.activate_time, file.activateTime)
            job.activate_time = file.activateTime
            if job.status in (Status.LOADING, Status.AWAITING_ACTIVATION, Status.LOAD_FAILED):
                self._report(job)

    async def _refresh_awaited_file(self, now: int) -> None:
        """A File awaiting activation without an activateTime is activated only once a GET of the File
        gives one (clause 9.8, File activateTime): GET it."""
        async with self._lock:
            job = self.job
            if job is None or job.status != Status.AWAITING_ACTIVATION or job.activate_time is not None:
                return
            try:
                file = await self.session.get(job.href, File)
            except Unreachable:
                return
            except SepError as exc:
                if exc.status == 404:
                    self._abandon(job, now, "the File is no longer offered", report_idle=True)
                    self._save()
                return
            self._refresh(job, file, now)
            self._save()

    def _abandon(self, job: FileJob, now: int, reason: str, *, report_idle: bool) -> None:
        log.info("File %s abandoned at status %d: %s", job.href, job.status, reason)
        self._staging_path(job).unlink(missing_ok=True)
        self._log(LogCode.WITHDRAWN, now, f"{job.mf_ver} {reason}", 0)
        if report_idle:
            self._enqueue("PUT", "FileStatus", None, idle_status(now))
        self.job = None

    # -- downloading ----------------------------------------------------------------------------------

    def _staging_path(self, job: FileJob) -> Path:
        return self.firmware.staging / (_SAFE.sub("_", job.href.strip("/")) + ".part")

    async def _download(self, job: FileJob, now: int) -> None:
        staged = self._staging_path(job)
        if job.status in (Status.IDLE, Status.LOAD_FAILED):
            job.set_status(Status.LOADING, now)
            job.load_percent = 0
            job.attempt_failures = 0
            job.reported_percent = 0
            self._report(job)
        held = staged.stat().st_size if staged.exists() else 0
        if held > job.size:
            staged.unlink()
            held = 0
        job.next_request_attempt = now
        self._log(LogCode.LOAD_STARTED, now, f"{job.mf_ver} from byte {held}", held)
        self._save()
        await self._flush()
        if held == job.size and held > 0:
            self._loaded(job, now)
            return
        headers = {"Accept": "*/*"}
        if held:
            headers["Range"] = f"bytes={held}-"
            if job.etag:
                headers["If-Range"] = job.etag
        status: int | None = None
        received = held
        try:
            async with self.session.raw("GET", job.file_uri, headers=headers, timeout=self.content_timeout) as resp:
                status = resp.status
                if status == 503:
                    self._busy(job, now, resp.headers.get("Retry-After"))
                    self._record(job, held, status, 0, "busy")
                    return
                if status not in (200, 206):
                    text = (await resp.text(errors="replace"))[:200]
                    permanent = status in (403, 404, 410)
                    self._failed(job, now, f"HTTP {status}: {text}", discard=status == 416, give_up=permanent)
                    self._record(job, held, status, 0, "refused")
                    return
                first = self._first_byte(job, resp, held)
                received = await self._receive(job, resp, staged, first)
        except Unreachable as exc:
            self._interrupted(job, now, staged, str(exc), held)
            self._record(job, held, status, self._held(staged) - held, "interrupted")
            return
        except _Mismatch as exc:
            staged.unlink(missing_ok=True)
            job.etag = None
            self._failed(job, now, str(exc), discard=True, give_up=True)
            self._record(job, held, status, 0, "mismatch")
            return
        if received < job.size:  # the server ended the body early without an error
            self._interrupted(job, now, staged, f"the content ended at byte {received} of {job.size}", held)
            self._record(job, held, status, received - held, "short")
            return
        self._record(job, held, status, received - held, "complete")
        self._loaded(job, now)

    def _first_byte(self, job: FileJob, resp: Any, held: int) -> int:
        """Where the response body starts in the file; :class:`_Mismatch` if it is not the File announced."""
        etag = resp.headers.get("ETag")
        if resp.status == 200:
            length = resp.headers.get("Content-Length")
            if length is not None and int(length) != job.size:
                raise _Mismatch(f"the content has {length} bytes, the File announces {job.size}")
            job.etag = etag if etag and not etag.startswith("W/") else None
            return 0
        match = _CONTENT_RANGE.fullmatch(resp.headers.get("Content-Range", "").strip())
        if match is None:
            raise _Mismatch(f"206 without a usable Content-Range ({resp.headers.get('Content-Range')!r})")
        first, total = int(match.group(1)), match.group(3)
        if first != held or (total != "*" and int(total) != job.size):
            raise _Mismatch(f"asked for bytes {held}- of {job.size}, got {match.group(0)}")
        if job.etag and etag and etag != job.etag:
            raise _Mismatch("the content changed while it was loaded (another ETag)")
        return first

    async def _receive(self, job: FileJob, resp: Any, staged: Path, first: int) -> int:
        """Write the body into the staging file from byte ``first``; the bytes held at the end."""
        received = first
        with _open_at(staged, first) as fh:
            try:
                async for chunk in resp.content.iter_chunked(self.chunk_size):
                    if received + len(chunk) > job.size:
                        raise _Mismatch(f"the content is longer than the {job.size} bytes the File announces")
                    await asyncio.to_thread(fh.write, chunk)
                    received += len(chunk)
                    await self._progress(job, received)
            finally:
                fh.flush()
                os.fsync(fh.fileno())
        return received

    async def _progress(self, job: FileJob, received: int) -> None:
        job.load_percent = max(job.load_percent, load_percent(received, job.size))
        step = self.progress_step
        if step and job.load_percent < 100 and job.load_percent >= job.reported_percent + step:
            job.reported_percent = job.load_percent - job.load_percent % step
            self._report(job)
            await self._flush()

    def _held(self, staged: Path) -> int:
        return staged.stat().st_size if staged.exists() else 0

    def _record(self, job: FileJob, first: int, status: int | None, received: int, outcome: str) -> None:
        self.transfers.append(Transfer(job.href, first, status, max(received, 0), outcome))
        del self.transfers[:-100]

    def _busy(self, job: FileJob, now: int, header: str | None) -> None:
        job.request503_count += 1
        job.next_request_attempt = retry_after(header, now, self.busy_default)
        wait = job.next_request_attempt - now
        log.info("File %s: server busy (503), next request in %d s", job.href, wait)
        self._log(LogCode.SERVER_BUSY, now, f"{job.mf_ver} 503, retry in {wait}s", wait)
        self._report(job)
        self._save()

    def _interrupted(self, job: FileJob, now: int, staged: Path, reason: str, first: int) -> None:
        held = self._held(staged)
        job.load_percent = max(job.load_percent, load_percent(held, job.size))
        self._failed(job, now, reason, discard=False, give_up=False, held=held, progressed=held > first)

    def _failed(
        self,
        job: FileJob,
        now: int,
        reason: str,
        *,
        discard: bool,
        give_up: bool,
        held: int | None = None,
        progressed: bool = False,
    ) -> None:
        """A content request failed (not a 503): count it; give the attempt up after too many in a row
        that brought nothing (a request that brought bytes starts the count again)."""
        job.request_fail_count += 1
        job.attempt_failures = 1 if progressed else job.attempt_failures + 1
        job.reason = reason
        if discard:
            self._staging_path(job).unlink(missing_ok=True)
            job.etag = None
            job.load_percent = 0
        if give_up or job.attempt_failures >= self.max_request_failures:
            job.set_status(Status.LOAD_FAILED, now, reason)
            job.next_request_attempt = now + self.load_failed_delay
            log.warning("File %s: load failed (%s); next attempt at %d", job.href, reason, job.next_request_attempt)
            self._log(LogCode.LOAD_FAILED, now, f"{job.mf_ver} {reason}", job.request_fail_count)
        else:
            job.next_request_attempt = now + retry_delay(job.attempt_failures)
            log.info("File %s: request failed (%s); retry at %d", job.href, reason, job.next_request_attempt)
            self._log(LogCode.LOAD_INTERRUPTED, now, f"{job.mf_ver} {reason}", held or 0)
        self._report(job)
        self._save()

    def _loaded(self, job: FileJob, now: int) -> None:
        job.load_percent = 100
        job.set_status(Status.VERIFYING, now)
        self._report(job)
        self._save()

    # -- verifying and activating ---------------------------------------------------------------------

    async def _check(self, job: FileJob, path: Path) -> Any:
        identity = self.identity
        return await asyncio.to_thread(
            verify_image_file,
            path,
            self.trusted_keys,
            mf_id=identity.mf_id,
            model=identity.mf_model,
            hw_version=identity.mf_hw_ver,
            version=job.mf_ver,
        )

    async def _verify(self, job: FileJob, now: int) -> None:
        staged = self._staging_path(job)
        try:
            if not staged.is_file() or staged.stat().st_size != job.size:
                raise ImageError(f"the loaded file does not have the {job.size} bytes the File announces")
            await self._check(job, staged)
        except (ImageError, OSError) as exc:
            staged.unlink(missing_ok=True)
            log.error("File %s (%s) refused: %s", job.href, job.mf_ver, exc)
            self._log(LogCode.VERIFICATION_FAILED, now, f"{job.mf_ver} {exc}", 0)
            self._finish(job, Status.VERIFICATION_FAILED, now, str(exc))
            return
        log.info("File %s (%s) verified; activateTime %s", job.href, job.mf_ver, job.activate_time)
        self._log(LogCode.LOADED, now, f"{job.mf_ver} verified", job.size)
        job.set_status(Status.AWAITING_ACTIVATION, now)
        self._report(job)
        self._save()

    async def _activate(self, job: FileJob, now: int) -> None:
        if job.status == Status.AWAITING_ACTIVATION:
            job.set_status(Status.ACTIVATING, now)
            self._report(job)
            self._save()
            await self._flush()  # 7 goes out before the device restarts into the new image
        if job.file_type != SOFTWARE_IMAGE:
            self._store(job, now)
            return
        firmware = self.firmware
        if firmware.pending is None or firmware.pending.file_href != job.href:
            staged = self._staging_path(job)
            if staged.is_file():
                try:
                    manifest = await self._check(job, staged)
                except (ImageError, OSError) as exc:
                    staged.unlink(missing_ok=True)
                    self._after_boot(job, None, now, f"the loaded image no longer verifies: {exc}")
                    return
                firmware.install(staged, manifest, file_href=job.href, now=now)
            elif firmware.running.file_href == job.href:  # it started before a reset lost the report
                self._after_boot(job, None, now, None)
                return
            else:
                self._after_boot(job, None, now, "the loaded image is gone")
                return
        self._after_boot(job, firmware.boot(now), now, None)

    def _resume_boot(self, now: int) -> None:
        """At start-up: a trial boot that a reset interrupted is decided (a failed start), and its File's
        status reported."""
        if self.firmware.pending is None or not self.firmware.booting:
            return
        result = self.firmware.boot(now)
        job = self.job
        if result is not None and job is not None and job.href == result.tried.file_href:
            self._after_boot(job, result, now, None)

    def _after_boot(self, job: FileJob, result: BootResult | None, now: int, failure: str | None) -> None:
        if result is not None and not result.started:
            failure = result.reason
        if failure is None:
            log.info("File %s: %s activated", job.href, self.running_version)
            self._log(LogCode.ACTIVATED, now, f"{job.mf_ver} running", 0)
            self._finish(job, Status.ACTIVATED, now, None)
        else:
            log.error("File %s: %s not activated (%s); running %s", job.href, job.mf_ver, failure,
                      self.running_version)  # fmt: skip
            self._log(LogCode.START_FAILED, now, f"{job.mf_ver} failed, on {self.running_version}", 0)
            self._finish(job, Status.ACTIVATION_FAILED, now, failure)
        self._report_device_information()
        self._save()

    def _store(self, job: FileJob, now: int) -> None:
        """Activate a File of another type: it becomes ``stored/<type>/current`` (the one before it is kept
        as ``previous``)."""
        staged = self._staging_path(job)
        folder = self.stored_dir / job.file_type
        folder.mkdir(parents=True, exist_ok=True)
        if not staged.is_file():
            self._finish(job, Status.ACTIVATION_FAILED, now, "the loaded file is gone")
            return
        current = folder / "current"
        if current.exists():
            os.replace(current, folder / "previous")
        os.replace(staged, current)
        sync_directory(folder)
        self._log(LogCode.ACTIVATED, now, f"{job.file_type} {job.mf_ver} stored", 0)
        self._finish(job, Status.ACTIVATED, now, None)
        self._save()

    def _finish(self, job: FileJob, status: Status, now: int, reason: str | None) -> None:
        job.set_status(status, now, reason)
        self._report(job)
        self.finished[job.href] = {"status": int(status), "mfVer": job.mf_ver, "time": now, "reason": reason}
        self.job = None
        self._save()

    # -- reporting ------------------------------------------------------------------------------------

    def _report(self, job: FileJob) -> None:
        self._enqueue("PUT", "FileStatus", None, file_status(job))

    def _report_device_information(self) -> None:
        if self.device_information is None:
            return
        running = self.firmware.running
        base = self.device_information
        activated = running.activated_time if running.activated_time is not None else base.swActTime
        info = dataclasses.replace(base, href=None, swVer=running.version, swActTime=activated)
        self._enqueue("PUT", "DeviceInformation", None, info)

    def _log(self, code: LogCode, now: int, details: str, extended: int) -> None:
        self._log_event_id = (self._log_event_id + 1) % 0x10000
        text = "".join(c if " " <= c <= "~" else "?" for c in details)[:32]
        event = LogEvent(
            createdDateTime=now,
            details=text,
            extendedData=max(0, min(int(extended), 0xFFFFFFFF)),
            functionSet=FUNCTION_SET_SOFTWARE_DOWNLOAD,
            logEventCode=int(code),
            logEventID=self._log_event_id,
            logEventPEN=self.identity.mf_id,
            profileID=PROFILE_VENDOR,
        )
        self._enqueue("POST", "LogEvent", None, event)

    def _enqueue(self, method: str, kind: str, href: str | None, body: XmlResource) -> None:
        self.outbox.append({"method": method, "kind": kind, "href": href, "xml": encode(body).decode("utf-8")})
        if len(self.outbox) > OUTBOX_LIMIT:
            del self.outbox[: len(self.outbox) - OUTBOX_LIMIT]

    def _target(self, entry: dict[str, Any]) -> str | None:
        if entry["href"]:
            return entry["href"]
        return {
            "FileStatus": self.file_status_href,
            "LogEvent": self.log_href,
            "DeviceInformation": self.device_information_href,
        }[entry["kind"]]

    async def _flush(self) -> None:
        """Send the waiting reports in order; stop at the first the server cannot be reached for."""
        sent = 0
        try:
            for entry in list(self.outbox):
                href = self._target(entry)
                if href is None:
                    if entry["kind"] == "FileStatus" and self.end_device_href is None:
                        break  # the EndDevice is not known yet: keep the order
                    sent += 1  # nowhere to send it (no LogEventList, no DeviceInformation link)
                    continue
                body = decode(entry["xml"].encode("utf-8"), _OUTBOX_TYPES[entry["kind"]])
                try:
                    if entry["method"] == "PUT":
                        await self.session.put(href, body)
                    else:
                        await self.session.post(href, body)
                except SepError as exc:
                    log.warning("%s %s refused, dropped: %s", entry["kind"], href, exc)
                sent += 1
        except Unreachable as exc:
            log.info("reports wait for the server (%d queued): %s", len(self.outbox) - sent, exc)
        if sent:
            del self.outbox[:sent]
            self._save()

    # -- state ----------------------------------------------------------------------------------------

    @property
    def _state_path(self) -> Path:
        return self.state_dir / "files.json"

    def _save(self) -> None:
        state = {
            "job": self.job.to_json() if self.job else None,
            "finished": self.finished,
            "outbox": self.outbox,
            "log_event_id": self._log_event_id,
        }
        if state != self._saved:
            write_json(self._state_path, state, durable=self.durable)
            self._saved = copy.deepcopy(state)
