"""The admin API's OpenAPI document stays true: it names exactly the routes the application serves, it is a
valid OpenAPI 3.1 document, and real responses match the schemas it gives (every request the admin API
tests make goes through :class:`DocumentedAdmin`, which checks its response)."""

from __future__ import annotations

import re
from typing import Any, cast

import aiohttp
import jsonschema
import pytest
from sep_client import AdminClient, operator_ssl

from gridhan.certs.pki import DevelopmentPki
from gridhan.server.admin.app import build_admin_app
from gridhan.server.admin.openapi import document
from gridhan.server.app import GridhanServer
from gridhan.server.context import AppContext

API = "/api/v1"
METHODS = ("get", "put", "post", "delete", "patch")


class DocumentedAdmin:
    """The operator's client, checking each response against the OpenAPI document: the status must be one
    the operation documents, and the body must match the documented schema."""

    def __init__(self, client: AdminClient, doc: dict[str, Any] | None = None) -> None:
        self.client = client
        self.doc = doc or document()
        self.checked: list[tuple[str, str, int]] = []
        self.last_headers: Any = None
        self._templates = [
            (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(p)) + "$"), p) for p in self.doc["paths"]
        ]

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        """The documented (path template, operation) of a request path."""
        for pattern, template in self._templates:
            if pattern.match(path):
                item = self.doc["paths"][template]
                assert method.lower() in item, f"{method} {template} is not documented"
                return template, item[method.lower()]
        raise AssertionError(f"{path} matches no documented path")

    def validate(self, method: str, path: str, status: int, content_type: str, body: Any, headers: Any) -> None:
        template, op = self.operation(method, path)
        documented = op["responses"].get(str(status))
        assert documented is not None, f"{method} {template} answered {status}, not documented: {body}"
        if "$ref" in documented:
            documented = self.doc["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
        content = documented.get("content")
        if content is None:
            assert body in ("", None), f"{method} {template} {status} has an undocumented body: {body!r}"
        else:
            assert content_type == "application/json", f"{method} {template} {status}: {content_type}"
            schema = {**content["application/json"]["schema"], "components": self.doc["components"]}
            jsonschema.Draft202012Validator(schema).validate(body)
        for header in documented.get("headers", {}):
            assert header in headers, f"{method} {template} {status} lacks the documented {header} header"
        self.checked.append((method.upper(), template, status))

    async def request(self, method: str, path: str, json: Any = None, **kwargs: Any) -> tuple[int, Any]:
        url = self.client.base_url + API + path
        async with self.client.session.request(method, url, json=json, **kwargs) as resp:
            body: Any = await resp.json() if resp.content_type == "application/json" else await resp.text()
            self.validate(method, API + path.split("?", 1)[0], resp.status, resp.content_type, body, resp.headers)
            self.last_headers = resp.headers
            return resp.status, body

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


def router_operations() -> set[tuple[str, str]]:
    """(method, path template) of every route of the admin application, HEAD excluded."""
    app = build_admin_app(cast(AppContext, None), "token")  # building the routes reads no context
    return {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }


def test_document_names_exactly_the_routes() -> None:
    doc = document()
    documented = {(m, p) for p, item in doc["paths"].items() for m in item if m in METHODS}
    served = router_operations()
    assert served - documented == set(), "routes missing from the OpenAPI document"
    assert documented - served == set(), "documented operations the application does not serve"


def test_document_is_valid_openapi() -> None:
    doc = document()
    try:
        from openapi_spec_validator import validate
    except ImportError:  # pragma: no cover - fallback when the validator is not installed
        for schema in doc["components"]["schemas"].values():
            jsonschema.Draft202012Validator.check_schema(schema)
    else:
        validate(doc)
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearer"]["description"],
    }
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                assert op["summary"] and op["responses"], f"{method} {path}"
                if path not in (f"{API}/health", f"{API}/openapi.json"):
                    assert "401" in op["responses"], f"{method} {path} does not document 401"


def test_checker_refuses_an_undocumented_response() -> None:
    checker = DocumentedAdmin(cast(AdminClient, None))
    with pytest.raises(AssertionError, match="not documented"):
        checker.validate("GET", f"{API}/settings", 418, "application/json", {"error": "x"}, {})
    with pytest.raises(jsonschema.ValidationError):
        checker.validate("GET", f"{API}/groups/1", 200, "application/json", {"id": 1}, {})


async def test_served_document_and_responses(server: GridhanServer, admin: AdminClient, pki: DevelopmentPki) -> None:
    api = DocumentedAdmin(admin)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=operator_ssl(pki.trust_anchor_path))) as anon:
        async with anon.get(server.admin_url + f"{API}/openapi.json") as resp:
            assert resp.status == 200
            served = await resp.json()
        async with anon.get(server.admin_url + f"{API}/settings") as resp:
            assert resp.status == 401
            api.validate("GET", f"{API}/settings", 401, resp.content_type, await resp.json(), resp.headers)
    assert served == document()
    assert (await api.get("/health"))[0] == 200
    assert (await api.get("/settings"))[0] == 200
    status, body = await api.post("/groups", {"name": "feeder-7"})
    assert status == 201, body
    assert (await api.get(f"/groups/{body['id']}"))[0] == 200
    assert (await api.get("/groups/999"))[0] == 404
    assert (await api.post("/devices", {"lfdi": "ab" * 20, "groups": [body["id"]]}))[0] == 201
    assert (await api.get("/devices"))[0] == 200
    assert {(m, s) for m, _, s in api.checked} >= {("GET", 200), ("POST", 201), ("GET", 404), ("GET", 401)}
