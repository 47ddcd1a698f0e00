"""Shared fixtures: a development PKI, the official schemas, a gridhan server on SQLite or PostgreSQL
listening with real mutual TLS, device clients holding certificates, and an operator client."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sep_client import AdminClient, SepClient

from gridhan.certs.pki import DevelopmentPki
from gridhan.schemas.xsd import SchemaValidator
from gridhan.server.app import GridhanServer
from gridhan.server.settings import Settings
from gridhan.server.store.repo import Store

ROOT = Path(__file__).resolve().parent.parent
SHARED_SCHEMAS = Path(os.environ.get("GRIDHAN_SHARED_SCHEMAS", ROOT.parent / "shared" / "schemas"))
POSTGRES_URL = os.environ.get("GRIDHAN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")

DEVICES = ("dev1", "dev2", "dev3", "agg1", "unreg1", "operator1")
SELF_SIGNED = ("selfsigned1",)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevelopmentPki:
    return DevelopmentPki.create(tmp_path_factory.mktemp("pki"), devices=DEVICES, self_signed=SELF_SIGNED)


def _schema(relative: str) -> SchemaValidator | None:
    path = SHARED_SCHEMAS / relative
    return SchemaValidator(path) if path.exists() else None


@pytest.fixture(scope="session")
def sep_schemas() -> list[SchemaValidator]:
    """The IEEE 2030.5-2018 schema and the CSIP-AUS 1.2 schema (which redefines it), or a skip."""
    validators = [v for v in (_schema("sep2-2018/sep.xsd"), _schema("csipaus-1.2/csipaus-core.xsd")) if v]
    if not validators:
        pytest.skip(f"official schemas not found at {SHARED_SCHEMAS} (set GRIDHAN_SHARED_SCHEMAS)")
    return validators


@pytest.fixture(scope="session")
def optional_sep_schemas() -> list[SchemaValidator]:
    """Like ``sep_schemas`` but empty instead of a skip: HTTP tests validate when they can."""
    return [v for v in (_schema("sep2-2018/sep.xsd"), _schema("csipaus-1.2/csipaus-core.xsd")) if v]


#: Per test session: the migrated template databases ({"sqlite": path, "postgresql": name}).
TEMPLATES = pytest.StashKey[dict[str, object]]()


def _asyncpg() -> object:
    try:
        import asyncpg
    except ImportError:
        pytest.skip("asyncpg is not installed (pip install -e '.[postgres]')")
    return asyncpg


def _postgres_url(name: str) -> str:
    base = POSTGRES_URL.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"


async def _postgres_database(template: str | None = None) -> tuple[str, Callable]:
    """A new PostgreSQL database (a copy of ``template`` when given) and the coroutine that drops it."""
    asyncpg = _asyncpg()
    name = f"gridhan_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(POSTGRES_URL, timeout=5)  # type: ignore[attr-defined]
    except (OSError, asyncpg.PostgresError) as exc:  # type: ignore[attr-defined]
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")
    suffix = f' TEMPLATE "{template}"' if template else ""
    await admin.execute(f'CREATE DATABASE "{name}"{suffix}')
    await admin.close()

    async def drop() -> None:
        conn = await asyncpg.connect(POSTGRES_URL, timeout=5)  # type: ignore[attr-defined]
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    return _postgres_url(name), drop


async def _template(request: pytest.FixtureRequest, kind: str) -> object:
    """The session's template database of ``kind``, migrated once to the newest revision (so each test
    copies it instead of running every migration again); dropped when the session ends."""
    templates = request.config.stash.setdefault(TEMPLATES, {})
    if kind not in templates:
        if kind == "sqlite":
            path = request.config._tmp_path_factory.mktemp("template") / "gridhan.db"  # type: ignore[attr-defined]
            store = await Store.open(f"sqlite+aiosqlite:///{path}")
            await store.close()
            templates[kind] = path
        else:
            url, drop = await _postgres_database()
            store = await Store.open(url)
            await store.close()
            templates[kind] = url.rsplit("/", 1)[1]
            request.config.add_cleanup(lambda: asyncio.run(drop()))
    return templates[kind]


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database: an SQLite file, or a new PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'gridhan.db'}"
        return
    url, drop = await _postgres_database()
    try:
        yield url
    finally:
        await drop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database of its own at the newest revision: a copy of the session's migrated template
    (an SQLite file, or a PostgreSQL database dropped afterwards)."""
    template = await _template(request, request.param)
    if request.param == "sqlite":
        path = tmp_path / "gridhan.db"
        shutil.copyfile(template, path)  # type: ignore[arg-type]
        yield f"sqlite+aiosqlite:///{path}"
        return
    url, drop = await _postgres_database(str(template))
    try:
        yield url
    finally:
        await drop()


def server_settings(pki: DevelopmentPki, data_dir: Path, database_url: str, **overrides: object) -> Settings:
    base = Settings(
        data_dir=data_dir,
        database_url=database_url,
        port=0,
        admin_port=0,
        tls_cert=pki.server_cert_path,
        tls_key=pki.server_key_path,
        trust_anchors=(pki.trust_anchor_path,),
        admin_token="test-operator-token",
    )
    return base.replace(**overrides) if overrides else base


@pytest.fixture
async def make_server(pki: DevelopmentPki, tmp_path: Path, database_url: str) -> AsyncIterator[Callable[..., object]]:
    """Start gridhan servers (``await make_server(**setting_overrides)``); all are stopped afterwards."""
    servers: list[GridhanServer] = []

    async def start(clock: object = None, **overrides: object) -> GridhanServer:
        data_dir = tmp_path / f"data{len(servers)}"
        settings = server_settings(pki, data_dir, database_url, **overrides)
        server = GridhanServer(settings, clock=clock)  # type: ignore[arg-type]
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def server(make_server: Callable[..., object]) -> GridhanServer:
    return await make_server()  # type: ignore[misc]


@pytest.fixture
async def admin(server: GridhanServer, pki: DevelopmentPki) -> AsyncIterator[AdminClient]:
    client = AdminClient(server.admin_url, "test-operator-token", pki.trust_anchor_path)
    yield client
    await client.close()


@pytest.fixture
async def device(
    server: GridhanServer, pki: DevelopmentPki, optional_sep_schemas: list[SchemaValidator]
) -> AsyncIterator[Callable[[str], SepClient]]:
    """``device("dev1")``: a 2030.5 client holding that device's certificate; every sep+xml body it
    receives is checked against the official schemas."""
    clients: list[SepClient] = []

    def make(name: str) -> SepClient:
        client = SepClient(server.sep2_url, pki, name, optional_sep_schemas)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
