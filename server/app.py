"""The running server: the store, the device registry, the 2030.5 listener (mutual TLS terminated by
gridhan, or plain HTTP behind a trusted TLS-terminating proxy), the admin API listener and, when asked for,
the DNS-SD advertisement (clause 7).

Two :class:`GridhanServer` instances can run in one process: everything they hold hangs off them.
"""

from __future__ import annotations

import logging
import secrets
import ssl
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from cryptography import x509

from gridhan.certs.identity import lfdi_of, load_certificate
from gridhan.certs.tls import client_context, server_context
from gridhan.schemas.clock import Clock, SystemClock
from gridhan.schemas.identifiers import sfdi_from_lfdi
from gridhan.schemas.xsd import SchemaValidator
from gridhan.server.admin.app import build_admin_app
from gridhan.server.context import AppContext, RuntimeSettings
from gridhan.server.dnssd import DnssdAdvertiser, default_instance_name, plan_advertisement
from gridhan.server.identity import IdentityRegistry
from gridhan.server.notify.service import NotifyService
from gridhan.server.sep2.app import build_sep2_app
from gridhan.server.sep2.edev import self_device_information
from gridhan.server.settings import Settings
from gridhan.server.store.repo import Store
from gridhan.server.tls import TlsContextHolder, TlsGateSite

log = logging.getLogger("gridhan.server")

ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tfs'


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path
    trust_anchors: tuple[Path, ...]


def tls_files(settings: Settings) -> TlsFiles:
    """The server certificate, key and trust anchors: configured, or the development PKI's."""
    pki = settings.data_dir / "pki"
    cert = settings.tls_cert or pki / "server.pem"
    key = settings.tls_key or pki / "server.key"
    anchors = settings.trust_anchors or (pki / "serca.pem",)
    for path in (cert, key, *anchors):
        if not path.exists():
            raise FileNotFoundError(
                f"{path} does not exist: configure tls_cert, tls_key and trust_anchors, or create a development "
                f"PKI with `gridhan certs init {pki}` (or run `gridhan serve --demo`)"
            )
    return TlsFiles(cert, key, tuple(anchors))


def admin_token(settings: Settings) -> str:
    """The operator token: configured, or generated once into ``data_dir/admin-token`` (mode 0600)."""
    if settings.admin_token:
        return settings.admin_token
    path = settings.data_dir / "admin-token"
    if path.exists():
        return path.read_text().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    path.touch(mode=0o600)
    path.write_text(token + "\n")
    return token


def subjects_of(certificates: list[bytes]) -> frozenset[bytes]:
    """DER subject names of DER certificates."""
    return frozenset(x509.load_der_x509_certificate(der).subject.public_bytes() for der in certificates)


class GridhanServer:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.ctx: AppContext | None = None
        self._runners: list[web.AppRunner] = []
        self.sep2_site: web.BaseSite | None = None
        self.admin_site: web.BaseSite | None = None
        self.tls: TlsContextHolder | None = None
        self.dnssd: DnssdAdvertiser | None = None

    @property
    def context(self) -> AppContext:
        assert self.ctx is not None, "server not started"
        return self.ctx

    async def start(self) -> None:
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        files = tls_files(settings)
        store = await Store.open(settings.effective_database_url)
        try:
            runtime = RuntimeSettings.from_settings(settings, await store.runtime_settings())
            ctx = AppContext(
                settings=settings,
                clock=self.clock,
                store=store,
                identities=IdentityRegistry(store),
                runtime=runtime,
                self_information=self_device_information(
                    load_certificate(files.cert), settings.manufacturer_pen, int(self.clock.now())
                ),
                validator=SchemaValidator(settings.schema_path, settings.schema_sha256)
                if settings.schema_path
                else None,
            )
            self.ctx = ctx

            def build(trusted_der: list[bytes]) -> ssl.SSLContext:
                return server_context(
                    files.cert,
                    files.key,
                    trust_anchors=files.trust_anchors,
                    trusted_der=trusted_der,
                    ciphers=settings.ciphers,
                )

            trusted = await store.trusted_self_signed_certificates()
            self.tls = TlsContextHolder(build, trusted)
            ctx.identities.self_signed_subjects = subjects_of(trusted)

            async def rebuild_tls() -> None:
                assert self.tls is not None
                trusted = await store.trusted_self_signed_certificates()
                self.tls.rebuild(trusted)
                ctx.identities.self_signed_subjects = subjects_of(trusted)

            ctx.on_trust_change.append(rebuild_tls)

            sep2_app = build_sep2_app(ctx)
            sep2_runner = web.AppRunner(sep2_app, access_log_format=ACCESS_LOG_FORMAT, handle_signals=False)
            await sep2_runner.setup()
            self._runners.append(sep2_runner)
            # notifications are POSTed with the server's own certificate (clause 8.7; TLS rules of 5.4)
            notify_ssl = client_context(
                files.cert, files.key, trust_anchors=files.trust_anchors, ciphers=settings.ciphers
            )
            ctx.notify = NotifyService(ctx, sep2_app, notify_ssl)
            await ctx.notify.start()
            if settings.trusted_proxies:
                self.sep2_site = web.TCPSite(sep2_runner, settings.host, settings.port)
            else:
                self.sep2_site = TlsGateSite(
                    sep2_runner,
                    settings.host,
                    settings.port,
                    contexts=self.tls,
                    admit=ctx.identities.admit_handshake,
                    handshake_timeout=settings.handshake_timeout,
                )
            await self.sep2_site.start()

            admin_ssl = server_context(
                files.cert,
                files.key,
                trust_anchors=files.trust_anchors,
                ciphers=(*settings.ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256"),
                require_client_cert=False,
            )
            admin_runner = web.AppRunner(
                build_admin_app(ctx, admin_token(settings), frozenset(settings.operator_lfdis)),
                access_log_format=ACCESS_LOG_FORMAT,
                handle_signals=False,
            )
            await admin_runner.setup()
            self._runners.append(admin_runner)
            self.admin_site = web.TCPSite(admin_runner, settings.admin_host, settings.admin_port, ssl_context=admin_ssl)
            await self.admin_site.start()

            if settings.dnssd:
                self.dnssd = DnssdAdvertiser(
                    settings.dnssd_name or default_instance_name(sfdi_from_lfdi(lfdi_of(load_certificate(files.cert)))),
                    settings.dnssd_port or self.sep2_port,
                    await plan_advertisement(settings.host, settings.dnssd_interfaces),
                )
                await self.dnssd.start()
        except BaseException:
            await self.stop()
            await store.close()
            raise
        log.info("2030.5 server listening on %s; admin API on %s", self.sep2_url, self.admin_url)

    @property
    def sep2_port(self) -> int:
        return _site_port(self.sep2_site)

    @property
    def admin_port(self) -> int:
        return _site_port(self.admin_site)

    @property
    def sep2_url(self) -> str:
        scheme = "http" if self.settings.trusted_proxies else "https"
        return f"{scheme}://{self.settings.host}:{self.sep2_port}"

    @property
    def admin_url(self) -> str:
        return f"https://{self.settings.admin_host}:{self.admin_port}"

    async def stop(self) -> None:
        """Graceful shutdown: stop the notification workers (what they hold stays in the outbox), stop
        accepting, let requests in flight finish, close the database. The DNS-SD advertisement is withdrawn
        first, so that devices stop finding the server before it stops answering."""
        if self.dnssd is not None:
            await self.dnssd.stop()
            self.dnssd = None
        if self.ctx is not None and self.ctx.notify is not None:
            await self.ctx.notify.stop()
            self.ctx.notify = None
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        if self.ctx is not None:
            await self.ctx.store.close()
            self.ctx = None


def _site_port(site: web.BaseSite | None) -> int:
    if site is None:
        raise RuntimeError("server not started")
    server = site._server  # aiohttp keeps the asyncio server here
    if server is not None and getattr(server, "sockets", None):
        return server.sockets[0].getsockname()[1]
    raise RuntimeError("site has no listening socket")
