"""The audit trail through GraphQL: each action leaves exactly one event, secrets redacted."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.audit.documents import AuditEvent
from domain.core.settings import Settings
from tests.api.identity_ops import (
    CHANGE_PASSWORD,
    LOGOUT,
    NEW_PASSWORD,
    PASSWORD,
    REFRESH,
    UPDATE_PROFILE,
    call,
    login,
    unique_email,
    verified_user,
)
from tests.conftest import ServiceUrls
from tests.support.smtp import MailInbox

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "audit.admin@example.com"
ADMIN_PASSWORD = "saffron lantern glacier 88"

MY_EVENTS = "query { mySecurityEvents { event action result ip requestId occurredAt details } }"
AUDIT_EVENTS = """
query Events($filter: AuditEventFilter, $first: Int, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id event action result actorId targetId requestId before after details } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(email_backend="smtp", smtp_port=mail_inbox.port)


@pytest.fixture(scope="module")
def admin(service_urls: ServiceUrls, database_name: str, tmp_path_factory: Any) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
    env.update(
        GATEHOUSE_MONGODB_URL=service_urls.mongodb_url,
        GATEHOUSE_MONGODB_DATABASE=database_name,
        GATEHOUSE_VAR_DIR=str(tmp_path_factory.mktemp("var")),
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
    )
    done = subprocess.run(
        [
            sys.executable,
            "scripts/create_admin.py",
            "--email",
            ADMIN,
            "--first-name",
            "Au",
            "--last-name",
            "Dit",
            "--role",
            "admin",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return ADMIN


async def events_for(user_id: str, event: str) -> list[AuditEvent]:
    return await AuditEvent.find(
        {"event": event, "$or": [{"target_id": user_id}, {"actor_id": user_id}]}
    ).to_list()


async def test_each_action_leaves_exactly_one_event(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox)
    session = await login(client, email)
    user_id = session["user"]["id"]
    await login(client, email, "definitely wrong password 1")
    await call(client, UPDATE_PROFILE, {"first": "Changed"}, session["accessToken"])
    rotated = (await call(client, REFRESH, {"token": session["refreshToken"]}))["data"]
    # Reuse: the spent token from another browser (from the same client within the grace
    # window it would be a retry answered with the same successor).
    await call(
        client,
        REFRESH,
        {"token": session["refreshToken"]},
        user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    )
    fresh = await login(client, email)
    await call(
        client, CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD}, fresh["accessToken"]
    )
    await call(client, LOGOUT, token=fresh["accessToken"])
    assert rotated["refreshToken"]["__typename"] == "AuthPayload"

    for event in (
        "user.registered",
        "user.verified",
        "user.login_failed",
        "user.profile_updated",
        "session.refresh_reuse",
        "user.password_changed",
    ):
        assert len(await events_for(user_id, event)) == 1, event
    assert len(await events_for(user_id, "user.login")) == 2

    (registered,) = await events_for(user_id, "user.registered")
    assert registered.after is not None
    assert registered.after["email"] == email
    assert "password_hash" not in registered.after
    (failed,) = await events_for(user_id, "user.login_failed")
    assert failed.result == "failure"
    assert failed.details["reason"] == "wrong_password"
    assert failed.ip == "203.0.113.7"
    assert failed.request_id
    (profile,) = await events_for(user_id, "user.profile_updated")
    assert profile.before is not None
    assert profile.after is not None
    assert (profile.before["first_name"], profile.after["first_name"]) == ("Ada", "Changed")
    assert profile.actor_id == user_id


async def test_request_id_links_event_to_request(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox)
    response = await client.post(
        "/graphql",
        json={
            "query": "mutation($e: String!, $p: String!) "
            "{ login(email: $e, password: $p) { __typename } }",
            "variables": {"e": email, "p": PASSWORD},
        },
        headers={"X-Request-ID": "req-audit-0123456789"},
    )
    assert response.json()["data"]["login"]["__typename"] == "AuthPayload"
    (event,) = await AuditEvent.find({"request_id": "req-audit-0123456789"}).to_list()
    assert event.event == "user.login"


async def test_unknown_email_failure_keeps_no_address(client: httpx.AsyncClient) -> None:
    email = unique_email("nobody-audit")
    await login(client, email, "some password 123")
    events = await AuditEvent.find({"event": "user.login_failed", "target_id": None}).to_list()
    assert events
    assert all(email not in str(e.model_dump()) for e in events)


async def test_users_see_their_own_activity(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox)
    other = await verified_user(client, mail_inbox)
    await login(client, other, "wrong password for other 1")
    token = (await login(client, email))["accessToken"]
    mine = (await call(client, MY_EVENTS, token=token))["data"]["mySecurityEvents"]
    names = [e["event"] for e in mine]
    assert names[0] == "user.login"
    assert {"user.registered", "user.verified", "user.login"} <= set(names)
    assert "user.login_failed" not in names  # that was someone else's


async def test_admin_pages_through_the_trail(
    client: httpx.AsyncClient, mail_inbox: MailInbox, admin: str
) -> None:
    email = await verified_user(client, mail_inbox)
    for i in range(5):
        await login(client, email, f"wrong password number {i}")
    user_id = (await login(client, email))["user"]["id"]
    admin_token = (await login(client, admin, ADMIN_PASSWORD))["accessToken"]

    seen: list[str] = []
    after = None
    while True:
        page = (
            await call(
                client,
                AUDIT_EVENTS,
                {
                    "filter": {"targetId": user_id, "event": "user.login_failed"},
                    "first": 2,
                    "after": after,
                },
                admin_token,
            )
        )["data"]["auditEvents"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 5
    assert len(set(seen)) == 5

    student = (await login(client, email))["accessToken"]
    denied = await call(client, AUDIT_EVENTS, {}, student)
    assert denied["data"] is None
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
