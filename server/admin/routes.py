"""Registers the admin API's routes, one module per subject; :mod:`gridhan.server.admin.openapi` describes
them all (``GET /api/v1/openapi.json``) and ``tests/test_openapi.py`` keeps the two in step."""

from __future__ import annotations

from aiohttp import web

from gridhan.server.admin import (
    aggregators,
    billing,
    der,
    devices,
    drlc,
    files,
    flow,
    groups,
    messaging,
    openapi,
    prepayment,
    pricing,
    responses,
    settings,
    subscriptions,
    telemetry,
    usage_points,
)

#: One module per subject, in the order their routes are added.
ADMIN_MODULES = (
    devices,
    aggregators,
    groups,
    settings,
    der,
    drlc,
    files,
    pricing,
    flow,
    messaging,
    usage_points,
    billing,
    prepayment,
    responses,
    telemetry,
    subscriptions,
    openapi,
)


def setup(app: web.Application) -> None:
    """Add every admin route to ``app`` (the health route is added by :func:`build_admin_app`)."""
    for module in ADMIN_MODULES:
        module.setup(app)
