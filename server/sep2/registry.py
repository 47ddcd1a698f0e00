"""Function-set registry of the 2030.5 application: each function-set module adds its routes and tells
DeviceCapability and FunctionSetAssignments (clause 8.6) which links it contributes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from gridhan.server.identity import Principal
from gridhan.server.store.tables import DeviceGroupRow

#: (request, principal) -> {DeviceCapability field name: Link or ListLink}
DcapLinks = Callable[[web.Request, Principal], Awaitable[dict[str, Any]]]
#: (request, principal, group) -> {FunctionSetAssignments field name: Link or ListLink}
FsaLinks = Callable[[web.Request, Principal, DeviceGroupRow], Awaitable[dict[str, Any]]]


@dataclass
class FunctionSets:
    dcap_links: list[DcapLinks] = field(default_factory=list)
    fsa_links: list[FsaLinks] = field(default_factory=list)
    #: Names of the function sets served, for the admin API and the README's table.
    names: list[str] = field(default_factory=list)


FUNCTION_SETS = web.AppKey("gridhan_function_sets", FunctionSets)
