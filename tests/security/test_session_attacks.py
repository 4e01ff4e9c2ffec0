"""Refresh-token replay and theft, and token confusion between kinds (ASVS 4.0.3 V3.2.1,
V3.2.2, V3.3.1, V3.5.3), through GraphQL on real FerretDB and Redis.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from beanie import PydanticObjectId

from domain.core.roles import Role
from domain.sessions.documents import RefreshFamily
from tests.api.identity_ops import LOGOUT, ME, PASSWORD, REFRESH, call, error_code, login
from tests.security.support import audit_events
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager


async def refresh(
    client: httpx.AsyncClient, token: str, user_agent: str | None = None
) -> dict[str, Any]:
    body = await call(client, REFRESH, {"token": token}, user_agent=user_agent)
    result: dict[str, Any] = body["data"]["refreshToken"]
    return result


# The thief's browser: another client context than the victim's, so no refresh grace.
THIEF_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
)


async def signed_in(client: httpx.AsyncClient, access: str) -> bool:
    return (await call(client, ME, token=access))["data"] is not None


async def test_stolen_refresh_token_used_first_by_the_thief_is_caught_on_the_victims_turn(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    user = await staff_account(app.state, "theft@example.com", PASSWORD, Role.STUDENT)
    victim = await login(client, user.email)
    other_device = await login(client, user.email)
    stolen = victim["refreshToken"]

    # The thief rotates first and holds fresh tokens.
    thief = await refresh(client, stolen, THIEF_AGENT)
    assert thief["__typename"] == "AuthPayload"
    assert await signed_in(client, thief["accessToken"])

    # The victim's app refreshes with the token it still holds: a replay of a rotated token.
    replay = await refresh(client, stolen)
    assert replay["__typename"] == "RefreshTokenReused"
    assert replay["code"] == "REFRESH_TOKEN_REUSED"

    # The whole family ends, the thief's fresh pair included.
    assert not await signed_in(client, thief["accessToken"])
    assert (await refresh(client, thief["refreshToken"]))["__typename"] == "InvalidRefreshToken"
    # The user's other sessions are not the thief's and carry on.
    assert await signed_in(client, other_device["accessToken"])
    (event,) = await audit_events("session.refresh_reuse", target_id=str(user.id))
    assert event.details["session"] == victim["sessionId"]
    assert event.result.value == "failure"


async def test_refresh_token_is_single_use_and_dies_with_logout(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    user = await staff_account(app.state, "replay@example.com", PASSWORD, Role.STUDENT)
    session = await login(client, user.email)
    rotated = await refresh(client, session["refreshToken"])
    assert rotated["__typename"] == "AuthPayload"
    assert rotated["refreshToken"] != session["refreshToken"]
    assert rotated["sessionId"] == session["sessionId"]
    await call(client, LOGOUT, token=rotated["accessToken"])
    assert not await signed_in(client, rotated["accessToken"])
    assert (await refresh(client, rotated["refreshToken"]))["__typename"] in (
        "InvalidRefreshToken",
        "SessionExpired",
    )


async def test_each_login_is_a_new_session_with_fresh_high_entropy_tokens(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    user = await staff_account(app.state, "entropy@example.com", PASSWORD, Role.STUDENT)
    first, second = [await login(client, user.email) for _ in range(2)]
    assert first["sessionId"] != second["sessionId"]
    assert first["refreshToken"] != second["refreshToken"]
    # An HMAC-SHA256 (256 bits) under the session's own random secret, which is stored
    # sealed: neither the token nor its hash is stored anywhere.
    assert len(first["refreshToken"]) >= 43
    family = await RefreshFamily.get(PydanticObjectId(first["sessionId"]))
    assert family is not None
    stored = family.model_dump_json()
    mac = first["refreshToken"].rsplit(".", 1)[1]
    for secret in (mac, hashlib.sha256(first["refreshToken"].encode()).hexdigest()):
        assert secret not in stored
    assert family.sealed_secret.startswith("v1.")


async def test_token_kinds_cannot_stand_in_for_each_other(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    user = await staff_account(app.state, "kinds@example.com", PASSWORD, Role.STUDENT)
    session = await login(client, user.email)
    # An access token is not a refresh token, and a refresh token is not a bearer token.
    assert (await refresh(client, session["accessToken"]))["__typename"] == "InvalidRefreshToken"
    body = await call(client, ME, token=session["refreshToken"])
    assert error_code(body) == "UNAUTHENTICATED"
    # Nor is a refresh token an emailed link token.
    verify = "mutation($t: String!) { verifyEmail(token: $t) { __typename } }"
    reset = "mutation($t: String!) { unlockAccount(token: $t) { __typename } }"
    for document in (verify, reset):
        result = await call(client, document, {"t": session["refreshToken"]})
        assert next(iter(result["data"].values()))["__typename"] == "InvalidToken"
    assert await signed_in(client, session["accessToken"])
