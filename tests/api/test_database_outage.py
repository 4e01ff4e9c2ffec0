"""A database outage before a resolver runs: never a 500, and activity is best effort."""

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
from tests.support.asgi import app_client


@pytest.fixture
def own_ferretdb(tmp_path: Path) -> Iterator[services.Service]:
    service = services.ferretdb(tmp_path / "ferretdb").start()
    yield service
    service.stop()


@pytest.fixture
async def outage_client(
    make_settings: Callable[..., Settings], own_ferretdb: services.Service
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        mongodb_url=f"mongodb://127.0.0.1:{own_ferretdb.port}",
        mongodb_server_selection_timeout_ms=500,
        mongodb_connect_timeout_ms=500,
        mongodb_socket_timeout_ms=1000,
    )
    async with app_client(settings) as http:
        yield http


async def test_database_down_before_execution_is_service_unavailable(
    outage_client: httpx.AsyncClient, own_ferretdb: services.Service
) -> None:
    state = outage_client.app_state  # type: ignore[attr-defined]
    email = unique_email("outage")
    await staff_account(state, email, PASSWORD, Role.STUDENT)
    token = (await login(outage_client, email))["accessToken"]
    headers = {"Authorization": f"Bearer {token}"}
    before = await outage_client.post("/graphql", json={"query": ME}, headers=headers)
    assert before.status_code == 200

    own_ferretdb.stop()
    # The caller's API key is looked up before any resolver runs.
    keyed = await outage_client.post(
        "/graphql",
        json={"query": "{ serverInfo { name } }"},
        headers={"X-API-Key": "ghk_" + "0" * 16 + "_" + "a" * 43},
    )
    assert keyed.status_code == 503
    assert keyed.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"

    # Recording the session's activity is due again, and cannot be written: the
    # request goes on (the user comes from the Redis cache).
    admission_marker = state.services.sessions.seen_marker
    for key in await state.redis.keys(admission_marker("*")[0]):
        await state.redis.delete(key)
    me = await outage_client.post("/graphql", json={"query": ME}, headers=headers)
    assert me.status_code == 200
    assert me.json()["data"]["me"]["email"] == email
