"""Messaging function set tables (IEEE 2030.5-2018 clause 10.6): MessagingPrograms per locale (public, or
of one group), the messages the utility publishes, and the text of each message in each locale (one
TextMessage per program). Devices' preferred locales are kept here too."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Text
from sqlmodel import Field, SQLModel


class MessagingProgramRow(SQLModel, table=True):
    """A MessagingProgram: the messages of one locale, public (no group) or for one group's devices."""

    __tablename__ = "messaging_program"

    id: int | None = Field(default=None, primary_key=True)
    #: NULL: a public program, readable by every registered device.
    group_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("device_group.id", ondelete="CASCADE"), nullable=True, index=True),
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    #: MessagingProgram.locale (LocaleType, an RFC 4646 tag such as "en-US"), in its canonical case.
    locale: str = Field(sa_column=Column(String(42), nullable=False))
    primacy: int
    description: str | None = Field(default=None, max_length=32)
    version: int = 0
    created_time: int = Field(sa_column=Column(BigInteger, nullable=False))


class MessageRow(SQLModel, table=True):
    """One message as the utility published it: what its TextMessages in every locale share (interval,
    priority, originator, responseRequired, cancellation)."""

    __tablename__ = "message"

    id: int | None = Field(default=None, primary_key=True)
    #: NULL: public.
    group_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("device_group.id", ondelete="CASCADE"), nullable=True, index=True),
    )
    description: str | None = Field(default=None, max_length=32)
    version: int = 0
    creation_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    start: int = Field(sa_column=Column(BigInteger, nullable=False))
    duration: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: Specified End Time (start + duration), or the cancellation time when that is earlier: retention
    #: counts from here.
    end_time: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    #: PriorityType: 0 low, 1 normal, 2 high, 3 critical.
    priority: int
    originator: str | None = Field(default=None, max_length=20)
    response_required: str | None = Field(default=None, max_length=2)
    cancelled_time: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class TextMessageRow(SQLModel, table=True):
    """A TextMessage: a message's text in the locale of the program holding it."""

    __tablename__ = "text_message"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(
        sa_column=Column(Integer, ForeignKey("message.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    program_id: int = Field(
        sa_column=Column(Integer, ForeignKey("messaging_program.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    text: str = Field(sa_column=Column(Text, nullable=False))


class DeviceLocaleRow(SQLModel, table=True):
    """The locale a device's customer prefers (set by the operator): which MessagingPrograms it is shown."""

    __tablename__ = "device_locale"

    device_id: int = Field(sa_column=Column(Integer, ForeignKey("end_device.id", ondelete="CASCADE"), primary_key=True))
    locale: str = Field(sa_column=Column(String(42), nullable=False))
