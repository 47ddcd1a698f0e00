"""The utility's admin API: JSON over HTTPS on its own port, authenticated by the operator token or by
an operator certificate (one whose LFDI is listed in the ``operator_lfdis`` setting).

Routes live in one module per subject (devices, aggregators, groups, settings); the OpenAPI document
of :mod:`gridhan.server.admin.openapi` describes them all and a test keeps the two in step.
"""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from gridhan.certs.identity import lfdi_of
from gridhan.server.admin.validation import MAX_BODY_BYTES
from gridhan.server.context import CONTEXT, AppContext
from gridhan.server.tls import peer_certificate_der

log = logging.getLogger("gridhan.admin")

API = "/api/v1"


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def auth_middleware(token: str, operator_lfdis: frozenset[str] = frozenset()) -> web.Middleware:
    """Admit the operator: the bearer token, or a TLS client certificate of a listed operator LFDI."""
    expected = f"Bearer {token}".encode()

    @web.middleware
    async def middleware(request: web.Request, handler: web.Handler) -> web.StreamResponse:
        if request.path in (f"{API}/health", f"{API}/openapi.json"):
            return await handler(request)
        given = request.headers.get("Authorization", "").encode()
        if given and hmac.compare_digest(given, expected):
            return await handler(request)
        der = peer_certificate_der(request)
        if der and operator_lfdis and lfdi_of(der) in operator_lfdis:
            return await handler(request)
        if given:
            log.warning("admin request from %s refused: wrong operator token", request.remote)
        return json_error(
            401, "operator credential required: Authorization: Bearer <token>, or an operator certificate"
        )

    return middleware


@web.middleware
async def error_middleware(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    """Errors as JSON ``{"error": message}``; an unexpected fault is a logged 500, nothing half-written."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return json_error(exc.status, exc.text or exc.reason)
    except json.JSONDecodeError as exc:
        return json_error(400, f"request body is not valid JSON: {exc}")
    except IntegrityError:
        # A concurrent change won the race (e.g. the device or group referred to was just deleted); the
        # transaction was rolled back.
        log.info("%s %s conflicted with a concurrent change", request.method, request.path)
        return json_error(409, "the change conflicts with a concurrent change: nothing was applied")
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return json_error(500, "internal error: the request was not applied")


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_admin_app(ctx: AppContext, token: str, operator_lfdis: frozenset[str] = frozenset()) -> web.Application:
    app = web.Application(
        middlewares=[error_middleware, auth_middleware(token, operator_lfdis)],
        client_max_size=MAX_BODY_BYTES,
    )
    app[CONTEXT] = ctx
    app.router.add_get(f"{API}/health", health)
    from gridhan.server.admin import routes

    routes.setup(app)
    return app
