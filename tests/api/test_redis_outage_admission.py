"""Redis away while a signed-in client calls: "try again", never "signed out".

A client that hears UNAUTHENTICATED throws its tokens away; a few seconds of Redis
restart must not sign every active user out. Failing closed stays right: the token is
not trusted without its revocation check, but the answer is SERVICE_UNAVAILABLE with
Retry-After over HTTP, and close code 1013 (try again later) on a WebSocket.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
import services

from domain.core.roles import Role
from domain.core.settings import Settings
from tests.api.identity_ops import ME, PASSWORD, login, unique_email
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager
from tests.support.asgi_ws import AsgiWebSocket, SocketClosedError


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[services.Service]:
    service = services.redis_server(tmp_path / "redis").start()
    yield service
    service.stop()


@pytest.fixture
async def app(
    make_settings: Callable[..., Settings], own_redis: services.Service
) -> AsyncIterator[LifespanManager]:
    from app import create_app

    settings = make_settings(redis_url=f"redis://127.0.0.1:{own_redis.port}/0")
    async with LifespanManager(create_app(settings)) as manager:
        yield manager


def _code(response: httpx.Response) -> str:
    body = response.json()
    if "errors" in body:
        return str(body["errors"][0]["extensions"]["code"])
    return str(body["code"])


async def test_signed_in_request_without_redis_is_service_unavailable(
    app: LifespanManager, own_redis: services.Service
) -> None:
    email = unique_email("redis-away")
    await staff_account(app.state, email, PASSWORD, Role.STUDENT)
    transport = httpx.ASGITransport(app=app.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        token = (await login(client, email))["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}
        assert (
            await client.post("/graphql", json={"query": ME}, headers=headers)
        ).status_code == 200

        own_redis.stop()
        away = await client.post("/graphql", json={"query": ME}, headers=headers)
        assert away.status_code == 503, away.text
        assert _code(away) == "SERVICE_UNAVAILABLE"
        assert int(away.headers["Retry-After"]) > 0

        async with AsgiWebSocket(app.app) as socket:
            await socket.send(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
            )
            with pytest.raises(SocketClosedError) as closed:
                await socket.receive()
        assert closed.value.code == 1013

        own_redis.start()
        back = await client.post("/graphql", json={"query": ME}, headers=headers)
        assert back.status_code == 200
        assert back.json()["data"]["me"]["email"] == email
