"""The utility's admin API: JSON over HTTPS on its own port, authenticated by the operator token.

Routes live in one module per subject (devices, groups, settings); :data:`OPENAPI` in
:mod:`gridhan.server.admin.openapi` describes them all and a test keeps the two in step.
"""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web

from gridhan.server.context import CONTEXT, AppContext

log = logging.getLogger("gridhan.admin")

API = "/api/v1"


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def auth_middleware(token: str) -> web.Middleware:
    expected = f"Bearer {token}".encode()

    @web.middleware
    async def middleware(request: web.Request, handler: web.Handler) -> web.StreamResponse:
        if request.path in (f"{API}/health", f"{API}/openapi.json"):
            return await handler(request)
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return json_error(401, "operator token required: Authorization: Bearer <token>")
        return await handler(request)

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
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return json_error(500, "internal error: the request was not applied")


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_admin_app(ctx: AppContext, token: str) -> web.Application:
    app = web.Application(middlewares=[error_middleware, auth_middleware(token)], client_max_size=1024 * 1024)
    app[CONTEXT] = ctx
    app.router.add_get(f"{API}/health", health)
    from gridhan.server.admin import routes

    routes.setup(app)
    return app
