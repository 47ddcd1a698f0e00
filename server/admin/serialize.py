"""Rows as the admin API's JSON objects (their schemas are in :mod:`gridhan.server.admin.openapi`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from gridhan.schemas.identifiers import format_sfdi
from gridhan.schemas.xmlcodec import XmlResource, decode
from gridhan.server.store.tables import DeviceGroupRow, DeviceRecordRow, EndDeviceRow, LogEventRow

API = "/api/v1"


def device_location(device_id: int) -> str:
    return f"{API}/devices/{device_id}"


def group_location(group_id: int) -> str:
    return f"{API}/groups/{group_id}"


def device_json(row: EndDeviceRow, group_ids: Sequence[int]) -> dict[str, Any]:
    """An EndDevice (IEEE 2030.5-2018 clause 8.5) as the operator sees it; ``href`` is its 2030.5 address."""
    return {
        "id": row.id,
        "href": f"/edev/{row.id}",
        "lfdi": row.lfdi,
        "sfdi": format_sfdi(row.sfdi),
        "label": row.label,
        "device_category": row.device_category,
        "enabled": row.enabled,
        "changed_time": row.changed_time,
        "post_rate": row.post_rate,
        "pin": row.pin,
        "registered_time": row.registered_time,
        "is_aggregator": row.is_aggregator,
        "aggregator_id": row.aggregator_id,
        "self_signed": row.self_signed,
        "revoked": row.revoked,
        "created_by": row.created_by,
        "groups": list(group_ids),
    }


def group_json(row: DeviceGroupRow, member_ids: Sequence[int]) -> dict[str, Any]:
    """A group: the FunctionSetAssignments (clause 8.6) its member devices see."""
    return {
        "id": row.id,
        "name": row.name,
        "mrid": row.mrid,
        "description": row.description,
        "version": row.version,
        "members": list(member_ids),
    }


def log_event_json(row: LogEventRow) -> dict[str, Any]:
    """A LogEvent (Log Event function set) a device posted."""
    return {
        "id": row.id,
        "created_date_time": row.created_date_time,
        "details": row.details,
        "extended_data": row.extended_data,
        "function_set": row.function_set,
        "log_event_code": row.log_event_code,
        "log_event_id": row.log_event_id,
        "log_event_pen": row.log_event_pen,
        "profile_id": row.profile_id,
        "received_time": row.received_time,
    }


def document_json(row: DeviceRecordRow, cls: type[XmlResource]) -> dict[str, Any]:
    """A stored document (DeviceInformation, DeviceStatus or PowerStatus) as JSON: the resource's fields
    under their 2030.5 names, absent ones left out."""
    return _drop_none(dataclasses.asdict(decode(bytes(row.document), cls)))  # type: ignore[call-overload]


def record_json(row: DeviceRecordRow, cls: type[XmlResource]) -> dict[str, Any]:
    return {"received_time": row.received_time, "document": document_json(row, cls)}


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
