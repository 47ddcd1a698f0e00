"""DNS-SD names and TXT records of IEEE 2030.5-2018 clause 7 (service discovery), shared by the server that
advertises and the client that discovers.

- The service is ``_smartenergy._tcp`` (clause 7.3); over multicast DNS the domain is ``local.``.
- A server advertises itself once under the service name, and once more per function set under a subtype
  ``<subtype>._sub._smartenergy._tcp.local.`` (clause 7.5). The subtypes of Table 17 carry no leading
  underscore, unlike most DNS-SD subtypes. Each function set gets an SRV/TXT pair of its own, whose TXT
  record adds a ``path`` key.
- The TXT record (clause 7.4, Table 16): ``txtvers`` is the first key and is 1 (otherwise the record is
  ignored); ``dcap`` is the path of DeviceCapability; ``path`` the base path of the function set asked
  for (subtype answers only); ``https`` the TLS port (absent: plain HTTP only; present without a value: 443);
  ``level`` the schema extensibility level (clause 5.7.2, e.g. ``-S1``). Unknown keys are ignored.
- Instance labels are at most 63 bytes (clause 7.2).

Everything here is pure: building and reading names and TXT records, no sockets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

SERVICE = "_smartenergy._tcp"
MDNS_DOMAIN = "local."
#: The service type a server registers and a client asks for over mDNS.
SERVICE_TYPE = f"{SERVICE}.{MDNS_DOMAIN}"
TXT_VERSION = "1"
DEFAULT_HTTPS_PORT = 443
MAX_LABEL_BYTES = 63

#: The subtype names of clause 7.5 (Table 17), one per function set that can be looked up directly:
#: billing, DER programs, demand response, end devices, file download, messaging, mirror usage points,
#: prepayment, responses, the self device, time, pricing (tariff profiles), usage points.
SUBTYPES: tuple[str, ...] = (
    "bill",
    "derp",
    "dr",
    "edev",
    "file",
    "msg",
    "mup",
    "ppy",
    "rsps",
    "sdev",
    "tm",
    "tp",
    "upt",
)

#: The longest server instance name: the pair of each function set is named ``<subtype>-<name>``
#: (clause 7.2), which must fit one label too.
MAX_SERVER_NAME_BYTES = MAX_LABEL_BYTES - max(len(s) for s in SUBTYPES) - 1

TxtPairs = Sequence[tuple[str, str | None]]


def check_label(label: str, what: str) -> None:
    """A DNS-SD label: 1 to 63 UTF-8 bytes, no dots (they would split it), no control characters."""
    if not label:
        raise ValueError(f"{what} is empty")
    if len(label.encode("utf-8")) > MAX_LABEL_BYTES:
        raise ValueError(f"{what} {label!r} is longer than {MAX_LABEL_BYTES} bytes")
    if "." in label:
        raise ValueError(f"{what} {label!r} contains a dot")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in label):
        raise ValueError(f"{what} {label!r} contains a control character")


def check_server_name(name: str, what: str = "instance name") -> None:
    """A server's instance name: a label with room for the ``<subtype>-`` of its function sets' pairs."""
    check_label(name, what)
    if len(name.encode("utf-8")) > MAX_SERVER_NAME_BYTES:
        raise ValueError(f"{what} {name!r} is longer than {MAX_SERVER_NAME_BYTES} bytes")


def check_subtype(subtype: str) -> None:
    """A clause 7.5 subtype: a label without the leading underscore of RFC 6763 subtypes."""
    check_label(subtype, "subtype")
    if subtype.startswith("_"):
        raise ValueError(f"subtype {subtype!r}: 2030.5 subtypes have no leading underscore (e.g. 'derp')")


def subtype_type(subtype: str, domain: str = MDNS_DOMAIN) -> str:
    """``<subtype>._sub._smartenergy._tcp.<domain>``: the name a subtype query asks PTR records of."""
    check_subtype(subtype)
    return f"{subtype}._sub.{SERVICE}.{domain}"


def advertised_txt(*, dcap: str, https_port: int, level: str, path: str | None = None) -> list[tuple[str, str]]:
    """The TXT pairs of one advertised SRV/TXT pair, ``txtvers`` first (clause 7.4); ``path`` only for the
    pair a subtype points to."""
    pairs = [("txtvers", TXT_VERSION), ("dcap", dcap)]
    if path is not None:
        pairs.append(("path", path))
    pairs += [("https", str(https_port)), ("level", level)]
    return pairs


def encode_txt(pairs: Iterable[tuple[str, str | None]]) -> bytes:
    """TXT record data (RFC 6763 clause 6): one length-prefixed ``key=value`` string per pair, in order; a
    ``None`` value gives the bare key (present without a value)."""
    out = bytearray()
    for key, value in pairs:
        if not key or "=" in key or not all(0x20 <= ord(c) <= 0x7E for c in key):
            raise ValueError(f"TXT key {key!r}: printable ASCII without '=', at least one character")
        item = key.encode("ascii") if value is None else f"{key}={value}".encode()
        if len(item) > 255:
            raise ValueError(f"TXT string {key}=... is longer than 255 bytes")
        out.append(len(item))
        out += item
    return bytes(out)


def decode_txt(data: bytes) -> list[tuple[str, str | None]]:
    """The ``(key, value)`` pairs of TXT record data, in order. Keys are compared case-insensitively, so
    they come back lower-case; a bare key gives ``None``; empty strings and strings starting with ``=``
    are skipped (RFC 6763 clause 6.4). Raises ValueError when a length byte runs past the end."""
    pairs: list[tuple[str, str | None]] = []
    i = 0
    while i < len(data):
        length = data[i]
        item = data[i + 1 : i + 1 + length]
        if len(item) != length:
            raise ValueError("TXT record data ends inside a string")
        i += 1 + length
        if not item or item.startswith(b"="):
            continue
        key, eq, value = item.partition(b"=")
        pairs.append((key.decode("ascii", "replace").lower(), value.decode("utf-8", "replace") if eq else None))
    return pairs


def txt_value(pairs: TxtPairs, key: str) -> str | None:
    """The value of the first ``key`` (RFC 6763 clause 6.4: a repeated key's later copies are ignored)."""
    for k, v in pairs:
        if k == key:
            return v
    return None


def txt_problem(pairs: TxtPairs) -> str | None:
    """Why a client ignores this TXT record (clause 7.4), or None when it describes a usable 2030.5 server."""
    if not pairs:
        return "empty TXT record"
    first, version = pairs[0]
    if first != "txtvers":
        return f"txtvers is not the first key (the first is {first!r})"
    if version != TXT_VERSION:
        return f"txtvers is {version!r}, not {TXT_VERSION}"
    keys = {k for k, _ in pairs}
    for key in ("dcap", "level"):
        if not txt_value(pairs, key):
            return f"no {key} key" if key not in keys else f"the {key} key has no value"
    dcap = txt_value(pairs, "dcap") or ""
    if not dcap.startswith("/"):
        return f"dcap {dcap!r} does not start with '/'"
    return None


def https_port(pairs: TxtPairs) -> int | None:
    """The TLS port of clause 7.4: None when the ``https`` key is absent (plain HTTP only), 443 when it is
    present without a value, else its value. Raises ValueError when the value is not a port number."""
    if "https" not in {k for k, _ in pairs}:
        return None
    value = txt_value(pairs, "https")
    if not value:
        return DEFAULT_HTTPS_PORT
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ValueError(f"https {value!r} is not a port number")
    return int(value)
