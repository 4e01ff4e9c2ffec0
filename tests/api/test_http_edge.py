"""The HTTP edge through the ASGI app against real FerretDB and Redis."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import gql

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


def assert_security_headers(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    assert "content-security-policy" in response.headers
    assert "permissions-policy" in response.headers
    assert "server" not in response.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/livez"),
        ("GET", "/api/status"),
        ("GET", "/api/openapi.json"),
        ("GET", "/nope"),
        ("POST", "/graphql"),
        ("GET", "/graphql"),
    ],
)
async def test_every_response_has_request_id_and_security_headers(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path)
    assert uuid.UUID(response.headers["x-request-id"])
    assert_security_headers(response)


async def test_incoming_request_id_is_echoed_when_well_formed(client: httpx.AsyncClient) -> None:
    response = await client.get("/livez", headers={"X-Request-ID": "trace-0123456789abcdef"})
    assert response.headers["x-request-id"] == "trace-0123456789abcdef"


@pytest.mark.parametrize("bad", ["short", "has space in it 123", "x" * 200, "bad<script>id-123"])
async def test_malformed_request_id_is_replaced(client: httpx.AsyncClient, bad: str) -> None:
    response = await client.get("/livez", headers={"X-Request-ID": bad})
    assert response.headers["x-request-id"] != bad
    assert uuid.UUID(response.headers["x-request-id"])


async def test_strict_csp_outside_graphiql(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/status")
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


async def test_graphiql_page_served_with_its_own_csp(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-eval" not in csp
    assert "<script" in response.text
    assert "unpkg" not in response.text
    assert "cdn" not in response.text.lower()


async def test_graphiql_assets_are_served_locally(client: httpx.AsyncClient) -> None:
    page = (await client.get("/graphql", headers={"Accept": "text/html"})).text
    import re

    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources
    for source in sources:
        if source.startswith("data:"):
            continue
        assert source.startswith("/graphiql/static/"), source
        asset = await client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 100


async def test_hsts_only_when_https_or_configured(client: httpx.AsyncClient) -> None:
    plain = await client.get("/livez")
    assert "strict-transport-security" not in plain.headers
    secure = await client.get("https://testserver/livez")
    assert secure.headers["strict-transport-security"].startswith("max-age=")


async def test_cors_preflight_allowed_origin(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/graphql",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example.com"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert int(response.headers["access-control-max-age"]) > 0
    assert_security_headers(response)


async def test_cors_preflight_other_origin_gets_no_grant(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/graphql",
        headers={"Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code >= 400
    assert "access-control-allow-origin" not in response.headers


async def test_cors_simple_request_from_other_origin_gets_no_grant(
    client: httpx.AsyncClient,
) -> None:
    response = await gql(
        client, "{ serverInfo { name } }", headers={"Origin": "https://evil.example.net"}
    )
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


async def test_unknown_route_gets_json_envelope(client: httpx.AsyncClient) -> None:
    response = await client.get("/nope")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "NOT_FOUND"
    assert body["statusCode"] == 404
    assert body["error"] == "Not Found"
    assert body["requestId"] == response.headers["x-request-id"]
    assert body["timestamp"].endswith("Z")


async def test_wrong_method_on_rest_route(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/status")
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"


async def test_body_over_limit_by_content_length(
    client: httpx.AsyncClient, settings: object
) -> None:
    big = b"x" * (10 * 1024 * 1024)
    response = await client.post(
        "/graphql", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert_security_headers(response)


async def test_body_over_limit_when_streamed_without_length(client: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"y" * 65536

    response = await client.post(
        "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
