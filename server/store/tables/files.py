"""File Download function set tables (IEEE 2030.5-2018 clause 9.8) and the utility's firmware campaigns.

The bytes of a file never enter the database: a :class:`FileImageRow` names them by their SHA-256, and
the content store (:mod:`gridhan.server.store.blobs`) keeps them on disk. A :class:`FileRow` is one File
resource (the metadata a loading device matches against itself); its :class:`FileTargetRow` rows say who
may see it, stage by stage (a test population first, then wider). Each FileStatus a device PUTs is kept
(:class:`FileStatusRow`), so every attempt, failure, success and revert has its time.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Integer, LargeBinary, String
from sqlmodel import Field, SQLModel


class FileImageRow(SQLModel, table=True):
    """An uploaded file image: its content-address (SHA-256, lower-case hex) and size in bytes."""

    __tablename__ = "file_image"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    name: str | None = Field(default=None, max_length=128)
    uploaded_time: int = Field(sa_column=Column(BigInteger, nullable=False))


class FileRow(SQLModel, table=True):
    """A File (9.8): manufacturer, model and version it is for, its type, when to activate it."""

    __tablename__ = "file_download"

    id: int | None = Field(default=None, primary_key=True)
    image_id: int = Field(
        sa_column=Column(Integer, ForeignKey("file_image.id", ondelete="RESTRICT"), nullable=False, index=True)
    )
    #: File.mfID (PENType), mfModel, mfVer, mfHwVer, mfSerNum.
    mf_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    mf_model: str = Field(max_length=32)
    mf_ver: str = Field(max_length=16)
    mf_hw_ver: str | None = Field(default=None, max_length=32)
    mf_ser_num: str | None = Field(default=None, max_length=32)
    #: File.type (HexBinary16), four upper-case hex digits: 0000 software image ... 8000-FFFF manufacturer.
    file_type: str = Field(max_length=4)
    #: File.activateTime; NULL: devices load the file but do not activate it until one is given.
    activate_time: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    #: File.lFDI: the one device the file is for, if any.
    lfdi: str | None = Field(default=None, max_length=40)
    description: str | None = Field(default=None, max_length=64)
    created_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: When the utility withdrew the file (devices no longer see it); NULL while it is offered.
    withdrawn_time: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class FileTargetRow(SQLModel, table=True):
    """Who sees a File from a stage of its campaign on: a group, one device, or every device."""

    __tablename__ = "file_target"

    id: int | None = Field(default=None, primary_key=True)
    file_id: int = Field(
        sa_column=Column(Integer, ForeignKey("file_download.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    stage: int
    group_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("device_group.id", ondelete="CASCADE"), nullable=True, index=True),
    )
    device_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("end_device.id", ondelete="CASCADE"), nullable=True, index=True),
    )
    everyone: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    added_time: int = Field(sa_column=Column(BigInteger, nullable=False))


class FileStatusRow(SQLModel, table=True):
    """A FileStatus (9.8) a device PUT, with the File its FileLink named (the newest row is current)."""

    __tablename__ = "file_status"

    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(
        sa_column=Column(Integer, ForeignKey("end_device.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    file_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("file_download.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    #: FileStatus.status (0..8) and statusTime.
    status: int
    status_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    received_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    document: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


__all__ = ["FileImageRow", "FileRow", "FileStatusRow", "FileTargetRow"]
