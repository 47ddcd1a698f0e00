"""The loading device's decisions in the File Download function set (IEEE 2030.5-2018 clause 9.8), kept free
of I/O so they can be tested on their own: which Files are for this device, which one to load next, what
the FileStatus says, when the next request may go out. :mod:`gridhan.client.files` does the I/O.

* A File is for this device when its mfID and mfModel are the device's, and its mfHwVer, mfSerNum and lFDI
  are either absent or the device's (clause 9.8: the File names what it is targeted at). A software image
  (type 0000) is loaded only when its mfVer is newer than the running version; other types are loaded only
  if the device keeps that type (``store_types``); manufacturer-defined types 8000..FFFF likewise.
* FileStatus (clause 9.8, the FileStatus resource): ``loadPercent`` is what the latest load attempt holds;
  ``request503Count`` and ``requestFailCount`` (failed content GETs, 503 excluded) start again at 0 only
  when FileLink is pointed at a new File; ``nextRequestAttempt`` is when the next content GET goes out;
  ``activateTime`` repeats the File's, present or absent; ``statusTime`` is when ``status`` last changed.
* activateTime (File resource): at or before now, activate once loaded; later, wait for it; absent, do not
  activate until a later GET of the File gives one.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from enum import Enum, IntEnum
from typing import Any

from gridhan.schemas.sep2 import File, FileStatus, Link
from gridhan.schemas.versions import is_newer, version_key

SOFTWARE_IMAGE = "0000"
#: LogEvent.functionSet of the File Download ("Software Download") function set.
FUNCTION_SET_SOFTWARE_DOWNLOAD = 13
#: LogEvent.profileID for codes the manufacturer (logEventPEN = its PEN) defines.
PROFILE_VENDOR = 1


class Status(IntEnum):
    """FileStatus.status (clause 9.8)."""

    IDLE = 0
    LOADING = 1
    LOAD_FAILED = 2
    VERIFYING = 3
    VERIFICATION_FAILED = 4
    AWAITING_ACTIVATION = 5
    ACTIVATION_FAILED = 6
    ACTIVATING = 7
    ACTIVATED = 8


#: A File that reached one of these is never loaded again by this device.
TERMINAL = frozenset({Status.VERIFICATION_FAILED, Status.ACTIVATION_FAILED, Status.ACTIVATED})


class LogCode(IntEnum):
    """The reference manufacturer's LogEvent codes for software download (profileID 1, vendor defined;
    functionSet 13; logEventPEN the manufacturer's PEN). ``extendedData`` carries the number given."""

    LOAD_STARTED = 0  #: extendedData: the first byte asked for (non-zero when resuming)
    LOAD_INTERRUPTED = 1  #: extendedData: the bytes held, kept for a resume
    SERVER_BUSY = 2  #: a 503; extendedData: the seconds to wait
    LOAD_FAILED = 3  #: the load attempt was given up; extendedData: requestFailCount
    LOADED = 4  #: loaded and the signature verified; extendedData: the size
    VERIFICATION_FAILED = 5
    ACTIVATED = 6
    START_FAILED = 7  #: the new image failed to start; the device went back to the previous one
    WITHDRAWN = 8  #: the File is no longer offered; the load was abandoned


@dataclass(frozen=True)
class DeviceIdentity:
    """What a File is matched against: the device's manufacturer PEN, model, hardware version, serial number
    and LFDI (as in its DeviceInformation)."""

    mf_id: int
    mf_model: str
    lfdi: str
    mf_hw_ver: str | None = None
    mf_ser_num: str | None = None


def normal_type(file_type: str) -> str:
    """File.type as four upper-case hex digits."""
    return f"{int(file_type, 16):04X}"


def skip_reason(
    file: File, identity: DeviceIdentity, running_version: str, store_types: Iterable[str] = ()
) -> str | None:
    """Why this device does not load ``file``, or None if it should."""
    if file.mfID != identity.mf_id:
        return f"manufacturer {file.mfID}, not {identity.mf_id}"
    if file.mfModel != identity.mf_model:
        return f"model {file.mfModel!r}, not {identity.mf_model!r}"
    if file.mfHwVer is not None and file.mfHwVer != identity.mf_hw_ver:
        return f"hardware version {file.mfHwVer!r}, not {identity.mf_hw_ver!r}"
    if file.mfSerNum is not None and file.mfSerNum != identity.mf_ser_num:
        return f"for serial number {file.mfSerNum!r}"
    if file.lFDI is not None and file.lFDI.upper() != identity.lfdi.upper():
        return f"for the device {file.lFDI}"
    try:
        kind = normal_type(file.type)
    except ValueError:
        return f"type {file.type!r} is not hexadecimal"
    if kind == SOFTWARE_IMAGE:
        if not is_newer(file.mfVer, running_version):
            return f"version {file.mfVer} is not newer than the running {running_version}"
        return None
    if kind not in {normal_type(t) for t in store_types}:
        return f"type {kind} is not one this device loads"
    return None


def choose(
    files: Iterable[File],
    identity: DeviceIdentity,
    running_version: str,
    *,
    finished: Iterable[str] = (),
    store_types: Iterable[str] = (),
) -> File | None:
    """The File to load next: the newest software image for this device, else the first other File it
    keeps (by href); never one in ``finished`` (activated, refused or failed before)."""
    done = set(finished)
    candidates = [
        f
        for f in files
        if f.href is not None
        and f.href not in done
        and skip_reason(f, identity, running_version, store_types) is None
    ]
    images = [f for f in candidates if normal_type(f.type) == SOFTWARE_IMAGE]
    if images:
        return max(images, key=lambda f: (version_key(f.mfVer), f.href))
    others = sorted(candidates, key=lambda f: f.href or "")
    return others[0] if others else None


def supersedes(new: File, job: FileJob) -> bool:
    """Whether ``new`` should replace the load in progress: a newer software image, while the current one
    has not started activating."""
    return (
        new.href != job.href
        and job.file_type == SOFTWARE_IMAGE
        and normal_type(new.type) == SOFTWARE_IMAGE
        and job.status < Status.ACTIVATING
        and is_newer(new.mfVer, job.mf_ver)
    )


@dataclass
class FileJob:
    """The load of one File, as the device keeps it on disk."""

    href: str
    file_uri: str
    mf_ver: str
    size: int
    file_type: str
    activate_time: int | None
    status: Status = Status.IDLE
    status_time: int = 0
    load_percent: int = 0
    request_fail_count: int = 0
    request503_count: int = 0
    next_request_attempt: int = 0
    #: The validator (ETag) of the bytes held in staging; a resume sends it in If-Range.
    etag: str | None = None
    #: Failed content requests in the current load attempt (requestFailCount counts them all).
    attempt_failures: int = 0
    #: The last progress step reported while loading.
    reported_percent: int = 0
    reason: str | None = None

    @classmethod
    def for_file(cls, file: File, now: int) -> FileJob:
        assert file.href is not None
        return cls(
            href=file.href,
            file_uri=file.fileURI,
            mf_ver=file.mfVer,
            size=file.size,
            file_type=normal_type(file.type),
            activate_time=file.activateTime,
            status_time=now,
            next_request_attempt=now,
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "status": int(self.status)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileJob:
        known = {f.name for f in fields(cls)}
        job = cls(**{k: v for k, v in data.items() if k in known})
        job.status = Status(job.status)
        return job

    def set_status(self, status: Status, now: int, reason: str | None = None) -> None:
        self.status = status
        self.status_time = now
        if reason is not None:
            self.reason = reason


def file_status(job: FileJob) -> FileStatus:
    """The FileStatus a device reports about ``job``."""
    return FileStatus(
        activateTime=job.activate_time,
        FileLink=Link(href=job.href),
        loadPercent=job.load_percent,
        nextRequestAttempt=job.next_request_attempt,
        request503Count=min(job.request503_count, 0xFFFF),
        requestFailCount=min(job.request_fail_count, 0xFFFF),
        status=int(job.status),
        statusTime=job.status_time,
    )


def idle_status(now: int) -> FileStatus:
    """FileStatus 0 with no FileLink: no load in progress (a File that was withdrawn)."""
    return FileStatus(
        loadPercent=0, nextRequestAttempt=now, request503Count=0, requestFailCount=0, status=0, statusTime=now
    )


def load_percent(received: int, size: int) -> int:
    """Whole per cent of ``size`` held; 100 only when every byte is."""
    if size <= 0 or received >= size:
        return 100
    return min(99, received * 100 // size)


def retry_delay(failures: int, *, base: int = 30, cap: int = 3600) -> int:
    """Seconds before the next content request after ``failures`` failed ones in a row (doubling)."""
    if failures <= 0:
        return 0
    return min(cap, base * 2 ** min(failures - 1, 20))


def retry_after(value: str | None, now: int, default: int) -> int:
    """The time a 503's Retry-After asks for (RFC 9110 10.2.3: seconds or an HTTP date), at least ``now``;
    ``now + default`` when absent or unreadable."""
    if value is not None:
        text = value.strip()
        if text.isdigit():
            return now + int(text)
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None and when.tzinfo is not None:
            return max(now, int(when.timestamp()))
    return now + default


class Action(Enum):
    WAIT = "wait"
    DOWNLOAD = "download"
    VERIFY = "verify"
    ACTIVATE = "activate"


def next_action(job: FileJob, now: int) -> Action:
    """What the device does about ``job`` at ``now``."""
    if job.status in (Status.IDLE, Status.LOADING, Status.LOAD_FAILED):
        return Action.DOWNLOAD if now >= job.next_request_attempt else Action.WAIT
    if job.status == Status.VERIFYING:
        return Action.VERIFY
    if job.status == Status.AWAITING_ACTIVATION:
        return Action.ACTIVATE if job.activate_time is not None and now >= job.activate_time else Action.WAIT
    if job.status == Status.ACTIVATING:
        return Action.ACTIVATE
    return Action.WAIT


def due_time(job: FileJob) -> int | None:
    """When :func:`next_action` next changes its mind on its own (None: only on news from the server)."""
    if job.status in (Status.IDLE, Status.LOADING, Status.LOAD_FAILED):
        return job.next_request_attempt
    if job.status in (Status.VERIFYING, Status.ACTIVATING):
        return job.status_time
    if job.status == Status.AWAITING_ACTIVATION:
        return job.activate_time
    return None
