"""Database tables (SQLModel), one module per subject. A change to any of them goes through a new Alembic
migration in ``server/store/migrations/versions``; a test checks the migrations match these tables."""

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
from gridhan.server.store.tables.metering import MeterReadingRow, MirrorUsagePointRow, ReadingRow, ReadingSetRow
from gridhan.server.store.tables.pubsub import EventWatermarkRow, NotificationRow, SubscriptionRow
from gridhan.server.store.tables.response import ResponseRow

__all__ = [
    "DerControlRow",
    "DerCurveRow",
    "DerDefaultControlRow",
    "DerProgramRow",
    "DeviceGroupRow",
    "DeviceRecordRow",
    "DrControlRow",
    "DrProgramRow",
    "EndDeviceRow",
    "EventWatermarkRow",
    "GroupMemberRow",
    "LoadShedAvailabilityRow",
    "LogEventRow",
    "MeterReadingRow",
    "MirrorUsagePointRow",
    "NotificationRow",
    "ReadingRow",
    "ReadingSetRow",
    "ResponseRow",
    "ServerSettingRow",
    "SubscriptionRow",
]
