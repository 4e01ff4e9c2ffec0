"""Admin user management through GraphQL: paging 1,000 users, filters, and the role rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from domain.core.roles import Role
from domain.core.settings import Settings
from domain.identity.documents import User, UserStatus
from tests.api.identity_ops import ME, call, error_code, login, verified_user
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager
from tests.support.smtp import MailInbox

PASSWORD = "granite meadow lantern 5521"
SEED = 1000
BASE = datetime(2025, 1, 1, tzinfo=UTC)

USERS = """
query Users($filter: UserFilterInput, $sort: UserSort, $first: Int, $after: String) {
  users(filter: $filter, sort: $sort, first: $first, after: $after) {
    totalCount
    edges { cursor node { id email role status locked emailVerified createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""
USER = """
query User($id: ID!) {
  user(id: $id) {
    __typename
    ... on AdminUserDetail { user { email } sessions { id device } recentEvents { event } }
  }
}"""
UPDATE = """
mutation Update($id: ID!, $role: Role, $active: Boolean) {
  updateUser(id: $id, role: $role, active: $active) {
    __typename ... on UserUpdated { user { role status } } ... on UserError { code message }
  }
}"""
DELETE = "mutation($id: ID!) { deleteUser(id: $id) { __typename ... on UserError { code } } }"
RESTORE = "mutation($id: ID!) { restoreUser(id: $id) { __typename } }"
REVOKE = """
mutation($id: ID!) {
  revokeUserSessions(id: $id) { __typename ... on UserSessionsRevoked { sessionsEnded } }
}"""


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(email_backend="smtp", smtp_port=mail_inbox.port)


async def make_account(app: LifespanManager, email: str, role: Role) -> User:
    state = app.state
    return await staff_account(state, email, PASSWORD, role)


@pytest.fixture(scope="module")
async def seeded(app: LifespanManager) -> dict[str, Any]:
    docs = []
    for i in range(SEED):
        docs.append(
            User(
                email=f"seed{i:04d}@example.org",
                first_name="Zed" if i % 10 == 0 else "Seed",
                last_name=f"Number{i}",
                role=Role.INSTRUCTOR if i % 5 == 0 else Role.STUDENT,
                status=UserStatus.DEACTIVATED if i % 50 == 0 else UserStatus.ACTIVE,
                email_verified=i % 2 == 0,
                locked_at=BASE if i % 100 == 0 else None,
                password_hash="$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
                password_changed_at=BASE,
                # Several users share each timestamp: the cursor must still be stable.
                created_at=BASE + timedelta(hours=i // 3),
                updated_at=BASE,
            )
        )
    await User.insert_many(docs)
    super_admin = await make_account(app, "boss@example.com", Role.SUPER_ADMIN)
    admin = await make_account(app, "admin@example.com", Role.ADMIN)
    return {"super": super_admin, "admin": admin}


async def token_for(client: httpx.AsyncClient, email: str) -> str:
    result = await login(client, email, PASSWORD)
    assert result["__typename"] == "AuthPayload", result
    return str(result["accessToken"])


async def test_students_get_forbidden_and_no_data(
    client: httpx.AsyncClient, mail_inbox: MailInbox, seeded: dict[str, Any]
) -> None:
    student = (await login(client, await verified_user(client, mail_inbox)))["accessToken"]
    for document, variables in (
        (USERS, {}),
        (USER, {"id": str(seeded["admin"].id)}),
        (UPDATE, {"id": str(seeded["admin"].id), "active": False}),
        (DELETE, {"id": str(seeded["admin"].id)}),
    ):
        body = await call(client, document, variables, student)
        assert body["data"] is None, document
        assert error_code(body) == "FORBIDDEN"


async def test_pages_through_all_users_with_stable_cursors(
    client: httpx.AsyncClient, seeded: dict[str, Any]
) -> None:
    token = await token_for(client, "admin@example.com")
    for sort in ("CREATED_DESC", "CREATED_ASC", "EMAIL_ASC"):
        seen: list[str] = []
        after = None
        total = None
        while True:
            page = (await call(client, USERS, {"sort": sort, "first": 100, "after": after}, token))[
                "data"
            ]["users"]
            total = page["totalCount"]
            seen += [e["node"]["id"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert len(seen) == total, sort
        assert len(set(seen)) == total, sort
        assert total >= SEED + 2


async def test_filters_and_search(client: httpx.AsyncClient, seeded: dict[str, Any]) -> None:
    token = await token_for(client, "admin@example.com")

    async def count(filter_: dict[str, Any]) -> int:
        body = await call(client, USERS, {"filter": filter_, "first": 1}, token)
        return int(body["data"]["users"]["totalCount"])

    assert await count({"role": "INSTRUCTOR"}) == SEED // 5
    assert await count({"status": "DEACTIVATED"}) == SEED // 50
    assert await count({"locked": True}) == SEED // 100
    assert await count({"search": "seed012"}) == 10
    assert await count({"search": "ZED"}) == SEED // 10
    assert await count({"search": ".*"}) == 0  # literal prefix, not a pattern
    since = (BASE + timedelta(hours=300)).isoformat()
    assert await count({"createdAfter": since, "search": "seed"}) == SEED - 900
    bad = await call(client, USERS, {"after": "not-a-cursor"}, token)
    assert bad["errors"][0]["extensions"]["code"] in {"VALIDATION_FAILED", "BAD_USER_INPUT"}


async def test_role_rules_and_session_end(
    client: httpx.AsyncClient, mail_inbox: MailInbox, seeded: dict[str, Any]
) -> None:
    admin = await token_for(client, "admin@example.com")
    email = await verified_user(client, mail_inbox)
    victim = await login(client, email)
    user_id = victim["user"]["id"]

    escalate = await call(client, UPDATE, {"id": user_id, "role": "SUPER_ADMIN"}, admin)
    assert escalate["data"]["updateUser"]["code"] == "FORBIDDEN"
    above = await call(client, UPDATE, {"id": str(seeded["super"].id), "active": False}, admin)
    assert above["data"]["updateUser"]["code"] == "FORBIDDEN"

    promoted = await call(client, UPDATE, {"id": user_id, "role": "INSTRUCTOR"}, admin)
    assert promoted["data"]["updateUser"]["user"]["role"] == "INSTRUCTOR"
    # The role lives in the token: the old session is over at once.
    assert error_code(await call(client, ME, token=victim["accessToken"])) == "UNAUTHENTICATED"
    relogged = await login(client, email)
    assert relogged["user"]["role"] == "INSTRUCTOR"

    deactivated = await call(client, UPDATE, {"id": user_id, "active": False}, admin)
    assert deactivated["data"]["updateUser"]["user"]["status"] == "DEACTIVATED"
    assert error_code(await call(client, ME, token=relogged["accessToken"])) == "UNAUTHENTICATED"
    assert (await login(client, email))["__typename"] == "AccountDisabled"

    detail = (await call(client, USER, {"id": user_id}, admin))["data"]["user"]
    events = [e["event"] for e in detail["recentEvents"]]
    assert events.count("admin.user_updated") == 2


async def test_last_super_admin_is_protected(
    client: httpx.AsyncClient, seeded: dict[str, Any]
) -> None:
    boss = await token_for(client, "boss@example.com")
    boss_id = str(seeded["super"].id)
    for document, variables in (
        (UPDATE, {"id": boss_id, "role": "ADMIN"}),
        (UPDATE, {"id": boss_id, "active": False}),
        (DELETE, {"id": boss_id}),
    ):
        result = next(iter((await call(client, document, variables, boss))["data"].values()))
        assert result["code"] == "FORBIDDEN", document


async def test_soft_delete_and_restore(
    client: httpx.AsyncClient, mail_inbox: MailInbox, seeded: dict[str, Any]
) -> None:
    admin = await token_for(client, "admin@example.com")
    email = await verified_user(client, mail_inbox)
    session = await login(client, email)
    user_id = session["user"]["id"]
    assert (await call(client, DELETE, {"id": user_id}, admin))["data"]["deleteUser"][
        "__typename"
    ] == "UserUpdated"
    assert error_code(await call(client, ME, token=session["accessToken"])) == "UNAUTHENTICATED"
    assert (await login(client, email))["__typename"] == "InvalidCredentials"
    hidden = await call(client, USERS, {"filter": {"search": email}}, admin)
    assert hidden["data"]["users"]["totalCount"] == 0
    shown = await call(client, USERS, {"filter": {"search": email, "includeDeleted": True}}, admin)
    assert shown["data"]["users"]["totalCount"] == 1
    await call(client, RESTORE, {"id": user_id}, admin)
    assert (await login(client, email))["__typename"] == "AuthPayload"


async def test_revoke_user_sessions(
    client: httpx.AsyncClient, mail_inbox: MailInbox, seeded: dict[str, Any]
) -> None:
    admin = await token_for(client, "admin@example.com")
    email = await verified_user(client, mail_inbox)
    sessions = [await login(client, email) for _ in range(2)]
    result = await call(client, REVOKE, {"id": sessions[0]["user"]["id"]}, admin)
    assert result["data"]["revokeUserSessions"]["sessionsEnded"] == 2
    for s in sessions:
        assert error_code(await call(client, ME, token=s["accessToken"])) == "UNAUTHENTICATED"


async def test_admin_cannot_unlock_someone_above_them(
    client: httpx.AsyncClient, seeded: dict[str, Any]
) -> None:
    admin = await token_for(client, "admin@example.com")
    unlock = "mutation($id: ID!) { unlockUser(id: $id) { __typename ... on UserError { code } } }"
    result = await call(client, unlock, {"id": str(seeded["super"].id)}, admin)
    assert result["data"]["unlockUser"]["code"] == "FORBIDDEN"


async def test_forged_cursors_are_validation_errors(
    client: httpx.AsyncClient, seeded: dict[str, Any]
) -> None:
    import base64
    import json

    token = await token_for(client, "admin@example.com")
    for forged in (
        ["CREATED_DESC", "notadate", "0123456789abcdef01234567"],
        ["CREATED_DESC", "2024-01-01T00:00:00+00:00", "nothex"],
    ):
        cursor = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
        body = await call(client, USERS, {"after": cursor}, token)
        assert body["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"


async def test_users_are_counted_only_when_the_client_asks(
    app: LifespanManager,
    client: httpx.AsyncClient,
    seeded: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = await token_for(client, "admin@example.com")
    counts: list[Any] = []
    admin_users = app.state.services.admin_users
    real_count = admin_users.count_users

    async def counting(criteria: Any) -> int:
        counts.append(criteria)
        return int(await real_count(criteria))

    monkeypatch.setattr(admin_users, "count_users", counting)
    page_only = "query { users(first: 5) { edges { node { id } } pageInfo { hasNextPage } } }"
    body = await call(client, page_only, {}, token)
    assert len(body["data"]["users"]["edges"]) == 5
    assert counts == []
    counted = await call(client, USERS, {"filter": {"search": "seed012"}, "first": 5}, token)
    assert counted["data"]["users"]["totalCount"] == 10
    assert len(counts) == 1
