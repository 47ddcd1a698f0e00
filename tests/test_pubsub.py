"""Subscription/Notification function set end to end (IEEE 2030.5-2018 clause 8.7), on SQLite and PostgreSQL,
over real mutual TLS both ways: devices subscribe through their EndDevice's SubscriptionList; the server POSTs
Notifications to a device-side listener (an HTTPS server holding a device certificate) when a DER control is
created, when it starts (the event-boundary scheduler on the server's clock), when a program, group or device
changes or goes away. Every sep+xml body the listener receives is checked against the official schemas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from helpers import register
from lxml import etree
from sep_client import AdminClient, SepClient
from test_openapi import DocumentedAdmin

from gridhan.certs.pki import DevelopmentPki
from gridhan.certs.tls import server_context
from gridhan.schemas.clock import ManualClock
from gridhan.schemas.sep2 import (
    CONTENT_TYPE,
    Condition,
    DefaultDERControl,
    DERControlList,
    DERProgram,
    EndDevice,
    Error,
    FunctionSetAssignmentsList,
    Notification,
    Subscription,
    SubscriptionList,
)
from gridhan.schemas.xmlcodec import decode, encode
from gridhan.schemas.xsd import SchemaValidator
from gridhan.server.app import GridhanServer

T0 = 1_800_000_000
#: A Subscription missing its required elements.
MALFORMED = (
    b'<Subscription xmlns="urn:ieee:std:2030.5:ns"><subscribedResource>/edev</subscribedResource></Subscription>'
)
WAIT = 15.0  # seconds a test waits for something before failing (never a timing assertion)


@dataclass
class Received:
    path: str
    notification: Notification


@dataclass
class Listener:
    """A device's notification listener: HTTPS with a device certificate, client certificates required (the
    server's must chain to the SERCA). It answers ``answers`` in turn (then the last one forever)."""

    pki: DevelopmentPki
    name: str
    schemas: list[SchemaValidator]
    answers: list[int] = field(default_factory=lambda: [204])
    received: asyncio.Queue[Received] = field(default_factory=asyncio.Queue)
    attempts: list[str] = field(default_factory=list)
    runner: web.AppRunner | None = None
    port: int = 0

    async def start(self) -> Listener:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        context = server_context(
            self.pki.device_cert_path(self.name),
            self.pki.device_key_path(self.name),
            trust_anchors=[self.pki.trust_anchor_path],
        )
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    async def _handle(self, request: web.Request) -> web.Response:
        assert request.content_type == CONTENT_TYPE
        assert request.transport.get_extra_info("peercert") is not None  # mutual TLS
        body = await request.read()
        assert not body.startswith(b"<?xml")
        for schema in self.schemas:
            errors = schema.errors(etree.fromstring(body))
            assert not errors, f"Notification violates {schema.path.name}: {errors}\n{body.decode()}"
        self.attempts.append(request.path)
        status = self.answers[min(len(self.attempts) - 1, len(self.answers) - 1)]
        if 200 <= status < 300:
            self.received.put_nowait(Received(request.path, decode(body, Notification)))
        return web.Response(status=status)

    async def next(self, path: str | None = None) -> Notification:
        """The next notification received (at ``path``, when given: others received meanwhile are kept)."""
        kept: list[Received] = []
        try:
            while True:
                got = await asyncio.wait_for(self.received.get(), WAIT)
                if path is None or got.path == path:
                    return got.notification
                kept.append(got)
        finally:
            for k in kept:
                self.received.put_nowait(k)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@dataclass
class Env:
    server: GridhanServer
    clock: ManualClock
    admin: DocumentedAdmin
    device: Callable[[str], SepClient]
    listener: Listener
    make_server: Callable[..., Any]


NOTIFY_SETTINGS: dict[str, Any] = {
    "notify_allowed_hosts": ("127.0.0.1",),
    "notify_backoff": 0.05,
    "notify_max_attempts": 3,
}


@pytest.fixture
def env_settings() -> dict[str, Any]:
    """Settings of the ``env`` server beyond NOTIFY_SETTINGS (a test parametrizes it to change them)."""
    return {}


@pytest.fixture
async def env(make_server, pki, optional_sep_schemas, env_settings) -> AsyncIterator[Env]:
    clock = ManualClock(T0)
    server = await make_server(clock=clock, **{**NOTIFY_SETTINGS, **env_settings})
    admin = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    listener = await Listener(pki, "dev1", optional_sep_schemas).start()
    clients: list[SepClient] = []

    def device(name: str) -> SepClient:
        client = SepClient(server.sep2_url, pki, name, optional_sep_schemas)
        clients.append(client)
        return client

    yield Env(server, clock, DocumentedAdmin(admin), device, listener, make_server)
    for client in clients:
        await client.close()
    await listener.stop()
    await admin.close()


async def program_for(env: Env, *device_ids: int) -> tuple[int, int]:
    """A group of these devices with one DERProgram; (group id, program id)."""
    status, group = await env.admin.post("/groups", {"name": f"feeder-{len(device_ids)}-{device_ids[0]}"})
    assert status == 201, group
    status, _ = await env.admin.put(f"/groups/{group['id']}/members", {"device_ids": list(device_ids)})
    assert status in (200, 204)
    status, program = await env.admin.post("/der-programs", {"group_id": group["id"], "primacy": 1})
    assert status == 201, program
    return group["id"], program["id"]


def subscription(resource: str, uri: str, limit: int = 10, **fields: Any) -> Subscription:
    values: dict[str, Any] = {"encoding": 0, "level": "-S1", **fields}
    return Subscription(subscribedResource=resource, limit=limit, notificationURI=uri, **values)


async def subscribe(dev: SepClient, device_id: int, resource: str, uri: str, limit: int = 10) -> str:
    reply = await dev.post(f"/edev/{device_id}/sub", subscription(resource, uri, limit))
    assert reply.status == 201, reply.text
    return reply.headers["Location"]


async def create_control(env: Env, program_id: int, start: int, duration: int = 600) -> dict[str, Any]:
    status, made = await env.admin.post(
        "/der-controls",
        {"program_id": program_id, "start": start, "duration": duration, "base": {"opModMaxLimW": 5000}},
    )
    assert status == 201, made
    return made


async def notifications(env: Env, **query: Any) -> list[dict[str, Any]]:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    status, page = await env.admin.get(f"/notifications?{params}")
    assert status == 200, page
    return page["items"]


async def settled(env: Env) -> bool:
    """No notification is pending (the worker records outcomes after the listener has them)."""
    return await notifications(env, status="pending") == []


async def eventually(check: Callable[[], Any]) -> Any:
    """Wait until ``await check()`` is truthy (a deadline, not a timing assertion)."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        value = await check()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "gave up waiting"
        await asyncio.sleep(0.02)


# -- the function set ----------------------------------------------------------------------------


async def test_control_created_then_started_is_notified(env: Env, sep_schemas):
    dev = env.device("dev1")
    device_id = await register(env.admin.client, dev)
    _, program_id = await program_for(env, device_id)
    derc = await subscribe(dev, device_id, f"/derp/{program_id}/derc", env.listener.url("/note/derc"))
    actderc = await subscribe(dev, device_id, f"/derp/{program_id}/actderc", env.listener.url("/note/act"))
    program_sub = await subscribe(dev, device_id, f"/derp/{program_id}", env.listener.url("/note/derp"), limit=0)
    await subscribe(dev, device_id, f"/derp/{program_id}/derc", env.listener.url("/note/count"), limit=0)

    # the SubscriptionList, linked from the EndDevice with its count, ordered by href
    edev = (await dev.get(f"/edev/{device_id}")).parse(EndDevice)
    assert edev.SubscriptionListLink.href == f"/edev/{device_id}/sub" and edev.SubscriptionListLink.all == 4
    assert edev.subscribable == 1
    listed = (await dev.get(f"/edev/{device_id}/sub?l=10")).parse(SubscriptionList)
    assert len(listed.Subscription) == 4 and [s.href for s in listed.Subscription] == sorted(
        s.href for s in listed.Subscription
    )
    assert {derc, actderc, program_sub} < {s.href for s in listed.Subscription}
    one = (await dev.get(derc)).parse(Subscription)
    assert one.subscribedResource == f"/derp/{program_id}/derc" and one.limit == 10 and one.level == "-S1"
    program = (await dev.get(f"/derp/{program_id}")).parse(DERProgram)
    assert program.subscribable == 1

    made = await create_control(env, program_id, start=T0 + 60)
    note = await env.listener.next("/note/derc")
    assert note.status == 0 and note.subscribedResource == f"/derp/{program_id}/derc"
    assert note.subscriptionURI.startswith("https://") and note.subscriptionURI.endswith(derc)
    assert isinstance(note.Resource, DERControlList) and note.Resource.href == f"/derp/{program_id}/derc"
    (control,) = note.Resource.DERControl
    assert control.mRID == made["mrid"] and control.EventStatus.currentStatus == 0  # scheduled
    # the program's representation changed too (its DERControlListLink all); limit 0: no resource
    note = await env.listener.next("/note/derp")
    assert note.status == 0 and note.Resource is None
    # a list with limit 0: the list with results=0 (a change notice)
    note = await env.listener.next("/note/count")
    assert note.Resource.all == 1 and note.Resource.results == 0
    # the active list did not change: nothing was sent for it
    assert env.listener.attempts.count("/note/act") == 0

    # the event starts on the server's clock: its status and the active list change
    env.clock.set(T0 + 60)
    env.server.context.notify.kick()
    note = await env.listener.next("/note/derc")
    assert note.Resource.DERControl[0].EventStatus.currentStatus == 1  # active
    note = await env.listener.next("/note/act")
    assert [c.mRID for c in note.Resource.DERControl] == [made["mrid"]]

    # the notification is what GET gives that device
    got = (await dev.get(f"/derp/{program_id}/actderc?l=10")).parse(DERControlList)
    assert encode(got) == encode(note.Resource)

    # cancelled: the list and the active list change again
    status, _ = await env.admin.post(f"/der-controls/{made['id']}/cancel", {})
    assert status == 200
    note = await env.listener.next("/note/derc")
    assert note.Resource.DERControl[0].EventStatus.currentStatus == 2
    note = await env.listener.next("/note/act")
    assert note.Resource.all == 0 and note.Resource.DERControl == []

    await eventually(lambda: settled(env))
    delivered = await notifications(env, status="delivered", device=device_id)
    assert delivered and all(n["attempts"] == 1 and n["last_http_status"] == 204 for n in delivered)
    status, subs = await env.admin.get(f"/devices/{device_id}/subscriptions")
    assert status == 200 and subs["total"] == 4
    assert sum(s["notifications"]["delivered"] for s in subs["items"]) == len(delivered)

    # unsubscribe
    assert (await dev.delete(derc)).status == 204
    assert (await dev.get(derc)).status == 404
    assert (await dev.get(f"/edev/{device_id}")).parse(EndDevice).SubscriptionListLink.all == 3


async def test_superseded_control_is_notified_when_the_newer_one_starts(env: Env):
    dev = env.device("dev1")
    device_id = await register(env.admin.client, dev)
    _, program_id = await program_for(env, device_id)
    older = await create_control(env, program_id, start=T0 + 60, duration=600)
    await subscribe(dev, device_id, older["href"], env.listener.url("/older"), limit=1)
    env.clock.set(T0 + 10)
    newer = await create_control(env, program_id, start=T0 + 120, duration=60)  # same mode, created later
    env.clock.set(T0 + 60)
    env.server.context.notify.kick()
    note = await env.listener.next("/older")
    assert note.Resource.mRID == older["mrid"] and note.Resource.EventStatus.currentStatus == 1  # started
    env.clock.set(T0 + 120)
    env.server.context.notify.kick()
    note = await env.listener.next("/older")
    assert note.Resource.EventStatus.currentStatus == 4  # superseded by the newer control at its start
    status, view = await env.admin.get(f"/der-controls/{older['id']}")
    assert status == 200 and view["superseded_by"] == [newer["mrid"]]


async def test_server_killed_before_delivery_delivers_after_restart(env: Env, database_url: str):
    dev = env.device("dev1")
    device_id = await register(env.admin.client, dev)
    _, program_id = await program_for(env, device_id)
    # a second server on the same database that only queues (its worker never delivers) ...
    queuing = await env.make_server(clock=env.clock, notify_deliver=False, **NOTIFY_SETTINGS)
    await env.server.stop()  # ... and the first one is gone
    early = SepClient(queuing.sep2_url, env.listener.pki, "dev1", dev.schemas)
    try:
        await subscribe(early, device_id, f"/derp/{program_id}/derc", env.listener.url("/note/derc"))
    finally:
        await early.close()
    admin = AdminClient(queuing.admin_url, "test-operator-token", env.listener.pki.trust_anchor_path)
    try:
        control = {"program_id": program_id, "start": T0 + 60, "duration": 60, "base": {"opModConnect": True}}
        status, made = await admin.post("/der-controls", control)
        assert status == 201, made
        status, page = await admin.get(f"/notifications?status=pending&device={device_id}")
        assert status == 200 and page["total"] == 1
    finally:
        await admin.close()
    await queuing.stop()  # killed between the commit and any delivery
    assert env.listener.attempts == []

    restarted = await env.make_server(clock=env.clock, **NOTIFY_SETTINGS)
    assert restarted.context.notify is not None
    note = await env.listener.next("/note/derc")
    assert note.Resource.DERControl[0].mRID == made["mrid"]


async def test_refused_subscriptions_store_nothing(env: Env):
    one, two = env.device("dev1"), env.device("dev2")
    id1, id2 = await register(env.admin.client, one), await register(env.admin.client, two)
    _, program_id = await program_for(env, id1)
    good = env.listener.url("/note")
    cases: list[tuple[SepClient, int, bytes | Subscription, int, str]] = [
        # another device's resource, an unknown one, one that is not subscribable
        (two, id2, subscription(f"/derp/{program_id}/derc", good), 400, "subscribedResource"),
        (one, id1, subscription("/derp/999/derc", good), 400, "subscribedResource"),
        (one, id1, subscription(f"/edev/{id2}", good), 400, "subscribedResource"),
        (one, id1, subscription("/tm", good), 400, "subscribedResource"),
        (one, id1, subscription(f"/edev/{id1}/der/1/derp", good), 400, "subscribedResource"),
        # another device's SubscriptionList answers like a missing one
        (one, id2, subscription(f"/edev/{id2}", good), 404, "EndDevice"),
        # notificationURI: a host the operator did not allow, relative, plain http, another scheme
        (one, id1, subscription(f"/derp/{program_id}/derc", "https://10.9.8.7/note"), 400, "notificationURI"),
        (one, id1, subscription(f"/derp/{program_id}/derc", "/note"), 400, "notificationURI"),
        (one, id1, subscription(f"/derp/{program_id}/derc", good.replace("https", "http")), 400, "notificationURI"),
        (one, id1, subscription(f"/derp/{program_id}/derc", "ftp://127.0.0.1/x"), 400, "notificationURI"),
        # EXI, an unknown level, a malformed document
        (one, id1, subscription(f"/derp/{program_id}/derc", good, encoding=1), 400, "encoding"),
        (one, id1, subscription(f"/derp/{program_id}/derc", good, level="+S2"), 400, "level"),
        (one, id1, MALFORMED, 400, "Subscription"),
    ]
    for client, device_id, body, status, word in cases:
        reply = await client.post(f"/edev/{device_id}/sub", body)
        assert reply.status == status, (body, reply.status, reply.text)
        assert word in reply.text, reply.text
    # a Condition: Error reasonCode 3 (conditional subscriptions not supported)
    conditional = subscription(
        f"/derp/{program_id}/derc", good, Condition=Condition(attributeIdentifier=0, lowerThreshold=1, upperThreshold=9)
    )
    reply = await one.post(f"/edev/{id1}/sub", conditional)
    assert reply.status == 400 and decode(reply.body, Error).reasonCode == 3
    for device_id in (id1, id2):
        status, page = await env.admin.get(f"/devices/{device_id}/subscriptions")
        assert status == 200 and page["total"] == 0
        assert (await one.get(f"/edev/{id1}/sub")).parse(SubscriptionList).all == 0
    # the same subscription twice is one subscription (Annex C: modified, 204)
    first = await subscribe(one, id1, f"/derp/{program_id}/derc?l=5", good)
    again = await one.post(f"/edev/{id1}/sub", subscription(f"/derp/{program_id}/derc", good, limit=3))
    assert again.status == 204 and again.headers["Location"] == first
    assert (await one.get(first)).parse(Subscription).limit == 3
    assert (await one.get(first)).parse(Subscription).subscribedResource == f"/derp/{program_id}/derc"


async def test_failing_listener_gets_retries_then_the_notification_fails(env: Env):
    env.listener.answers = [500, 503, 500]
    dev = env.device("dev1")
    device_id = await register(env.admin.client, dev)
    _, program_id = await program_for(env, device_id)
    await subscribe(dev, device_id, f"/derp/{program_id}/derc", env.listener.url("/note"))
    await create_control(env, program_id, start=T0 + 600)

    async def failed() -> list[dict[str, Any]]:
        return await notifications(env, status="failed", device=device_id)

    (row,) = await eventually(failed)
    assert row["attempts"] == 3 and row["last_http_status"] == 500 and row["next_attempt_at"] is None
    assert env.listener.attempts == ["/note"] * 3
    assert await notifications(env, status="pending") == []


async def test_gone_listener_cancels_the_subscription(env: Env):
    env.listener.answers = [410]
    dev = env.device("dev1")
    device_id = await register(env.admin.client, dev)
    _, program_id = await program_for(env, device_id)
    location = await subscribe(dev, device_id, f"/derp/{program_id}/derc", env.listener.url("/gone"))
    await create_control(env, program_id, start=T0 + 600)

    async def failed() -> list[dict[str, Any]]:
        return await notifications(env, status="failed")

    (row,) = await eventually(failed)
    assert row["attempts"] == 1 and row["last_http_status"] == 410
    assert (await dev.get(location)).status == 404


async def test_deleted_resources_end_their_subscriptions(env: Env):
    one, agg, managed = env.device("dev1"), env.device("agg1"), env.device("dev3")
    id1 = await register(env.admin.client, one)
    status, aggregator = await env.admin.post("/aggregators", {"lfdi": agg.lfdi})
    assert status == 201, aggregator
    id3 = await register(env.admin.client, managed, aggregator_id=aggregator["id"])
    group_id, program_id = await program_for(env, id1, id3)
    url = env.listener.url
    await subscribe(one, id1, f"/edev/{id1}/fsa", url("/fsa"))
    status, _ = await env.admin.put(
        f"/der-programs/{program_id}/default-control", {"DERControlBase": {"opModConnect": True}}
    )
    assert status == 200
    # the aggregator subscribes in its own list to its managed device and to the group's programs
    await subscribe(agg, aggregator["id"], f"/edev/{id3}", url("/agg/edev"))
    await subscribe(agg, aggregator["id"], f"/edev/{id3}/fsa/{group_id}/derp", url("/agg/derp"))
    dderc = await subscribe(one, id1, f"/derp/{program_id}/dderc", url("/dderc"), limit=1)

    # a DefaultDERControl change reaches its subscribers with the new representation
    status, _ = await env.admin.put(
        f"/der-programs/{program_id}/default-control", {"DERControlBase": {"opModConnect": False}}
    )
    assert status == 200
    note = await env.listener.next("/dderc")
    assert isinstance(note.Resource, DefaultDERControl) and note.Resource.DERControlBase.opModConnect is False

    # dev1 leaves the group: its FunctionSetAssignmentsList changes, the default control is out of its sight
    status, _ = await env.admin.put(f"/groups/{group_id}/members", {"device_ids": [id3]})
    assert status in (200, 204)
    note = await env.listener.next("/fsa")
    assert isinstance(note.Resource, FunctionSetAssignmentsList) and note.Resource.all == 0
    note = await env.listener.next("/dderc")
    assert note.status == 4 and note.Resource is None
    assert (await one.get(dderc)).status == 404

    # the program is deleted: the aggregator's DERProgramList subscription hears the list shrink
    status, _ = await env.admin.delete(f"/der-programs/{program_id}")
    assert status == 204
    note = await env.listener.next("/agg/derp")
    assert note.status == 0 and note.Resource.all == 0

    # the managed EndDevice is deleted: the aggregator's subscription to it ends with status 4
    status, _ = await env.admin.delete(f"/devices/{id3}")
    assert status == 204
    note = await env.listener.next("/agg/edev")
    assert note.status == 4 and note.subscribedResource == f"/edev/{id3}"
    note = await env.listener.next("/agg/derp")
    assert note.status == 4
    listed = (await agg.get(f"/edev/{aggregator['id']}/sub?l=10")).parse(SubscriptionList)
    assert listed.all == 0

    # dev1 itself is deleted: its subscription to its own FunctionSetAssignmentsList ends with status 4
    status, _ = await env.admin.delete(f"/devices/{id1}")
    assert status == 204
    note = await env.listener.next("/fsa")
    assert note.status == 4  # it was subscribed below /edev/{id1}
    await eventually(lambda: settled(env))
    gone = await notifications(env, device=id1)
    assert {n["notification_status"] for n in gone} >= {0, 4}


@pytest.mark.parametrize(
    ("uri", "allowed", "allow_http", "refused"),
    [
        ("https://127.0.0.1:8443/note", ("127.0.0.1",), False, None),
        ("https://10.1.2.3/note", ("10.0.0.0/8",), False, None),
        ("https://[fd00::5]/note", ("fd00::/8",), False, None),
        ("https://der-7.site.example/n", ("*.site.example",), False, None),
        ("https://anything.example/n", ("*",), False, None),
        ("https://site.example/n", ("*.site.example",), False, "not one this server sends notifications to"),
        ("https://10.1.2.3/note", (), False, "not one this server sends notifications to"),
        ("https://evil.example/n", ("10.0.0.0/8",), False, "not one this server sends notifications to"),
        ("/note", ("*",), False, "absolute"),
        ("note", ("*",), False, "absolute"),
        ("http://127.0.0.1/note", ("*",), False, "plain http"),
        ("http://127.0.0.1/note", ("*",), True, None),
        ("http://192.168.1.9/note", ("*",), True, "loopback"),
        ("ftp://127.0.0.1/note", ("*",), False, "scheme"),
        ("https://user:pw@127.0.0.1/note", ("*",), False, "credentials"),
    ],
)
def test_notification_uri_rules(uri: str, allowed: tuple[str, ...], allow_http: bool, refused: str | None):
    from gridhan.server.notify.uris import refusal

    reason = refusal(uri, allowed, allow_http)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and refused in reason


# -- the operator's hand on subscriptions and the outbox -------------------------------------------------


async def test_operator_retries_a_failed_notification_and_ends_a_subscription(env: Env):
    env.listener.answers = [400, 204]  # refused for good once, then accepted
    dev = env.device("dev1")
    device_id = await register(env.admin.client, dev)
    _, program_id = await program_for(env, device_id)
    location = await subscribe(dev, device_id, f"/derp/{program_id}/derc", env.listener.url("/note"))
    made = await create_control(env, program_id, start=T0 + 600)

    async def failed() -> list[dict[str, Any]]:
        return await notifications(env, status="failed", device=device_id)

    (row,) = await eventually(failed)
    assert row["attempts"] == 1 and row["last_http_status"] == 400
    status, retried = await env.admin.post(f"/notifications/{row['id']}/retry", {})
    assert status == 200 and retried["status"] == "pending" and retried["attempts"] == 0
    assert retried["next_attempt_at"] is not None
    note = await env.listener.next("/note")
    assert note.status == 0 and note.Resource.DERControl[0].mRID == made["mrid"]

    async def delivered() -> list[dict[str, Any]]:
        return await notifications(env, status="delivered", device=device_id)

    (row,) = await eventually(delivered)
    assert row["attempts"] == 1 and row["last_http_status"] == 204
    # only a failed notification goes back: a delivered one conflicts, an unknown one is not found
    for path, expected in ((f"/notifications/{row['id']}/retry", 409), ("/notifications/2147483647/retry", 404)):
        status, body = await env.admin.post(path, {})
        assert status == expected, body

    # the operator ends the subscription: the device is told (status 1) and the subscription is gone
    status, subs = await env.admin.get(f"/devices/{device_id}/subscriptions")
    assert status == 200 and [s["href"] for s in subs["items"]] == [location]
    status, _ = await env.admin.delete(f"/subscriptions/{subs['items'][0]['id']}")
    assert status == 204
    note = await env.listener.next("/note")
    assert note.status == 1 and note.Resource is None and note.subscribedResource == f"/derp/{program_id}/derc"
    assert note.subscriptionURI.endswith(location)
    assert (await dev.get(location)).status == 404
    assert (await dev.get(f"/edev/{device_id}")).parse(EndDevice).SubscriptionListLink.all == 0
    status, body = await env.admin.delete(f"/subscriptions/{subs['items'][0]['id']}")
    assert status == 404, body
    await eventually(lambda: settled(env))
    newest = (await notifications(env, device=device_id))[0]
    assert (newest["notification_status"], newest["status"], newest["subscription_id"]) == (1, "delivered", None)


@pytest.mark.parametrize("env_settings", [{"notify_retention": 0.3}])
async def test_settled_notifications_are_pruned_after_the_retention(env: Env):
    from sqlalchemy import func, insert, select

    from gridhan.server.store import pubsub as pubsub_store
    from gridhan.server.store.tables import NotificationRow

    env.listener.answers = [204, 400]  # the first delivered, the next failed
    dev = env.device("dev1")
    device_id = await register(env.admin.client, dev)
    _, program_id = await program_for(env, device_id)
    await subscribe(dev, device_id, f"/derp/{program_id}/derc", env.listener.url("/note"))
    store = env.server.context.store
    wall = store.outbox.wall_clock  # the clock of the outbox's times
    # a pending notification held by another live worker, due long ago: never pruned
    async with store.engine.begin() as conn:
        held = {
            "device_id": device_id,
            "subscribed_resource": f"/derp/{program_id}/derc",
            "subscription_uri": "https://127.0.0.1/x",
            "notification_uri": env.listener.url("/held"),
            "item_limit": 1,
            "status": 0,
            "state": "pending",
            "attempts": 0,
            "enqueued_at": 0.0,
            "next_attempt_at": 0.0,
            "claimed_by": "another-worker",
            "claim_expires_at": wall() + 3600,
        }
        await conn.execute(insert(NotificationRow), [held])
    await create_control(env, program_id, start=T0 + 600)
    await env.listener.next("/note")
    await create_control(env, program_id, start=T0 + 1200)

    async def pruned() -> bool:
        # both were settled (delivered, then failed on the 400) and then pruned; the held one stays
        env.server.context.notify.kick()  # look at once rather than after notify_poll_interval
        states = [n["status"] for n in await notifications(env, device=device_id)]
        return env.listener.attempts == ["/note", "/note"] and states == ["pending"]

    await eventually(pruned)

    # one statement deletes a bounded batch, and only rows older than the cutoff
    now = wall()
    async with store.engine.begin() as conn:
        fresh = {**held, "state": "delivered", "claimed_by": None, "claim_expires_at": None, "next_attempt_at": now}
        await conn.execute(insert(NotificationRow), [fresh] * 3 + [{**fresh, "next_attempt_at": now + 60}])
    assert [await pubsub_store.prune_notifications(store, now + 1, 2) for _ in range(3)] == [2, 1, 0]
    async with store.engine.connect() as conn:
        left = await conn.execute(select(NotificationRow.state, func.count()).group_by(NotificationRow.state))
        assert dict(left.all()) == {"pending": 1, "delivered": 1}
