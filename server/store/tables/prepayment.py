"""Prepayment function set tables (IEEE 2030.5-2018 clause 10.8). A Prepayment belongs to a customer
account (whose devices may read it) and optionally to one of its agreements. Its AccountBalance and
PrepayOperationStatus, and the AccountingUnit levels, are kept as the codec's XML documents."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, LargeBinary, String
from sqlmodel import Field, SQLModel


class PrepaymentRow(SQLModel, table=True):
    """A Prepayment with its AccountBalance and PrepayOperationStatus."""

    __tablename__ = "prepayment"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("customer_account.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    agreement_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("customer_agreement.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    usage_point_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("mirror_usage_point.id", ondelete="SET NULL"), nullable=True),
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    description: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    version: int = 0
    #: PrepayModeType: 0 central wallet, 1 ESI, 2 local, 3 credit.
    prepay_mode: int
    #: AccountingUnit documents (or NULL).
    credit_expiry_level: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    low_credit_warning_level: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    low_emergency_credit_warning_level: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    #: AccountBalance and PrepayOperationStatus documents (href left out).
    account_balance: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    operation_status: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    updated_time: int = Field(sa_column=Column(BigInteger, nullable=False))


class CreditRegisterRow(SQLModel, table=True):
    """A CreditRegister: credit added (or taken) by the utility, or a device's payment token POSTed to
    the CreditRegisterList (``device_id`` set)."""

    __tablename__ = "credit_register"

    id: int | None = Field(default=None, primary_key=True)
    prepayment_id: int = Field(
        sa_column=Column(Integer, ForeignKey("prepayment.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    version: int = 0
    effective_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    credit_type: int | None = None
    token: str = Field(sa_column=Column(String(32), nullable=False))
    #: creditAmount, an AccountingUnit document.
    credit_amount: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    device_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("end_device.id", ondelete="SET NULL"), nullable=True),
    )
    received_time: int = Field(sa_column=Column(BigInteger, nullable=False))


class SupplyInterruptionOverrideRow(SQLModel, table=True):
    """A SupplyInterruptionOverride: an interval in which supply is not interrupted for lack of credit."""

    __tablename__ = "supply_interruption_override"

    id: int | None = Field(default=None, primary_key=True)
    prepayment_id: int = Field(
        sa_column=Column(Integer, ForeignKey("prepayment.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    description: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    start: int = Field(sa_column=Column(BigInteger, nullable=False))
    duration: int = Field(sa_column=Column(BigInteger, nullable=False))


__all__ = ["CreditRegisterRow", "PrepaymentRow", "SupplyInterruptionOverrideRow"]
