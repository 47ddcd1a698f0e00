"""Run-time settings: what the 2030.5 server tells devices and how it behaves, changed without a restart.

* ``poll_rates``: the pollRate (seconds) the server puts on each polled resource (IEEE 2030.5-2018
  clause 5.x on polling: DeviceCapability, Time, EndDeviceList, EndDevice/Registration,
  FunctionSetAssignmentsList, SelfDevice).
* ``post_rate``: default EndDevice.postRate.
* ``timezone`` and ``time_quality``: the Time resource (Time function set: tzOffset/dstRules from an IANA zone;
  quality 3 authoritative .. 7 uncoordinated).
* ``inband_registration``: whether a device may register itself by POSTing to the EndDeviceList
  (clause 8.5.3).

A PATCH is checked whole, written to the database (kept across restarts) and then applied to the
running server's :class:`~gridhan.server.context.RuntimeSettings`.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from aiohttp import web

from gridhan.server.admin.serialize import API
from gridhan.server.admin.validation import (
    Member,
    bad_request,
    boolean,
    integer,
    read_json_object,
    read_members,
)
from gridhan.server.context import CONTEXT, POLLED_RESOURCES

#: Largest pollRate/postRate accepted (UInt32 in 2030.5, kept within the database's 32-bit integers).
MAX_RATE = 2**31 - 1


def _poll_rates(name: str, value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise bad_request(f"{name}: must be an object of resource name -> seconds")
    members = {resource: Member(integer(1, MAX_RATE)) for resource in POLLED_RESOURCES}
    return read_members(value, members, where=name)


def _timezone(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise bad_request(f"{name}: must be an IANA time zone name such as 'Europe/Paris'")
    if value not in zoneinfo.available_timezones():
        raise bad_request(f"{name}: {value!r} is not an IANA time zone name (such as 'Australia/Sydney')")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise bad_request(f"{name}: time zone {value!r} cannot be loaded") from None
    return value


SETTINGS_MEMBERS: Mapping[str, Member] = MappingProxyType(
    {
        "poll_rates": Member(_poll_rates),
        "post_rate": Member(integer(1, MAX_RATE)),
        "timezone": Member(_timezone),
        "time_quality": Member(integer(3, 7)),
        "inband_registration": Member(boolean),
    }
)


async def get_settings(request: web.Request) -> web.Response:
    """The run-time settings in force."""
    return web.json_response(request.app[CONTEXT].runtime.as_dict())


async def patch_settings(request: web.Request) -> web.Response:
    """Change any of the run-time settings: all are checked first (400 names the field), then written in
    one transaction, then applied; devices see them in their next responses. Answers the settings in
    force."""
    ctx = request.app[CONTEXT]
    body = read_members(await read_json_object(request), SETTINGS_MEMBERS)
    if not body:
        return web.json_response(ctx.runtime.as_dict())
    values = dict(body)
    if "poll_rates" in values:
        # Only the rates the operator set are kept, so the others follow the configuration.
        stored = (await ctx.store.runtime_settings()).get("poll_rates", {})
        values["poll_rates"] = {**stored, **values["poll_rates"]}
    await ctx.store.put_runtime_settings(values)
    runtime = ctx.runtime
    if "poll_rates" in body:
        runtime.poll_rates = {**runtime.poll_rates, **body["poll_rates"]}
    for name in ("post_rate", "timezone", "time_quality", "inband_registration"):
        if name in body:
            setattr(runtime, name, body[name])
    return web.json_response(runtime.as_dict())


def setup(app: web.Application) -> None:
    app.router.add_get(f"{API}/settings", get_settings)
    app.router.add_patch(f"{API}/settings", patch_settings)
