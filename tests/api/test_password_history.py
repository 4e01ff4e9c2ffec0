"""Password history, five deep, through ``changePassword`` on real FerretDB and Redis.

"Not one of the last 5" counts the current password: after A→B→C→D→E, the last five
are E, D, C, B and A, so A is refused; one more change (F) pushes A out, so A is
allowed again while B, now the fifth, is still refused.
"""

from __future__ import annotations

import httpx

from domain.core.roles import Role
from domain.identity.documents import User
from tests.api.identity_ops import CHANGE_PASSWORD, call, login
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager

# Strong enough for the policy (zxcvbn >= 3), and unrelated to each other.
A = "copper walrus sings at dawn 81"
B = "velvet canyon drifts slowly 92"
C = "marble falcon orbits nightly 37"
D = "amber glacier hums tunes 4461"
E = "silent orchard paints rivers 58"
F = "frosty lantern climbs hills 603"


async def change(client: httpx.AsyncClient, token: str, current: str, new: str) -> dict[str, str]:
    body = await call(client, CHANGE_PASSWORD, {"current": current, "new": new}, token)
    result: dict[str, str] = body["data"]["changePassword"]
    return result


async def test_the_last_five_passwords_are_refused_and_the_sixth_back_is_allowed(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    assert app.state.settings.password_history_size == 5
    user = await staff_account(app.state, "history@example.com", A, Role.STUDENT)
    token = (await login(client, user.email, A))["accessToken"]
    for current, new in ((A, B), (B, C), (C, D), (D, E)):
        changed = await change(client, token, current, new)
        assert changed["__typename"] == "PasswordChanged", (new, changed)

    async def refused(current: str, new: str) -> None:
        stored = await User.get(user.id)
        assert stored is not None
        body = await call(client, CHANGE_PASSWORD, {"current": current, "new": new}, token)
        result = body["data"]["changePassword"]
        assert result["__typename"] == "ValidationFailed", (new, result)
        assert result["fieldErrors"] == [
            {
                "field": "newPassword",
                "message": result["fieldErrors"][0]["message"],
                "code": "PASSWORD_REUSED",
            }
        ]
        after = await User.get(user.id)
        assert after is not None
        assert (after.password_hash, after.password_history) == (
            stored.password_hash,
            stored.password_history,
        )

    # E is current; D, C, B and A are the four before it: all five refused.
    for old in (E, D, C, B, A):
        await refused(E, old)
    assert (await change(client, token, E, F))["__typename"] == "PasswordChanged"
    # Now F, E, D, C, B are the last five; A is six back.
    await refused(F, B)
    assert (await change(client, token, F, A))["__typename"] == "PasswordChanged"
    assert (await login(client, user.email, A))["__typename"] == "AuthPayload"
