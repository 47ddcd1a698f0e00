"""Where the server may POST notifications: the rules a Subscription's notificationURI must follow.

sep.xsd (Subscription.notificationURI, IEEE 2030.5-2018 clause 8.7): the URI SHALL be a fully-qualified
absolute URI, since it names a resource on another server. On top of that, gridhan POSTs only to hosts the
operator listed (``notify_allowed_hosts``): otherwise any registered device could make the utility's server
send requests into networks it can reach (server-side request forgery). Notifications travel over HTTPS with
mutual TLS (clause 5.4 TLS rules, certificates of clause 6.11); plain HTTP is accepted only to a loopback
address and only when the operator turns ``notify_allow_http`` on, for testing.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

from yarl import URL

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    address = _ip(host)
    return address.is_loopback if address is not None else host.lower() == "localhost"


@functools.lru_cache(maxsize=64)
def _entries(allowed: tuple[str, ...]) -> tuple[bool, tuple[Network, ...], frozenset[str], tuple[str, ...]]:
    """``allowed`` parsed once: (any host, networks, exact names, ``.domain`` suffixes)."""
    networks: list[Network] = []
    names: set[str] = set()
    suffixes: list[str] = []
    for raw in allowed:
        entry = raw.strip().lower()
        if entry == "*":
            return True, (), frozenset(), ()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        if entry.startswith("*."):
            suffixes.append(entry[1:].rstrip("."))
        else:
            names.add(entry.rstrip("."))
    return False, tuple(networks), frozenset(names), tuple(suffixes)


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    """``host`` matches an entry of ``allowed``: ``*`` (any host), a network (``10.0.0.0/8``, ``::1/128``,
    which IP-address hosts must fall in), a host name (exact, case-insensitive) or ``*.example.com`` (any
    name below example.com). Names are never resolved: a network entry admits IP-address hosts only."""
    anything, networks, names, suffixes = _entries(tuple(allowed))
    if anything:
        return True
    address = _ip(host)
    if address is not None:
        return any(address in network for network in networks)
    name = host.lower().rstrip(".")
    return name in names or any(name.endswith(suffix) for suffix in suffixes)


def refusal(uri: str, allowed: Sequence[str], allow_http: bool) -> str | None:
    """Why the server will not POST to ``uri`` (a message naming the rule), or None when it will."""
    try:
        url = URL(uri)
    except (ValueError, TypeError):
        return f"{uri!r} is not a URI"
    if not url.is_absolute() or not url.scheme or not url.host:
        return f"{uri!r} is not a fully-qualified absolute URI (https://host[:port]/path), as sep.xsd requires"
    scheme = url.scheme.lower()
    if scheme not in ("https", "http"):
        return f"scheme {scheme!r} is not supported: notifications are POSTed over https"
    if url.user or url.password:
        return "a notificationURI must not carry credentials"
    if url.fragment:
        return "a notificationURI must not carry a fragment"
    host = url.host
    if scheme == "http":
        if not allow_http:
            return "plain http is refused: notifications are POSTed over https with mutual TLS"
        if not is_loopback(host):
            return f"plain http is allowed to a loopback address only, not to {host}"
    if not host_allowed(host, allowed):
        return f"host {host} is not one this server sends notifications to (operator setting notify_allowed_hosts)"
    return None
