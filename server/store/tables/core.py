"""Core tables: devices, groups, the documents devices keep about themselves, log events, settings.

Column comments name the IEEE 2030.5 element each column holds.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, LargeBinary, String, Text
from sqlmodel import Field, SQLModel


class EndDeviceRow(SQLModel, table=True):
    """An EndDevice (8.5): a device, or an aggregator's own EndDevice, known by its LFDI."""

    __tablename__ = "end_device"

    id: int | None = Field(default=None, primary_key=True)
    lfdi: str = Field(sa_column=Column(String(40), nullable=False, unique=True, index=True))
    sfdi: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    device_category: str | None = Field(default=None, max_length=8)
    enabled: bool = True
    changed_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    post_rate: int | None = None
    #: Registration.pIN and Registration.dateTimeRegistered (8.5.x); NULL until the utility registers it.
    pin: int | None = None
    registered_time: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    is_aggregator: bool = False
    aggregator_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("end_device.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    #: DER certificate, kept when the utility registered the device by certificate (a self-signed one
    #: becomes a TLS trust anchor for exactly that device).
    certificate: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    self_signed: bool = False
    revoked: bool = False
    #: "admin" (pre-registered by the utility) or "in-band" (POSTed to the EndDeviceList).
    created_by: str = Field(default="admin", max_length=16)
    label: str | None = Field(default=None, max_length=64)


class DeviceGroupRow(SQLModel, table=True):
    """A group of devices and its FunctionSetAssignments (8.6): group membership decides what a device
    sees."""

    __tablename__ = "device_group"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    mrid: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    description: str | None = Field(default=None, max_length=32)
    version: int = 0


class GroupMemberRow(SQLModel, table=True):
    __tablename__ = "group_member"

    group_id: int = Field(
        sa_column=Column(Integer, ForeignKey("device_group.id", ondelete="CASCADE"), primary_key=True)
    )
    device_id: int = Field(
        sa_column=Column(Integer, ForeignKey("end_device.id", ondelete="CASCADE"), primary_key=True, index=True)
    )


class DeviceRecordRow(SQLModel, table=True):
    """A document a device PUT about itself (DeviceInformation, DeviceStatus, PowerStatus), with history:
    the newest row of a kind is the current one."""

    __tablename__ = "device_record"

    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(
        sa_column=Column(Integer, ForeignKey("end_device.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    kind: str = Field(max_length=32, index=True)
    received_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    document: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class LogEventRow(SQLModel, table=True):
    """A LogEvent (8.8) posted by a device."""

    __tablename__ = "log_event"

    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(
        sa_column=Column(Integer, ForeignKey("end_device.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    created_date_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    details: str | None = Field(default=None, max_length=32)
    extended_data: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    function_set: int
    log_event_code: int
    log_event_id: int
    log_event_pen: int = Field(sa_column=Column(BigInteger, nullable=False))
    profile_id: int
    received_time: int = Field(sa_column=Column(BigInteger, nullable=False))


class ServerSettingRow(SQLModel, table=True):
    """Settings the utility changes at run time through the admin API (JSON values)."""

    __tablename__ = "server_setting"

    key: str = Field(sa_column=Column(String(64), primary_key=True))
    value: str = Field(sa_column=Column(Text, nullable=False))


__all__ = [
    "DeviceGroupRow",
    "DeviceRecordRow",
    "EndDeviceRow",
    "GroupMemberRow",
    "LogEventRow",
    "ServerSettingRow",
]
