"""The consent rules under ``prompt`` and a widened scope set, the grants Gatehouse does
not offer (implicit, password), per-client token lifetimes and the provider's routes in
the OpenAPI document. The app runs in-process on a clock the test moves; authlib's
client is the relying party, httpx the browser on the built-in pages."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from authlib.integrations.base_client.errors import OAuthError

from domain.core.clock import FrozenClock
from tests.api.identity_ops import PASSWORD
from tests.oauth.conftest import hidden
from tests.oauth.inprocess import BASE, RP, LocalProvider, local_provider, walk_pages
from tests.support.asgi import AppWith

CLOCK_START = datetime(2026, 6, 5, 8, 0, tzinfo=UTC)
SCOPES = ["openid", "email", "offline_access"]
ACCESS_TTL = 120
REFRESH_TTL = 3600


@pytest.fixture(scope="module")
async def op(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LocalProvider]:
    async with local_provider(app_with, clock) as provider:
        await provider.add_client(
            "Notes", "CONFIDENTIAL", redirectUris=[RP], scopes=SCOPES,
            grantTypes=["AUTHORIZATION_CODE", "REFRESH_TOKEN"],
            accessTokenTtlSeconds=ACCESS_TTL, refreshTokenTtlSeconds=REFRESH_TTL,
        )  # fmt: skip
        await provider.add_client(
            "reports", "CONFIDENTIAL", grantTypes=["CLIENT_CREDENTIALS"], scopes=["reports:read"]
        )
        yield provider


def _authorize_url(op: LocalProvider, scope: str, **extra: str) -> str:
    rp = op.rp("Notes", scope=scope)
    url, _ = rp.create_authorization_url(
        f"{BASE}/oauth2/authorize",
        code_verifier=secrets.token_urlsafe(48),
        state="st-9",
        **extra,
    )
    return str(url)


async def _sign_in_only(browser: httpx.AsyncClient, url: str, email: str) -> str:
    """Signs in on the page and stops where the request goes next (its Location)."""
    login = (await browser.get(url)).headers["location"]
    assert "/oauth2/login" in login, login
    page = await browser.get(login)
    form = {"challenge": hidden(page.text, "challenge"), "csrf": hidden(page.text, "csrf")}
    posted = await browser.post(
        "/oauth2/login", data={**form, "email": email, "password": PASSWORD}
    )
    assert posted.status_code == 303, posted.text
    return str((await browser.get(posted.headers["location"])).headers["location"])


async def test_prompt_consent_asks_again_for_a_consented_client(op: LocalProvider) -> None:
    await op.person("consent.ada@example.com")
    async with op.http() as browser:
        back = await walk_pages(
            browser, _authorize_url(op, "openid email"), "consent.ada@example.com"
        )
        assert back.startswith(RP + "?code="), back  # consented now
        silent = await browser.get(_authorize_url(op, "openid email"))
        assert silent.headers["location"].startswith(RP + "?code=")  # remembered
        again = await browser.get(_authorize_url(op, "openid email", prompt="consent"))
        assert "/oauth2/consent?challenge=" in again.headers["location"]


async def test_prompt_none_with_a_session_but_no_consent_is_consent_required(
    op: LocalProvider,
) -> None:
    await op.person("noconsent.ada@example.com")
    async with op.http() as browser:
        stopped = await _sign_in_only(
            browser, _authorize_url(op, "openid email"), "noconsent.ada@example.com"
        )
        assert "/oauth2/consent?challenge=" in stopped  # signed in, not consented
        silent = await browser.get(_authorize_url(op, "openid email", prompt="none"))
    location = silent.headers["location"]
    assert location.startswith(RP + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["error"] == ["consent_required"]
    assert query["state"] == ["st-9"]
    assert query["iss"] == [BASE]
    assert "code" not in query


async def test_a_wider_scope_set_brings_the_consent_screen_back(op: LocalProvider) -> None:
    await op.person("wider.ada@example.com")
    async with op.http() as browser:
        back = await walk_pages(
            browser, _authorize_url(op, "openid email"), "wider.ada@example.com"
        )
        assert back.startswith(RP + "?code=")
        wider = await browser.get(_authorize_url(op, "openid email offline_access"))
        assert "/oauth2/consent?challenge=" in wider.headers["location"]
        assert (await browser.get(wider.headers["location"])).status_code == 200
        narrower = await browser.get(_authorize_url(op, "openid"))
        assert narrower.headers["location"].startswith(RP + "?code=")  # within the consent


async def test_implicit_and_password_grants_are_refused(op: LocalProvider) -> None:
    await op.person("refused.ada@example.com")
    notes = op.clients["Notes"]
    async with op.http() as browser:
        await walk_pages(browser, _authorize_url(op, "openid email"), "refused.ada@example.com")
        implicit = await browser.get(
            "/oauth2/authorize",
            params={
                "response_type": "token",
                "client_id": notes["client"]["id"],
                "redirect_uri": RP,
                "scope": "openid email",
                "state": "st-9",
            },
        )
    # Refused to the client (its redirect URI is registered), with the state and issuer.
    assert implicit.status_code == 302
    location = implicit.headers["location"]
    assert location.startswith(RP + "?")
    assert "#" not in location  # no fragment: nothing issued the implicit way
    query = parse_qs(urlsplit(location).query)
    assert query["error"] == ["unsupported_response_type"]
    assert query["state"] == ["st-9"]
    assert query["iss"] == [BASE]
    async with op.http() as http:
        password = await http.post(
            "/oauth2/token",
            data={
                "grant_type": "password",
                "username": "refused.ada@example.com",
                "password": PASSWORD,
                "scope": "openid email",
            },
            auth=(notes["client"]["id"], notes["clientSecret"]),
        )
    assert password.status_code == 400
    assert password.json()["error"] == "unsupported_grant_type"
    assert "access_token" not in password.json()


async def _introspected(op: LocalProvider, token: str) -> dict[str, Any]:
    reports = op.clients["reports"]
    form = {"client_id": reports["client"]["id"], "client_secret": reports["clientSecret"]}
    async with op.http() as http:
        seen = await http.post("/oauth2/introspect", data={**form, "token": token})
    body: dict[str, Any] = seen.json()
    return body


async def test_per_client_token_lifetimes_are_applied(op: LocalProvider) -> None:
    await op.person("ttl.ada@example.com")
    rp = op.rp("Notes", scope=" ".join(SCOPES))
    verifier = secrets.token_urlsafe(48)
    url, _ = rp.create_authorization_url(f"{BASE}/oauth2/authorize", code_verifier=verifier)
    async with op.http() as browser:
        back = await walk_pages(browser, url, "ttl.ada@example.com")
    issued_at = int(op.clock.now().timestamp())
    token = await rp.fetch_token(
        f"{BASE}/oauth2/token", authorization_response=back, code_verifier=verifier
    )
    assert token["expires_in"] == ACCESS_TTL
    access = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert access["exp"] - access["iat"] == ACCESS_TTL
    assert (await _introspected(op, token["refresh_token"]))["exp"] == issued_at + REFRESH_TTL
    # The access token ends with its lifetime.
    op.clock.advance(timedelta(seconds=ACCESS_TTL + 1))
    assert (await _introspected(op, token["access_token"]))["active"] is False
    # A rotation keeps the grant's absolute expiry; past it the refresh token is refused.
    rotated = await rp.refresh_token(f"{BASE}/oauth2/token", refresh_token=token["refresh_token"])
    assert (await _introspected(op, rotated["refresh_token"]))["exp"] == issued_at + REFRESH_TTL
    op.clock.advance(timedelta(seconds=REFRESH_TTL))
    assert (await _introspected(op, rotated["refresh_token"]))["active"] is False
    with pytest.raises(OAuthError) as expired:
        await rp.refresh_token(f"{BASE}/oauth2/token", refresh_token=rotated["refresh_token"])
    assert expired.value.error == "invalid_grant"


async def test_the_provider_routes_are_in_the_openapi_document(op: LocalProvider) -> None:
    async with op.http() as http:
        document = (await http.get("/api/openapi.json")).json()
    paths = set(document["paths"])
    assert {
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
        "/oauth2/authorize",
        "/oauth2/token",
        "/oauth2/device_authorization",
        "/oauth2/userinfo",
        "/oauth2/revoke",
        "/oauth2/introspect",
        "/oauth2/logout",
    } <= paths
    assert "post" in document["paths"]["/oauth2/token"]
