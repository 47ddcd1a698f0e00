"""File Download function set (IEEE 2030.5-2018 clause 9.8).

A file server lists Files (firmware images, security credentials, configurations, logs, manufacturer
types) with the metadata a loading device matches against itself (manufacturer, model, versions,
optionally its LFDI) and the URI of the file's content; ``activateTime`` says when a loaded file is put
into operation. A loading device reports its progress in FileStatus, linked from its EndDevice.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridhan.schemas.sep2.base import Link, List, Resource, sep
from gridhan.schemas.sep2.types import (
    AnyURI,
    FileStatusValue,
    HexBinary16,
    HexBinary160,
    LoadPercent,
    PENType,
    String16,
    String32,
    TimeType,
    UInt16,
    UInt32,
)
from gridhan.schemas.xmlcodec import attr, elem


@sep()
@dataclass(kw_only=True)
class File(Resource):
    activateTime: int | None = elem(TimeType, required=False)
    fileURI: str = elem(AnyURI)
    #: The one device the file is meant for, if any.
    lFDI: str | None = elem(HexBinary160, required=False)
    mfHwVer: str | None = elem(String32, required=False)
    #: The manufacturer's IANA private enterprise number.
    mfID: int = elem(PENType)
    mfModel: str = elem(String32)
    mfSerNum: str | None = elem(String32, required=False)
    mfVer: str = elem(String16)
    #: Bytes.
    size: int = elem(UInt32)
    #: Hex: 0000 software image, 0001 security credential, 0002 configuration, 0003 log, 0004..7FFF
    #: reserved, 8000..FFFF manufacturer defined.
    type: str = elem(HexBinary16)


@sep()
@dataclass(kw_only=True)
class FileList(List):
    File: list[File] = elem(File, many=True)
    pollRate: int | None = attr(UInt32)


@sep()
@dataclass(kw_only=True)
class FileStatus(Resource):
    activateTime: int | None = elem(TimeType, required=False)
    FileLink: Link | None = elem(Link, required=False)
    loadPercent: int = elem(LoadPercent)
    nextRequestAttempt: int = elem(TimeType)
    request503Count: int = elem(UInt16)
    requestFailCount: int = elem(UInt16)
    #: 0 idle, 1 loading, 2 load failed, 3 verifying, 4 verification failed, 5 awaiting activation,
    #: 6 activation failed, 7 activating, 8 activated.
    status: int = elem(FileStatusValue)
    statusTime: int = elem(TimeType)
    pollRate: int | None = attr(UInt32)
