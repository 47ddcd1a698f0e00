"""HTTP conventions of IEEE 2030.5-2018 (clause 5 "Application support" and 6.6 on list paging):
``application/sep+xml`` bodies written by the one codec, strict reading of request bodies, and the
``s``/``a``/``l`` paging parameters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web
from lxml import etree

from gridhan.schemas.sep2 import CONTENT_TYPE
from gridhan.schemas.xmlcodec import XmlDecodeError, XmlResource, encode, from_element, parse_document
from gridhan.server.context import CONTEXT

T = TypeVar("T", bound=XmlResource)
log = logging.getLogger("gridhan.sep2")


def xml_response(obj: XmlResource, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=encode(obj), status=status, content_type=CONTENT_TYPE, headers=headers)


class BodyMemo:
    """Encoded bodies of resources whose representation is a pure function of a small key (the Time of a
    given second, an EndDevice of given field values): the hot GETs skip building and encoding them."""

    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        self._bodies: dict[Hashable, bytes] = {}

    def body(self, key: Hashable, build: Callable[[], XmlResource]) -> bytes:
        body = self._bodies.get(key)
        if body is None:
            body = encode(build())
            if len(self._bodies) >= self.capacity:
                self._bodies.clear()
            self._bodies[key] = body
        return body


MEMO = web.AppKey("gridhan_body_memo", BodyMemo)


def memo_response(request: web.Request, key: Hashable, build: Callable[[], XmlResource]) -> web.Response:
    """200 with the body of ``build()``, encoded once per distinct ``key``."""
    return web.Response(body=request.app[MEMO].body(key, build), content_type=CONTENT_TYPE)


def check_outgoing(request: web.Request, response: web.StreamResponse) -> None:
    """With a configured schema, log (loudly) any response document that violates it."""
    validator = request.app[CONTEXT].validator
    if validator is None or not isinstance(response, web.Response) or response.content_type != CONTENT_TYPE:
        return
    body = response.body
    if isinstance(body, bytes) and body:
        errors = validator.errors(body)
        if errors:
            log.error("%s %s: response violates %s: %s", request.method, request.path, validator.path.name, errors)


def created(location: str) -> web.Response:
    """201 Created with the new resource's Location (clause 5.x on POST)."""
    return web.Response(status=201, headers={"Location": location})


def no_content() -> web.Response:
    return web.Response(status=204)


async def read_resource(request: web.Request, classes: type[T] | Sequence[type[T]]) -> T:
    """The request body as ``classes`` (or whichever of several classes its root element names: a derived
    Response type, a MirrorMeterReading or its list): 415 for another media type, 413 when too large, 400
    when invalid (against the configured schema too) or of another type."""
    choices = (classes,) if isinstance(classes, type) else tuple(classes)
    ctype = request.content_type
    if ctype != CONTENT_TYPE:
        raise web.HTTPUnsupportedMediaType(text=f"request body must be {CONTENT_TYPE}, not {ctype or 'absent'}")
    limit = request.app[CONTEXT].settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(
            max_size=limit, actual_size=request.content_length, text=f"request body exceeds {limit} bytes"
        )
    data = await request.content.read(limit + 1)
    if len(data) > limit:
        raise web.HTTPRequestEntityTooLarge(
            max_size=limit, actual_size=len(data), text=f"request body exceeds {limit} bytes"
        )
    try:
        root = parse_document(data)
        name = etree.QName(root).localname
        cls = next((c for c in choices if c.XML_NAME == name), choices[0])
        validator = request.app[CONTEXT].validator
        if validator is not None:
            errors = validator.errors(root)
            if errors:
                raise web.HTTPBadRequest(text=f"{cls.XML_NAME}: not valid against {validator.path.name}: {errors[0]}")
        if len(choices) > 1 and cls.XML_NAME != name:
            expected = " or ".join(repr(c.XML_NAME) for c in choices)
            raise XmlDecodeError("", f"root element is {name!r}; expected {expected}")
        return from_element(root, cls)
    except XmlDecodeError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None


@dataclass(frozen=True)
class Paging:
    """``s`` start index, ``a`` after (a TimeType, for lists ordered by time), ``l`` limit."""

    start: int
    after: int | None
    limit: int


def paging(request: web.Request) -> Paging:
    """Read ``s``, ``a`` and ``l``; an absent ``l`` means 1 (clause 6.6), and the server caps it."""
    cap = request.app[CONTEXT].settings.max_page_size
    values: dict[str, int] = {}
    for name, default in (("s", 0), ("l", 1)):
        raw = request.query.get(name)
        if raw is None:
            values[name] = default
            continue
        if not raw.isdigit():
            raise web.HTTPBadRequest(text=f"query parameter {name}={raw!r} must be a non-negative integer")
        values[name] = int(raw)
    after = request.query.get("a")
    if after is not None and not after.lstrip("-").isdigit():
        raise web.HTTPBadRequest(text=f"query parameter a={after!r} must be a TimeType (integer seconds)")
    return Paging(values["s"], int(after) if after is not None else None, min(values["l"], cap))
