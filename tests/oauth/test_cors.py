"""CORS on the token, revocation and userinfo endpoints: browser apps (public clients)
call them from the origins of their registered redirect URIs, and from nowhere else.
Preflights and the requests after them as a browser sends them (Origin,
Access-Control-Request-Method), against the app in-process."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest

from domain.core.clock import FrozenClock
from tests.api.identity_ops import call
from tests.oauth.inprocess import BASE, LocalProvider, local_provider, walk_pages
from tests.oauth.support import DISABLE
from tests.support.asgi import AppWith

SPA = "https://spa.example.com"
OTHER_SPA = "https://other.example.com:8443"
WIKI = "https://wiki.example.com"
GONE = "https://gone.example.com"
EMAIL = "spa.user@example.com"


@pytest.fixture(scope="module")
async def op(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LocalProvider]:
    async with local_provider(app_with, clock) as provider:
        for name, kind, origin in (
            ("SPA", "PUBLIC", SPA),
            ("Other", "PUBLIC", OTHER_SPA),
            ("Wiki", "CONFIDENTIAL", WIKI),
            ("Gone", "PUBLIC", GONE),
        ):
            await provider.add_client(
                name, kind, redirectUris=[f"{origin}/callback"], scopes=["openid", "email"],
                grantTypes=["AUTHORIZATION_CODE"],
            )  # fmt: skip
        async with provider.http() as http:
            gone = provider.clients["Gone"]["client"]["id"]
            await call(http, DISABLE, {"id": gone}, token=provider.admin_token)
        await provider.person(EMAIL)
        yield provider


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "content-type",
    }


@pytest.mark.parametrize(
    ("path", "method", "allowed"),
    [
        ("/oauth2/token", "POST", "POST"),
        ("/oauth2/revoke", "POST", "POST"),
        ("/oauth2/userinfo", "GET", "GET, POST"),
    ],
)
async def test_a_public_clients_origin_passes_the_preflight(
    op: LocalProvider, path: str, method: str, allowed: str
) -> None:
    async with op.http() as browser:
        response = await browser.options(path, headers=preflight(SPA, method))
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == SPA
    assert response.headers["access-control-allow-methods"] == allowed
    assert response.headers["access-control-allow-headers"] == "Authorization, Content-Type"
    assert response.headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in response.headers


async def test_other_origins_are_refused_at_the_preflight(op: LocalProvider) -> None:
    async with op.http() as browser:
        for origin in (
            WIKI,  # a confidential client: a server, not a browser app
            GONE,  # a disabled client
            "https://app.example.com",  # the GraphQL API's CORS origin
            "https://spa.example.com.evil.example",
            "https://spa.example.com:444",
            "http://spa.example.com",
            "null",
        ):
            response = await browser.options("/oauth2/token", headers=preflight(origin))
            assert response.status_code == 403, origin
            assert "access-control-allow-origin" not in response.headers
        wrong_method = await browser.options("/oauth2/token", headers=preflight(SPA, "PUT"))
        assert wrong_method.status_code == 403
        plain = await browser.options("/oauth2/token")  # not a preflight
        assert plain.status_code == 405
        # The GraphQL API keeps its own CORS list.
        graphql = await browser.options("/graphql", headers=preflight("https://app.example.com"))
        assert graphql.headers["access-control-allow-origin"] == "https://app.example.com"


async def test_responses_are_readable_by_the_calling_clients_own_origin_only(
    op: LocalProvider,
) -> None:
    rp = op.rp("SPA")
    spa_id = op.clients["SPA"]["client"]["id"]
    verifier = secrets.token_urlsafe(48)
    url, _ = rp.create_authorization_url(f"{BASE}/oauth2/authorize", code_verifier=verifier)
    async with op.http() as browser:
        back = await walk_pages(browser, url, EMAIL)
    code = back.split("code=")[1].split("&")[0]
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": f"{SPA}/callback",
        "client_id": spa_id,
        "code_verifier": verifier,
    }
    async with op.http() as page:
        # Another public client's page cannot read the SPA's answers (shown with a bogus
        # code, so the real one stays unspent for the exchange below).
        foreign = await page.post(
            "/oauth2/token",
            data={**exchange, "code": "not-a-code"},
            headers={"Origin": OTHER_SPA},
        )
        assert foreign.status_code == 400
        assert "access-control-allow-origin" not in foreign.headers
        readable_error = await page.post(
            "/oauth2/token", data={**exchange, "code": "not-a-code"}, headers={"Origin": SPA}
        )
        assert readable_error.json()["error"] == "invalid_grant"
        assert readable_error.headers["access-control-allow-origin"] == SPA
        token = await page.post("/oauth2/token", data=exchange, headers={"Origin": SPA})
        assert token.status_code == 200
        assert token.headers["access-control-allow-origin"] == SPA
        assert token.headers["vary"] == "Origin"
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        info = await page.get("/oauth2/userinfo", headers={**bearer, "Origin": SPA})
        assert info.headers["access-control-allow-origin"] == SPA
        unreadable = await page.get("/oauth2/userinfo", headers={**bearer, "Origin": OTHER_SPA})
        assert unreadable.status_code == 200
        assert "access-control-allow-origin" not in unreadable.headers
        refused = await page.get(
            "/oauth2/userinfo", headers={"Authorization": "Bearer nope", "Origin": SPA}
        )
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == SPA
        assert refused.headers["access-control-expose-headers"] == "WWW-Authenticate"
        revoked = await page.post(
            "/oauth2/revoke",
            data={"token": token.json()["access_token"], "client_id": spa_id},
            headers={"Origin": SPA},
        )
        assert revoked.status_code == 200
        assert revoked.headers["access-control-allow-origin"] == SPA
        # A confidential client's server-side calls never get CORS headers.
        wiki = op.clients["Wiki"]
        server = await page.post(
            "/oauth2/token",
            data={"grant_type": "authorization_code", "code": "x", "redirect_uri": WIKI},
            auth=(wiki["client"]["id"], wiki["clientSecret"]),
            headers={"Origin": WIKI},
        )
        assert server.status_code == 400
        assert "access-control-allow-origin" not in server.headers


async def test_discovery_and_the_keys_are_readable_from_any_origin(op: LocalProvider) -> None:
    async with op.http() as page:
        for path in ("/.well-known/openid-configuration", "/.well-known/jwks.json"):
            response = await page.get(path, headers={"Origin": "https://any.example"})
            assert response.status_code == 200
            assert response.headers["access-control-allow-origin"] == "*"
            assert "access-control-allow-credentials" not in response.headers
