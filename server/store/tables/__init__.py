"""Database tables (SQLModel), one module per subject. A change to any of them goes through a new Alembic
migration in ``server/store/migrations/versions``; a test checks the migrations match these tables."""

from gridhan.server.store.tables.billing import (
    AccountDeviceRow,
    AccountGroupRow,
    BillingMeterReadingRow,
    BillingPeriodRow,
    BillingReadingRow,
    BillingReadingSetRow,
    CustomerAccountRow,
    CustomerAgreementRow,
)
from gridhan.server.store.tables.core import (
    DeviceGroupRow,
    DeviceRecordRow,
    EndDeviceRow,
    GroupMemberRow,
    LogEventRow,
    ServerSettingRow,
)
from gridhan.server.store.tables.der import DerControlRow, DerCurveRow, DerDefaultControlRow, DerProgramRow
from gridhan.server.store.tables.metering import MeterReadingRow, MirrorUsagePointRow, ReadingRow, ReadingSetRow
from gridhan.server.store.tables.prepayment import CreditRegisterRow, PrepaymentRow, SupplyInterruptionOverrideRow
from gridhan.server.store.tables.pubsub import EventBoundaryRow, NotificationRow, SubscriptionRow
from gridhan.server.store.tables.response import ResponseRow

__all__ = [
    "AccountDeviceRow",
    "AccountGroupRow",
    "BillingMeterReadingRow",
    "BillingPeriodRow",
    "BillingReadingRow",
    "BillingReadingSetRow",
    "CreditRegisterRow",
    "CustomerAccountRow",
    "CustomerAgreementRow",
    "DerControlRow",
    "DerCurveRow",
    "DerDefaultControlRow",
    "DerProgramRow",
    "DeviceGroupRow",
    "DeviceRecordRow",
    "EndDeviceRow",
    "EventBoundaryRow",
    "GroupMemberRow",
    "LogEventRow",
    "MeterReadingRow",
    "MirrorUsagePointRow",
    "NotificationRow",
    "PrepaymentRow",
    "ReadingRow",
    "ReadingSetRow",
    "ResponseRow",
    "ServerSettingRow",
    "SubscriptionRow",
    "SupplyInterruptionOverrideRow",
]
