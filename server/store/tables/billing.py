"""Billing function set tables (IEEE 2030.5-2018 clause 10.7): customer accounts and who may read them,
their agreements, billing periods, and the billing meter readings (historical, projection, target) with
their reading sets and readings. A ReadingType is kept as the codec's XML document, as a mirror's is;
a BillingReading's Charges likewise."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel


class CustomerAccountRow(SQLModel, table=True):
    """A CustomerAccount (10.7) with its ServiceSupplier (columns ``supplier_*``, NULL when none)."""

    __tablename__ = "customer_account"

    id: int | None = Field(default=None, primary_key=True)
    mrid: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    description: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    version: int = 0
    #: ISO 4217 numeric currency code.
    currency: int
    customer_account: str | None = Field(default=None, sa_column=Column(String(42), nullable=True))
    customer_name: str | None = Field(default=None, sa_column=Column(String(42), nullable=True))
    price_power_of_ten_multiplier: int
    supplier_mrid: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    supplier_description: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    supplier_email: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    supplier_phone: str | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    supplier_provider_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    supplier_web: str | None = Field(default=None, sa_column=Column(String(42), nullable=True))
    created_time: int = Field(sa_column=Column(BigInteger, nullable=False))


class AccountDeviceRow(SQLModel, table=True):
    """A device of the account's premise: it (and its aggregator) may read the account."""

    __tablename__ = "customer_account_device"

    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("customer_account.id", ondelete="CASCADE"), primary_key=True)
    )
    device_id: int = Field(
        sa_column=Column(Integer, ForeignKey("end_device.id", ondelete="CASCADE"), primary_key=True, index=True)
    )


class AccountGroupRow(SQLModel, table=True):
    """A group whose member devices may read the account."""

    __tablename__ = "customer_account_group"

    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("customer_account.id", ondelete="CASCADE"), primary_key=True)
    )
    group_id: int = Field(
        sa_column=Column(Integer, ForeignKey("device_group.id", ondelete="CASCADE"), primary_key=True, index=True)
    )


class CustomerAgreementRow(SQLModel, table=True):
    """A CustomerAgreement: service at a location, with its UsagePoint and TariffProfile (by href)."""

    __tablename__ = "customer_agreement"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("customer_account.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    description: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    version: int = 0
    service_account: str | None = Field(default=None, sa_column=Column(String(42), nullable=True))
    service_location: str | None = Field(default=None, sa_column=Column(String(42), nullable=True))
    usage_point_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("mirror_usage_point.id", ondelete="SET NULL"), nullable=True),
    )
    #: TariffProfileLink href (the Pricing function set's resource), as the operator gave it.
    tariff_profile_href: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))


class BillingPeriodRow(SQLModel, table=True):
    """A BillingPeriod of an agreement; amounts x 10^pricePowerOfTenMultiplier of the account."""

    __tablename__ = "billing_period"

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(
        sa_column=Column(Integer, ForeignKey("customer_agreement.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    start: int = Field(sa_column=Column(BigInteger, nullable=False))
    duration: int = Field(sa_column=Column(BigInteger, nullable=False))
    bill_last_period: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    bill_to_date: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    status_time_stamp: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class BillingMeterReadingRow(SQLModel, table=True):
    """A HistoricalReading, ProjectionReading or TargetReading (``kind``) of an agreement."""

    __tablename__ = "billing_meter_reading"
    __table_args__ = (UniqueConstraint("agreement_id", "mrid", name="uq_billing_meter_reading_agreement_mrid"),)

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(
        sa_column=Column(Integer, ForeignKey("customer_agreement.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    #: "historical", "projection" or "target".
    kind: str = Field(sa_column=Column(String(12), nullable=False))
    mrid: str = Field(sa_column=Column(String(32), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    version: int = 0
    #: The ReadingType document as the codec wrote it, or NULL.
    reading_type: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    power_of_ten_multiplier: int | None = None
    uom: int | None = None


class BillingReadingSetRow(SQLModel, table=True):
    """A BillingReadingSet: a block of BillingReadings over a time period."""

    __tablename__ = "billing_reading_set"

    id: int | None = Field(default=None, primary_key=True)
    meter_reading_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("billing_meter_reading.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    version: int = 0
    start: int = Field(sa_column=Column(BigInteger, nullable=False))
    duration: int = Field(sa_column=Column(BigInteger, nullable=False))


class BillingReadingRow(SQLModel, table=True):
    """A BillingReading (its document, with its Charges) and the columns its list is ordered by."""

    __tablename__ = "billing_reading"

    id: int | None = Field(default=None, primary_key=True)
    reading_set_id: int = Field(
        sa_column=Column(Integer, ForeignKey("billing_reading_set.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    start: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    duration: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    value: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    consumption_block: int | None = None
    tou_tier: int | None = None
    document: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


__all__ = [
    "AccountDeviceRow",
    "AccountGroupRow",
    "BillingMeterReadingRow",
    "BillingPeriodRow",
    "BillingReadingRow",
    "BillingReadingSetRow",
    "CustomerAccountRow",
    "CustomerAgreementRow",
]
