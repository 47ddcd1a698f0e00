"""The device's notification listener and its subscriptions (IEEE 2030.5-2018 clause 8.7).

A client subscribes to a resource whose ``subscribable`` attribute allows it by POSTing a Subscription to
the SubscriptionList its EndDevice links, naming a ``notificationURI`` on its own HTTPS listener. The
listener presents the device certificate and requires the server's (mutual TLS, clause 5), takes the
Notifications the server POSTs (``application/sep+xml``), answers 204, and hands each to the client;
status 1 (subscription cancelled), 2 (moved) and 4 (deleted) make the client forget the subscription and
read the resource again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiohttp import web

from gridhan.certs.tls import DEFAULT_CIPHERS, server_context
from gridhan.client.session import SepError, SepSession
from gridhan.schemas.sep2 import CONTENT_TYPE, Notification, Subscription
from gridhan.schemas.xmlcodec import XmlDecodeError, decode

#: Largest notification body the listener reads (a list page of events fits easily).
MAX_NOTIFICATION_BYTES = 1 << 20


@dataclass
class ListenerConfig:
    host: str = "127.0.0.1"
    port: int = 0
    #: the address the server should POST to (defaults to host:port as bound)
    public_host: str | None = None


class NotificationListener:
    """HTTPS listener for one device's notifications; ``on_notification`` is called for each."""

    def __init__(
        self,
        cert: str | os.PathLike[str],
        key: str | os.PathLike[str],
        trust_anchors: Sequence[str | os.PathLike[str]],
        on_notification: Callable[[Notification], None],
        *,
        config: ListenerConfig | None = None,
        ciphers: Sequence[str] = DEFAULT_CIPHERS,
    ) -> None:
        self.config = config or ListenerConfig()
        self.context = server_context(cert, key, trust_anchors=list(trust_anchors), ciphers=ciphers)
        self.on_notification = on_notification
        self.received = 0
        self.refused = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_NOTIFICATION_BYTES)
        app.router.add_post("/ntfy/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port, ssl_context=self.context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def uri(self, name: str) -> str:
        host = self.config.public_host or self.config.host
        return f"https://{host}:{self.port}/ntfy/{name}"

    async def _handle(self, request: web.Request) -> web.Response:
        if request.content_type != CONTENT_TYPE:
            self.refused += 1
            return web.Response(status=415, text=f"Content-Type must be {CONTENT_TYPE}")
        try:
            notification = decode(await request.read(), Notification)
        except XmlDecodeError as exc:
            self.refused += 1
            return web.Response(status=400, text=f"not a Notification: {exc}")
        self.received += 1
        self.on_notification(notification)
        return web.Response(status=204)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class Subscriptions:
    """The subscriptions one device holds: resource href -> subscription href."""

    def __init__(self, session: SepSession, listener: NotificationListener, *, limit: int = 100) -> None:
        self.session = session
        self.listener = listener
        self.limit = limit
        self.held: dict[str, str] = {}
        self.refused: dict[str, str] = {}

    async def ensure(self, subscription_list_href: str, resource_href: str) -> bool:
        """Subscribe to ``resource_href`` unless already subscribed (or refused before)."""
        if resource_href in self.held:
            return True
        if resource_href in self.refused:
            return False
        body = Subscription(
            subscribedResource=resource_href, encoding=0, level="-S1", limit=self.limit,
            notificationURI=self.listener.uri(str(len(self.held) + len(self.refused) + 1)),
        )
        try:
            location = await self.session.post(subscription_list_href, body)
        except SepError as exc:
            self.refused[resource_href] = str(exc)
            return False
        self.held[resource_href] = location or ""
        return True

    def lapsed(self, resource_href: str) -> None:
        """The server ended the subscription (status 1, 2 or 4): it may be asked for again."""
        self.held.pop(resource_href, None)

    async def cancel_all(self) -> None:
        for href in list(self.held.values()):
            if href:
                try:
                    await self.session.delete(href)
                except (TimeoutError, SepError):
                    pass
        self.held.clear()
