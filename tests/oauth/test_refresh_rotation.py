"""OAuth refresh tokens rotate with the first-party sessions' reuse and grace rules
(domain/oauth/refresh.py): racing presentations rotate once; within the grace window
the previous token gets the same successor; after it, or once the successor was used,
reuse ends the grant, is audited, emails the owner (a real SMTP server) and reaches a
webhook receiver as ``security.refresh_reuse``; another client's presentation, or a
retry after the grant ended otherwise, is a plain refusal that changes nothing. The app
runs in-process on a clock the test moves; authlib's client is the relying party; a
real worker delivers."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from authlib.integrations.base_client.errors import OAuthError

from domain.audit.documents import AuditEvent
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.core.secrets import token_hash
from domain.core.settings import Settings
from domain.identity.documents import User
from domain.oauth.clients import MAX_REFRESH_TTL_SECONDS
from domain.oauth.refresh import successor_of
from domain.oauth.refresh_ledger import USED_SECONDS
from domain.oauth.store import oauth_prefix
from domain.sessions.rotation import MAX_GRACE_RETRIES
from tests.api.identity_ops import LOGOUT_ALL, PASSWORD, call, login
from tests.oauth.inprocess import BASE, RP, LocalProvider, local_provider, walk_pages
from tests.security.support import audit_events
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith
from tests.support.smtp import MailInbox
from tests.webhooks.receiver import Receiver

# A minute ago: the worker delivering the webhook reads the wall clock, and refuses a
# delivery older than its maximum age or not yet due.
CLOCK_START = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
SCOPES = ["openid", "email", "offline_access"]
TOKEN = f"{BASE}/oauth2/token"
HOOK = """
mutation($url: String!) {
  createWebhookEndpoint(url: $url, events: ["security.refresh_reuse"], description: "soc") {
    __typename
  }
}"""
REVOKE_APP = """
mutation($id: ID!) { revokeAuthorizedApp(clientId: $id) { __typename } }"""


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def overrides(mail_inbox: MailInbox) -> dict[str, Any]:
    return {
        "email_backend": "smtp",
        "smtp_port": mail_inbox.port,
        "webhook_allow_private_targets": True,
    }


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], overrides: dict[str, Any]) -> Settings:
    """The worker's (email and webhook deliveries): the app's own settings."""
    return make_settings(public_url=BASE, **overrides)


@pytest.fixture(scope="module")
async def op(
    app_with: AppWith,
    clock: FrozenClock,
    overrides: dict[str, Any],
    email_worker: None,
    receiver: Receiver,
) -> AsyncIterator[LocalProvider]:
    async with local_provider(app_with, clock, **overrides) as provider:
        await provider.add_client(
            "Notes", "CONFIDENTIAL", redirectUris=[RP], scopes=SCOPES,
            grantTypes=["AUTHORIZATION_CODE", "REFRESH_TOKEN"],
        )  # fmt: skip
        await provider.add_client(
            "Yearly", "CONFIDENTIAL", redirectUris=[RP], scopes=SCOPES,
            grantTypes=["AUTHORIZATION_CODE", "REFRESH_TOKEN"],
            refreshTokenTtlSeconds=MAX_REFRESH_TTL_SECONDS,
        )  # fmt: skip
        # A public client anyone can present a token as (no secret to know).
        await provider.add_client(
            "Mobile", "PUBLIC", redirectUris=["http://127.0.0.1:7777/callback"], scopes=SCOPES,
            grantTypes=["AUTHORIZATION_CODE", "REFRESH_TOKEN"],
        )  # fmt: skip
        await provider.add_client(
            "reports", "CONFIDENTIAL", grantTypes=["CLIENT_CREDENTIALS"], scopes=["reports:read"]
        )
        await staff_account(provider.app.state, "soc@example.com", PASSWORD, Role.SUPER_ADMIN)
        async with provider.http() as http:
            admin = (await login(http, "soc@example.com"))["accessToken"]
            made = await call(http, HOOK, {"url": receiver.url()}, token=admin)
        assert made["data"]["createWebhookEndpoint"]["__typename"] == "WebhookSecretIssued", made
        yield provider


async def _grant(op: LocalProvider, email: str, client: str = "Notes") -> dict[str, Any]:
    """A new person's first tokens (a new browser each time)."""
    await op.person(email)
    rp = op.rp(client, scope=" ".join(SCOPES))
    verifier = secrets.token_urlsafe(48)
    url, _ = rp.create_authorization_url(f"{BASE}/oauth2/authorize", code_verifier=verifier)
    async with op.http() as browser:
        back = await walk_pages(browser, url, email)
    token = await rp.fetch_token(
        f"{BASE}/oauth2/token", authorization_response=back, code_verifier=verifier
    )
    return dict(token)


async def _refresh(op: LocalProvider, refresh_token: str, client: str = "Notes") -> dict[str, Any]:
    async with op.rp(client, scope=" ".join(SCOPES)) as rp:
        answer = dict(await rp.refresh_token(TOKEN, refresh_token=refresh_token))
    assert answer["scope"] == " ".join(SCOPES)  # authlib fills a missing one with the old
    return answer


async def _refused(op: LocalProvider, refresh_token: str) -> str:
    with pytest.raises(OAuthError) as refused:
        await _refresh(op, refresh_token)
    return str(refused.value.error)


async def _as_mobile(op: LocalProvider, refresh_token: str) -> str:
    """The token presented as the public client Mobile: the error it gets."""
    mobile = op.clients["Mobile"]["client"]["id"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": mobile}
    async with op.http() as http:
        answer = await http.post(TOKEN, data=form)
    assert answer.status_code == 400, answer.text
    return str(answer.json()["error"])


def _key(op: LocalProvider, kind: str, token: str) -> str:
    return f"{oauth_prefix(op.app.state.settings)}{kind}:{token_hash(token)}"


async def _record(op: LocalProvider, kind: str, token: str) -> dict[str, Any]:
    raw = await op.app.state.redis.get(_key(op, kind, token))
    assert raw is not None, kind
    found: dict[str, Any] = json.loads(raw)
    return found


async def _no_alert(mail_inbox: MailInbox, email: str) -> None:
    await asyncio.sleep(0.3)  # the worker would have sent it by now
    assert not [m for m in mail_inbox.all(email) if "signed" in m.subject]


async def _reuse_events(email: str) -> list[AuditEvent]:
    user = await User.find_one({"email": email})
    assert user is not None
    return await audit_events("oauth.refresh_reuse", target_id=str(user.id))


async def _hooks_for(receiver: Receiver, user_id: str, count: int) -> list[dict[str, Any]]:
    """The webhook bodies about this user once ``count`` have arrived."""
    for _ in range(500):
        bodies = [json.loads(r.body) for r in receiver.requests]
        mine = [b for b in bodies if b["data"].get("user_id") == user_id]
        if len(mine) >= count:
            return mine
        await asyncio.sleep(0.04)
    raise AssertionError(f"expected {count} webhooks for {user_id}, got {bodies}")


async def _active(op: LocalProvider, token: str) -> bool:
    reports = op.clients["reports"]
    form = {"client_id": reports["client"]["id"], "client_secret": reports["clientSecret"]}
    async with op.http() as http:
        seen = await http.post("/oauth2/introspect", data={**form, "token": token})
    return bool(seen.json()["active"])


async def test_racing_presentations_rotate_once(op: LocalProvider, mail_inbox: MailInbox) -> None:
    email = "race.ada@example.com"
    first = await _grant(op, email)
    answers = await asyncio.gather(
        *(_refresh(op, first["refresh_token"]) for _ in range(4)), return_exceptions=True
    )
    pairs = [a for a in answers if isinstance(a, dict)]
    assert len(pairs) == 4, answers  # one rotation, the others answered within the grace
    successors = {pair["refresh_token"] for pair in pairs}
    assert len(successors) == 1  # never two successors: the grant cannot fork
    assert len({pair["access_token"] for pair in pairs}) == 4
    (successor,) = successors
    assert successor != first["refresh_token"]
    # The one successor rotates on; the old token is now reuse.
    assert (await _refresh(op, successor))["refresh_token"] not in (
        successor,
        first["refresh_token"],
    )
    assert await _refused(op, first["refresh_token"]) == "invalid_grant"


async def test_within_the_window_the_same_successor(
    op: LocalProvider, mail_inbox: MailInbox
) -> None:
    email = "grace.ada@example.com"
    first = await _grant(op, email)
    second = await _refresh(op, first["refresh_token"])
    op.clock.advance(timedelta(seconds=9))
    again = await _refresh(op, first["refresh_token"])  # the response was lost, say
    assert again["refresh_token"] == second["refresh_token"]
    assert again["access_token"] != second["access_token"]
    assert await _active(op, again["access_token"])
    assert await _active(op, second["access_token"])
    third = await _refresh(op, second["refresh_token"])
    assert third["refresh_token"] not in (first["refresh_token"], second["refresh_token"])
    assert await _active(op, third["refresh_token"])
    assert await _reuse_events(email) == []
    await _no_alert(mail_inbox, email)


async def test_after_the_window_reuse_ends_the_grant_and_tells_the_owner(
    op: LocalProvider, mail_inbox: MailInbox, receiver: Receiver
) -> None:
    email = "reuse.ada@example.com"
    first = await _grant(op, email)
    second = await _refresh(op, first["refresh_token"])
    op.clock.advance(timedelta(seconds=11))
    assert await _refused(op, first["refresh_token"]) == "invalid_grant"
    # The whole grant ended: the successor refuses, its tokens are inactive.
    assert not await _active(op, second["access_token"])
    assert not await _active(op, second["refresh_token"])
    assert await _refused(op, second["refresh_token"]) == "invalid_grant"
    assert await _refused(op, first["refresh_token"]) == "invalid_grant"  # one email only
    (alert,) = await mail_inbox.wait_for(email, "signed Notes out")
    assert "already been used" in alert.text
    events = await _reuse_events(email)
    assert len(events) == 2
    client_id = op.clients["Notes"]["client"]["id"]
    assert events[0].details["client_id"] == client_id
    hooks = await _hooks_for(receiver, str(events[0].target_id), 2)
    assert {h["type"] for h in hooks} == {"security.refresh_reuse"}
    assert hooks[0]["data"] == {
        "user_id": events[0].target_id,
        "session_id": None,
        "client_id": client_id,
    }
    await asyncio.sleep(0.3)
    assert len([m for m in mail_inbox.all(email) if "signed Notes out" in m.subject]) == 1


async def test_another_client_can_neither_burn_the_token_nor_end_the_grant(
    op: LocalProvider, mail_inbox: MailInbox
) -> None:
    """A leaked token of the confidential Notes presented as the public Mobile: refused
    before anything is taken, marked or counted, so the owner's refreshes go on."""
    email = "burn.ada@example.com"
    first = await _grant(op, email)
    assert await _as_mobile(op, first["refresh_token"]) == "invalid_grant"
    second = await _refresh(op, first["refresh_token"])  # still Notes' to rotate
    # Rotated now: more presentations as Mobile than the grace allows retries ...
    for _ in range(MAX_GRACE_RETRIES + 1):
        assert await _as_mobile(op, first["refresh_token"]) == "invalid_grant"
    # ... and Notes' own retry still gets the grace answer: none of them was counted.
    again = await _refresh(op, first["refresh_token"])
    assert again["refresh_token"] == second["refresh_token"]
    op.clock.advance(timedelta(seconds=11))
    assert await _as_mobile(op, first["refresh_token"]) == "invalid_grant"  # not reuse
    assert await _active(op, second["access_token"])
    assert await _refresh(op, second["refresh_token"])
    assert await _reuse_events(email) == []
    await _no_alert(mail_inbox, email)


async def _revoke_the_app(op: LocalProvider, email: str) -> None:
    async with op.http() as http:
        token = (await login(http, email))["accessToken"]
        variables = {"id": op.clients["Notes"]["client"]["id"]}
        done = await call(http, REVOKE_APP, variables, token=token)
    assert done["data"]["revokeAuthorizedApp"]["__typename"] == "AuthorizedAppRevoked", done


async def _sign_out_everywhere(op: LocalProvider, email: str) -> None:
    async with op.http() as http:
        token = (await login(http, email))["accessToken"]
        done = await call(http, LOGOUT_ALL, {"keep": False}, token=token)
    assert done["data"]["logoutAll"]["sessionsEnded"] >= 2, done  # the grant's session too


@pytest.mark.parametrize("end", [_revoke_the_app, _sign_out_everywhere])
async def test_a_retry_after_the_grant_ended_otherwise_is_not_reuse(
    op: LocalProvider,
    mail_inbox: MailInbox,
    end: Callable[[LocalProvider, str], Any],
) -> None:
    """The person ended the grant; the app, not knowing, refreshes and retries later,
    outside the grace window: plain refusals, not theft (as first-party sessions
    answer a refresh of an ended session)."""
    email = f"ended.{end.__name__.strip('_')}@example.com"
    first = await _grant(op, email)
    second = await _refresh(op, first["refresh_token"])
    await end(op, email)
    for token in (second["refresh_token"], second["refresh_token"], first["refresh_token"]):
        assert await _refused(op, token) == "invalid_grant"
        op.clock.advance(timedelta(seconds=30))
    assert await _reuse_events(email) == []
    await _no_alert(mail_inbox, email)


async def test_reuse_is_caught_for_as_long_as_the_token_could_have_been_used(
    op: LocalProvider,
) -> None:
    """A year-long refresh token's used marker lives the year, not the 30 days' floor."""
    yearly = await _grant(op, "yearly.ada@example.com", "Yearly")
    await _refresh(op, yearly["refresh_token"], "Yearly")
    kept = await op.app.state.redis.ttl(_key(op, "rt-used", yearly["refresh_token"]))
    assert MAX_REFRESH_TTL_SECONDS - 60 <= kept <= MAX_REFRESH_TTL_SECONDS
    monthly = await _grant(op, "monthly.ada@example.com")  # Notes: 30 days
    await _refresh(op, monthly["refresh_token"])
    kept = await op.app.state.redis.ttl(_key(op, "rt-used", monthly["refresh_token"]))
    assert USED_SECONDS - 60 <= kept <= USED_SECONDS


async def test_redis_holds_no_secret_that_tells_the_next_token(op: LocalProvider) -> None:
    """The successor is derived under a secret of the server's, not one kept in the
    record: what Redis holds plus an old token does not give the next one."""
    first = await _grant(op, "sealed.ada@example.com")
    second = await _refresh(op, first["refresh_token"])
    stored = [
        await _record(op, "rt", second["refresh_token"]),
        json.loads((await _record(op, "rt-rotated", first["refresh_token"]))["record"]),
    ]
    assert all(not record.get("chain") for record in stored), stored
    assert second["refresh_token"] == (await _refresh(op, first["refresh_token"]))["refresh_token"]


async def test_a_token_whose_record_holds_its_secret_still_refreshes(op: LocalProvider) -> None:
    """A record written before secrets were derived keeps its successor (and its grace
    answer); the successor's record then holds none."""
    first = await _grant(op, "legacy.ada@example.com")
    record = await _record(op, "rt", first["refresh_token"])
    key = _key(op, "rt", first["refresh_token"])
    legacy = json.dumps({**record, "chain": "a-secret-of-before"})
    await op.app.state.redis.set(key, legacy, keepttl=True)
    second = await _refresh(op, first["refresh_token"])
    assert second["refresh_token"] == successor_of(b"a-secret-of-before", first["refresh_token"])
    again = await _refresh(op, first["refresh_token"])
    assert again["refresh_token"] == second["refresh_token"]
    assert not (await _record(op, "rt", second["refresh_token"])).get("chain")
    third = await _refresh(op, second["refresh_token"])
    assert third["refresh_token"] not in (first["refresh_token"], second["refresh_token"])
