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
from gridhan.server.store.tables.drlc import DrControlRow, DrProgramRow, LoadShedAvailabilityRow
from gridhan.server.store.tables.files import FileImageRow, FileRow, FileStatusRow, FileTargetRow
from gridhan.server.store.tables.flow import FlowCapacityRow, FlowHoldRow, FlowRequestRow, FlowResponseRow
from gridhan.server.store.tables.messaging import DeviceLocaleRow, MessageRow, MessagingProgramRow, TextMessageRow
from gridhan.server.store.tables.metering import MeterReadingRow, MirrorUsagePointRow, ReadingRow, ReadingSetRow
from gridhan.server.store.tables.prepayment import CreditRegisterRow, PrepaymentRow, SupplyInterruptionOverrideRow
from gridhan.server.store.tables.pricing import RateComponentRow, TariffProfileRow, TimeTariffIntervalRow
from gridhan.server.store.tables.pubsub import EventWatermarkRow, NotificationRow, SubscriptionRow
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
    "DeviceLocaleRow",
    "DeviceRecordRow",
    "DrControlRow",
    "DrProgramRow",
    "EndDeviceRow",
    "EventWatermarkRow",
    "FileImageRow",
    "FileRow",
    "FileStatusRow",
    "FileTargetRow",
    "FlowCapacityRow",
    "FlowHoldRow",
    "FlowRequestRow",
    "FlowResponseRow",
    "GroupMemberRow",
    "LoadShedAvailabilityRow",
    "LogEventRow",
    "MessageRow",
    "MessagingProgramRow",
    "MeterReadingRow",
    "MirrorUsagePointRow",
    "NotificationRow",
    "PrepaymentRow",
    "RateComponentRow",
    "ReadingRow",
    "ReadingSetRow",
    "ResponseRow",
    "ServerSettingRow",
    "SubscriptionRow",
    "SupplyInterruptionOverrideRow",
    "TariffProfileRow",
    "TextMessageRow",
    "TimeTariffIntervalRow",
]
