"""Messaging function set, utility side (IEEE 2030.5-2018 clause 10.6).

* ``/msg``: MessagingProgramList of the public programs (no group: every registered device reads them),
  linked from DeviceCapability.
* ``/edev/{e}/fsa/{g}/msg``: MessagingProgramList of a group's programs, linked from the group's
  FunctionSetAssignments. A group's program is visible to the group's devices (and their aggregator)
  only; to anyone else it answers 404, exactly like a missing one.
* ``/msg/{m}`` MessagingProgram; ``/msg/{m}/txt`` TextMessageList, ``/msg/{m}/txt/{t}`` TextMessage,
  ``/msg/{m}/acttxt`` ActiveTextMessageList.

Locales. MessagingProgram.locale gives the language and region of the messages it holds (sep.xsd), and
there is one program per locale (for the public, or for a group): the utility publishes a message once
with its text in several locales and each locale's TextMessage goes into that locale's program. A device
whose preferred locale the operator set (admin API) is listed the programs of its locale and of the
server's default locale (``message_default_locale``), so a message published only in the default
language still reaches it; a device with no preference (and an aggregator) is listed every program and
chooses by ``locale`` itself. Every program stays readable by its href: the filter shortens the list,
it hides nothing.

Ordering (Table 44): MessagingPrograms by mRID descending; TextMessages and the ActiveTextMessageList by
interval.start ascending, creationTime descending, mRID descending.

EventStatus is computed at read time by :mod:`gridhan.schemas.event_rules` (clause 10.2.3). Clause 10.6
gives TextMessages no superseding rule: several messages are shown side by side (the priority tells a
small display which to bring forward), so each TextMessage is its own pseudo-mode and none supersedes
another. The ActiveTextMessageList holds the messages Active now (10.2.2). A message with
responseRequired carries replyTo ``/rsps/4/rsp`` (the Messaging ResponseSet); TextResponses about it are
accepted from the devices it addresses.

Retention: a message stays readable for ``message_retention`` seconds (at least 24 hours) after its end
(or its cancellation, if earlier); a task of the application prunes older ones every
``message_prune_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from gridhan.schemas.event_rules import EventSpec, Status, active_controls, event_statuses
from gridhan.schemas.sep2 import (
    DateTimeInterval,
    EventStatus,
    ListLink,
    MessagingProgram,
    MessagingProgramList,
    TextMessage,
    TextMessageList,
)
from gridhan.server.context import CONTEXT, AppContext
from gridhan.server.identity import Principal
from gridhan.server.sep2.http import paging, xml_response
from gridhan.server.sep2.registry import EventRef, FunctionSets
from gridhan.server.sep2.response import MESSAGING_REPLY_TO
from gridhan.server.sep2.scope import group_in_scope, require_registered, visible_device_ids
from gridhan.server.store import messaging as msg_store
from gridhan.server.store.tables import DeviceGroupRow, DeviceLocaleRow, MessageRow, MessagingProgramRow, TextMessageRow

log = logging.getLogger("gridhan.sep2.messaging")

PUBLIC_LIST = "/msg"
#: Retention may not be set below a day (the utility's use case: messages kept at least 24 hours).
MIN_RETENTION = 86400
PRUNER = web.AppKey("gridhan_message_pruner", asyncio.Task)


def program_href(program_id: int) -> str:
    return f"{PUBLIC_LIST}/{program_id}"


def text_href(program_id: int, text_id: int) -> str:
    return f"{PUBLIC_LIST}/{program_id}/txt/{text_id}"


# -- event rules ------------------------------------------------------------------------------------


def event_spec(text: TextMessageRow, message: MessageRow, program: MessagingProgramRow) -> EventSpec:
    return EventSpec(
        mrid=text.mrid,
        program=program.mrid,
        primacy=program.primacy,
        creation_time=message.creation_time,
        start=message.start,
        duration=message.duration,
        modes=frozenset({text.mrid}),  # messages never supersede one another
        cancelled_at=message.cancelled_time,
    )


Pair = tuple[TextMessageRow, MessageRow]


def statuses(rows: list[Pair], program: MessagingProgramRow, now: int) -> dict[str, Status]:
    specs = [event_spec(t, m, program) for t, m in rows]
    return event_statuses(specs, now)


def sort_texts(rows: list[Pair]) -> None:
    """Table 44: interval.start ascending, creationTime descending, mRID descending."""
    rows.sort(key=lambda p: p[0].mrid, reverse=True)
    rows.sort(key=lambda p: (p[1].start, -p[1].creation_time))


def active_rows(rows: list[Pair], program: MessagingProgramRow, now: int) -> list[Pair]:
    by_mrid = {t.mrid: (t, m) for t, m in rows}
    return [by_mrid[s.mrid] for s in active_controls([event_spec(t, m, program) for t, m in rows], now)]


def render_text(text: TextMessageRow, message: MessageRow, status: Status) -> TextMessage:
    return TextMessage(
        href=text_href(text.program_id, text.id),  # type: ignore[arg-type]
        replyTo=MESSAGING_REPLY_TO if message.response_required else None,
        responseRequired=message.response_required,
        mRID=text.mrid,
        description=message.description,
        version=message.version,
        subscribable=0,
        creationTime=message.creation_time,
        EventStatus=EventStatus(
            currentStatus=int(status.current_status),
            dateTime=status.date_time,
            potentiallySuperseded=status.potentially_superseded,
            potentiallySupersededTime=status.potentially_superseded_time,
        ),
        interval=DateTimeInterval(duration=message.duration, start=message.start),
        originator=message.originator,
        priority=message.priority,
        textMessage=text.text,
    )


async def _texts(ctx: AppContext, program: MessagingProgramRow) -> list[Pair]:
    """The program's TextMessages a device can see now (created by now)."""
    now = ctx.now()
    return [p for p in await msg_store.texts_of_program(ctx.store, program.id) if p[1].creation_time <= now]  # type: ignore[arg-type]


# -- scoping and locales ----------------------------------------------------------------------------


async def _visible_groups(request: web.Request) -> list[int]:
    require_registered(request)
    return await msg_store.group_ids_of(request.app[CONTEXT].store, await visible_device_ids(request))


async def program_in_scope(request: web.Request) -> MessagingProgramRow:
    """The ``{msg}`` program if the caller may read it: public ones by every registered client, a group's
    by the group's devices and their aggregator; 404 otherwise, as for a missing one."""
    require_registered(request)
    raw = request.match_info["msg"]
    row = await msg_store.program(request.app[CONTEXT].store, int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if row is None or (row.group_id is not None and row.group_id not in await _visible_groups(request)):
        raise web.HTTPNotFound(text="no such MessagingProgram")
    return row


async def locales_for(ctx: AppContext, device_id: int | None) -> list[str] | None:
    """The locales a device is listed programs of: its preferred one and the default; None (every locale)
    when it has no preference or the caller is not one device."""
    if device_id is None:
        return None
    preferred = (await msg_store.device_locales(ctx.store, [device_id])).get(device_id)
    if preferred is None:
        return None
    return list(dict.fromkeys((preferred, ctx.settings.message_default_locale)))


# -- handlers ---------------------------------------------------------------------------------------


async def render_program(ctx: AppContext, row: MessagingProgramRow) -> MessagingProgram:
    texts = await _texts(ctx, row)
    active = active_rows(texts, row, ctx.now())
    href = program_href(row.id)  # type: ignore[arg-type]
    return MessagingProgram(
        href=href,
        subscribable=0,
        mRID=row.mrid,
        description=row.description,
        version=row.version,
        ActiveTextMessageListLink=ListLink(href=f"{href}/acttxt", all=len(active)),
        locale=row.locale,
        primacy=row.primacy,
        TextMessageListLink=ListLink(href=f"{href}/txt", all=len(texts)),
    )


def _poll_rate(ctx: AppContext) -> int:
    return ctx.runtime.poll_rates.get("MessagingProgramList", ctx.settings.message_poll_rate)


async def _program_list(request: web.Request, rows: list[MessagingProgramRow]) -> web.Response:
    ctx = request.app[CONTEXT]
    page = paging(request)
    chosen = rows[page.start : page.start + page.limit]
    items = [await render_program(ctx, r) for r in chosen]
    return xml_response(
        MessagingProgramList(
            href=request.path,
            subscribable=0,
            all=len(rows),
            results=len(items),
            MessagingProgram=items,
            pollRate=_poll_rate(ctx),
        )
    )


async def get_public_programs(request: web.Request) -> web.Response:
    who = require_registered(request)
    ctx = request.app[CONTEXT]
    locales = await locales_for(ctx, who.device_id if who.kind == "device" else None)
    return await _program_list(request, await msg_store.programs(ctx.store, None, locales))


async def get_group_programs(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    device, group_id = await group_in_scope(request)
    locales = await locales_for(ctx, device.id)
    return await _program_list(request, await msg_store.programs(ctx.store, group_id, locales))


async def get_program(request: web.Request) -> web.Response:
    return xml_response(await render_program(request.app[CONTEXT], await program_in_scope(request)))


async def _text_list(request: web.Request, active_only: bool) -> web.Response:
    ctx = request.app[CONTEXT]
    program = await program_in_scope(request)
    page = paging(request)
    now = ctx.now()
    rows = await _texts(ctx, program)
    status = statuses(rows, program, now)
    if active_only:
        rows = active_rows(rows, program, now)
    else:
        if page.after is not None:
            rows = [p for p in rows if p[1].start >= page.after]
        sort_texts(rows)
    chosen = rows[page.start : page.start + page.limit]
    items = [render_text(t, m, status[t.mrid]) for t, m in chosen]
    return xml_response(
        TextMessageList(href=request.path, subscribable=0, all=len(rows), results=len(items), TextMessage=items)
    )


async def get_texts(request: web.Request) -> web.Response:
    return await _text_list(request, active_only=False)


async def get_active_texts(request: web.Request) -> web.Response:
    return await _text_list(request, active_only=True)


async def get_text(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    program = await program_in_scope(request)
    raw = request.match_info["txt"]
    rows = await _texts(ctx, program)
    found = [p for p in rows if raw.isdigit() and p[0].id == int(raw)]
    if not found:
        raise web.HTTPNotFound(text="no such TextMessage")
    text, message = found[0]
    return xml_response(render_text(text, message, statuses(rows, program, ctx.now())[text.mrid]))


# -- links, events, pruning -------------------------------------------------------------------------


async def _dcap_links(request: web.Request, who: Principal) -> dict[str, Any]:
    if not who.registered:
        return {}
    ctx = request.app[CONTEXT]
    device_id = who.device_id if who.kind == "device" else None

    async def count() -> int:
        return len(await msg_store.programs(ctx.store, None, await locales_for(ctx, device_id)))

    key = ("MessagingProgramList", device_id)
    total = await ctx.store.derived(key, (MessagingProgramRow, DeviceLocaleRow), count)
    return {"MessagingProgramListLink": ListLink(href=PUBLIC_LIST, all=total)}


async def _fsa_links(request: web.Request, _who: Principal, group: DeviceGroupRow) -> dict[str, Any]:
    ctx = request.app[CONTEXT]
    base = request.path.split("/fsa")[0]
    raw = request.match_info.get("edev", "")
    device_id = int(raw) if raw.isdigit() else None
    count = len(await msg_store.programs(ctx.store, group.id, await locales_for(ctx, device_id)))
    return {"MessagingProgramListLink": ListLink(href=f"{base}/fsa/{group.id}/msg", all=count)}


async def resolve_text(ctx: Any, mrid: str) -> EventRef | None:
    """The TextMessage with this mRID and the devices it addresses: every device for a public message,
    the group's members for a group's."""
    found = await msg_store.text_by_mrid(ctx.store, mrid)
    if found is None:
        return None
    text, message = found
    if message.group_id is None:
        members = await msg_store.registered_device_ids(ctx.store)
    else:
        members = await ctx.store.group_member_ids(message.group_id)
    return EventRef("Messaging", text.mrid, text_href(text.program_id, text.id), frozenset(members))  # type: ignore[arg-type]


async def prune_messages(ctx: AppContext) -> int:
    """Delete the messages whose end (or cancellation) is more than ``message_retention`` seconds ago."""
    retention = max(MIN_RETENTION, int(ctx.settings.message_retention))
    return await msg_store.prune(ctx.store, ctx.now() - retention)


async def _prune_forever(ctx: AppContext) -> None:
    while True:
        await asyncio.sleep(ctx.settings.message_prune_interval)
        try:
            deleted = await prune_messages(ctx)
            if deleted:
                log.info("pruned %d messages past their retention", deleted)
        except Exception:  # a database hiccup must not stop the pruning for good
            log.exception("pruning messages failed")


async def _pruner(app: web.Application) -> AsyncIterator[None]:
    app[PRUNER] = asyncio.get_running_loop().create_task(_prune_forever(app[CONTEXT]))
    yield
    app[PRUNER].cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await app[PRUNER]


def setup(app: web.Application, fs: FunctionSets) -> None:
    r = app.router
    r.add_get(PUBLIC_LIST, get_public_programs, allow_head=True)
    r.add_get("/edev/{edev}/fsa/{fsa}/msg", get_group_programs, allow_head=True)
    r.add_get(PUBLIC_LIST + "/{msg}", get_program, allow_head=True)
    r.add_get(PUBLIC_LIST + "/{msg}/txt", get_texts, allow_head=True)
    r.add_get(PUBLIC_LIST + "/{msg}/txt/{txt}", get_text, allow_head=True)
    r.add_get(PUBLIC_LIST + "/{msg}/acttxt", get_active_texts, allow_head=True)
    app.cleanup_ctx.append(_pruner)
    fs.dcap_links.append(_dcap_links)
    fs.fsa_links.append(_fsa_links)
    fs.event_resolvers.append(resolve_text)
    fs.names += ["MessagingProgram", "TextMessage"]
