"""Registers the admin API's routes, one module per subject; :mod:`gridhan.server.admin.openapi` describes
them all (``GET /api/v1/openapi.json``) and ``tests/test_openapi.py`` keeps the two in step."""

from __future__ import annotations

from aiohttp import web

from gridhan.server.admin import (
    aggregators,
    billing,
    der,
    devices,
    groups,
    openapi,
    prepayment,
    responses,
    settings,
    subscriptions,
    telemetry,
    usage_points,
)


def setup(app: web.Application) -> None:
    """Add every admin route to ``app`` (the health route is added by :func:`build_admin_app`)."""
    modules = (devices, aggregators, groups, settings, der, responses, telemetry, subscriptions, usage_points,
               billing, prepayment, openapi)  # fmt: skip
    for module in modules:
        module.setup(app)
