"""DER function set tables (IEEE 2030.5-2018 clause 10.10): programs per group, their controls, default
control and curves. Structures the standard defines field by field (DERControlBase, DefaultDERControl,
DERCurve) are kept as the XML documents the codec wrote, so every mode of the schema is stored without a
column per mode; what queries need (times, mRIDs, modes) has its own columns."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, LargeBinary, String
from sqlmodel import Field, SQLModel


class DerProgramRow(SQLModel, table=True):
    """A DERProgram (10.10): the controls, default control and curves one group of devices follows."""

    __tablename__ = "der_program"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(
        sa_column=Column(Integer, ForeignKey("device_group.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    description: str | None = Field(default=None, max_length=32)
    #: Lower numbers win over higher ones across programs (DERProgram.primacy).
    primacy: int
    version: int = 0
    created_time: int = Field(sa_column=Column(BigInteger, nullable=False))


class DerControlRow(SQLModel, table=True):
    """A DERControl: an event of a program with the control modes of its DERControlBase."""

    __tablename__ = "der_control"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(
        sa_column=Column(Integer, ForeignKey("der_program.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    description: str | None = Field(default=None, max_length=32)
    version: int = 0
    creation_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    start: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    duration: int
    randomize_start: int | None = None
    randomize_duration: int | None = None
    #: responseRequired (hexBinary8 bitmap) of the control, upper-case hex.
    response_required: str | None = Field(default=None, max_length=2)
    #: The DERControlBase as the codec wrote it, and the names of the modes it sets (space separated).
    base: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    modes: str = Field(sa_column=Column(String(1024), nullable=False))
    cancelled_time: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    cancel_randomized: bool = False


class DerDefaultControlRow(SQLModel, table=True):
    """A program's DefaultDERControl: what devices do where no control is active."""

    __tablename__ = "der_default_control"

    program_id: int = Field(
        sa_column=Column(Integer, ForeignKey("der_program.id", ondelete="CASCADE"), primary_key=True)
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    document: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    version: int = 0
    updated_time: int = Field(sa_column=Column(BigInteger, nullable=False))


class DerCurveRow(SQLModel, table=True):
    """A DERCurve of a program (volt-var, volt-watt, frequency-watt, ride-through, ...)."""

    __tablename__ = "der_curve"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(
        sa_column=Column(Integer, ForeignKey("der_program.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    document: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    creation_time: int = Field(sa_column=Column(BigInteger, nullable=False))
