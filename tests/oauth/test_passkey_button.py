"""The built-in sign-in page's passkey button, driven over HTTP as its script drives it
(the software authenticator plays ``navigator.credentials.get``): the page offers it
only where passkeys work on its origin, with Gatehouse's own script allowed by the CSP;
begin and finish are bound to the pending request and its CSRF token; the ID token's
``amr`` is the passkey sign-in's own."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator

import httpx
import pyotp
import pytest

from domain.core.clock import FrozenClock
from tests.api.identity_ops import login
from tests.oauth.conftest import hidden
from tests.oauth.inprocess import BASE, LocalProvider, local_provider
from tests.passkeys.support import enable_totp, register_passkey
from tests.support.asgi import AppWith
from tests.support.webauthn_authenticator import SoftwareAuthenticator

RP = "https://notes.example.com/callback"


@pytest.fixture(scope="module")
async def op(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LocalProvider]:
    async with local_provider(
        app_with, clock, passkey_rp_id="127.0.0.1", passkey_origins=[BASE]
    ) as running:
        await running.add_client(
            "notes", "CONFIDENTIAL", redirectUris=[RP], scopes=["openid", "email"],
            grantTypes=["AUTHORIZATION_CODE"], firstParty=True,
        )  # fmt: skip
        yield running


async def with_passkey(op: LocalProvider, email: str) -> SoftwareAuthenticator:
    await op.person(email)
    authenticator = SoftwareAuthenticator(origin=BASE)
    async with op.http() as http:
        token = (await login(http, email))["accessToken"]
        added = await register_passkey(http, token, authenticator)
        assert added["__typename"] == "PasskeyAdded", added
    return authenticator


async def sign_in_page(op: LocalProvider, browser: httpx.AsyncClient) -> tuple[str, httpx.Response]:
    verifier = secrets.token_urlsafe(48)
    url, _ = op.rp("notes", scope="openid email").create_authorization_url(
        f"{BASE}/oauth2/authorize", code_verifier=verifier
    )
    first = await browser.get(url)
    assert first.status_code == 302, first.text
    return verifier, await browser.get(first.headers["location"])


def page_form(page: httpx.Response) -> dict[str, str]:
    return {"challenge": hidden(page.text, "challenge"), "csrf": hidden(page.text, "csrf")}


async def press(
    browser: httpx.AsyncClient, form: dict[str, str], authenticator: SoftwareAuthenticator
) -> tuple[str, str]:
    """What the script does: the options, the authenticator's answer (attempt, JSON)."""
    begun = await browser.post("/oauth2/login/passkey/begin", data=form)
    assert begun.status_code == 200, begun.text
    assert begun.headers["cache-control"] == "no-store"
    body = begun.json()
    assert body["options"].get("allowCredentials", []) == []  # usernameless
    return body["attemptId"], json.dumps(authenticator.get(body["options"]))


async def test_the_page_offers_the_button_and_allows_only_its_own_script(
    op: LocalProvider,
) -> None:
    async with op.http() as browser:
        _, page = await sign_in_page(op, browser)
        assert 'id="passkey-sign-in"' in page.text
        assert "Sign in with a passkey" in page.text
        assert '<script src="/oauth2/static/passkey.js" defer></script>' in page.text
        assert "<script>" not in page.text
        csp = page.headers["content-security-policy"]
        assert csp.startswith("default-src 'none'; script-src 'self'; connect-src 'self';")
        script = await browser.get("/oauth2/static/passkey.js")
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        assert "navigator.credentials.get" in script.text


async def test_a_passkey_signs_in_and_the_id_token_carries_its_amr(op: LocalProvider) -> None:
    authenticator = await with_passkey(op, "key.page@example.com")
    async with op.http() as browser:
        verifier, page = await sign_in_page(op, browser)
        form = page_form(page)
        attempt, credential = await press(browser, form, authenticator)
        posted = await browser.post(
            "/oauth2/login/passkey", data={**form, "attempt": attempt, "credential": credential}
        )
        assert posted.status_code == 303, posted.text
        assert "gh_op_session=" in posted.headers["set-cookie"]
        back = (await browser.get(posted.headers["location"])).headers["location"]
    assert back.startswith(RP + "?code="), back
    rp = op.rp("notes", scope="openid email")
    token = await rp.fetch_token(
        f"{BASE}/oauth2/token", authorization_response=back, code_verifier=verifier
    )
    claims = await op.id_token_claims(token["id_token"], op.clients["notes"]["client"]["id"])
    assert claims["amr"] == ["hwk", "user", "mfa"]
    assert claims["acr"] == "urn:gatehouse:acr:mfa"
    assert claims["email"] == "key.page@example.com"


async def test_an_attempt_finishes_only_the_request_it_was_begun_for(
    op: LocalProvider,
) -> None:
    authenticator = await with_passkey(op, "swap.key@example.com")
    async with op.http() as browser:
        _, page_a = await sign_in_page(op, browser)
        _, page_b = await sign_in_page(op, browser)
        attempt, credential = await press(browser, page_form(page_a), authenticator)
        swapped = await browser.post(
            "/oauth2/login/passkey",
            data={**page_form(page_b), "attempt": attempt, "credential": credential},
        )
        assert swapped.status_code == 400
        assert "set-cookie" not in swapped.headers
        # Spent by the refusal: A cannot use it either.
        again = await browser.post(
            "/oauth2/login/passkey",
            data={**page_form(page_a), "attempt": attempt, "credential": credential},
        )
        assert again.status_code == 400
        assert "set-cookie" not in again.headers


async def test_begin_and_finish_need_the_pages_csrf_token(op: LocalProvider) -> None:
    async with op.http() as browser:
        _, page = await sign_in_page(op, browser)
        forged = {"challenge": hidden(page.text, "challenge"), "csrf": "forged"}
        begun = await browser.post("/oauth2/login/passkey/begin", data=forged)
        assert begun.status_code == 400
        assert "attemptId" not in begun.json()
        finished = await browser.post(
            "/oauth2/login/passkey", data={**forged, "attempt": "x", "credential": "{}"}
        )
        assert finished.status_code == 400
        assert "set-cookie" not in finished.headers


async def test_a_bad_assertion_is_shown_on_the_page(op: LocalProvider) -> None:
    async with op.http() as browser:
        _, page = await sign_in_page(op, browser)
        form = page_form(page)
        begun = (await browser.post("/oauth2/login/passkey/begin", data=form)).json()
        posted = await browser.post(
            "/oauth2/login/passkey",
            data={**form, "attempt": begun["attemptId"], "credential": "not json"},
        )
        assert posted.status_code == 400
        assert 'role="alert" id="error"' in posted.text
        assert "set-cookie" not in posted.headers


async def test_a_passkey_without_user_verification_gets_the_code_step(
    op: LocalProvider,
) -> None:
    email = "presence.key@example.com"
    await op.person(email)
    authenticator = SoftwareAuthenticator(origin=BASE, user_verification=False)
    async with op.http() as http:
        token = (await login(http, email))["accessToken"]
        assert (await register_passkey(http, token, authenticator))["__typename"] == "PasskeyAdded"
        secret = await enable_totp(http, token, op.clock)
    async with op.http() as browser:
        _, page = await sign_in_page(op, browser)
        form = page_form(page)
        attempt, credential = await press(browser, form, authenticator)
        posted = await browser.post(
            "/oauth2/login/passkey", data={**form, "attempt": attempt, "credential": credential}
        )
        assert posted.status_code == 200, posted.text
        assert 'autocomplete="one-time-code"' in posted.text
        assert "set-cookie" not in posted.headers
        code = pyotp.TOTP(secret).at(op.clock.now())
        accepted = await browser.post(
            "/oauth2/login/mfa", data={**form, "mfa": hidden(posted.text, "mfa"), "code": code}
        )
        assert accepted.status_code == 303, accepted.text
        assert "gh_op_session=" in accepted.headers["set-cookie"]
