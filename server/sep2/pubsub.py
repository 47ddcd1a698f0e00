"""Subscription/Notification function set, utility side (IEEE 2030.5-2018 clause 8.7).

* ``/edev/{e}/sub`` SubscriptionList of an EndDevice (linked by its SubscriptionListLink): GET (ordered by
  href ascending, Table 24), POST a Subscription (201 with Location; a Subscription the EndDevice already
  holds for the same resource and notificationURI is changed instead: 204, Annex C Table C.7).
* ``/edev/{e}/sub/{s}`` Subscription: GET, DELETE (204).

Scoped like every EndDevice resource: a device reaches its own list, an aggregator those of the devices it
manages. A subscription belongs to the EndDevice whose list holds it, and its notifications carry what a GET
of the subscribed resource *by that EndDevice* gives (8.7.3.2), so the POST is checked with that GET too: a
resource the EndDevice cannot see answers like one that does not exist.

A POST is refused (400, nothing stored) when: the body is not a valid Subscription; ``encoding`` is not 0
(application/sep+xml; EXI is not served); ``level`` is not ``-S1`` or ``+S1``; it carries a ``Condition``
(the resources served here are non-conditional, subscribable="1"; sep.xsd Error reasonCode 3); the
subscribedResource is not subscribable, unknown or not visible to the EndDevice; the notificationURI is not
absolute, not https (http only to loopback when the operator allows it) or names a host the operator did not
allow (:mod:`gridhan.server.notify.uris`); the EndDevice holds the most subscriptions the server keeps
(reasonCode 2). Query strings in subscribedResource are ignored (sep.xsd SubscriptionBase).

:func:`render_get` is how notifications are rendered: the route of the 2030.5 application is resolved and its
handler called with a request carrying the subscriber's :class:`~gridhan.server.identity.Principal`, so a
notification can never differ from what that device's GET returns.
"""

from __future__ import annotations

import hashlib
import logging
import re

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from gridhan.schemas.sep2 import Error, Subscription, SubscriptionList
from gridhan.server.context import CONTEXT
from gridhan.server.identity import PRINCIPAL, Principal
from gridhan.server.notify.topics import render_limit, subscribable, subscription_href, subscription_list_href
from gridhan.server.notify.uris import refusal
from gridhan.server.sep2.http import created, no_content, paging, read_resource, xml_response
from gridhan.server.sep2.registry import FunctionSets
from gridhan.server.sep2.scope import device_in_scope
from gridhan.server.store import pubsub as pubsub_store
from gridhan.server.store.tables import EndDeviceRow, SubscriptionRow

log = logging.getLogger("gridhan.sep2")

#: Subscription.level values (schema and extensibility level of the representations, e.g. "+S1").
LEVELS = frozenset({"-S1", "+S1"})
#: sep.xsd Error reasonCode values.
RESOURCE_LIMIT_REACHED = 2
CONDITIONAL_NOT_SUPPORTED = 3
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


def owner_principal(row: EndDeviceRow) -> Principal:
    """The principal a GET by this EndDevice carries (a subscription renders as its EndDevice sees)."""
    return Principal("aggregator" if row.is_aggregator else "device", row.lfdi, row.sfdi, row.id)


async def render_get(app: web.Application, who: Principal, path: str, limit: int) -> web.Response | None:
    """What ``GET path?l=limit`` answers ``who`` in the 2030.5 application ``app``: the response, or None
    when it answers 404 or 403 (the resource does not exist for ``who``). Middlewares are not run: identity
    is ``who``, and errors other than those two propagate."""
    target = f"{path}?l={limit}"
    probe = make_mocked_request("GET", target, app=app)
    match = await app.router.resolve(probe)
    if match.http_exception is not None:
        return None
    request = make_mocked_request("GET", target, app=app, match_info=dict(match))
    request[PRINCIPAL] = who
    try:
        response = await match.handler(request)
    except (web.HTTPNotFound, web.HTTPForbidden):
        return None
    if not isinstance(response, web.Response) or response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status} while rendering a notification")
    return response


def digest(body: bytes) -> str:
    """Fingerprint of a representation: a notification whose resource reads as the last one sent is not
    sent again."""
    return hashlib.sha256(body).hexdigest()


def _refused(reason_code: int, text: str) -> web.Response:
    """A 400 whose body is a sep.xsd Error with ``reason_code``; ``text`` says why, in the log."""
    log.info("POST Subscription -> 400 (Error reasonCode %d): %s", reason_code, text)
    return xml_response(Error(reasonCode=reason_code), status=400)


def _origin(request: web.Request) -> str:
    """scheme://host[:port] the device reached the server at (subscriptionURI SHALL be absolute)."""
    host = request.host
    if not host or not _HOST.fullmatch(host):
        settings = request.app[CONTEXT].settings
        host = f"{settings.host}:{settings.port}"
    return f"https://{host}"


def render_subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        href=subscription_href(row.device_id, row.id),  # type: ignore[arg-type]
        subscribedResource=row.subscribed_resource,
        encoding=row.encoding,
        level=row.level,
        limit=row.item_limit,
        notificationURI=row.notification_uri,
    )


async def get_list(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    device = await device_in_scope(request)
    page = paging(request)
    rows = await pubsub_store.subscriptions_of_device(ctx.store, device.id)  # type: ignore[arg-type]
    items = sorted((render_subscription(r) for r in rows), key=lambda s: s.href or "")  # Table 24: href
    chosen = items[page.start : page.start + page.limit]
    return xml_response(
        SubscriptionList(
            href=subscription_list_href(device.id),  # type: ignore[arg-type]
            all=len(items),
            results=len(chosen),
            Subscription=chosen,
        )
    )


async def get_subscription(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    device = await device_in_scope(request)
    raw = request.match_info["sub"]
    row = await pubsub_store.subscription(ctx.store, device.id, int(raw)) if raw.isdigit() else None  # type: ignore[arg-type]
    if row is None:
        raise web.HTTPNotFound(text="no such Subscription")
    return xml_response(render_subscription(row))


async def delete_subscription(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    device = await device_in_scope(request)
    raw = request.match_info["sub"]
    if not raw.isdigit() or not await pubsub_store.delete_subscription(ctx.store, device.id, int(raw)):  # type: ignore[arg-type]
        raise web.HTTPNotFound(text="no such Subscription")
    return no_content()


def _subscribed_path(value: str) -> str:
    """The path of subscribedResource: a path, or an absolute URI of this server; its query is dropped
    (sep.xsd SubscriptionBase: servers SHALL ignore query string parameters)."""
    text = value.strip()
    if "://" in text:
        text = "/" + text.split("://", 1)[1].partition("/")[2]
    return text.split("?", 1)[0].split("#", 1)[0]


async def post_subscription(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    settings = ctx.settings
    device = await device_in_scope(request)
    body = await read_resource(request, Subscription)
    if body.encoding != 0:
        raise web.HTTPBadRequest(
            text=f"Subscription/encoding: {body.encoding} is not supported; this server sends "
            "0 (application/sep+xml) only"
        )
    if body.level not in LEVELS:
        raise web.HTTPBadRequest(text=f"Subscription/level: {body.level!r} is not supported; use +S1 or -S1")
    if body.Condition is not None:
        return _refused(
            CONDITIONAL_NOT_SUPPORTED,
            "Subscription/Condition: conditional subscriptions are not supported (subscribable=1)",
        )
    path = _subscribed_path(body.subscribedResource)
    found = subscribable(path)
    unknown = f"Subscription/subscribedResource: {path} is not a resource this EndDevice can subscribe to"
    if found is None:
        raise web.HTTPBadRequest(text=unknown)
    entry, topic = found
    current = await render_get(
        request.app, owner_principal(device), path, render_limit(entry, body.limit, settings.max_page_size)
    )
    if current is None:
        raise web.HTTPBadRequest(text=unknown)
    reason = refusal(body.notificationURI, settings.notify_allowed_hosts, settings.notify_allow_http)
    if reason is not None:
        raise web.HTTPBadRequest(text=f"Subscription/notificationURI: {reason}")
    try:
        row, is_new = await pubsub_store.create_subscription(
            ctx.store,
            max_per_device=settings.subscriptions_per_device,
            device_id=device.id,
            subscribed_resource=path,
            topic=topic,
            encoding=body.encoding,
            level=body.level,
            item_limit=body.limit,
            notification_uri=body.notificationURI,
            origin=_origin(request),
            created_time=ctx.now(),
            last_digest=digest(current.body),  # type: ignore[arg-type]
        )
    except pubsub_store.LimitReached as exc:
        return _refused(RESOURCE_LIMIT_REACHED, str(exc))
    location = subscription_href(row.device_id, row.id)  # type: ignore[arg-type]
    if is_new:
        return created(location)
    return web.Response(status=204, headers={"Location": location})


def setup(app: web.Application, fs: FunctionSets) -> None:
    r = app.router
    r.add_get("/edev/{edev}/sub", get_list, allow_head=True)
    r.add_post("/edev/{edev}/sub", post_subscription)
    r.add_get("/edev/{edev}/sub/{sub}", get_subscription, allow_head=True)
    r.add_delete("/edev/{edev}/sub/{sub}", delete_subscription)
    fs.names += ["Subscription", "Notification"]
