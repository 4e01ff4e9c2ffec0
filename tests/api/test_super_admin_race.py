"""Super-admins removing each other at the same instant never leave none.

The last-super-admin rule is a check then a write; without the lock in
domain/admin/super_admins.py both of two racing demotions counted one other
super-admin and both went through.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from domain.core.roles import Role
from domain.identity.documents import User, UserStatus
from tests.api.identity_ops import call, login
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager

PASSWORD = "granite meadow lantern 5521"
UPDATE = """
mutation Update($id: ID!, $role: Role, $active: Boolean) {
  updateUser(id: $id, role: $role, active: $active) {
    __typename ... on UserError { code }
  }
}"""
DELETE = "mutation($id: ID!) { deleteUser(id: $id) { __typename ... on UserError { code } } }"


async def active_super_admins() -> int:
    return await User.find(
        {"role": Role.SUPER_ADMIN.value, "status": UserStatus.ACTIVE.value}
    ).count()


async def demote_all(round_: str, app: LifespanManager) -> list[tuple[str, str]]:
    """Any existing super-admins are demoted first, then three are made for the round."""
    async for user in User.find({"role": Role.SUPER_ADMIN.value}):
        await User.find_one(User.id == user.id).update({"$set": {"role": Role.ADMIN.value}})
    made = [
        await staff_account(app.state, f"boss{i}.{round_}@example.com", PASSWORD, Role.SUPER_ADMIN)
        for i in range(3)
    ]
    return [(u.email, str(u.id)) for u in made]


def outcome(body: dict[str, Any]) -> str:
    if body.get("data") is None:
        return str(body["errors"][0]["extensions"]["code"])
    result = next(iter(body["data"].values()))
    return str(result.get("code") or result["__typename"])


async def test_two_super_admins_demoting_each_other_leave_one(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    for round_ in range(5):
        (a, a_id), (b, b_id), (third, _) = await demote_all(f"pair{round_}", app)
        # The third steps aside first, so a and b are the only two.
        await User.find_one(User.email == third).update({"$set": {"role": Role.ADMIN.value}})
        tokens = [(await login(client, e, PASSWORD))["accessToken"] for e in (a, b)]
        results = await asyncio.gather(
            call(client, UPDATE, {"id": b_id, "role": "ADMIN"}, tokens[0]),
            call(client, DELETE, {"id": a_id}, tokens[1]),
        )
        outcomes = sorted(outcome(r) for r in results)
        assert await active_super_admins() == 1, outcomes
        assert outcomes.count("UserUpdated") == 1, outcomes


async def test_three_super_admins_deactivating_in_a_ring_leave_one(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    for round_ in range(3):
        accounts = await demote_all(f"ring{round_}", app)
        tokens = [(await login(client, e, PASSWORD))["accessToken"] for e, _ in accounts]
        results = await asyncio.gather(
            *(
                call(client, UPDATE, {"id": accounts[(i + 1) % 3][1], "active": False}, token)
                for i, token in enumerate(tokens)
            )
        )
        outcomes = [outcome(r) for r in results]
        assert await active_super_admins() >= 1, outcomes
        assert outcomes.count("UserUpdated") <= 2, outcomes
