"""Only a higher rank acts on an account, through every admin mutation that acts on one.

An admin acts on instructors and students only: against a super-admin, another admin or
themselves each mutation answers ``Forbidden``, leaves an ``admin.action_denied`` event,
and changes nothing (the account, its sessions, its second factor, checked in the
database). A super-admin acts on admins and on other super-admins, never on themselves.
Each target is prepared so the mutation would change something: signed in, locked, with
two-factor on, and deleted for ``restoreUser``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pyotp
import pytest

from domain.core.actor import Actor
from domain.core.roles import Role, may_act_on, may_grant
from domain.identity.documents import User, UserStatus
from domain.mfa.documents import BackupCode, TotpCredential
from domain.sessions.documents import Session
from schema.admin.operations import AdminMutation
from tests.api.identity_ops import PASSWORD, call, login
from tests.security.support import audit_events
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager

# Each admin mutation that acts on a user, called with the arguments that make it act.
CALLS: dict[str, str] = {
    "updateUser(active)": "updateUser(id: $id, active: false)",
    "updateUser(role)": "updateUser(id: $id, role: STUDENT)",
    "deleteUser": "deleteUser(id: $id)",
    "restoreUser": "restoreUser(id: $id)",
    "unlockUser": "unlockUser(id: $id)",
    "revokeUserSessions": "revokeUserSessions(id: $id)",
    "resetUserTwoFactor": "resetUserTwoFactor(id: $id)",
}
MUTATIONS = {
    name: f"mutation($id: ID!) {{ {field} {{ __typename ... on UserError {{ code }} }} }}"
    for name, field in CALLS.items()
}
SUCCESS = {"revokeUserSessions": "UserSessionsRevoked"}
_serial = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Target:
    id: str
    token: str


@pytest.fixture(scope="module")
async def actors(app: LifespanManager, client: httpx.AsyncClient) -> dict[Role, Target]:
    found = {}
    for role in (Role.ADMIN, Role.SUPER_ADMIN):
        user = await staff_account(
            app.state, f"outrank.actor.{role.value}@example.com", PASSWORD, role
        )
        found[role] = Target(str(user.id), (await login(client, user.email))["accessToken"])
    return found


async def prepared(app: LifespanManager, client: httpx.AsyncClient, role: Role, op: str) -> Target:
    """An account the mutation would change: signed in, two-factor on, locked, and
    deleted when the mutation restores."""
    email = f"outrank.{role.value}.{next(_serial)}@example.com"
    user = await staff_account(app.state, email, PASSWORD, role)
    assert user.id is not None
    token = (await login(client, email))["accessToken"]
    enrollment = await app.state.services.mfa.begin_enrollment(user.id, email)
    await app.state.services.mfa.confirm_enrollment(
        user.id, pyotp.TOTP(enrollment.secret).now(), Actor.system()
    )
    changes: dict[str, Any] = {"locked_at": datetime.now(UTC), "failed_login_count": 10}
    if op == "restoreUser":
        changes["status"] = UserStatus.DELETED.value
    await User.find_one(User.id == user.id).update({"$set": changes})
    await app.state.services.users.invalidate(user.id)
    return Target(str(user.id), token)


async def account_state(target: Target) -> dict[str, Any]:
    """Everything an admin mutation could change about the account, as stored."""
    user = await User.get(target.id)
    assert user is not None
    return {
        "user": user.model_dump(),
        "live_sessions": await Session.find({"user_id": user.id, "revoked_at": None}).count(),
        "totp": await TotpCredential.find(
            {"user_id": user.id, "confirmed_at": {"$ne": None}}
        ).count(),
        "backup_codes": await BackupCode.find({"user_id": user.id}).count(),
    }


def test_every_admin_mutation_on_a_user_is_covered() -> None:
    """A new admin mutation must join the table above (and so the tests below)."""
    fields = AdminMutation.__strawberry_definition__.fields  # type: ignore[attr-defined]
    names = {
        "".join(w.capitalize() if i else w for i, w in enumerate(f.python_name.split("_")))
        for f in fields
    }
    assert names == {name.split("(")[0] for name in MUTATIONS}


def test_the_rank_rule() -> None:
    assert may_act_on(Role.ADMIN, Role.INSTRUCTOR)
    assert not may_act_on(Role.ADMIN, Role.ADMIN)
    assert not may_act_on(Role.ADMIN, Role.SUPER_ADMIN)
    assert may_act_on(Role.SUPER_ADMIN, Role.SUPER_ADMIN)
    assert not may_act_on(Role.INSTRUCTOR, Role.INSTRUCTOR)
    assert may_grant(Role.ADMIN, Role.INSTRUCTOR)
    assert not may_grant(Role.ADMIN, Role.ADMIN)
    assert may_grant(Role.SUPER_ADMIN, Role.SUPER_ADMIN)


REFUSED = [
    (Role.ADMIN, Role.SUPER_ADMIN, "target_outranks_actor"),
    (Role.ADMIN, Role.ADMIN, "same_rank"),
]


@pytest.mark.parametrize("op", list(MUTATIONS))
@pytest.mark.parametrize(
    ("actor_role", "target_role", "rule"),
    REFUSED,
    ids=[f"{a.value}-on-{t.value}" for a, t, _ in REFUSED],
)
async def test_refused_below_the_target_and_nothing_changes(
    app: LifespanManager,
    client: httpx.AsyncClient,
    actors: dict[Role, Target],
    op: str,
    actor_role: Role,
    target_role: Role,
    rule: str,
) -> None:
    target = await prepared(app, client, target_role, op)
    before = await account_state(target)
    actor = actors[actor_role]
    body = await call(client, MUTATIONS[op], {"id": target.id}, actor.token)
    result = next(iter(body["data"].values()))
    assert result == {"__typename": "Forbidden", "code": "FORBIDDEN"}, (op, body)
    assert await account_state(target) == before, op
    assert await audit_events(
        "admin.action_denied", actor_id=actor.id, target_id=target.id, **{"details.rule": rule}
    )


@pytest.mark.parametrize("op", list(MUTATIONS))
@pytest.mark.parametrize("actor_role", [Role.ADMIN, Role.SUPER_ADMIN], ids=lambda r: r.value)
async def test_nobody_acts_on_their_own_account(
    app: LifespanManager, client: httpx.AsyncClient, op: str, actor_role: Role
) -> None:
    """Own role, status and second factor are another administrator's to change."""
    email = f"outrank.self.{next(_serial)}@example.com"
    user = await staff_account(app.state, email, PASSWORD, actor_role)
    me = Target(str(user.id), (await login(client, email))["accessToken"])
    before = await account_state(me)
    body = await call(client, MUTATIONS[op], {"id": me.id}, me.token)
    result = next(iter(body["data"].values()))
    assert result == {"__typename": "Forbidden", "code": "FORBIDDEN"}, (op, body)
    assert await account_state(me) == before, op
    assert await audit_events(
        "admin.action_denied", actor_id=me.id, target_id=me.id, **{"details.rule": "self_action"}
    )


ALLOWED = [(Role.SUPER_ADMIN, Role.ADMIN), (Role.SUPER_ADMIN, Role.SUPER_ADMIN)]


@pytest.mark.parametrize("op", list(MUTATIONS))
@pytest.mark.parametrize(
    ("actor_role", "target_role"), ALLOWED, ids=[f"{a.value}-on-{t.value}" for a, t in ALLOWED]
)
async def test_a_super_admin_acts_on_admins_and_other_super_admins(
    app: LifespanManager,
    client: httpx.AsyncClient,
    actors: dict[Role, Target],
    op: str,
    actor_role: Role,
    target_role: Role,
) -> None:
    target = await prepared(app, client, target_role, op)
    before = await account_state(target)
    body = await call(client, MUTATIONS[op], {"id": target.id}, actors[actor_role].token)
    result = next(iter(body["data"].values()))
    assert result["__typename"] == SUCCESS.get(op, "UserUpdated"), (op, body)
    assert await account_state(target) != before, op
