"""Test clients: a 2030.5 device over mutual TLS, and the operator's admin API client."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from lxml import etree

from gridhan.certs.identity import lfdi_of, load_certificate
from gridhan.certs.pki import DevelopmentPki
from gridhan.certs.tls import client_context
from gridhan.schemas.identifiers import sfdi_from_lfdi
from gridhan.schemas.sep2 import CONTENT_TYPE
from gridhan.schemas.xmlcodec import XmlResource, decode, encode
from gridhan.schemas.xsd import SchemaValidator

T = TypeVar("T", bound=XmlResource)

#: Roots whose CSIP-AUS 1.2 definition requires extension elements (DERCapability must carry
#: csipaus:doeModesSupported), so a plain 2030.5 document of them cannot also be valid CSIP-AUS. A client
#: holding both schemas checks these against sep.xsd only; a CSIP-AUS client holds the CSIP-AUS schema alone.
CSIP_AUS_STRICTER = frozenset({"DERCapability"})


@dataclass
class Reply:
    status: int
    headers: Any
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def parse(self, cls: type[T]) -> T:
        assert self.status == 200, f"expected 200, got {self.status}: {self.text}"
        assert self.headers["Content-Type"].startswith(CONTENT_TYPE), self.headers["Content-Type"]
        return decode(self.body, cls)


class SepClient:
    def __init__(self, base_url: str, pki: DevelopmentPki, name: str, schemas: list[SchemaValidator]) -> None:
        self.base_url = base_url
        self.name = name
        cert = pki.device_cert_path(name)
        self.lfdi = lfdi_of(load_certificate(cert))
        self.sfdi = sfdi_from_lfdi(self.lfdi)
        self.ssl = client_context(cert, pki.device_key_path(name), trust_anchors=[pki.trust_anchor_path])
        self.schemas = schemas
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self.ssl))
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | XmlResource | None = None,
        content_type: str = CONTENT_TYPE,
        **kwargs: Any,
    ) -> Reply:
        data = encode(body) if isinstance(body, XmlResource) else body
        headers = {"Content-Type": content_type} if data is not None else {}
        headers.update(kwargs.pop("headers", {}))
        async with self.session.request(method, self.base_url + path, data=data, headers=headers, **kwargs) as resp:
            reply = Reply(resp.status, resp.headers, await resp.read())
        if reply.body and reply.headers.get("Content-Type", "").startswith(CONTENT_TYPE):
            assert not reply.body.startswith(b"<?xml"), "no XML declaration is sent"
            root = etree.QName(etree.fromstring(reply.body)).localname
            for schema in self.schemas:
                if len(self.schemas) > 1 and schema.path.name == "csipaus-core.xsd" and root in CSIP_AUS_STRICTER:
                    continue  # a plain 2030.5 server's document; checked against sep.xsd
                errors = schema.errors(reply.body)
                assert not errors, f"{method} {path}: response violates {schema.path.name}: {errors}"
        return reply

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, body: bytes | XmlResource, **kwargs: Any) -> Reply:
        return await self.request("POST", path, body, **kwargs)

    async def put(self, path: str, body: bytes | XmlResource, **kwargs: Any) -> Reply:
        return await self.request("PUT", path, body, **kwargs)

    async def delete(self, path: str) -> Reply:
        return await self.request("DELETE", path)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def operator_ssl(trust_anchor: Path) -> ssl.SSLContext:
    """The admin API presents the server's 2030.5 certificate (no host name): verify the chain only."""
    ctx = ssl.create_default_context(cafile=str(trust_anchor))
    ctx.check_hostname = False
    return ctx


class AdminClient:
    def __init__(self, base_url: str, token: str, trust_anchor: Path) -> None:
        self.base_url = base_url
        self.token = token
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=operator_ssl(trust_anchor)),
            headers={"Authorization": f"Bearer {token}"},
        )

    async def request(self, method: str, path: str, json: Any = None, **kwargs: Any) -> tuple[int, Any]:
        async with self.session.request(method, self.base_url + "/api/v1" + path, json=json, **kwargs) as resp:
            if resp.content_type == "application/json":
                return resp.status, await resp.json()
            return resp.status, await resp.text()

    async def get(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> tuple[int, Any]:
        return await self.request("POST", path, json, **kwargs)

    async def patch(self, path: str, json: Any = None, **kwargs: Any) -> tuple[int, Any]:
        return await self.request("PATCH", path, json, **kwargs)

    async def put(self, path: str, json: Any = None, **kwargs: Any) -> tuple[int, Any]:
        return await self.request("PUT", path, json, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        return await self.request("DELETE", path, **kwargs)

    async def close(self) -> None:
        await self.session.close()
