"""Reading what the operator sends: JSON bodies, query parameters and path ids.

Every problem is a 4xx whose message names the field (``{"error": "label: ..."}``), raised before anything
is written, so a refused request changes nothing. Values are checked against what the database columns
hold (a PostgreSQL ``integer`` id, a ``varchar(64)`` label), never left for the database to refuse.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from gridhan.certs.identity import load_certificate
from gridhan.schemas.identifiers import is_valid_pin, normalize_lfdi, pin_with_check_digit

#: Largest request body the admin API reads (the application's ``client_max_size``).
MAX_BODY_BYTES = 1024 * 1024
#: Largest integer an id, a rate or a limit may be (the database's 32-bit ``integer`` columns).
INT32_MAX = 2**31 - 1
#: Default and largest page of a list.
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_HEX = re.compile(r"[0-9A-Fa-f]+")
_PEM_MARKER = "-----BEGIN CERTIFICATE-----"

#: A member parser: ``(field name, JSON value) -> checked value``; raises :class:`web.HTTPBadRequest`.
Parser = Callable[[str, Any], Any]


def bad_request(message: str) -> web.HTTPBadRequest:
    """A 400 carrying ``message`` (the error middleware turns it into ``{"error": message}``)."""
    return web.HTTPBadRequest(text=message)


def not_found(message: str) -> web.HTTPNotFound:
    return web.HTTPNotFound(text=message)


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object: 413 when larger than the application accepts, 415 for another
    media type, 400 when it is not UTF-8 JSON holding an object."""
    if request.content_type not in ("application/json", "application/octet-stream"):
        raise web.HTTPUnsupportedMediaType(text=f"request body must be application/json, not {request.content_type}")
    try:
        data = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise web.HTTPRequestEntityTooLarge(
            max_size=MAX_BODY_BYTES,
            actual_size=request.content_length or MAX_BODY_BYTES + 1,
            text=f"request body is larger than {MAX_BODY_BYTES} bytes",
        ) from None
    if not data.strip():
        raise bad_request("request body is empty: a JSON object is expected")
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise bad_request("request body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise bad_request(f"request body is not valid JSON: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise bad_request(f"request body is not acceptable JSON: {exc}") from None
    if not isinstance(value, dict):
        raise bad_request(f"request body must be a JSON object, not {_json_type(value)}")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


@dataclass(frozen=True)
class Member:
    """One member a JSON object may hold: how to check it, and whether ``null`` is allowed."""

    parse: Parser
    nullable: bool = False


def read_members(
    body: Mapping[str, Any], members: Mapping[str, Member], *, required: Collection[str] = (), where: str = ""
) -> dict[str, Any]:
    """Check every member of ``body`` (all of them, before anything is used): unknown names, missing
    required ones, ``null`` where not allowed, and each value's parser. Returns the checked values of the
    members present."""
    prefix = f"{where}." if where else ""
    unknown = sorted(set(body) - set(members))
    if unknown:
        raise bad_request(f"{prefix}{unknown[0]}: unknown field (allowed: {', '.join(sorted(members))})")
    for name in required:
        if name not in body:
            raise bad_request(f"{prefix}{name}: required field is missing")
    values: dict[str, Any] = {}
    for name, raw in body.items():
        member = members[name]
        if raw is None:
            if not member.nullable:
                raise bad_request(f"{prefix}{name}: must not be null")
            values[name] = None
        else:
            values[name] = member.parse(prefix + name, raw)
    return values


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


# -- member parsers ---------------------------------------------------------------------------------


def integer(lo: int = 0, hi: int = INT32_MAX) -> Parser:
    """An integer in ``[lo, hi]`` (a boolean or a number with a fraction is refused)."""

    def parse(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request(f"{name}: must be an integer, not {_json_type(value)}")
        if not lo <= value <= hi:
            raise bad_request(f"{name}: {value} is out of range ({lo}..{hi})")
        return value

    return parse


def date_time(name: str, value: Any) -> int:
    """A TimeType (IEEE 2030.5 seconds since the epoch): an integer, or an ISO 8601 date-time with its UTC
    offset (a local time without one is ambiguous and refused)."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise bad_request(f"{name}: {value!r} is not an ISO 8601 date-time") from None
        if parsed.tzinfo is None:
            raise bad_request(f"{name}: {value!r} has no UTC offset (write e.g. 2026-11-23T14:00:00+10:00)")
        return int(parsed.timestamp())
    return integer(0, 2**62)(name, value)


def identifier(name: str, value: Any) -> int:
    """A database id: a positive 32-bit integer."""
    return integer(1, INT32_MAX)(name, value)


def boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise bad_request(f"{name}: must be true or false, not {_json_type(value)}")
    return value


def string(max_length: int, *, min_length: int = 0) -> Parser:
    """Text of ``min_length``..``max_length`` characters that the database can store (no NUL, UTF-8)."""

    def parse(name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise bad_request(f"{name}: must be a string, not {_json_type(value)}")
        if not min_length <= len(value) <= max_length:
            if min_length and len(value) < min_length:
                raise bad_request(f"{name}: must not be empty")
            raise bad_request(f"{name}: {len(value)} characters is longer than the {max_length} allowed")
        if "\x00" in value:
            raise bad_request(f"{name}: must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise bad_request(f"{name}: is not valid Unicode text (unpaired surrogate)") from None
        return value

    return parse


def identifier_list(name: str, value: Any) -> list[int]:
    """A JSON array of ids; duplicates are dropped, order kept."""
    if not isinstance(value, list):
        raise bad_request(f"{name}: must be an array of ids, not {_json_type(value)}")
    return list(dict.fromkeys(identifier(f"{name}[{i}]", item) for i, item in enumerate(value)))


def hex_string(max_digits: int) -> Parser:
    """Hexadecimal digits (at most ``max_digits``), upper-cased and left-padded with 0 to whole octets
    (the hexBinary form 2030.5 documents carry)."""

    def parse(name: str, value: Any) -> str:
        if not isinstance(value, str) or not _HEX.fullmatch(value) or len(value) > max_digits:
            raise bad_request(f"{name}: must be a string of 1 to {max_digits} hexadecimal digits, got {value!r}")
        text = value.upper()
        return text.zfill(len(text) + len(text) % 2)

    return parse


def lfdi(name: str, value: Any) -> str:
    """An LFDI (IEEE 2030.5-2018 clause 6.3.4): 40 hexadecimal digits, kept upper-case."""
    if not isinstance(value, str):
        raise bad_request(f"{name}: must be a string of 40 hexadecimal digits, not {_json_type(value)}")
    try:
        return normalize_lfdi(value)
    except ValueError as exc:
        raise bad_request(f"{name}: {exc}") from None


def pin(name: str, value: Any) -> int:
    """A Registration PIN (clause 6.3.5 / 8.5): at most six digits, the last the check digit of the rest."""
    number = integer(0, 999_999)(name, value)
    if not is_valid_pin(number):
        raise bad_request(
            f"{name}: {number} is not a valid Registration PIN: the last digit is a check digit, the digit "
            f"that makes the sum of all the digits a multiple of 10 (for the digits {number // 10} the PIN "
            f"is {pin_with_check_digit(number // 10)})"
        )
    return number


def certificate_pem(name: str, value: Any) -> Any:
    """A PEM certificate (its first certificate); never read as a file name."""
    if not isinstance(value, str) or _PEM_MARKER not in value:
        raise bad_request(f"{name}: must be a PEM certificate (text starting {_PEM_MARKER})")
    try:
        return load_certificate(value.encode("utf-8"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise bad_request(f"{name}: not a readable PEM certificate: {exc}") from None


# -- query parameters and path ids ------------------------------------------------------------------


def query_int(request: web.Request, name: str, default: int | None, *, lo: int = 0, hi: int = INT32_MAX) -> int | None:
    """An integer query parameter in ``[lo, hi]``, or ``default`` when absent."""
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not raw.isascii():
        raise bad_request(f"query parameter {name}={raw!r} must be a non-negative integer")
    value = int(raw)
    if not lo <= value <= hi:
        raise bad_request(f"query parameter {name}={value} is out of range ({lo}..{hi})")
    return value


def page_params(request: web.Request) -> tuple[int, int]:
    """``offset`` (default 0) and ``limit`` (default 100, at most 1000)."""
    offset = query_int(request, "offset", 0)
    limit = query_int(request, "limit", DEFAULT_LIMIT, lo=1, hi=MAX_LIMIT)
    assert offset is not None and limit is not None
    return offset, limit


def path_id(request: web.Request, what: str) -> int:
    """The ``{id}`` of the path: 404 when it cannot name a ``what`` (not a positive 32-bit integer)."""
    raw = request.match_info["id"]
    if not raw.isdigit() or not raw.isascii() or not 1 <= int(raw) <= INT32_MAX:
        raise not_found(f"no {what} with id {raw!r}")
    return int(raw)
