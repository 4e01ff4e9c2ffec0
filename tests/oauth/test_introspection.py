"""Introspection as resource servers call it (RFC 7662), answered inline on the event
loop with the client and token read first (domain/oauth/answered.py), the client from
its Redis copy (domain/oauth/client_cache.py): both credential forms, every refusal
authlib makes, and a client change seen at once though the client is cached."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from domain.core.clock import FrozenClock
from tests.api.identity_ops import call
from tests.oauth.inprocess import LocalProvider, local_provider
from tests.oauth.support import DISABLE, ROTATE
from tests.support.asgi import AppWith

CLOCK_START = datetime(2026, 8, 3, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def op(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LocalProvider]:
    async with local_provider(app_with, clock) as provider:
        for name in ("orders", "billing", "reports"):
            await provider.add_client(
                name, "CONFIDENTIAL", grantTypes=["CLIENT_CREDENTIALS"], scopes=["api:read"]
            )
        await provider.add_client(
            "spa", "PUBLIC", redirectUris=["https://spa.example.com/cb"],
            grantTypes=["AUTHORIZATION_CODE"], scopes=["openid"],
        )  # fmt: skip
        yield provider


def credentials(op: LocalProvider, name: str) -> tuple[str, str]:
    found = op.clients[name]
    return found["client"]["id"], found["clientSecret"]


async def service_token(http: httpx.AsyncClient, op: LocalProvider, name: str) -> str:
    issued = await http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "api:read"},
        auth=credentials(op, name),
    )
    assert issued.status_code == 200, issued.text
    token: str = issued.json()["access_token"]
    return token


async def test_basic_and_post_credentials_and_every_refusal(op: LocalProvider) -> None:
    async with op.http() as http:
        token = await service_token(http, op, "orders")
        billing_id, billing_secret = credentials(op, "billing")
        basic = await http.post(
            "/oauth2/introspect", data={"token": token}, auth=(billing_id, billing_secret)
        )
        posted = await http.post(
            "/oauth2/introspect",
            data={"token": token, "client_id": billing_id, "client_secret": billing_secret},
        )
        for seen in (basic, posted):
            assert seen.status_code == 200, seen.text
            body = seen.json()
            assert body["active"] is True
            assert body["client_id"] == op.clients["orders"]["client"]["id"]
            assert body["scope"] == "api:read"
        assert basic.headers["cache-control"] == "no-store"
        wrong = await http.post("/oauth2/introspect", data={"token": token}, auth=(billing_id, "x"))
        assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
        unknown = await http.post(
            "/oauth2/introspect", data={"token": token}, auth=("gh_nobody", "x")
        )
        assert (unknown.status_code, unknown.json()["error"]) == (401, "invalid_client")
        anonymous = await http.post("/oauth2/introspect", data={"token": token})
        assert anonymous.status_code == 401
        spa = op.clients["spa"]["client"]["id"]
        public = await http.post("/oauth2/introspect", data={"token": token, "client_id": spa})
        assert public.status_code == 401, public.text  # a public client holds no secret
        missing = await http.post("/oauth2/introspect", data={}, auth=(billing_id, billing_secret))
        assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
        hinted = await http.post(
            "/oauth2/introspect",
            data={"token": token, "token_type_hint": "id_token"},
            auth=(billing_id, billing_secret),
        )
        assert hinted.json()["error"] == "unsupported_token_type"
        for junk in ("a.b.c", "not-a-token", "x" * 5000):
            seen = await http.post(
                "/oauth2/introspect", data={"token": junk}, auth=(billing_id, billing_secret)
            )
            assert seen.json() == {"active": False}, junk


async def test_a_client_change_is_seen_at_once_though_clients_are_cached(
    op: LocalProvider,
) -> None:
    async with op.http() as http:
        token = await service_token(http, op, "reports")
        reports_id, old_secret = credentials(op, "reports")
        billing = credentials(op, "billing")
        for auth in (billing, (reports_id, old_secret)):  # both clients now in the cache
            seen = await http.post("/oauth2/introspect", data={"token": token}, auth=auth)
            assert seen.json()["active"] is True
        rotated = await call(http, ROTATE, {"id": reports_id}, token=op.admin_token)
        new_secret = rotated["data"]["rotateOAuthClientSecret"]["clientSecret"]
        old = await http.post(
            "/oauth2/introspect", data={"token": token}, auth=(reports_id, old_secret)
        )
        assert old.status_code == 401  # the old secret stopped at once
        new = await http.post(
            "/oauth2/introspect", data={"token": token}, auth=(reports_id, new_secret)
        )
        assert new.json()["active"] is True
        await call(http, DISABLE, {"id": reports_id}, token=op.admin_token)
        # The disabled client's tokens are inactive to everyone; it can no longer ask.
        seen = await http.post("/oauth2/introspect", data={"token": token}, auth=billing)
        assert seen.json() == {"active": False}
        refused = await http.post(
            "/oauth2/introspect", data={"token": token}, auth=(reports_id, new_secret)
        )
        assert refused.status_code == 401


async def test_the_token_endpoint_behind_a_tls_proxy(op: LocalProvider) -> None:
    """The request reaches Gatehouse as plain http on a private address (the proxy ended
    TLS); the URL authlib checks is the configured public one, so nothing is refused
    for "insecure transport" and nothing fails with a server error."""
    transport = httpx.ASGITransport(app=op.app.app, client=("10.0.0.5", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gatehouse.internal") as http:
        issued = await http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=credentials(op, "orders"),
        )
    assert issued.status_code == 200, issued.text
