"""The device authorization grant (RFC 8628) on a clock the test moves: the device is
authlib's OAuth client (device authorization request, then polling the token endpoint
with the device code grant exactly as §3.4 writes it); the person is a browser on the
built-in pages (enter the code, sign in, approve or deny on a page showing the code)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from domain.core.clock import FrozenClock
from tests.api.identity_ops import PASSWORD
from tests.oauth.conftest import hidden
from tests.oauth.device_ops import (
    DEVICE_GRANT,
    answer,
    approval_for,
    device_authorization,
    enter_code,
    poll,
    start,
)
from tests.oauth.inprocess import BASE, RP, LocalProvider, local_provider
from tests.support.asgi import AppWith

CLOCK_START = datetime(2026, 7, 1, 20, 0, tzinfo=UTC)
EMAIL = "tv.owner@example.com"


@pytest.fixture(scope="module")
async def op(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LocalProvider]:
    async with local_provider(app_with, clock) as provider:
        await provider.add_client(
            "TV", "PUBLIC", grantTypes=["DEVICE_CODE", "REFRESH_TOKEN"],
            scopes=["openid", "email", "offline_access"],
        )  # fmt: skip
        await provider.add_client(
            "CLI", "CONFIDENTIAL", grantTypes=["DEVICE_CODE"], scopes=["openid"]
        )
        await provider.add_client(
            "Wiki", "CONFIDENTIAL", redirectUris=[RP], grantTypes=["AUTHORIZATION_CODE"],
            scopes=["openid"],
        )  # fmt: skip
        await provider.person(EMAIL)
        yield provider


async def test_a_device_signs_in_while_the_person_approves_elsewhere(op: LocalProvider) -> None:
    async with op.http() as http:
        config = (await http.get("/.well-known/openid-configuration")).json()
    assert config["device_authorization_endpoint"] == f"{BASE}/oauth2/device_authorization"
    assert DEVICE_GRANT in config["grant_types_supported"]
    started = await start(op, "TV", "openid email offline_access")
    assert re.fullmatch(
        r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", started["user_code"]
    )
    assert started["verification_uri"] == f"{BASE}/oauth2/device"
    assert started["verification_uri_complete"] == (
        f"{BASE}/oauth2/device?user_code={started['user_code']}"
    )
    assert (started["expires_in"], started["interval"]) == (600, 5)
    code = started["device_code"]

    assert await poll(op, "TV", code) == {"error": "authorization_pending"}
    assert await poll(op, "TV", code) == {"error": "slow_down"}  # again within 5 s
    op.clock.advance(timedelta(seconds=10))  # §3.5: the device now waits 5 s longer
    assert await poll(op, "TV", code) == {"error": "authorization_pending"}

    async with op.http() as browser:
        page = await browser.get(started["verification_uri_complete"])
        assert f'value="{started["user_code"]}"' in page.text
        # Case and separators do not matter (§6.1).
        entered = await enter_code(browser, started["user_code"].lower().replace("-", " "))
        assert entered.status_code == 303
        assert entered.headers["location"].startswith("/oauth2/login?challenge=")
        login = await browser.get(entered.headers["location"])
        signed_in = await browser.post("/oauth2/login", data={
            "challenge": hidden(login.text, "challenge"), "csrf": hidden(login.text, "csrf"),
            "email": EMAIL, "password": PASSWORD})  # fmt: skip
        assert signed_in.status_code == 303
        assert signed_in.headers["location"].startswith("/oauth2/device/approve?challenge=")
        page = await browser.get(signed_in.headers["location"])
        assert "Allow TV on your device?" in page.text
        assert started["user_code"] in page.text  # §5.4: the code again, against phishing
        assert f"Signed in as {EMAIL}" in page.text
        approved = await answer(browser, signed_in.headers["location"], "allow")
        assert approved.status_code == 200
        assert "Your device is connected" in approved.text
        again = await enter_code(browser, started["user_code"])  # answered: single use
        assert again.status_code == 400

    op.clock.advance(timedelta(seconds=10))
    token = await poll(op, "TV", code)
    assert token["token_type"] == "Bearer"
    assert set(token["scope"].split()) == {"openid", "email", "offline_access"}
    assert "refresh_token" in token
    claims = await op.id_token_claims(token["id_token"], op.clients["TV"]["client"]["id"])
    assert claims["amr"] == ["pwd"]
    assert claims["email"] == EMAIL
    assert "nonce" not in claims
    async with op.http() as http:
        info = await http.get(
            "/oauth2/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"}
        )
    assert info.json()["email"] == EMAIL
    op.clock.advance(timedelta(seconds=10))
    assert await poll(op, "TV", code) == {"error": "invalid_grant"}  # redeemed once
    async with op.http() as device:
        refreshed = await device.post(
            "/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": token["refresh_token"],
                "client_id": op.clients["TV"]["client"]["id"],
            },
        )
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] != token["refresh_token"]


async def test_denied_and_expired_requests(op: LocalProvider) -> None:
    denied = await start(op, "TV", "openid")
    async with op.http() as browser:
        refused = await answer(browser, await approval_for(browser, denied, EMAIL), "deny")
        assert "Your device was not connected" in refused.text
        assert await poll(op, "TV", denied["device_code"]) == {"error": "access_denied"}
        op.clock.advance(timedelta(seconds=10))
        assert await poll(op, "TV", denied["device_code"]) == {"error": "access_denied"}

        late = await start(op, "TV", "openid")
        # Already signed in here: straight to the approval page.
        entered = await enter_code(browser, late["user_code"])
        assert entered.headers["location"].startswith("/oauth2/device/approve?challenge=")
        op.clock.advance(timedelta(seconds=601))
        assert await poll(op, "TV", late["device_code"]) == {"error": "expired_token"}
        stale = await browser.get(entered.headers["location"])
        assert stale.status_code == 400
        assert (await enter_code(browser, late["user_code"])).status_code == 400


async def test_only_clients_registered_for_the_grant_and_their_own_codes(
    op: LocalProvider,
) -> None:
    refused = await device_authorization(op, "Wiki", "openid")
    assert refused.status_code == 400
    assert refused.json()["error"] == "unauthorized_client"
    cli_id = op.clients["CLI"]["client"]["id"]
    async with op.http() as http:
        wrong = await http.post(
            "/oauth2/device_authorization",
            data={"scope": "openid"},
            auth=(cli_id, "not-the-secret"),
        )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    # The confidential client authenticates (Basic); scopes narrow to its own.
    started = await start(op, "CLI", "openid email admin:all")
    assert await poll(op, "TV", started["device_code"]) == {"error": "invalid_grant"}
    assert await poll(op, "CLI", "made-up-code") == {"error": "invalid_grant"}
    async with op.http() as browser:
        await answer(browser, await approval_for(browser, started, EMAIL), "allow")
    op.clock.advance(timedelta(seconds=10))
    token = await poll(op, "CLI", started["device_code"])
    assert token["scope"] == "openid"
    assert "refresh_token" not in token
