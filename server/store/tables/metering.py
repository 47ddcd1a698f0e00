"""Metering Mirror tables (IEEE 2030.5-2018 clause 10.11), read back as Metering (clause 10.4).

A mirror and the UsagePoint it publishes are one row (``/mup/{id}`` and ``/upt/{id}``); a MirrorMeterReading
and its MeterReading are one row (``/mup/{id}/mr/{mr}`` and ``/upt/{id}/mr/{mr}``), holding its ReadingType
(the document, and the fields queries need as columns); ReadingSets and Readings follow. Readings posted
directly in a MirrorMeterReading (its ``Reading``) are all kept: the newest is the MeterReading's current
Reading, the older ones are the history the utility's telemetry reads.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel


class MirrorUsagePointRow(SQLModel, table=True):
    """A UsagePoint (10.4): a MirrorUsagePoint (10.11) a device posted (``source`` "mirror", one per
    (device, mRID)), or one the utility publishes itself (``source`` "utility": e.g. a meter's interval
    data pushed for the premise's display), read by the devices it is for (a device or a group)."""

    __tablename__ = "mirror_usage_point"
    __table_args__ = (UniqueConstraint("device_id", "mrid", name="uq_mirror_usage_point_device_mrid"),)

    id: int | None = Field(default=None, primary_key=True)
    #: A mirror: the EndDevice whose LFDI is MirrorUsagePoint.deviceLFDI (NULL for the utility's own).
    device_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("end_device.id", ondelete="CASCADE"), nullable=True, index=True),
    )
    #: "mirror" (posted by a device, 10.11) or "utility" (published by the utility through the admin API).
    source: str = Field(default="mirror", sa_column=Column(String(8), nullable=False, server_default="mirror"))
    #: The utility's own: the device, or the group of devices, that reads it.
    target_device_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("end_device.id", ondelete="CASCADE"), nullable=True, index=True),
    )
    group_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("device_group.id", ondelete="CASCADE"), nullable=True, index=True),
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    version: int | None = None
    #: roleFlags (RoleFlagsType, hex) as sent.
    role_flags: str = Field(sa_column=Column(String(4), nullable=False))
    service_category_kind: int
    #: UsagePoint.status: 0 off, 1 on.
    status: int
    #: UsagePoint.deviceLFDI (always set for a mirror; optional for the utility's own).
    device_lfdi: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    #: The postRate the client said it prefers (the server answers with its own).
    post_rate: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_time: int = Field(sa_column=Column(BigInteger, nullable=False))


class MeterReadingRow(SQLModel, table=True):
    """A MirrorMeterReading and the MeterReading it publishes, with its ReadingType."""

    __tablename__ = "meter_reading"
    __table_args__ = (UniqueConstraint("usage_point_id", "mrid", name="uq_meter_reading_usage_point_mrid"),)

    id: int | None = Field(default=None, primary_key=True)
    usage_point_id: int = Field(
        sa_column=Column(Integer, ForeignKey("mirror_usage_point.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    version: int | None = None
    last_update_time: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    next_update_time: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    #: The ReadingType document as the codec wrote it (every field of it).
    reading_type: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    #: ReadingType fields the telemetry queries use.
    uom: int | None = None
    power_of_ten_multiplier: int | None = None
    kind: int | None = None
    flow_direction: int | None = None
    accumulation_behaviour: int | None = None
    phase: int | None = None
    commodity: int | None = None
    interval_length: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    updated_time: int = Field(sa_column=Column(BigInteger, nullable=False))


class ReadingSetRow(SQLModel, table=True):
    """A MirrorReadingSet and the ReadingSet it publishes: a block of Readings over a time period."""

    __tablename__ = "reading_set"
    __table_args__ = (UniqueConstraint("meter_reading_id", "mrid", name="uq_reading_set_meter_reading_mrid"),)

    id: int | None = Field(default=None, primary_key=True)
    meter_reading_id: int = Field(
        sa_column=Column(Integer, ForeignKey("meter_reading.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    version: int | None = None
    #: timePeriod.start and timePeriod.duration.
    start: int = Field(sa_column=Column(BigInteger, nullable=False))
    duration: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_time: int = Field(sa_column=Column(BigInteger, nullable=False))


class ReadingRow(SQLModel, table=True):
    """A Reading: in a ReadingSet, or (``reading_set_id`` NULL) posted as a MirrorMeterReading's Reading."""

    __tablename__ = "reading"
    __table_args__ = (Index("ix_reading_meter_reading_time", "meter_reading_id", "time"),)

    id: int | None = Field(default=None, primary_key=True)
    meter_reading_id: int = Field(
        sa_column=Column(Integer, ForeignKey("meter_reading.id", ondelete="CASCADE"), nullable=False)
    )
    reading_set_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("reading_set.id", ondelete="CASCADE"), nullable=True, index=True),
    )
    #: Reading.value (Int48), in the ReadingType's unit and power of ten.
    value: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    #: Reading.localID (hex) as sent, and its number for ordering.
    local_id: str | None = Field(default=None, sa_column=Column(String(4), nullable=True))
    local_number: int | None = None
    quality_flags: str | None = Field(default=None, sa_column=Column(String(4), nullable=True))
    consumption_block: int | None = None
    tou_tier: int | None = None
    #: Reading.timePeriod, when sent.
    start: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    duration: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    #: When the value applies: timePeriod.start, else its ReadingSet's start, else the
    #: MirrorMeterReading's lastUpdateTime, else the time the server received it.
    time: int = Field(sa_column=Column(BigInteger, nullable=False))
    received_time: int = Field(sa_column=Column(BigInteger, nullable=False))


__all__ = ["MeterReadingRow", "MirrorUsagePointRow", "ReadingRow", "ReadingSetRow"]
