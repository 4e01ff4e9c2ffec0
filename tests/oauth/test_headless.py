"""Headless login and consent (Ory Hydra's style): ``/oauth2/authorize`` sends the
browser to the deployment's login UI with a challenge; the UI signs the person in
through GraphQL ``login`` and answers with ``acceptLoginChallenge`` /
``acceptConsentChallenge`` / ``rejectChallenge``; the browser follows ``redirectTo``
back to the authorization endpoint. The app runs in-process on a clock the test moves;
authlib's client is the relying party, httpx the browser and the login UI's backend."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from domain.core.clock import FrozenClock
from tests.api.identity_ops import call, login
from tests.oauth.headless_ops import (
    ACCEPT_CONSENT,
    ACCEPT_LOGIN,
    CHALLENGE,
    LOGIN_UI,
    REJECT,
    answer,
    challenge_of,
)
from tests.oauth.inprocess import BASE, RP, LocalProvider, local_provider
from tests.support.asgi import AppWith

CLOCK_START = datetime(2026, 6, 2, 8, 0, tzinfo=UTC)
SCOPES = ["openid", "email", "profile", "offline_access"]


@pytest.fixture(scope="module")
async def op(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LocalProvider]:
    async with local_provider(app_with, clock, oidc_login_ui_url=LOGIN_UI) as provider:
        await provider.add_client(
            "Wiki", "CONFIDENTIAL", redirectUris=[RP], scopes=SCOPES,
            grantTypes=["AUTHORIZATION_CODE", "REFRESH_TOKEN"],
        )  # fmt: skip
        await provider.person("hl.ada@example.com")
        await provider.person("hl.eve@example.com")
        yield provider


async def _start(op: LocalProvider, browser: httpx.AsyncClient, **extra: str) -> tuple[str, str]:
    """The relying party's request; returns (the login challenge, the PKCE verifier)."""
    rp = op.rp("Wiki", scope="openid email offline_access")
    verifier = secrets.token_urlsafe(48)
    url, _ = rp.create_authorization_url(
        f"{BASE}/oauth2/authorize", code_verifier=verifier, state="st-1", **extra
    )
    first = await browser.get(url)
    assert first.status_code == 302, first.text
    return challenge_of(first.headers["location"], "login"), verifier


async def _token(op: LocalProvider, email: str) -> str:
    async with op.http() as ui:
        return str((await login(ui, email))["accessToken"])


async def test_a_login_ui_signs_in_and_consents_through_graphql(op: LocalProvider) -> None:
    async with op.http() as browser, op.http() as ui:
        challenge, verifier = await _start(op, browser)
        shown = await answer(ui, CHALLENGE, challenge, None)
        assert shown == {
            "__typename": "OAuthChallenge", "challenge": challenge, "stage": "LOGIN",
            "clientId": op.clients["Wiki"]["client"]["id"], "clientName": "Wiki",
            "scopes": ["email", "offline_access", "openid"], "prompts": [], "loginHint": None,
        }  # fmt: skip
        signed_in_at = int(op.clock.now().timestamp())
        token = await _token(op, "hl.ada@example.com")
        op.clock.advance(timedelta(seconds=20))
        accepted = await answer(ui, ACCEPT_LOGIN, challenge, token)
        assert accepted["__typename"] == "OAuthChallengeAnswered", accepted
        back = accepted["redirectTo"]
        assert back.startswith(f"{BASE}/oauth2/authorize?challenge={challenge}&login_verifier=")
        # Accepted once: a second accept (a replay, or a race lost) changes nothing.
        again = await answer(ui, ACCEPT_LOGIN, challenge, token)
        assert again["__typename"] == "InvalidToken"

        returned = await browser.get(back)
        assert returned.status_code == 302
        assert "gh_op_session=" in returned.headers["set-cookie"]
        assert challenge_of(returned.headers["location"], "consent") == challenge
        # The one-time verifier does not work twice (another browser replaying the link).
        async with op.http() as other:
            replayed = await other.get(back)
        assert replayed.status_code == 400
        assert "set-cookie" not in replayed.headers
        assert (await answer(ui, CHALLENGE, challenge, None))["stage"] == "CONSENT"

        # Another account's session cannot answer this person's consent.
        eve = await _token(op, "hl.eve@example.com")
        assert (await answer(ui, ACCEPT_CONSENT, challenge, eve))["__typename"] == "Forbidden"
        assert (await answer(ui, REJECT, challenge, eve))["__typename"] == "Forbidden"

        allowed = await answer(ui, ACCEPT_CONSENT, challenge, token)
        assert allowed["__typename"] == "OAuthChallengeAnswered", allowed
        assert (await answer(ui, ACCEPT_CONSENT, challenge, token))["__typename"] == "InvalidToken"
        done = await browser.get(allowed["redirectTo"])
        assert done.status_code == 302
        location = done.headers["location"]
    assert location.startswith(RP + "?code=")
    assert parse_qs(urlsplit(location).query)["state"] == ["st-1"]
    rp = op.rp("Wiki", scope="openid email offline_access")
    tokens = await rp.fetch_token(
        f"{BASE}/oauth2/token", authorization_response=location, code_verifier=verifier
    )
    assert "refresh_token" in tokens
    claims = await op.id_token_claims(tokens["id_token"], op.clients["Wiki"]["client"]["id"])
    assert claims["email"] == "hl.ada@example.com"
    assert claims["amr"] == ["pwd"]
    assert claims["auth_time"] == signed_in_at  # the GraphQL session's sign-in
    # The challenge is spent with the code.
    async with op.http() as ui:
        assert (await answer(ui, CHALLENGE, challenge, None))["__typename"] == "InvalidToken"


async def test_reject_and_racing_accepts(op: LocalProvider) -> None:
    async with op.http() as browser, op.http() as ui:
        # Cancelled at the login step: nobody is signed in yet, the challenge suffices.
        challenge, _ = await _start(op, browser)
        rejected = await answer(ui, REJECT, challenge, None)
        assert rejected["__typename"] == "OAuthChallengeAnswered"
        query = parse_qs(urlsplit(rejected["redirectTo"]).query)
        assert rejected["redirectTo"].startswith(RP + "?")
        assert query["error"] == ["access_denied"]
        assert query["state"] == ["st-1"]
        assert query["iss"] == [BASE]  # RFC 9207, on errors too
        token = await _token(op, "hl.ada@example.com")
        assert (await answer(ui, ACCEPT_LOGIN, challenge, token))["__typename"] == "InvalidToken"

        # Two accepts of one challenge at once (two sessions): exactly one wins.
        challenge, _ = await _start(op, browser)
        eve = await _token(op, "hl.eve@example.com")
        results = await asyncio.gather(
            answer(ui, ACCEPT_LOGIN, challenge, token), answer(ui, ACCEPT_LOGIN, challenge, eve)
        )
        kinds = sorted(r["__typename"] for r in results)
        assert kinds == ["InvalidToken", "OAuthChallengeAnswered"], results

        # Accepting needs a session: no token is UNAUTHENTICATED, an unknown challenge
        # the same answer as a used one.
        anonymous = await call(ui, ACCEPT_LOGIN, {"c": challenge})
        assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        missing = await answer(ui, ACCEPT_LOGIN, "no-such-challenge", token)
        assert missing["__typename"] == "InvalidToken"


async def test_prompt_login_needs_a_sign_in_after_the_request(op: LocalProvider) -> None:
    async with op.http() as browser, op.http() as ui:
        token = await _token(op, "hl.ada@example.com")
        op.clock.advance(timedelta(seconds=30))
        challenge, _ = await _start(op, browser, prompt="login")
        assert (await answer(ui, CHALLENGE, challenge, None))["prompts"] == ["login"]
        stale = await answer(ui, ACCEPT_LOGIN, challenge, token)
        assert stale["__typename"] == "ReauthenticationRequired", stale
        fresh = await _token(op, "hl.ada@example.com")
        accepted = await answer(ui, ACCEPT_LOGIN, challenge, fresh)
        assert accepted["__typename"] == "OAuthChallengeAnswered", accepted


async def test_max_age_needs_a_sign_in_within_that_many_seconds(op: LocalProvider) -> None:
    async with op.http() as browser, op.http() as ui:
        stale = await _token(op, "hl.eve@example.com")
        op.clock.advance(timedelta(seconds=500))
        recent = await _token(op, "hl.eve@example.com")
        op.clock.advance(timedelta(seconds=100))
        # The recent sign-in is 100 s old, before the request (prompt=login would refuse
        # it), within the 300 s asked for; the other is 600 s old.
        challenge, _ = await _start(op, browser, max_age="300")
        refused = await answer(ui, ACCEPT_LOGIN, challenge, stale)
        assert refused["__typename"] == "ReauthenticationRequired", refused
        accepted = await answer(ui, ACCEPT_LOGIN, challenge, recent)
        assert accepted["__typename"] == "OAuthChallengeAnswered", accepted


@pytest.mark.parametrize(
    ("hint", "shown"),
    [
        ("hl.ada@example.com", "hl.ada@example.com"),
        ("o'hara&co@example.com", "o'hara&co@example.com"),
        ('"><script>alert(1)</script>', None),  # not an email address: not passed on
        ("hl.ada", None),
    ],
)
async def test_the_login_hint_reaches_the_login_ui_only_as_an_email(
    op: LocalProvider, hint: str, shown: str | None
) -> None:
    async with op.http() as browser, op.http() as ui:
        challenge, _ = await _start(op, browser, login_hint=hint)
        found = await answer(ui, CHALLENGE, challenge, None)
    assert found["loginHint"] == shown
