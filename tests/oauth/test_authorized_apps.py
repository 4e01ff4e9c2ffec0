"""A person's authorized apps: ``myAuthorizedApps`` lists the consents given (client,
scopes, granted, last used) and ``revokeAuthorizedApp`` withdraws one: the consent
goes, every refresh token the app holds for the person is refused, its access tokens
turn inactive at introspection and userinfo, and the app asks for consent again. Each
grant's audit events carry the client's id. The app runs in-process on a clock the
test moves; authlib's client is the relying party."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from authlib.integrations.base_client.errors import OAuthError

from domain.audit.documents import AuditEvent
from domain.core.clock import FrozenClock
from tests.api.identity_ops import call, login
from tests.oauth.inprocess import BASE, RP, LocalProvider, local_provider, walk_pages
from tests.support.asgi import AppWith

CLOCK_START = datetime(2026, 6, 3, 8, 0, tzinfo=UTC)
SCOPES = ["openid", "email", "offline_access"]
APPS = "{ myAuthorizedApps { clientId clientName scopes grantedAt lastUsedAt } }"
REVOKE = """
mutation($id: ID!) {
  revokeAuthorizedApp(clientId: $id) {
    __typename ... on AuthorizedAppRevoked { clientId } ... on NotFound { code }
  }
}"""


@pytest.fixture(scope="module")
async def op(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LocalProvider]:
    async with local_provider(app_with, clock) as provider:
        await provider.add_client(
            "Notes", "CONFIDENTIAL", redirectUris=[RP], scopes=SCOPES,
            grantTypes=["AUTHORIZATION_CODE", "REFRESH_TOKEN"],
        )  # fmt: skip
        await provider.add_client(
            "reports", "CONFIDENTIAL", grantTypes=["CLIENT_CREDENTIALS"], scopes=["reports:read"]
        )
        await provider.person("apps.ada@example.com")
        await provider.person("apps.eve@example.com")
        yield provider


async def _grant(op: LocalProvider, browser: Any) -> dict[str, Any]:
    rp = op.rp("Notes", scope=" ".join(SCOPES))
    verifier = secrets.token_urlsafe(48)
    url, _ = rp.create_authorization_url(f"{BASE}/oauth2/authorize", code_verifier=verifier)
    back = await walk_pages(browser, url, "apps.ada@example.com")
    assert back.startswith(RP + "?code="), back
    token = await rp.fetch_token(
        f"{BASE}/oauth2/token", authorization_response=back, code_verifier=verifier
    )
    return dict(token)


async def _active(op: LocalProvider, token: str) -> bool:
    reports = op.clients["reports"]
    form = {"client_id": reports["client"]["id"], "client_secret": reports["clientSecret"]}
    async with op.http() as http:
        seen = await http.post("/oauth2/introspect", data={**form, "token": token})
    return bool(seen.json()["active"])


async def test_revoking_an_authorized_app_ends_its_tokens(op: LocalProvider) -> None:
    notes_id = op.clients["Notes"]["client"]["id"]
    granted_at = op.clock.now()
    browser = op.http()  # the person's browser, signed in to the provider throughout
    first = await _grant(op, browser)
    op.clock.advance(timedelta(minutes=3))
    second = await _grant(op, browser)  # consent remembered: a second grant, silently
    used_at = op.clock.now()
    async with op.http() as http:
        ada = (await login(http, "apps.ada@example.com"))["accessToken"]
        eve = (await login(http, "apps.eve@example.com"))["accessToken"]
        listed = (await call(http, APPS, token=ada))["data"]["myAuthorizedApps"]
        assert listed == [
            {"clientId": notes_id, "clientName": "Notes", "scopes": sorted(SCOPES),
             "grantedAt": granted_at.isoformat(), "lastUsedAt": used_at.isoformat()},
        ]  # fmt: skip
        assert (await call(http, APPS, token=eve))["data"]["myAuthorizedApps"] == []
        assert await _active(op, first["access_token"])
        assert await _active(op, second["access_token"])

        # Another person cannot withdraw what they never gave; nothing changes.
        theirs = await call(http, REVOKE, {"id": notes_id}, token=eve)
        assert theirs["data"]["revokeAuthorizedApp"]["__typename"] == "NotFound"
        assert await _active(op, first["access_token"])

        revoked = await call(http, REVOKE, {"id": notes_id}, token=ada)
        assert revoked["data"]["revokeAuthorizedApp"] == {
            "__typename": "AuthorizedAppRevoked", "clientId": notes_id,
        }  # fmt: skip
        assert (await call(http, APPS, token=ada))["data"]["myAuthorizedApps"] == []
        again = await call(http, REVOKE, {"id": notes_id}, token=ada)
        assert again["data"]["revokeAuthorizedApp"]["__typename"] == "NotFound"
        for grant in (first, second):
            assert not await _active(op, grant["access_token"])
            assert not await _active(op, grant["refresh_token"])
            userinfo = await http.get(
                "/oauth2/userinfo", headers={"Authorization": f"Bearer {grant['access_token']}"}
            )
            assert userinfo.status_code == 401
    rp = op.rp("Notes", scope=" ".join(SCOPES))
    with pytest.raises(OAuthError) as refused:
        await rp.refresh_token(f"{BASE}/oauth2/token", refresh_token=second["refresh_token"])
    assert refused.value.error == "invalid_grant"

    # The app asks for consent again (the browser is still signed in).
    url, _ = rp.create_authorization_url(
        f"{BASE}/oauth2/authorize", code_verifier=secrets.token_urlsafe(48)
    )
    asked = await browser.get(url)
    await browser.aclose()
    assert asked.headers["location"].startswith("/oauth2/consent?")

    events = await AuditEvent.find({"event": "oauth.consent_revoked"}).to_list()
    assert [(e.details["client_id"], e.details["grants_revoked"]) for e in events] == [
        (notes_id, 2)
    ]
    issued = await AuditEvent.find({"event": "oauth.grant_issued"}).to_list()
    exchanged = await AuditEvent.find({"event": "oauth.grant_exchanged"}).to_list()
    assert {e.details["client_id"] for e in issued + exchanged} == {notes_id}
    assert len(exchanged) == 2


SIGN_INS = """
query($days: Int!) { oauthClients { name signInCount(days: $days) { days issued exchanged } } }"""


async def test_sign_ins_are_counted_per_client(op: LocalProvider) -> None:
    """After the test above: two codes issued to Notes and both exchanged; none for the
    service client. A window that ends before them counts nothing."""

    async def counts(days: int) -> dict[str, dict[str, int]]:
        async with op.http() as http:
            admin = (await login(http, "op.admin@example.com"))["accessToken"]
            body = await call(http, SIGN_INS, {"days": days}, token=admin)
        assert "errors" not in body, body
        return {c["name"]: c["signInCount"] for c in body["data"]["oauthClients"]}

    assert await counts(7) == {
        "Notes": {"days": 7, "issued": 2, "exchanged": 2},
        "reports": {"days": 7, "issued": 0, "exchanged": 0},
    }
    assert (await counts(0))["Notes"]["days"] == 1  # the window is 1 to 400 days
    op.clock.advance(timedelta(days=3))
    assert (await counts(1))["Notes"] == {"days": 1, "issued": 0, "exchanged": 0}
    async with op.http() as http:
        ada = (await login(http, "apps.ada@example.com"))["accessToken"]
        refused = await call(http, SIGN_INS, {"days": 7}, token=ada)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
