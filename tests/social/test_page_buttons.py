"""The built-in sign-in page's social buttons, through the real provider (Canaille):
authorize -> the page -> the button -> the provider -> the callback -> consent -> code ->
token, with ``fed`` in the ID token's ``amr``; a callback cannot finish another
authorization request or be replayed in another browser; an account with TOTP gets
the page's code step; an existing account's email is never linked on its own."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest

from domain.core.clock import FrozenClock
from tests.api.identity_ops import call, login
from tests.oauth.conftest import hidden
from tests.oauth.inprocess import BASE, BEGIN_TOTP, CONFIRM_TOTP, LocalProvider, local_provider
from tests.passkeys.support import result
from tests.social.conftest import provider_settings
from tests.social.support import BEGIN_LINK, CLIENT_SECRET, LINK, REDIRECT_URI, provider_user
from tests.support.asgi import AppWith

RP = "https://notes.example.com/callback"
CALLBACK = f"{BASE}/oauth2/social/iam/callback"
SCOPES = ["openid", "email", "profile"]


def register_page_client(iam_server: Any) -> None:
    """Gatehouse at the provider with the page's own callback (and an app's, for the
    GraphQL link flow a test uses to link an identity to a password account)."""
    client = iam_server.models.Client(
        client_id="gatehouse-page",
        client_secret=CLIENT_SECRET,
        client_name="Gatehouse page",
        client_id_issued_at=datetime.now(UTC),
        redirect_uris=[CALLBACK, REDIRECT_URI],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        scope=["openid", "email", "profile"],
        token_endpoint_auth_method="client_secret_basic",
    )
    iam_server.backend.save(client)
    client.audience = [client]
    iam_server.backend.save(client)


@pytest.fixture(scope="module")
async def op(
    app_with: AppWith, clock: FrozenClock, provider: Any, issuer: str
) -> AsyncIterator[LocalProvider]:
    register_page_client(provider)
    social = {"iam": provider_settings(issuer, client_id="gatehouse-page", display_name="Acme ID")}
    # Only an app's callback is listed: the page's own is allowed without it.
    async with local_provider(
        app_with, clock, social_providers=social, social_redirect_uris=[REDIRECT_URI]
    ) as running:
        await running.add_client(
            "notes", "CONFIDENTIAL", redirectUris=[RP], scopes=SCOPES,
            grantTypes=["AUTHORIZATION_CODE"],
        )  # fmt: skip
        yield running


def at_provider(iam: Any, url: str, person: Any) -> str:
    """The provider's redirect back (login and consent done there): path and query."""
    for stale in iam.backend.query(iam.models.AuthorizationCode):
        iam.backend.delete(stale)
    iam.login(person)
    iam.consent(person)
    try:
        response = httpx.get(url, follow_redirects=False, timeout=10)
    finally:
        iam.logout()
    assert response.status_code in (302, 303), response.text[:500]
    location = response.headers["location"]
    assert location.startswith(CALLBACK), location
    return location.removeprefix(BASE)


async def sign_in_page(op: LocalProvider, browser: httpx.AsyncClient) -> tuple[str, httpx.Response]:
    """An authorization request of the notes app: its PKCE verifier and the sign-in page."""
    verifier = secrets.token_urlsafe(48)
    url, _ = op.rp("notes", scope="openid email").create_authorization_url(
        f"{BASE}/oauth2/authorize", code_verifier=verifier
    )
    first = await browser.get(url)
    assert first.status_code == 302, first.text
    return verifier, await browser.get(first.headers["location"])


async def press_button(browser: httpx.AsyncClient, page: httpx.Response) -> str:
    form = {"challenge": hidden(page.text, "challenge"), "csrf": hidden(page.text, "csrf")}
    pressed = await browser.post("/oauth2/social/iam", data=form)
    assert pressed.status_code == 303, pressed.text
    assert "gh_op_social=" in pressed.headers["set-cookie"]
    return pressed.headers["location"]


async def consent_and_code(browser: httpx.AsyncClient, response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    to_consent = await browser.get(response.headers["location"])
    assert "/oauth2/consent" in to_consent.headers["location"]
    page = await browser.get(to_consent.headers["location"])
    form = {"challenge": hidden(page.text, "challenge"), "csrf": hidden(page.text, "csrf")}
    allowed = await browser.post("/oauth2/consent", data={**form, "decision": "allow"})
    back = (await browser.get(allowed.headers["location"])).headers["location"]
    assert back.startswith(RP + "?code="), back
    return str(back)


async def test_the_social_button_signs_in_and_the_id_token_says_fed(
    op: LocalProvider, provider: Any
) -> None:
    person = provider_user(provider, "grace.page@example.com")
    async with op.http() as browser:
        verifier, page = await sign_in_page(op, browser)
        assert '<button type="submit">Continue with Acme ID</button>' in page.text
        csp = page.headers["content-security-policy"]
        issuer_origin = "{0.scheme}://{0.netloc}".format(urlsplit(provider.url))
        assert "form-action 'self' " in csp
        assert issuer_origin in csp
        assert "default-src 'none'" in csp
        assert "script-src" not in csp
        to_provider = await press_button(browser, page)
        query = parse_qs(urlsplit(to_provider).query)
        assert query["redirect_uri"] == [CALLBACK]
        back = await browser.get(at_provider(provider, to_provider, person))
        assert "gh_op_session=" in back.headers["set-cookie"]
        code_url = await consent_and_code(browser, back)
    rp = op.rp("notes", scope="openid email")
    token = await rp.fetch_token(
        f"{BASE}/oauth2/token", authorization_response=code_url, code_verifier=verifier
    )
    claims = await op.id_token_claims(token["id_token"], op.clients["notes"]["client"]["id"])
    assert claims["amr"] == ["fed"]
    assert claims["email"] == "grace.page@example.com"


async def test_a_callback_finishes_only_the_request_it_was_begun_for(
    op: LocalProvider, provider: Any
) -> None:
    person = provider_user(provider, "swap.page@example.com")
    async with op.http() as browser:
        _, page_a = await sign_in_page(op, browser)
        _, page_b = await sign_in_page(op, browser)
        challenge_a = hidden(page_a.text, "challenge")
        challenge_b = hidden(page_b.text, "challenge")
        to_provider = await press_button(browser, page_a)
        callback = at_provider(provider, to_provider, person)
        # The attacker's swap: the other request's challenge in the callback's URL.
        back = await browser.get(f"{callback}&challenge={challenge_b}")
        assert back.status_code == 303
        assert challenge_a in back.headers["location"]
        assert challenge_b not in back.headers["location"]
        # A is signed in by this browser's new session; B is not.
        store = op.app.state.services.oauth.store
        signed_a = await store.challenge(challenge_a)
        signed_b = await store.challenge(challenge_b)
        assert signed_a is not None
        assert signed_a.signed_in_session is not None
        assert signed_b is not None
        assert signed_b.signed_in_session is None
        # A used callback is gone.
        replay = await browser.get(callback)
        assert replay.status_code == 400


async def test_a_callback_in_another_browser_is_refused(op: LocalProvider, provider: Any) -> None:
    person = provider_user(provider, "csrf.page@example.com")
    async with op.http() as victim, op.http() as attacker:
        _, page = await sign_in_page(op, attacker)
        callback = at_provider(provider, await press_button(attacker, page), person)
        refused = await victim.get(callback)
        assert refused.status_code == 400
        assert "gh_op_session" not in refused.headers.get("set-cookie", "")
        # The record is taken by the first try: the begin is spent (start again).
        assert (await attacker.get(callback)).status_code == 400


async def test_an_existing_email_is_not_linked_on_its_own(op: LocalProvider, provider: Any) -> None:
    await op.person("taken.page@example.com")
    person = provider_user(provider, "taken.page@example.com")
    async with op.http() as browser:
        _, page = await sign_in_page(op, browser)
        back = await browser.get(at_provider(provider, await press_button(browser, page), person))
        assert back.status_code == 200
        assert "already exists" in back.text
        assert 'role="alert"' in back.text
        assert "gh_op_session" not in back.headers.get("set-cookie", "")


async def test_an_account_with_totp_gets_the_code_step(op: LocalProvider, provider: Any) -> None:
    email = "totp.page@example.com"
    await op.person(email)
    person = provider_user(provider, email)
    async with op.http() as http:
        token = (await login(http, email))["accessToken"]
        variables = {"provider": "iam", "redirectUri": REDIRECT_URI}
        begun = result(await call(http, BEGIN_LINK, variables, token))
        answer = parse_qs(
            urlsplit(link_callback(provider, begun["authorizationUrl"], person)).query
        )
        linked = result(
            await call(
                http,
                LINK,
                {"provider": "iam", "code": answer["code"][0], "state": answer["state"][0]},
                token,
            )
        )
        assert linked["__typename"] == "SocialIdentityLinked", linked
        secret = str(result(await call(http, BEGIN_TOTP, token=token))["secret"])
        code = pyotp.TOTP(secret).at(op.clock.now())
        confirmed = result(await call(http, CONFIRM_TOTP, {"code": code}, token=token))
        assert confirmed["__typename"] == "BackupCodes"
    op.clock.advance(timedelta(seconds=30))
    async with op.http() as browser:
        verifier, page = await sign_in_page(op, browser)
        back = await browser.get(at_provider(provider, await press_button(browser, page), person))
        assert back.status_code == 200, back.text
        assert 'autocomplete="one-time-code"' in back.text
        assert "gh_op_session" not in back.headers.get("set-cookie", "")
        form = {
            "challenge": hidden(back.text, "challenge"),
            "csrf": hidden(back.text, "csrf"),
            "mfa": hidden(back.text, "mfa"),
            "code": pyotp.TOTP(secret).at(op.clock.now()),
        }
        accepted = await browser.post("/oauth2/login/mfa", data=form)
        code_url = await consent_and_code(browser, accepted)
    rp = op.rp("notes", scope="openid email")
    token_set = await rp.fetch_token(
        f"{BASE}/oauth2/token", authorization_response=code_url, code_verifier=verifier
    )
    claims = await op.id_token_claims(token_set["id_token"], op.clients["notes"]["client"]["id"])
    assert claims["amr"] == ["fed", "otp", "mfa"]


def link_callback(iam: Any, url: str, person: Any) -> str:
    for stale in iam.backend.query(iam.models.AuthorizationCode):
        iam.backend.delete(stale)
    iam.login(person)
    iam.consent(person)
    try:
        response = httpx.get(url, follow_redirects=False, timeout=10)
    finally:
        iam.logout()
    location = str(response.headers["location"])
    assert location.startswith(REDIRECT_URI), location
    return location
