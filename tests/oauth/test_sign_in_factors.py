"""The sign-in the provider asks for, on a clock the tests move: the second factor on
the built-in page, ``max_age`` forcing a new sign-in (``auth_time`` in the ID token),
and ``client_secret_post`` at the token, introspection and revocation endpoints. The app
runs in-process; authlib's OAuth client and the pages talk to it over ASGI."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from domain.core.clock import FrozenClock
from tests.api.identity_ops import PASSWORD
from tests.oauth.conftest import hidden
from tests.oauth.inprocess import BASE, RP, LocalProvider, local_provider, walk_pages
from tests.support.asgi import AppWith

CLOCK_START = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
SCOPES = ["openid", "email", "profile", "offline_access"]


@pytest.fixture(scope="module")
async def op(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LocalProvider]:
    async with local_provider(app_with, clock) as provider:
        await provider.add_client(
            "wiki", "CONFIDENTIAL", redirectUris=[RP], scopes=SCOPES, firstParty=True,
            grantTypes=["AUTHORIZATION_CODE", "REFRESH_TOKEN"],
        )  # fmt: skip
        await provider.add_client(
            "reports", "CONFIDENTIAL", grantTypes=["CLIENT_CREDENTIALS"], scopes=["reports:read"]
        )
        yield provider


async def test_the_second_factor_on_the_built_in_page(op: LocalProvider) -> None:
    secret = await op.person("two.factor@example.com", totp=True)
    assert secret is not None
    rp = op.rp("wiki")
    verifier = secrets.token_urlsafe(48)
    url, _ = rp.create_authorization_url(f"{BASE}/oauth2/authorize", code_verifier=verifier)
    async with op.http() as browser:
        first = await browser.get(url)
        assert first.status_code == 302, first.text
        page = await browser.get(first.headers["location"])
        form = {"challenge": hidden(page.text, "challenge"), "csrf": hidden(page.text, "csrf")}
        posted = await browser.post(
            "/oauth2/login",
            data={**form, "email": "two.factor@example.com", "password": PASSWORD},
        )
        # The password alone signs nobody in: the code page, and no cookie yet.
        assert posted.status_code == 200
        assert "set-cookie" not in posted.headers
        assert 'autocomplete="one-time-code"' in posted.text
        assert "frame-ancestors 'none'" in posted.headers["content-security-policy"]
        mfa = hidden(posted.text, "mfa")
        now = pyotp.TOTP(secret).at(op.clock.now())
        wrong = f"{(int(now) + 1) % 1_000_000:06d}"
        refused = await browser.post("/oauth2/login/mfa", data={**form, "mfa": mfa, "code": wrong})
        assert refused.status_code == 400
        assert 'role="alert"' in refused.text
        assert "set-cookie" not in refused.headers
        accepted = await browser.post("/oauth2/login/mfa", data={**form, "mfa": mfa, "code": now})
        assert accepted.status_code == 303
        assert "gh_op_session=" in accepted.headers["set-cookie"]
        back = (await browser.get(accepted.headers["location"])).headers["location"]
    assert back.startswith(RP + "?code=")
    token = await rp.fetch_token(
        f"{BASE}/oauth2/token", authorization_response=back, code_verifier=verifier
    )
    claims = await op.id_token_claims(token["id_token"], op.clients["wiki"]["client"]["id"])
    assert claims["amr"] == ["pwd", "otp"]
    assert claims["acr"] == "urn:gatehouse:acr:mfa"
    assert claims["auth_time"] == int(op.clock.now().timestamp())


async def test_max_age_forces_a_new_sign_in_and_auth_time_says_when(op: LocalProvider) -> None:
    await op.person("max.age@example.com")
    rp = op.rp("wiki", scope="openid")
    client_id = op.clients["wiki"]["client"]["id"]
    verifier = secrets.token_urlsafe(48)
    endpoint = f"{BASE}/oauth2/authorize"
    async with op.http() as browser:
        first_sign_in = int(op.clock.now().timestamp())
        url, _ = rp.create_authorization_url(endpoint, code_verifier=verifier)
        back = await walk_pages(browser, url, "max.age@example.com")
        token = await rp.fetch_token(
            f"{BASE}/oauth2/token", authorization_response=back, code_verifier=verifier
        )
        assert (await op.id_token_claims(token["id_token"], client_id))["auth_time"] == (
            first_sign_in
        )
        op.clock.advance(timedelta(minutes=10))
        # Signed in 600 s ago: max_age=900 is answered at once, with the old auth_time.
        url, _ = rp.create_authorization_url(endpoint, code_verifier=verifier, max_age=900)
        back = (await browser.get(url)).headers["location"]
        assert back.startswith(RP + "?code=")
        token = await rp.fetch_token(
            f"{BASE}/oauth2/token", authorization_response=back, code_verifier=verifier
        )
        assert (await op.id_token_claims(token["id_token"], client_id))["auth_time"] == (
            first_sign_in
        )
        # max_age=300 is older than that sign-in: the sign-in page again.
        url, _ = rp.create_authorization_url(endpoint, code_verifier=verifier, max_age=300)
        assert "/oauth2/login?challenge=" in (await browser.get(url)).headers["location"]
        back = await walk_pages(browser, url, "max.age@example.com")
        token = await rp.fetch_token(
            f"{BASE}/oauth2/token", authorization_response=back, code_verifier=verifier
        )
    claims = await op.id_token_claims(token["id_token"], client_id)
    assert claims["auth_time"] == int(op.clock.now().timestamp()) == first_sign_in + 600


async def test_client_secret_post_at_every_client_authenticated_endpoint(
    op: LocalProvider,
) -> None:
    await op.person("post.auth@example.com")
    rp = op.rp("wiki", auth="client_secret_post", scope="openid offline_access")
    verifier = secrets.token_urlsafe(48)
    url, _ = rp.create_authorization_url(f"{BASE}/oauth2/authorize", code_verifier=verifier)
    async with op.http() as browser:
        back = await walk_pages(browser, url, "post.auth@example.com")
    sent: list[str] = []

    async def record(request: object) -> None:
        sent.append(getattr(request, "headers", {}).get("authorization", ""))

    rp.event_hooks["request"].append(record)
    token = await rp.fetch_token(
        f"{BASE}/oauth2/token", authorization_response=back, code_verifier=verifier
    )
    refreshed = await rp.refresh_token(f"{BASE}/oauth2/token", refresh_token=token["refresh_token"])
    assert sent == ["", ""]  # the secret went in the form, never in a Basic header
    reports = op.rp("reports", auth="client_secret_post", scope="reports:read")
    service = await reports.fetch_token(f"{BASE}/oauth2/token", grant_type="client_credentials")
    reports_id = op.clients["reports"]["client"]["id"]
    form = {"client_id": reports_id, "client_secret": op.clients["reports"]["clientSecret"]}
    async with op.http() as http:
        seen = await http.post(
            "/oauth2/introspect", data={**form, "token": refreshed["access_token"]}
        )
        assert seen.json()["active"] is True
        assert (await http.post("/oauth2/introspect", data={**form, "token": service[
            "access_token"]})).json()["sub"] == reports_id  # fmt: skip
        wrong = await http.post(
            "/oauth2/introspect",
            data={**form, "client_secret": "not-it", "token": refreshed["access_token"]},
        )
        assert wrong.status_code == 401
        assert wrong.json()["error"] == "invalid_client"
    revoked = await rp.revoke_token(f"{BASE}/oauth2/revoke", token=refreshed["access_token"])
    assert revoked.status_code == 200
    async with op.http() as http:
        seen = await http.post(
            "/oauth2/introspect", data={**form, "token": refreshed["access_token"]}
        )
    assert seen.json()["active"] is False
