"""Pricing function set tables (IEEE 2030.5-2018 clause 10.5): tariff profiles per group, their rate
components, and the time tariff intervals (events) of each rate component. The structures the standard
defines field by field (the rate component's ReadingType and flow-rate limits, an interval's
ConsumptionTariffIntervals) are kept as the XML documents the codec wrote; what queries and the event
rules need (times, mRIDs, tier) has its own columns. Served intervals are never edited, only cancelled
(clause 10.2.3 rule c), so the blocks of an interval never change."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, LargeBinary, String
from sqlmodel import Field, SQLModel


class TariffProfileRow(SQLModel, table=True):
    """A TariffProfile (10.5): the currency, price scale and primacy of one tariff of a group of devices."""

    __tablename__ = "tariff_profile"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(
        sa_column=Column(Integer, ForeignKey("device_group.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    description: str | None = Field(default=None, max_length=32)
    #: ISO 4217 numeric currency code (CurrencyCode).
    currency: int
    #: pricePowerOfTenMultiplier: every price of the profile is x 10^this.
    price_power_of_ten: int
    primacy: int
    rate_code: str | None = Field(default=None, max_length=20)
    #: ServiceKind: 0 electricity, 1 gas, 2 water, ...
    service_category_kind: int
    version: int = 0
    created_time: int = Field(sa_column=Column(BigInteger, nullable=False))


class RateComponentRow(SQLModel, table=True):
    """A RateComponent: the prices of one kind of reading (its ReadingType: import or export energy, ...)."""

    __tablename__ = "rate_component"

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tariff_profile.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    description: str | None = Field(default=None, max_length=32)
    version: int = 0
    #: roleFlags (RoleFlagsType, hexBinary16), upper-case hex.
    role_flags: str = Field(max_length=4)
    #: The ReadingType the prices are per unit of, as the codec wrote it.
    reading_type: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    #: flowRateStartLimit / flowRateEndLimit (UnitValueType) as the codec wrote them.
    flow_rate_start_limit: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    flow_rate_end_limit: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_time: int = Field(sa_column=Column(BigInteger, nullable=False))


class TimeTariffIntervalRow(SQLModel, table=True):
    """A TimeTariffInterval: an event of a rate component setting a TOU tier and its block prices."""

    __tablename__ = "time_tariff_interval"

    id: int | None = Field(default=None, primary_key=True)
    rate_component_id: int = Field(
        sa_column=Column(Integer, ForeignKey("rate_component.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    mrid: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    description: str | None = Field(default=None, max_length=32)
    version: int = 0
    creation_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    start: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    duration: int
    randomize_start: int | None = None
    randomize_duration: int | None = None
    #: responseRequired (hexBinary8 bitmap), upper-case hex.
    response_required: str | None = Field(default=None, max_length=2)
    tou_tier: int
    #: The ConsumptionTariffIntervalList (blocks in startValue order) as the codec wrote it.
    blocks: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    cancelled_time: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    cancel_randomized: bool = False
