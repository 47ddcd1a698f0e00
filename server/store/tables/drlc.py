"""Demand Response and Load Control tables (IEEE 2030.5-2018 clause 10.3): programs per group, their
EndDeviceControls, and the LoadShedAvailability each EndDevice reports. The control structures an
EndDeviceControl may carry (ApplianceLoadReduction, DutyCycle, Offset, SetPoint, TargetReduction) are kept as
the XML the codec wrote, one column each; what queries and the event rules need has its own columns."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, LargeBinary, String
from sqlmodel import Field, SQLModel


class DrProgramRow(SQLModel, table=True):
    """A DemandResponseProgram: the EndDeviceControls one group of devices follows."""

    __tablename__ = "dr_program"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(
        sa_column=Column(Integer, ForeignKey("device_group.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    description: str | None = Field(default=None, max_length=32)
    #: Lower numbers win over higher ones across programs (DemandResponseProgram.primacy).
    primacy: int
    version: int = 0
    created_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: availabilityUpdatePercentChangeThreshold (PerCent, hundredths of a percent).
    availability_percent_threshold: int | None = None
    #: availabilityUpdatePowerChangeThreshold, the ActivePower as the codec wrote it.
    availability_power_threshold: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class DrControlRow(SQLModel, table=True):
    """An EndDeviceControl: an event of a program for the device categories of its bitmap."""

    __tablename__ = "dr_control"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(
        sa_column=Column(Integer, ForeignKey("dr_program.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    description: str | None = Field(default=None, max_length=32)
    version: int = 0
    creation_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    start: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    duration: int = Field(sa_column=Column(BigInteger, nullable=False))
    randomize_start: int | None = None
    randomize_duration: int | None = None
    #: responseRequired (hexBinary8 bitmap), upper-case hex.
    response_required: str | None = Field(default=None, max_length=2)
    #: deviceCategory (DeviceCategoryType), upper-case hex of whole octets.
    device_category: str = Field(sa_column=Column(String(8), nullable=False))
    mandatory: bool = False
    load_shift_forward: bool = False
    override_duration: int | None = None
    appliance_load_reduction: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    duty_cycle: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    offset: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    set_point: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    target_reduction: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    cancelled_time: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    cancel_randomized: bool = False


class LoadShedAvailabilityRow(SQLModel, table=True):
    """A LoadShedAvailability an EndDevice reported: what load it could shed now, for one of its programs
    (or, without a DemandResponseProgramLink, for the device as a whole)."""

    __tablename__ = "load_shed_availability"

    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(
        sa_column=Column(Integer, ForeignKey("end_device.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    program_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("dr_program.id", ondelete="CASCADE"), nullable=True)
    )
    #: The LoadShedAvailability as the codec wrote it (without href and program link).
    document: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    updated_time: int = Field(sa_column=Column(BigInteger, nullable=False))
