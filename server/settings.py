"""Server configuration: one settings object built from defaults, a TOML file, ``GRIDHAN_*`` environment
variables and command-line flags (later sources win), then passed to everything that needs it.

Settings the utility changes while the server runs (poll rates, time zone, in-band registration) start
from these values and are then kept in the database (see :mod:`gridhan.server.runtime`).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridhan.schemas.dnssd import check_server_name

ENV_PREFIX = "GRIDHAN_"


def setting(default: Any, help: str) -> Any:
    """A setting's default and the one-line help that ``--help`` and the README show."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Every setting, with its default. ``gridhan serve --help`` and the README list them."""

    data_dir: Path = setting(
        Path("gridhan-data"), "folder of the SQLite database, the development PKI, the admin token"
    )
    database_url: str = setting("", "SQLAlchemy URL (postgresql+asyncpg://...); empty: SQLite data_dir/gridhan.db")
    host: str = setting("127.0.0.1", "address of the 2030.5 listener")
    port: int = setting(8443, "port of the 2030.5 listener (0: any free port)")
    admin_host: str = setting("127.0.0.1", "address of the admin API listener (JSON over HTTPS)")
    admin_port: int = setting(8444, "port of the admin API listener (0: any free port)")
    tls_cert: Path | None = setting(None, "server certificate and chain (PEM); empty: data_dir/pki/server.pem")
    tls_key: Path | None = setting(None, "server private key (PEM); empty: data_dir/pki/server.key")
    trust_anchors: tuple[Path, ...] = setting(
        (), "device trust anchors (PEM files, the SERCA); empty: data_dir/pki/serca.pem"
    )
    ciphers: tuple[str, ...] = setting(
        ("ECDHE-ECDSA-AES128-CCM8",), "OpenSSL names of the TLS 1.2 cipher suites offered"
    )
    handshake_timeout: float = setting(10.0, "seconds a TLS handshake may take")
    trusted_proxies: tuple[str, ...] = setting(
        (), "proxy mode: plain HTTP, client certificate from client_cert_header, only from these networks"
    )
    client_cert_header: str = setting(
        "X-Forwarded-Client-Cert", "header carrying the URL-escaped PEM client certificate (proxy mode)"
    )
    operator_lfdis: tuple[str, ...] = setting(
        (), "LFDIs of operator certificates the admin API accepts instead of the token"
    )
    admin_token: str = setting("", "operator bearer token; empty: generated once into data_dir/admin-token")
    max_body_bytes: int = setting(65536, "largest request body accepted, in bytes (413 above)")
    max_page_size: int = setting(100, "largest page a list returns, whatever l asks for")
    poll_rate: int = setting(900, "initial pollRate of the polled resources, seconds (run-time setting)")
    post_rate: int = setting(300, "initial postRate, seconds (run-time setting)")
    timezone: str = setting("UTC", "IANA time zone the Time resource reports (run-time setting)")
    time_quality: int = setting(
        7, "Time.quality: 3 external authoritative source, 4-6 lower-level sources, 7 uncoordinated (run-time)"
    )
    inband_registration: bool = setting(False, "let unregistered certificates POST their EndDevice (run-time setting)")
    csip_aus: bool = setting(False, "serve the CSIP-AUS 1.2 extensions (ConnectionPoint on EndDevices)")
    schema_path: Path | None = setting(
        None, "official schema (sep.xsd, csipaus-core.xsd) to validate request bodies against"
    )
    schema_sha256: str = setting("", "expected SHA-256 of schema_path (refuses to start on a mismatch)")
    manufacturer_pen: int = setting(0, "IANA private enterprise number the server reports as its mfID (SelfDevice)")
    notify_allowed_hosts: tuple[str, ...] = setting(
        (), "hosts notifications may be POSTed to: names, *.domain, networks (10.0.0.0/8) or *; empty: none"
    )
    notify_allow_http: bool = setting(
        False, "also POST notifications over plain http, to loopback addresses only (tests)"
    )
    notify_deliver: bool = setting(True, "deliver notifications from this process (false: only queue them)")
    notify_concurrency: int = setting(64, "notification POSTs in flight at once")
    notify_batch: int = setting(500, "notifications a delivery worker claims at once")
    notify_max_attempts: int = setting(8, "delivery attempts of a notification before it is marked failed")
    notify_backoff: float = setting(5.0, "seconds before the first retry of a delivery; doubles with each attempt")
    notify_backoff_max: float = setting(3600.0, "longest wait between two delivery attempts, seconds")
    notify_timeout: float = setting(10.0, "seconds one notification POST may take (connect, TLS, answer)")
    notify_claim_ttl: float = setting(120.0, "seconds a worker's claim on notifications lasts (then they are retried)")
    notify_poll_interval: float = setting(
        30.0, "seconds between looks at the outbox and the event clock when nothing wakes them"
    )
    notify_retention: float = setting(
        604800.0, "seconds delivered, failed and cancelled notifications are kept (after their last attempt)"
    )
    message_retention: float = setting(
        86400.0, "seconds a text message stays readable after its end or cancellation (at least 86400)"
    )
    message_prune_interval: float = setting(3600.0, "seconds between prunings of messages past their retention")
    message_default_locale: str = setting(
        "en-US", "locale listed to every device besides its preferred one (MessagingProgram.locale)"
    )
    message_poll_rate: int = setting(120, "pollRate of the MessagingProgramLists, seconds (messages within 2 min)")
    message_max_bytes: int = setting(1000, "longest text message accepted, in UTF-8 bytes (2030.5 asks for 100)")
    flow_response_required: str = setting(
        "01", "responseRequired of FlowReservationResponses, hexadecimal (01: received); empty: none"
    )
    subscriptions_per_device: int = setting(100, "most Subscriptions one EndDevice may hold")
    file_max_downloads: int = setting(
        20, "File content transfers served at once across the server (503 with Retry-After beyond)"
    )
    file_retry_after: int = setting(
        120, "seconds a 503 to a File content request asks the device to wait (Retry-After)"
    )
    file_max_bytes: int = setting(
        536870912, "largest file image the admin API accepts, in bytes (413 above; images are kept in data_dir/files)"
    )
    dnssd: bool = setting(False, "advertise the 2030.5 server by DNS-SD over multicast DNS (_smartenergy._tcp.local.)")
    dnssd_name: str = setting(
        "", "DNS-SD instance name (at most 58 bytes, no dots); empty: gridhan-<SFDI of the server certificate>"
    )
    dnssd_interfaces: tuple[str, ...] = setting(
        (), "addresses to advertise on, and advertised; empty: the 2030.5 listener's (every interface for 0.0.0.0)"
    )
    dnssd_port: int = setting(
        0, "TLS port advertised (TXT https key); 0: the 2030.5 listener's (set it behind a TLS proxy)"
    )
    log_level: str = setting("INFO", "DEBUG, INFO, WARNING or ERROR")
    log_format: str = setting("text", "text, or json (one object per line)")

    def __post_init__(self) -> None:
        object.__setattr__(self, "operator_lfdis", tuple(v.strip().upper() for v in self.operator_lfdis))
        if self.message_retention < 86400:
            raise SettingsError(f"setting message_retention: {self.message_retention:g} is below 86400 (24 hours)")
        if self.flow_response_required and not re.fullmatch(r"[0-9A-Fa-f]{1,2}", self.flow_response_required):
            raise SettingsError("setting flow_response_required: one or two hexadecimal digits, or empty")
        if self.message_prune_interval <= 0:
            raise SettingsError("setting message_prune_interval: must be positive")
        if self.dnssd_name:
            try:
                check_server_name(self.dnssd_name, "setting dnssd_name:")
            except ValueError as exc:
                raise SettingsError(str(exc)) from None
        if not 0 <= self.dnssd_port < 65536:
            raise SettingsError("setting dnssd_port: 0 to 65535")
        for address in self.dnssd_interfaces:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise SettingsError(f"setting dnssd_interfaces: {address!r} is not an IP address") from None

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'gridhan.db').resolve()}"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **{k: coerce(k, v) for k, v in changes.items()})


class SettingsError(ValueError):
    """A setting with a value that does not fit it."""


def _field_types() -> dict[str, Any]:
    hints = typing.get_type_hints(Settings)
    return {f.name: hints[f.name] for f in dataclasses.fields(Settings)}


def coerce(name: str, value: Any) -> Any:
    """Turn ``value`` (from TOML, the environment or a flag) into the type of setting ``name``."""
    types_ = _field_types()
    if name not in types_:
        raise SettingsError(f"unknown setting {name!r}")
    return _coerce(name, types_[name], value)


def _coerce(name: str, typ: Any, value: Any) -> Any:
    origin = typing.get_origin(typ)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(typ) if a is not type(None)]
        if value is None or value == "":
            return None
        return _coerce(name, args[0], value)
    if origin is tuple:
        (item,) = {a for a in typing.get_args(typ) if a is not Ellipsis}
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        return tuple(_coerce(name, item, v) for v in value)
    try:
        if typ is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"{value!r} is not a boolean")
        if typ is Path:
            return Path(value).expanduser()
        return typ(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name}: {exc}") from None


def load_settings(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Defaults, then the TOML file, then ``GRIDHAN_<NAME>`` variables, then ``overrides`` (flags)."""
    values: dict[str, Any] = {}
    if config_file is not None:
        with open(config_file, "rb") as fh:
            data = tomllib.load(fh)
        section = data.get("gridhan", data)
        for key, value in section.items():
            values[key.replace("-", "_")] = coerce(key.replace("-", "_"), value)
    env = os.environ if environ is None else environ
    for name in _field_types():
        key = ENV_PREFIX + name.upper()
        if key in env:
            values[name] = coerce(name, env[key])
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = coerce(key, value)
    return dataclasses.replace(Settings(), **values)


def describe() -> list[tuple[str, str, str, str]]:
    """(name, environment variable, default, help) of every setting, for ``--help`` and the README."""
    return [
        (f.name, ENV_PREFIX + f.name.upper(), _show(f.default), f.metadata.get("help", ""))
        for f in dataclasses.fields(Settings)
    ]


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)
