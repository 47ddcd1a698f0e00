"""Server configuration: one settings object built from defaults, a TOML file, ``GRIDHAN_*`` environment
variables and command-line flags (later sources win), then passed to everything that needs it.

Settings the utility changes while the server runs (poll rates, time zone, in-band registration) start
from these values and are then kept in the database (see :mod:`gridhan.server.runtime`).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "GRIDHAN_"


@dataclass(frozen=True)
class Settings:
    """Every setting, with its default. ``gridhan serve --help`` and the README list them."""

    #: Folder for the SQLite database, the development PKI and the generated admin token.
    data_dir: Path = Path("gridhan-data")
    #: SQLAlchemy URL; empty: SQLite file ``gridhan.db`` in ``data_dir``.
    database_url: str = ""
    #: 2030.5 listener.
    host: str = "127.0.0.1"
    port: int = 8443
    #: Admin API listener (JSON over HTTPS, operator token).
    admin_host: str = "127.0.0.1"
    admin_port: int = 8444
    #: Server certificate chain and key (PEM); empty: the development PKI's ``server.pem``/``server.key``.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    #: Trust anchors for device certificates (PEM files, normally the SERCA); empty: the development SERCA.
    trust_anchors: tuple[Path, ...] = ()
    #: OpenSSL cipher names offered, in order (2030.5 clause 6.11: TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8).
    ciphers: tuple[str, ...] = ("ECDHE-ECDSA-AES128-CCM8",)
    #: Seconds a TLS handshake may take before the connection is dropped.
    handshake_timeout: float = 10.0
    #: Behind a TLS-terminating proxy: serve plain HTTP and take the client certificate from
    #: ``client_cert_header``, only from these addresses or networks.
    trusted_proxies: tuple[str, ...] = ()
    client_cert_header: str = "X-Forwarded-Client-Cert"
    #: Operator token for the admin API; empty: generated once into ``data_dir/admin-token``.
    admin_token: str = ""
    #: Largest request body accepted, in bytes.
    max_body_bytes: int = 65536
    #: Largest page a list returns, whatever ``l`` asks for.
    max_page_size: int = 100
    #: Initial values of the run-time settings.
    poll_rate: int = 900
    post_rate: int = 300
    timezone: str = "UTC"
    #: Time.quality (2030.5 clause 8.3): 3 authoritative, 4-6 source levels 3-5, 7 uncoordinated.
    time_quality: int = 7
    inband_registration: bool = False
    #: Optional schema file (e.g. CSIP-AUS csipaus-core.xsd or sep.xsd) to validate every document
    #: against in production, and its expected SHA-256.
    schema_path: Path | None = None
    schema_sha256: str = ""
    log_level: str = "INFO"
    #: "json" (one object per line) or "text".
    log_format: str = "text"

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


def describe() -> list[tuple[str, str, str]]:
    """(name, environment variable, default) of every setting, for help texts and the README."""
    out = []
    for f in dataclasses.fields(Settings):
        default = f.default if f.default is not dataclasses.MISSING else field().default
        out.append((f.name, ENV_PREFIX + f.name.upper(), repr(default)))
    return out
