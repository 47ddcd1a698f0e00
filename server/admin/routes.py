"""Registers the admin API's routes, one module per subject; :mod:`gridhan.server.admin.openapi` describes
them all (``GET /api/v1/openapi.json``) and ``tests/test_openapi.py`` keeps the two in step."""

from __future__ import annotations

from aiohttp import web

from gridhan.server.admin import (
    aggregators,
    der,
    devices,
    flow,
    groups,
    messaging,
    openapi,
    responses,
    settings,
    subscriptions,
    telemetry,
)


def setup(app: web.Application) -> None:
    """Add every admin route to ``app`` (the health route is added by :func:`build_admin_app`)."""
    modules = (
        devices,
        aggregators,
        groups,
        settings,
        der,
        responses,
        telemetry,
        subscriptions,
        messaging,
        flow,
        openapi,
    )
    for module in modules:
        module.setup(app)
