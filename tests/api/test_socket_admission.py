"""Every operation on a WebSocket is admitted like an HTTP request (issue 13, finding 1).

The app runs in-process on the real FerretDB and Redis with a clock the test moves;
the socket speaks graphql-transport-ws through the app's real ASGI code path.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.identity.documents import User
from tests.api.identity_ops import LOGIN, LOGOUT, ME, call, unique_email
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager
from tests.support.asgi_ws import AsgiWebSocket, SocketClosedError

PASSWORD = "lantern orchard velvet 8812"
SESSION_FEED = "subscription { sessionRevoked { sessionId reason current } }"
AUDIT_FEED = "subscription { auditEvents { event targetId } }"
USER_BUDGET = 12


@pytest.fixture(scope="module")
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture(scope="module")
async def app(
    make_settings: Callable[..., Settings], clock: FrozenClock
) -> AsyncIterator[LifespanManager]:
    from app import create_app

    settings = make_settings(
        rate_limits_enabled=True,
        rate_limit_request_user=f"{USER_BUDGET}/60",
        websocket_recheck_seconds=0.2,
    )
    async with LifespanManager(create_app(settings, clock=clock)) as manager:
        yield manager


@pytest.fixture(scope="module")
async def client(app: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


async def account(app: LifespanManager, role: Role = Role.STUDENT) -> User:
    return await staff_account(app.state, unique_email(role.value), PASSWORD, role)


async def sign_in(client: httpx.AsyncClient, user: User) -> dict[str, Any]:
    body = await call(client, LOGIN, {"email": user.email, "password": PASSWORD})
    payload: dict[str, Any] = body["data"]["login"]
    assert payload["__typename"] == "AuthPayload", payload
    return payload


async def expect_close(socket: AsgiWebSocket, wait: float = 5) -> SocketClosedError:
    """Read until the server closes the socket; the close."""
    try:
        while True:
            await socket.receive(wait)
    except SocketClosedError as closed:
        return closed


async def test_messages_are_text_frames(app: LifespanManager, client: httpx.AsyncClient) -> None:
    token = (await sign_in(client, await account(app)))["accessToken"]
    async with AsgiWebSocket(app.app) as socket:
        assert socket.subprotocol == "graphql-transport-ws"
        assert (await socket.init(token))["type"] == "connection_ack"
        await socket.send({"type": "ping"})
        assert (await socket.receive())["type"] == "pong"
    assert socket.frames == ["text", "text"]


async def test_legacy_protocol_is_refused(app: LifespanManager) -> None:
    # The legacy subscriptions-transport-ws protocol has its own handler, without the
    # per-operation admission: it is not offered at all.
    async with AsgiWebSocket(app.app, subprotocols=("graphql-ws",)) as socket:
        closed = await expect_close(socket)
    assert closed.code == 4406


async def test_revoked_token_is_refused_at_connection_init(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    token = (await sign_in(client, await account(app)))["accessToken"]
    await call(client, LOGOUT, token=token)
    async with AsgiWebSocket(app.app) as socket:
        await socket.send(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        )
        closed = await expect_close(socket)
    assert closed.code == 4403


async def test_missing_token_is_refused(app: LifespanManager) -> None:
    async with AsgiWebSocket(app.app) as socket:
        await socket.send({"type": "connection_init", "payload": {}})
        closed = await expect_close(socket)
    assert closed.code == 4403


async def test_logout_closes_an_idle_socket_at_once(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    token = (await sign_in(client, await account(app)))["accessToken"]
    async with AsgiWebSocket(app.app) as socket:
        assert (await socket.init(token))["type"] == "connection_ack"
        await asyncio.sleep(0.1)  # the process-wide watch has subscribed
        assert (await call(client, LOGOUT, token=token))["data"]["logout"]["sessionsEnded"] == 1
        closed = await expect_close(socket)
    assert closed.code == 4401
    assert "logout" in closed.reason


async def test_each_subscribe_is_admitted_with_the_current_session(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    user = await account(app)
    signed_in = await sign_in(client, user)
    async with AsgiWebSocket(app.app) as socket:
        assert (await socket.init(signed_in["accessToken"]))["type"] == "connection_ack"
        # The revocation record alone, without the live notice (as if pub/sub had lost
        # it): the next operation on the socket is refused and the socket closed.
        await app.state.services.revocations.revoke([signed_in["sessionId"]])
        await socket.subscribe("1", SESSION_FEED)
        closed = await expect_close(socket)
    assert closed.code == 4401


async def test_queries_and_mutations_are_refused_on_the_socket(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    admin = await account(app, Role.SUPER_ADMIN)
    victim = await account(app)
    token = (await sign_in(client, admin))["accessToken"]
    promote = f'mutation {{ updateUser(id: "{victim.id}", role: ADMIN) {{ __typename }} }}'
    async with AsgiWebSocket(app.app) as socket:
        assert (await socket.init(token))["type"] == "connection_ack"
        for op_id, document in (("m", promote), ("q", ME), ("l", LOGOUT)):
            await socket.subscribe(op_id, document)
            refused = await socket.receive()
            assert refused["id"] == op_id
            assert refused["type"] == "error"
            assert refused["payload"][0]["extensions"]["code"] == "OPERATION_NOT_ALLOWED"
    fresh = await User.get(victim.id)
    assert fresh is not None
    assert fresh.role == Role.STUDENT
    # The logout sent over the socket did nothing either.
    assert (await call(client, ME, token=token))["data"]["me"]["email"] == admin.email


async def test_demotion_closes_the_admins_socket(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    boss = await account(app, Role.SUPER_ADMIN)
    admin = await account(app, Role.ADMIN)
    boss_token = (await sign_in(client, boss))["accessToken"]
    admin_token = (await sign_in(client, admin))["accessToken"]
    async with AsgiWebSocket(app.app) as socket:
        assert (await socket.init(admin_token))["type"] == "connection_ack"
        await socket.subscribe("a", AUDIT_FEED)
        await asyncio.sleep(0.2)
        demote = f'mutation {{ updateUser(id: "{admin.id}", role: STUDENT) {{ __typename }} }}'
        result = await call(client, demote, token=boss_token)
        assert result["data"]["updateUser"]["__typename"] == "UserUpdated", result
        closed = await expect_close(socket)
    assert closed.code == 4401


async def test_deactivated_users_socket_closes(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    boss = await account(app, Role.SUPER_ADMIN)
    user = await account(app)
    boss_token = (await sign_in(client, boss))["accessToken"]
    token = (await sign_in(client, user))["accessToken"]
    async with AsgiWebSocket(app.app) as socket:
        assert (await socket.init(token))["type"] == "connection_ack"
        await asyncio.sleep(0.1)
        off = f'mutation {{ updateUser(id: "{user.id}", active: false) {{ __typename }} }}'
        assert (await call(client, off, token=boss_token))["data"]["updateUser"]["__typename"] == (
            "UserUpdated"
        )
        closed = await expect_close(socket)
    assert closed.code == 4401


async def test_socket_closes_when_its_token_expires(
    app: LifespanManager, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    token = (await sign_in(client, await account(app)))["accessToken"]
    async with AsgiWebSocket(app.app) as socket:
        assert (await socket.init(token))["type"] == "connection_ack"
        await socket.subscribe("s", SESSION_FEED)
        with pytest.raises(TimeoutError):
            await socket.receive(wait=0.5)  # open and quiet while the token is valid
        clock.advance(timedelta(minutes=16))
        closed = await expect_close(socket)
    assert closed.code == 4401
    assert "expired" in closed.reason


async def test_subscribes_count_toward_the_users_rate_limit(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    token = (await sign_in(client, await account(app)))["accessToken"]
    refused: dict[str, Any] | None = None
    async with AsgiWebSocket(app.app) as socket:
        assert (await socket.init(token))["type"] == "connection_ack"
        for n in range(USER_BUDGET + 2):
            await socket.subscribe(str(n), SESSION_FEED)
            await socket.send({"id": str(n), "type": "complete"})
            try:
                refused = await socket.receive(wait=0.3)
            except TimeoutError:
                continue
            break
    assert refused is not None, "the socket's operations were never limited"
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
    # The same budget as HTTP: the user's next request is refused at the door too.
    response = await client.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 429


async def test_malformed_subscribe_closes_without_a_crash(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    token = (await sign_in(client, await account(app)))["accessToken"]
    async with AsgiWebSocket(app.app) as socket:
        assert (await socket.init(token))["type"] == "connection_ack"
        await socket.send({"id": "x", "type": "subscribe", "payload": "not an object"})
        closed = await expect_close(socket)
    assert closed.code == 4400
