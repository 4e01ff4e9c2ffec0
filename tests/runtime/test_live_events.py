"""Live events across two real API processes sharing FerretDB and Redis."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.conftest import ServiceUrls
from tests.support.processes import create_account, gatehouse_env, start_api

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
ADMIN = "live.admin@example.com"
PASSWORD = "copper harbour whistle 9043"
LOGIN = """mutation($e: String!, $p: String!) {
  login(email: $e, password: $p) { __typename ... on AuthPayload { accessToken } } }"""


@pytest.fixture(scope="module")
def env(
    service_urls: ServiceUrls, database_name: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    return gatehouse_env(
        {
            "GATEHOUSE_ENVIRONMENT": "test",
            "GATEHOUSE_MONGODB_URL": service_urls.mongodb_url,
            "GATEHOUSE_MONGODB_DATABASE": database_name,
            "GATEHOUSE_REDIS_URL": service_urls.redis_url,
            "GATEHOUSE_VAR_DIR": str(tmp_path_factory.mktemp("var")),
            "GATEHOUSE_RATE_LIMITS_ENABLED": "false",
        }
    )


@pytest.fixture(scope="module")
def two_apis(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[int]]:
    logs = tmp_path_factory.mktemp("logs")
    created = create_account(env, ADMIN, PASSWORD, role="admin")
    assert created.returncode == 0, created.stderr
    processes = [start_api(env, logs / f"api{i}.log") for i in range(2)]
    yield [port for _, port in processes]
    for process, _ in processes:
        process.send_signal(signal.SIGTERM)
    for process, _ in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


async def token_from(port: int) -> str:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        response = await http.post(
            "/graphql", json={"query": LOGIN, "variables": {"e": ADMIN, "p": PASSWORD}}
        )
    return str(response.json()["data"]["login"]["accessToken"])


async def subscribe(port: int, token: str | None, query: str) -> Any:
    socket = await websockets.connect(
        f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"]
    )
    payload = {"authorization": f"Bearer {token}"} if token else {}
    await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
    raw = await asyncio.wait_for(socket.recv(), 10)
    assert isinstance(raw, str), "graphql-ws and browsers read messages from text frames only"
    ack = json.loads(raw)
    assert ack["type"] == "connection_ack", ack
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
    await asyncio.sleep(0.3)  # the subscription is registered on Redis
    return socket


async def next_data(socket: Any) -> dict[str, Any]:
    while True:
        raw = await asyncio.wait_for(socket.recv(), 10)
        assert isinstance(raw, str)
        message = json.loads(raw)
        if message["type"] == "next":
            return message["payload"]["data"]  # type: ignore[no-any-return]
        assert message["type"] != "error", message


async def test_admin_sees_a_login_made_on_the_other_instance(two_apis: list[int]) -> None:
    first, second = two_apis
    token = await token_from(first)
    socket = await subscribe(
        first, token, "subscription { auditEvents { event targetId actorId } }"
    )
    try:
        await token_from(second)  # a login on the other process
        data = await next_data(socket)
        assert data["auditEvents"]["event"] == "user.login"
        assert data["auditEvents"]["targetId"]
    finally:
        await socket.close()


async def test_logout_elsewhere_reaches_the_session_and_closes_it(two_apis: list[int]) -> None:
    first, second = two_apis
    token = await token_from(first)
    socket = await subscribe(
        first, token, "subscription { sessionRevoked { sessionId reason current } }"
    )
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{second}") as http:
        out = await http.post(
            "/graphql",
            json={"query": "mutation { logout { sessionsEnded } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert out.json()["data"]["logout"]["sessionsEnded"] == 1
        # Refused on the other instance at once.
        me = await http.post(
            "/graphql",
            json={"query": "{ me { id } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert me.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    data = await next_data(socket)
    assert data["sessionRevoked"] == {
        "sessionId": data["sessionRevoked"]["sessionId"],
        "reason": "logout",
        "current": True,
    }
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), 10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_connection_without_token_is_refused(two_apis: list[int]) -> None:
    socket = await websockets.connect(
        f"ws://127.0.0.1:{two_apis[0]}/graphql", subprotocols=["graphql-transport-ws"]
    )
    await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), 10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403
