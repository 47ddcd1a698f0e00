"""The IEEE 2030.5 application: error handling, identity, then one module per function set."""

from __future__ import annotations

import logging

from aiohttp import web

from gridhan.server.context import CONTEXT, AppContext
from gridhan.server.identity import ProxyTrust, identity_middleware
from gridhan.server.sep2 import (
    billing,
    dcap,
    der,
    drlc,
    edev,
    files,
    flow,
    fsa,
    log,
    messaging,
    mirror,
    prepayment,
    pricing,
    pubsub,
    response,
    tm,
)
from gridhan.server.sep2.http import MEMO, BodyMemo, check_outgoing
from gridhan.server.sep2.registry import FUNCTION_SETS, FunctionSets

logger = logging.getLogger("gridhan.sep2")

#: Function-set modules, in the order their links appear in DeviceCapability.
MODULES = (
    dcap,
    tm,
    edev,
    fsa,
    log,
    der,
    drlc,
    response,
    mirror,
    files,
    pricing,
    messaging,
    flow,
    billing,
    prepayment,
    pubsub,
)


@web.middleware
async def error_middleware(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    """Every refusal is an HTTP status with a plain-text reason; an unexpected fault is a logged 500 whose
    transaction was rolled back, never a crash."""
    try:
        response = await handler(request)
        check_outgoing(request, response)
        return response
    except web.HTTPException as exc:
        if exc.status >= 400:
            logger.info("%s %s -> %d %s", request.method, request.path, exc.status, exc.text)
        raise
    except Exception:
        logger.exception("%s %s failed", request.method, request.path)
        raise web.HTTPInternalServerError(text="internal error: the request was not applied") from None


def build_sep2_app(ctx: AppContext) -> web.Application:
    proxy = ProxyTrust(ctx.settings.trusted_proxies, ctx.settings.client_cert_header)
    app = web.Application(
        middlewares=[error_middleware, identity_middleware(ctx.identities, proxy)],
        client_max_size=ctx.settings.max_body_bytes,
    )
    app[CONTEXT] = ctx
    app[MEMO] = BodyMemo()
    fs = FunctionSets()
    app[FUNCTION_SETS] = fs
    for module in MODULES:
        module.setup(app, fs)
    return app
