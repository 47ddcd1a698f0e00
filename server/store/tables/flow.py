"""Flow Reservation function set tables (IEEE 2030.5-2018 clause 10.9): the capacity a group of devices
may reserve per time slot, the FlowReservationRequests devices POST, the FlowReservationResponses the
utility answers with, and which groups' capacity each response holds."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel


class FlowCapacityRow(SQLModel, table=True):
    """How much power the devices of one group may reserve in each slot, and how requests are decided."""

    __tablename__ = "flow_capacity"

    group_id: int = Field(
        sa_column=Column(Integer, ForeignKey("device_group.id", ondelete="CASCADE"), primary_key=True)
    )
    slot_seconds: int
    capacity_w: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: "partial", "all-or-nothing" or "manual" (see gridhan.schemas.flow_allocation).
    policy: str = Field(sa_column=Column(String(16), nullable=False))
    #: Bumped by every allocation on the group: the write that serializes concurrent allocations.
    allocations: int = 0


class FlowRequestRow(SQLModel, table=True):
    """A FlowReservationRequest as a device POSTed it, and where the utility's decision stands."""

    __tablename__ = "flow_request"
    __table_args__ = (UniqueConstraint("device_id", "mrid"),)

    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(
        sa_column=Column(Integer, ForeignKey("end_device.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False))
    creation_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    start: int = Field(sa_column=Column(BigInteger, nullable=False))
    duration: int = Field(sa_column=Column(BigInteger, nullable=False))
    power_w: int = Field(sa_column=Column(BigInteger, nullable=False))
    energy_wh: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: RequestStatus.requestStatus (0 requested, 1 cancelled) and RequestStatus.dateTime.
    request_status: int = 0
    status_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    received_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: "pending" (for the operator), "granted", "refused" or "cancelled".
    state: str = Field(sa_column=Column(String(16), nullable=False, index=True))
    #: The request as the codec wrote it (what the device sent, RequestStatus as it now stands).
    document: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class FlowResponseRow(SQLModel, table=True):
    """A FlowReservationResponse: what the utility granted for a request (zero power and energy: refused)."""

    __tablename__ = "flow_response"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(
        sa_column=Column(Integer, ForeignKey("flow_request.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    device_id: int = Field(
        sa_column=Column(Integer, ForeignKey("end_device.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    creation_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    start: int = Field(sa_column=Column(BigInteger, nullable=False))
    duration: int = Field(sa_column=Column(BigInteger, nullable=False))
    power_w: int = Field(sa_column=Column(BigInteger, nullable=False))
    energy_wh: int = Field(sa_column=Column(BigInteger, nullable=False))
    response_required: str | None = Field(default=None, max_length=2)
    cancelled_time: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    version: int = 0


class FlowHoldRow(SQLModel, table=True):
    """A response's hold on one group's capacity (for every slot of its interval) until it is cancelled."""

    __tablename__ = "flow_hold"

    response_id: int = Field(
        sa_column=Column(Integer, ForeignKey("flow_response.id", ondelete="CASCADE"), primary_key=True)
    )
    group_id: int = Field(
        sa_column=Column(Integer, ForeignKey("device_group.id", ondelete="CASCADE"), primary_key=True, index=True)
    )
