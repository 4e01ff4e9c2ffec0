"""RFC 9700 (the OAuth 2.0 Security BCP) items of their own: PKCE downgrade (§4.8),
CSRF on the consent and device approval forms (§4.7), and the referrer and framing
headers of every built-in page (§4.2.4, §4.11). The app runs in-process on a clock the
test moves; authlib's client or httpx is the relying party, httpx the browser."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from domain.core.clock import FrozenClock
from domain.oauth.documents import OAuthConsent
from tests.api.identity_ops import PASSWORD
from tests.oauth.conftest import hidden
from tests.oauth.device_ops import approval_for, poll, start
from tests.oauth.inprocess import BASE, RP, LocalProvider, local_provider, walk_pages
from tests.oauth.page_tour import tour, tour_clients
from tests.support.asgi import AppWith

CLOCK_START = datetime(2026, 7, 9, 10, 0, tzinfo=UTC)
EMAIL = "bcp.ada@example.com"


@pytest.fixture(scope="module")
async def op(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LocalProvider]:
    async with local_provider(app_with, clock) as provider:
        await provider.add_client(
            "Wiki", "CONFIDENTIAL", redirectUris=[RP], scopes=["openid", "email"]
        )
        await provider.add_client(
            "Notes", "CONFIDENTIAL", redirectUris=[RP], scopes=["openid", "email"]
        )
        await provider.add_client("TV", "PUBLIC", grantTypes=["DEVICE_CODE"], scopes=["openid"])
        await provider.person(EMAIL)
        yield provider


async def _code(op: LocalProvider, browser: httpx.AsyncClient, **pkce: str) -> str:
    """A code for Wiki, issued with the PKCE parameters given (none: no challenge)."""
    url, _ = op.rp("Wiki").create_authorization_url(f"{BASE}/oauth2/authorize", **pkce)
    assert ("code_challenge=" in url) == bool(pkce)
    back = await walk_pages(browser, url, EMAIL)
    assert back.startswith(RP + "?code="), back
    return str(httpx.URL(back).params["code"])


async def _exchange(op: LocalProvider, code: str, **extra: str) -> httpx.Response:
    wiki = op.clients["Wiki"]
    async with op.http() as rp:
        return await rp.post(
            "/oauth2/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": RP, **extra},
            auth=(wiki["client"]["id"], wiki["clientSecret"]),
        )


async def test_pkce_downgrade_is_refused(op: LocalProvider) -> None:
    """§4.8: a verifier for a code issued without a challenge (an attacker injecting a
    code from a flow without PKCE) is refused, and so is a code issued with a challenge
    redeemed without its verifier. Neither refusal yields a token."""
    async with op.http() as browser:
        plain = await _code(op, browser)
        downgraded = await _exchange(op, plain, code_verifier=secrets.token_urlsafe(48))
        assert downgraded.status_code == 400
        assert downgraded.json()["error"] == "invalid_request"
        assert "access_token" not in downgraded.text

        verifier = secrets.token_urlsafe(48)
        protected = await _code(op, browser, code_verifier=verifier)
        stripped = await _exchange(op, protected)
        assert stripped.status_code == 400
        assert stripped.json()["error"] == "invalid_request"
        assert "access_token" not in stripped.text
        wrong = await _exchange(op, protected, code_verifier=secrets.token_urlsafe(48))
        assert wrong.status_code == 400
        assert "access_token" not in wrong.text


async def _consent_form(op: LocalProvider, browser: httpx.AsyncClient) -> tuple[str, str]:
    """A new request of Notes, signed in on the way if need be, up to its consent page:
    (challenge, csrf)."""
    url, _ = op.rp("Notes").create_authorization_url(
        f"{BASE}/oauth2/authorize", code_verifier=secrets.token_urlsafe(48)
    )
    asked = await browser.get(url)
    if asked.headers["location"].startswith("/oauth2/login?"):
        page = await browser.get(asked.headers["location"])
        signed_in = await browser.post("/oauth2/login", data={
            "challenge": hidden(page.text, "challenge"), "csrf": hidden(page.text, "csrf"),
            "email": EMAIL, "password": PASSWORD})  # fmt: skip
        asked = await browser.get(signed_in.headers["location"])
    assert asked.headers["location"].startswith("/oauth2/consent?"), asked.headers
    page = await browser.get(asked.headers["location"])
    return hidden(page.text, "challenge"), hidden(page.text, "csrf")


async def test_a_forged_consent_is_refused_and_changes_nothing(op: LocalProvider) -> None:
    """§4.7: a cross-site form cannot know the request's CSRF token; without it (missing,
    guessed, another request's) neither allow nor deny does anything, and the person's
    own answer still works afterwards. Without the browser's cookie nothing works."""
    notes = {"client_id": op.clients["Notes"]["client"]["id"]}
    async with op.http() as browser:
        challenge, csrf = await _consent_form(op, browser)
        other_challenge, other_csrf = await _consent_form(op, browser)
        assert (other_challenge, other_csrf) != (challenge, csrf)
        forgeries: list[dict[str, str]] = [
            {"challenge": challenge, "decision": "allow"},
            {"challenge": challenge, "csrf": "", "decision": "allow"},
            {"challenge": challenge, "csrf": secrets.token_urlsafe(24), "decision": "allow"},
            {"challenge": challenge, "csrf": other_csrf, "decision": "allow"},
            {"challenge": challenge, "csrf": other_csrf, "decision": "deny"},
        ]
        for forged in forgeries:
            refused = await browser.post("/oauth2/consent", data=forged)
            assert refused.status_code == 400, forged
            assert "location" not in refused.headers
            assert 'role="alert"' in refused.text
        assert await OAuthConsent.find(notes).count() == 0
        # A cross-site POST carries no SameSite=Lax cookie: the right token is not enough.
        async with op.http() as elsewhere:
            cookieless = await elsewhere.post(
                "/oauth2/consent", data={"challenge": challenge, "csrf": csrf, "decision": "allow"}
            )
        assert cookieless.status_code == 400
        assert await OAuthConsent.find(notes).count() == 0

        allowed = await browser.post(
            "/oauth2/consent", data={"challenge": challenge, "csrf": csrf, "decision": "allow"}
        )
        assert allowed.status_code == 303
        back = await browser.get(allowed.headers["location"])
        assert back.headers["location"].startswith(RP + "?code=")
        assert await OAuthConsent.find(notes).count() == 1


async def test_a_forged_device_approval_is_refused_and_changes_nothing(
    op: LocalProvider,
) -> None:
    """The approval form's CSRF token: a forged allow (or deny) leaves the device
    waiting; the person's own answer then connects it."""
    started = await start(op, "TV", "openid")
    async with op.http() as browser:
        page = await browser.get(await approval_for(browser, started, EMAIL))
        challenge, csrf = hidden(page.text, "challenge"), hidden(page.text, "csrf")
        for decision in ("allow", "deny"):
            for token in (None, "", secrets.token_urlsafe(24)):
                form = {"challenge": challenge, "decision": decision}
                if token is not None:
                    form["csrf"] = token
                refused = await browser.post("/oauth2/device/approve", data=form)
                assert refused.status_code == 400, form
                assert 'role="alert"' in refused.text
        async with op.http() as elsewhere:  # no cookie: the right token is not enough
            cookieless = await elsewhere.post(
                "/oauth2/device/approve",
                data={"challenge": challenge, "csrf": csrf, "decision": "allow"},
            )
        assert cookieless.status_code == 400
        assert await poll(op, "TV", started["device_code"]) == {"error": "authorization_pending"}
        approved = await browser.post(
            "/oauth2/device/approve",
            data={"challenge": challenge, "csrf": csrf, "decision": "allow"},
        )
        assert approved.status_code == 200
    op.clock.advance(timedelta(seconds=10))
    assert "access_token" in await poll(op, "TV", started["device_code"])


async def test_every_page_keeps_its_address_to_itself(op: LocalProvider) -> None:
    """§4.2.4: no page or redirect under /oauth2 sends a Referer (the header, and the
    pages' own ``<meta name=referrer>``), none is cached or framed (§4.11)."""
    totp = await tour_clients(op)
    visits = await tour(op, totp)
    assert {v.response.request.url.path for v in visits} == {
        "/oauth2/authorize", "/oauth2/login", "/oauth2/login/mfa", "/oauth2/consent",
        "/oauth2/device", "/oauth2/device/approve", "/oauth2/logout", "/oauth2/logout/confirm",
    }  # fmt: skip
    for visit in visits:
        response = visit.response
        headers = response.headers
        where = f"{visit.what}: {response.request.method} {response.request.url.path}"
        assert response.request.url.path.startswith("/oauth2/"), where
        assert headers["referrer-policy"] == "no-referrer", where
        assert headers["cache-control"] == "no-store", where
        assert headers["x-frame-options"] == "DENY", where
        assert "frame-ancestors 'none'" in headers["content-security-policy"], where
        if headers.get("content-type", "").startswith("text/html"):
            assert '<meta name="referrer" content="no-referrer">' in response.text, where
