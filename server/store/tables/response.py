"""Response function set table (IEEE 2030.5-2018 clause 8.8): the Responses devices POST about events.

Every Response is kept (the history of a device's statuses for one event matters); the document is kept as
the codec wrote it, so a derived type (DERControlResponse, DrResponse, ...) reads back whole, while the
columns hold what queries need.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, LargeBinary, String
from sqlmodel import Field, SQLModel


class ResponseRow(SQLModel, table=True):
    """A Response (8.8) in one ResponseSet, from one EndDevice about one event."""

    __tablename__ = "response"
    __table_args__ = (Index("ix_response_set_device", "set_id", "device_id"),)

    id: int | None = Field(default=None, primary_key=True)
    #: The ResponseSet (``/rsps/{set_id}``); the sets are fixed by the server, not rows.
    set_id: int = Field(sa_column=Column(Integer, nullable=False))
    #: The EndDevice whose LFDI is Response.endDeviceLFDI.
    device_id: int = Field(
        sa_column=Column(Integer, ForeignKey("end_device.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    #: Response.endDeviceLFDI.
    end_device_lfdi: str = Field(sa_column=Column(String(40), nullable=False))
    #: Response.subject: the mRID of the event responded to.
    subject: str = Field(sa_column=Column(String(32), nullable=False, index=True))
    #: Response.status (Table 27).
    status: int = Field(sa_column=Column(Integer, nullable=False))
    #: Response.createdDateTime as the device sent it (optional in the schema).
    created_date_time: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    #: When the server received it.
    received_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: The element name of the document (Response, DERControlResponse, DrResponse, ...).
    kind: str = Field(sa_column=Column(String(40), nullable=False))
    document: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


__all__ = ["ResponseRow"]
