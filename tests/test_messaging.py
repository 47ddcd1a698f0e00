"""Messaging function set end to end (IEEE 2030.5-2018 clause 10.6): the operator publishes a message once
in several languages; devices find it from DeviceCapability (public) or their FunctionSetAssignments
(targeted) over mutual TLS, in their customer's locale; its EventStatus and the ActiveTextMessageList
follow the controlled clock; TextResponses are tallied; messages are kept at least 24 hours."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from helpers import register
from sep_client import AdminClient, SepClient
from test_openapi import DocumentedAdmin

from gridhan.schemas.clock import ManualClock
from gridhan.schemas.sep2 import (
    DeviceCapability,
    EndDevice,
    FunctionSetAssignmentsList,
    MessagingProgram,
    MessagingProgramList,
    TextMessage,
    TextMessageList,
)
from gridhan.schemas.sep2.response import TextResponse
from gridhan.server.settings import Settings, SettingsError

T0 = 1_800_000_000
DAY = 86400


@dataclass
class Env:
    server: object
    clock: ManualClock
    admin: DocumentedAdmin
    device: Callable[[str], SepClient]


@pytest.fixture
async def env(make_server, pki, optional_sep_schemas) -> AsyncIterator[Env]:
    clock = ManualClock(T0)
    server = await make_server(clock=clock)
    client = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    clients: list[SepClient] = []

    def device(name: str) -> SepClient:
        c = SepClient(server.sep2_url, pki, name, optional_sep_schemas)
        clients.append(c)
        return c

    yield Env(server, clock, DocumentedAdmin(client), device)
    for c in clients:
        await c.close()
    await client.close()


async def public_programs(dev: SepClient) -> list[MessagingProgram]:
    """The discovery walk: DeviceCapability -> MessagingProgramList."""
    dcap = (await dev.get("/dcap")).parse(DeviceCapability)
    link = dcap.MessagingProgramListLink
    listed = (await dev.get(link.href + "?l=20")).parse(MessagingProgramList)
    assert listed.all == link.all == len(listed.MessagingProgram)
    assert listed.pollRate == 120  # message_poll_rate: a new message reaches a polling device within 2 minutes
    return listed.MessagingProgram


async def texts(dev: SepClient, program: MessagingProgram, active: bool = False) -> list[TextMessage]:
    link = program.ActiveTextMessageListLink if active else program.TextMessageListLink
    return (await dev.get(link.href + "?l=20")).parse(TextMessageList).TextMessage


async def publish(env: Env, **body: object) -> dict:
    status, made = await env.admin.post("/messages", {"priority": "normal", "duration": 3600, **body})
    assert status == 201, made
    return made


async def test_public_message_in_several_locales_read_by_every_device(env: Env):
    one, two, three = env.device("dev1"), env.device("dev2"), env.device("dev3")
    ids = [await register(env.admin, d) for d in (one, two, three)]
    status, body = await env.admin.put(f"/devices/{ids[1]}/locale", {"locale": "fr-ca"})
    assert status == 200 and body["locale"] == "fr-CA"  # canonical case
    made = await publish(
        env,
        texts={"en-US": "Planned outage 22:00-23:00", "fr-CA": "Coupure prévue 22h-23h", "es-MX": "Corte 22-23h"},
        priority="high",
        originator="Gridhan Utility",
        start=T0 + 60,
        response_required="01",
    )
    assert made["public"] and made["priority"] == 2 and made["status"]["name"] == "scheduled"
    by_locale = {t["locale"]: t for t in made["texts"]}
    assert sorted(by_locale) == ["en-US", "es-MX", "fr-CA"]

    # no preferred locale: every locale's program, ordered by mRID descending (Table 44)
    programs = await public_programs(one)
    assert sorted(p.locale for p in programs) == ["en-US", "es-MX", "fr-CA"]
    assert [p.mRID for p in programs] == sorted((p.mRID for p in programs), reverse=True)
    # a French-Canadian customer: its locale's program and the default locale's, not the others
    programs_fr = await public_programs(two)
    assert sorted(p.locale for p in programs_fr) == ["en-US", "fr-CA"]
    fr = next(p for p in programs_fr if p.locale == "fr-CA")
    (text,) = await texts(two, fr)
    assert text.textMessage == "Coupure prévue 22h-23h" and text.mRID == by_locale["fr-CA"]["mrid"]
    assert (text.priority, text.originator) == (2, "Gridhan Utility")
    assert (text.interval.start, text.interval.duration) == (T0 + 60, 3600)
    assert text.replyTo == "/rsps/4/rsp" and text.responseRequired == "01"
    assert text.EventStatus.currentStatus == 0
    # every program stays readable by its href; the Spanish one is only left out of dev2's list
    es = next(p for p in programs if p.locale == "es-MX")
    assert (await two.get(es.href)).parse(MessagingProgram).locale == "es-MX"
    # the third device reads the public message too
    (en,) = [p for p in await public_programs(three) if p.locale == "en-US"]
    assert [t.textMessage for t in await texts(three, en)] == ["Planned outage 22:00-23:00"]
    got = (await three.get(by_locale["en-US"]["href"])).parse(TextMessage)
    assert got.mRID == by_locale["en-US"]["mrid"]
    # a second message in English only goes into the existing English program
    await publish(env, texts={"en-us": "Second"}, start=T0 + 30)
    assert sorted(p.locale for p in await public_programs(one)) == ["en-US", "es-MX", "fr-CA"]
    assert [t.textMessage for t in await texts(one, en)] == ["Second", "Planned outage 22:00-23:00"]


async def test_targeted_message_is_invisible_outside_its_group(env: Env):
    inside, outside, agg = env.device("dev1"), env.device("dev2"), env.device("agg1")
    id_in, id_out = await register(env.admin, inside), await register(env.admin, outside)
    status, group = await env.admin.post("/groups", {"name": "feeder-7"})
    assert status == 201
    assert (await env.admin.put(f"/groups/{group['id']}/members", {"device_ids": [id_in]}))[0] == 200
    status, agg_dev = await env.admin.post("/aggregators", {"lfdi": agg.lfdi})
    assert status == 201
    assert (await env.admin.put(f"/aggregators/{agg_dev['id']}/devices", {"device_ids": [id_in]}))[0] == 200
    made = await publish(env, texts={"en-US": "Feeder 7 maintenance"}, group_id=group["id"], priority=3)
    (text,) = made["texts"]

    edev = (await inside.get(f"/edev/{id_in}")).parse(EndDevice)
    fsal = (await inside.get(edev.FunctionSetAssignmentsListLink.href + "?l=5")).parse(FunctionSetAssignmentsList)
    (fsa,) = fsal.FunctionSetAssignments
    listed = (await inside.get(fsa.MessagingProgramListLink.href + "?l=5")).parse(MessagingProgramList)
    (program,) = listed.MessagingProgram
    assert [t.textMessage for t in await texts(inside, program)] == ["Feeder 7 maintenance"]
    assert (await texts(inside, program))[0].priority == 3
    # the aggregator of a group member reads it too
    assert (await agg.get(text["href"])).parse(TextMessage).mRID == text["mrid"]
    # outside the group: 404 exactly as for a program that does not exist, and not in the public list
    missing = await outside.get("/msg/99999")
    for href in (program.href, program.TextMessageListLink.href, program.ActiveTextMessageListLink.href, text["href"]):
        reply = await outside.get(href)
        assert (reply.status, reply.text) == (404, missing.text)
    assert await public_programs(outside) == []
    assert (await outside.get(f"/edev/{id_in}/fsa/{group['id']}/msg")).status == 404
    assert (await outside.get(f"/edev/{id_out}/fsa")).parse(FunctionSetAssignmentsList).all == 0


async def test_event_status_and_active_list_follow_the_clock(env: Env):
    dev = env.device("dev1")
    await register(env.admin, dev)
    first = await publish(env, texts={"en-US": "first"}, start=T0 + 60, duration=600, priority="low")
    second = await publish(env, texts={"en-US": "second"}, start=T0 + 300, duration=600, priority="critical")
    (program,) = await public_programs(dev)

    assert await texts(dev, program, active=True) == []
    env.clock.set(T0 + 100)
    (active,) = await texts(dev, program, active=True)
    assert active.textMessage == "first" and active.EventStatus.currentStatus == 1
    assert active.EventStatus.dateTime == T0 + 60 and active.priority == 0
    env.clock.set(T0 + 400)
    active = await texts(dev, program, active=True)
    # both shown: messages never supersede each other; ordered by start ascending
    assert [(t.textMessage, t.priority) for t in active] == [("first", 0), ("second", 3)]
    assert all(t.EventStatus.currentStatus == 1 for t in active)
    program = (await dev.get(program.href)).parse(MessagingProgram)
    assert program.ActiveTextMessageListLink.all == 2
    env.clock.set(T0 + 700)
    assert [t.textMessage for t in await texts(dev, program, active=True)] == ["second"]
    env.clock.set(T0 + 750)
    status, cancelled = await env.admin.post(f"/messages/{second['id']}/cancel")
    assert status == 200 and cancelled["status"]["name"] == "cancelled"
    assert await texts(dev, program, active=True) == []
    by_text = {t.textMessage: t for t in await texts(dev, program)}
    assert by_text["second"].EventStatus.currentStatus == 2 and by_text["second"].EventStatus.dateTime == T0 + 750
    assert (await env.admin.get(f"/messages/{first['id']}"))[1]["status"]["name"] == "active"


async def test_messages_are_kept_at_least_a_day_then_pruned(env: Env):
    dev = env.device("dev1")
    await register(env.admin, dev)
    made = await publish(env, texts={"en-US": "short"}, start=T0, duration=60)
    cancelled = await publish(env, texts={"en-US": "cancelled early"}, start=T0 + 3600, duration=7200)
    env.clock.set(T0 + 100)
    assert (await env.admin.post(f"/messages/{cancelled['id']}/cancel"))[0] == 200
    href = made["texts"][0]["href"]
    env.clock.set(T0 + 60 + DAY)  # exactly a day after its end: still kept
    status, pruned = await env.admin.post("/messages/prune")
    assert status == 200 and pruned == {"deleted": 0, "cutoff": T0 + 60}
    assert (await dev.get(href)).status == 200
    env.clock.set(T0 + 61 + DAY)
    status, pruned = await env.admin.post("/messages/prune")
    assert pruned["deleted"] == 1
    assert (await dev.get(href)).status == 404
    assert (await env.admin.get(f"/messages/{made['id']}"))[0] == 404
    # a cancelled message's retention runs from its cancellation, not from its scheduled end
    env.clock.set(T0 + 100 + DAY)
    assert (await env.admin.post("/messages/prune"))[1]["deleted"] == 0
    env.clock.set(T0 + 101 + DAY)
    assert (await env.admin.post("/messages/prune"))[1]["deleted"] == 1
    assert (await env.admin.get("/messages"))[1]["total"] == 0


def test_retention_cannot_be_set_below_a_day():
    with pytest.raises(SettingsError, match="message_retention"):
        Settings().replace(message_retention=3600)
    assert Settings().message_retention == DAY


async def test_text_responses_are_tallied(env: Env):
    one, two = env.device("dev1"), env.device("dev2")
    id1, id2 = await register(env.admin, one), await register(env.admin, two)
    made = await publish(env, texts={"en-US": "Please confirm"}, response_required="03")
    (text,) = made["texts"]
    for status in (1, 11):  # received, then user acknowledgement
        reply = await one.post(
            "/rsps/4/rsp", TextResponse(endDeviceLFDI=one.lfdi, subject=text["mrid"], status=status, createdDateTime=T0)
        )
        assert reply.status == 201, reply.text
    status, tally = await env.admin.get(text["responses"].removeprefix("/api/v1"))
    assert status == 200, tally
    assert tally["tally"] == {"11": 1}  # one device, counted by its latest status
    assert tally["devices"][0]["device_id"] == id1 and tally["devices"][0]["statuses"] == [1, 11]
    assert tally["event"]["function_set"] == "Messaging" and tally["event"]["targeted"] == 2
    assert tally["never_responded"] == [id2]  # a public message addresses every device
    # a response about a message of another group is refused like an unknown subject
    status, group = await env.admin.post("/groups", {"name": "only-two"})
    await env.admin.put(f"/groups/{group['id']}/members", {"device_ids": [id2]})
    other = await publish(env, texts={"en-US": "for two"}, group_id=group["id"], response_required="01")
    reply = await one.post(
        "/rsps/4/rsp", TextResponse(endDeviceLFDI=one.lfdi, subject=other["texts"][0]["mrid"], status=1)
    )
    assert reply.status == 400 and "subject" in reply.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"texts": {"en-US": "x" * 1001}}, "texts.en-US: 1001 characters is longer than the 1000 allowed"),
        ({"texts": {"en-US": "é" * 501}}, "texts.en-US: 1002 bytes of UTF-8 is longer than the 1000 allowed"),
        ({"originator": "x" * 21}, "originator: 21 characters is longer than the 20 allowed"),
        ({"priority": "urgent"}, "priority: 'urgent' is not a priority"),
        ({"priority": 4}, "priority: 4 is out of range (0..3)"),
        ({"duration": None, "start": T0 + 600, "end": T0 + 300}, "end: 1800000300 is not after start"),
        ({"texts": {"english!": "hi"}}, "'english!' is not a locale tag"),
        ({"texts": {"en-US": "a", "en-us": "b"}}, "locale en-US is given twice"),
        ({"texts": {}}, "texts: must be an object of at least one locale"),
        ({"group_id": 999}, "group_id: no group with id 999"),
        ({"start": T0 - 7200}, "would end before it is published"),
    ],
)
async def test_bad_messages_are_refused_and_store_nothing(env: Env, change, message):
    body = {"texts": {"en-US": "hello", "fr-CA": "bonjour"}, "priority": 1, "duration": 3600, **change}
    body = {k: v for k, v in body.items() if v is not None}
    status, reply = await env.admin.post("/messages", body)
    assert status == 400 and message in reply["error"], reply
    assert (await env.admin.get("/messages"))[1]["total"] == 0
    dev = env.device("dev1")
    await register(env.admin, dev)
    assert await public_programs(dev) == []  # no program was made on the way


async def test_device_locale_admin(env: Env):
    dev = env.device("dev1")
    device_id = await register(env.admin, dev)
    assert (await env.admin.get(f"/devices/{device_id}/locale"))[1] == {"device_id": device_id, "locale": None}
    status, reply = await env.admin.put(f"/devices/{device_id}/locale", {"locale": "French"})
    assert status == 400 and "locale" in reply["error"]
    assert (await env.admin.put("/devices/9999/locale", {"locale": "fr-CA"}))[0] == 404
    assert (await env.admin.put(f"/devices/{device_id}/locale", {"locale": "zh-hant-tw"}))[1]["locale"] == "zh-Hant-TW"
    assert (await env.admin.delete(f"/devices/{device_id}/locale"))[0] == 204
    assert (await env.admin.get(f"/devices/{device_id}/locale"))[1]["locale"] is None
