"""Text messages for the utility (IEEE 2030.5-2018 clause 10.6, Messaging).

* ``POST /api/v1/messages``: publish one message in several locales at once (``texts`` by locale), public
  or for a group, with its priority, originator, interval and responseRequired; the per-locale
  MessagingPrograms are made on the way.
* ``GET /api/v1/messages`` (newest first), ``GET /api/v1/messages/{id}``: each with its EventStatus now
  and, per locale, the TextMessage mRID and where its TextResponses are tallied
  (``/api/v1/responses?subject=MRID``).
* ``POST /api/v1/messages/{id}/cancel``: cancel it in every locale.
* ``POST /api/v1/messages/prune``: prune now what the periodic task would (messages past retention).
* ``GET/PUT/DELETE /api/v1/devices/{id}/locale``: the locale a device's customer prefers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from aiohttp import web

from gridhan.schemas.event_rules import event_status
from gridhan.server.admin.der import status_json
from gridhan.server.admin.serialize import API
from gridhan.server.admin.validation import (
    Member,
    bad_request,
    date_time,
    hex_string,
    identifier,
    integer,
    not_found,
    page_params,
    path_id,
    query_int,
    read_json_object,
    read_members,
    string,
)
from gridhan.server.context import CONTEXT, AppContext
from gridhan.server.mrid import new_mrid
from gridhan.server.sep2.messaging import MIN_RETENTION, event_spec, prune_messages, text_href
from gridhan.server.store import messaging as msg_store
from gridhan.server.store.messaging import Published

#: PriorityType (sep.xsd): 0 low, 1 normal, 2 high, 3 critical. "medium" is the utility's word for normal.
PRIORITIES: Mapping[str, int] = MappingProxyType({"low": 0, "normal": 1, "medium": 1, "high": 2, "critical": 3})
PRIORITY_NAMES = ("low", "normal", "high", "critical")
#: Primacy of a MessagingProgram made for a locale that had none.
DEFAULT_PRIMACY = 64
#: A language tag of the form RFC 4646 / 5646 gives most tags: language, optional script, optional region
#: (e.g. "en", "en-US", "zh-Hant-TW", "es-419"), at most 42 characters (LocaleType is a String42).
_LOCALE = re.compile(r"([A-Za-z]{2,3})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|[0-9]{3}))?")


def locale(name: str, value: Any) -> str:
    """A locale tag in its canonical case ("en-us" -> "en-US", "zh-hant-tw" -> "zh-Hant-TW")."""
    text = string(42, min_length=1)(name, value)
    match = _LOCALE.fullmatch(text)
    if match is None:
        raise bad_request(
            f"{name}: {text!r} is not a locale tag (RFC 4646 language[-Script][-REGION], e.g. en-US, fr-CA)"
        )
    language, script, region = match.groups()
    return "-".join(p for p in (language.lower(), script.title() if script else None, (region or "").upper()) if p)


def priority(name: str, value: Any) -> int:
    if isinstance(value, str):
        if value.lower() not in PRIORITIES:
            raise bad_request(f"{name}: {value!r} is not a priority (low, normal/medium, high, critical, or 0-3)")
        return PRIORITIES[value.lower()]
    return integer(0, 3)(name, value)


def _texts(max_bytes: int) -> Any:
    def parse(name: str, value: Any) -> dict[str, str]:
        if not isinstance(value, dict) or not value:
            raise bad_request(f'{name}: must be an object of at least one locale and its text, e.g. {{"en-US": "..."}}')
        out: dict[str, str] = {}
        for tag, text in value.items():
            key = locale(f"{name} key {tag!r}", tag)
            if key in out:
                raise bad_request(f"{name}: locale {key} is given twice")
            checked = string(max_bytes, min_length=1)(f"{name}.{tag}", text)
            size = len(checked.encode("utf-8"))
            if size > max_bytes:
                raise bad_request(f"{name}.{tag}: {size} bytes of UTF-8 is longer than the {max_bytes} allowed")
            out[key] = checked
        return out

    return parse


def _members(ctx: AppContext) -> Mapping[str, Member]:
    return MappingProxyType(
        {
            "texts": Member(_texts(ctx.settings.message_max_bytes)),
            "priority": Member(priority),
            "originator": Member(string(20), nullable=True),
            "description": Member(string(32), nullable=True),
            "start": Member(date_time),
            "duration": Member(integer(1, 2**32 - 1)),
            "end": Member(date_time),
            "group_id": Member(identifier, nullable=True),
            "response_required": Member(hex_string(2), nullable=True),
            "primacy": Member(integer(0, 255)),
        }
    )


LOCALE_MEMBERS: Mapping[str, Member] = MappingProxyType({"locale": Member(locale)})


def message_json(item: Published, now: int) -> dict[str, Any]:
    m = item.message
    status = None
    if item.texts and m.creation_time <= now:
        text, program = item.texts[0]
        spec = event_spec(text, m, program)
        status = event_status(spec, [spec], now)
    return {
        "id": m.id,
        "group_id": m.group_id,
        "public": m.group_id is None,
        "priority": m.priority,
        "priority_name": PRIORITY_NAMES[m.priority],
        "originator": m.originator,
        "description": m.description,
        "creation_time": m.creation_time,
        "start": m.start,
        "duration": m.duration,
        "response_required": m.response_required,
        "cancelled_time": m.cancelled_time,
        "version": m.version,
        "status": status_json(status),
        "texts": [
            {
                "locale": program.locale,
                "text": text.text,
                "mrid": text.mrid,
                "program_id": program.id,
                "href": text_href(program.id, text.id),  # type: ignore[arg-type]
                "responses": f"{API}/responses?subject={text.mrid}",
            }
            for text, program in item.texts
        ],
    }


async def create_message(request: web.Request) -> web.Response:
    """Publish a message in every locale of ``texts`` (one transaction: all locales or none)."""
    ctx = request.app[CONTEXT]
    body = read_members(await read_json_object(request), _members(ctx), required=("texts", "priority"))
    now = ctx.now()
    start = body.get("start", now)
    if ("duration" in body) == ("end" in body):
        raise bad_request("give exactly one of duration and end")
    if "end" in body:
        if body["end"] <= start:
            raise bad_request(f"end: {body['end']} is not after start ({start})")
        duration = body["end"] - start
        if duration > 2**32 - 1:
            raise bad_request("end: the interval is longer than a UInt32 duration")
    else:
        duration = body["duration"]
    if start + duration <= now:
        raise bad_request("start: the message would end before it is published (10.2.3: never in effect)")
    pen = ctx.settings.manufacturer_pen
    mrids = {loc: new_mrid(pen) for loc in body["texts"]} | {f"program:{loc}": new_mrid(pen) for loc in body["texts"]}
    message = {
        "group_id": body.get("group_id"),
        "description": body.get("description"),
        "creation_time": now,
        "start": start,
        "duration": duration,
        "end_time": start + duration,
        "priority": body["priority"],
        "originator": body.get("originator"),
        "response_required": body.get("response_required"),
    }
    program_fields = {"primacy": body.get("primacy", DEFAULT_PRIMACY), "created_time": now}
    try:
        item = await msg_store.publish(
            ctx.store, message=message, texts=body["texts"], mrids=mrids, program_fields=program_fields
        )
    except KeyError as exc:
        raise bad_request(f"group_id: {exc.args[0]}") from None
    return web.json_response(
        message_json(item, now), status=201, headers={"Location": f"{API}/messages/{item.message.id}"}
    )


async def list_messages(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    offset, limit = page_params(request)
    page = await msg_store.list_messages(ctx.store, offset, limit, query_int(request, "group", None, lo=1))
    now = ctx.now()
    return web.json_response({"total": page.total, "items": [message_json(p, now) for p in page.rows]})


async def _message_or_404(ctx: AppContext, message_id: int) -> Published:
    item = await msg_store.published(ctx.store, message_id)
    if item is None:
        raise not_found(f"no message with id {message_id}")
    return item


async def get_message(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    return web.json_response(message_json(await _message_or_404(ctx, path_id(request, "message")), ctx.now()))


async def cancel_message(request: web.Request) -> web.Response:
    """Cancel a message in every locale (EventStatus 2 from now; a second cancel keeps the first time)."""
    ctx = request.app[CONTEXT]
    message_id = path_id(request, "message")
    await _message_or_404(ctx, message_id)
    await msg_store.cancel(ctx.store, message_id, ctx.now())
    return web.json_response(message_json(await _message_or_404(ctx, message_id), ctx.now()))


async def prune(request: web.Request) -> web.Response:
    """Delete now the messages whose end is more than ``message_retention`` seconds ago."""
    ctx = request.app[CONTEXT]
    deleted = await prune_messages(ctx)
    retention = max(MIN_RETENTION, int(ctx.settings.message_retention))
    return web.json_response({"deleted": deleted, "cutoff": ctx.now() - retention})


async def _device_or_404(ctx: AppContext, device_id: int) -> None:
    if await ctx.store.device(device_id) is None:
        raise not_found(f"no device with id {device_id}")


async def get_locale(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    device_id = path_id(request, "device")
    await _device_or_404(ctx, device_id)
    found = (await msg_store.device_locales(ctx.store, [device_id])).get(device_id)
    return web.json_response({"device_id": device_id, "locale": found})


async def put_locale(request: web.Request) -> web.Response:
    """Set the locale a device's customer prefers: its MessagingProgramLists list that locale's programs and
    the default locale's."""
    ctx = request.app[CONTEXT]
    device_id = path_id(request, "device")
    body = read_members(await read_json_object(request), LOCALE_MEMBERS, required=("locale",))
    if not await msg_store.set_device_locale(ctx.store, device_id, body["locale"]):
        raise not_found(f"no device with id {device_id}")
    return web.json_response({"device_id": device_id, "locale": body["locale"]})


async def delete_locale(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    device_id = path_id(request, "device")
    if not await msg_store.set_device_locale(ctx.store, device_id, None):
        raise not_found(f"no device with id {device_id}")
    return web.Response(status=204)


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post(f"{API}/messages", create_message)
    r.add_get(f"{API}/messages", list_messages)
    r.add_post(f"{API}/messages/prune", prune)
    r.add_get(f"{API}/messages/{{id}}", get_message)
    r.add_post(f"{API}/messages/{{id}}/cancel", cancel_message)
    r.add_get(f"{API}/devices/{{id}}/locale", get_locale)
    r.add_put(f"{API}/devices/{{id}}/locale", put_locale)
    r.add_delete(f"{API}/devices/{{id}}/locale", delete_locale)
