"""Three API processes sharing one FerretDB and one Redis behave as one service.

A token issued by one process is accepted by the others; a logout on one is enforced
on all at once; rate-limit and lockout counters are shared. (Live subscriptions that
see events and revocations from another process: tests/runtime/test_live_events.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.identity_ops import LOGIN, LOGOUT, ME, REFRESH, REGISTER
from tests.reliability.cluster import Cluster

pytestmark = pytest.mark.slow

USER = "scale.user@example.com"
LOCKED = "scale.locked@example.com"
PASSWORD = "saffron canal lighthouse 6620"


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = Cluster(
        Path(tmp_path_factory.mktemp("scale-out")),
        overrides={
            "rate_limits_enabled": True,
            "rate_limit_register_ip": "3/3600",
            "lockout_threshold": 4,
        },
    )
    try:
        cluster.start(apis=3, workers=0, scheduler=False)
        cluster.create_account(USER, PASSWORD, "student")
        cluster.create_account(LOCKED, PASSWORD, "student")
        yield cluster
    finally:
        cluster.stop()


def post(
    cluster: Cluster, api: int, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{cluster.apis[api].url}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def login(cluster: Cluster, api: int, email: str, password: str) -> dict[str, Any]:
    result: dict[str, Any] = post(cluster, api, LOGIN, {"email": email, "password": password})[
        "data"
    ]["login"]
    return result


def test_a_token_from_one_process_works_on_all_and_a_logout_ends_it_everywhere(
    scaled: Cluster,
) -> None:
    session = login(scaled, 0, USER, PASSWORD)
    assert session["__typename"] == "AuthPayload"
    for api in range(3):
        me = post(scaled, api, ME, {}, session["accessToken"])
        assert me["data"]["me"]["email"] == USER
    refreshed = post(scaled, 1, REFRESH, {"token": session["refreshToken"]})["data"]
    access = refreshed["refreshToken"]["accessToken"]
    refresh = refreshed["refreshToken"]["refreshToken"]

    assert post(scaled, 2, LOGOUT, {}, access)["data"]["logout"]["sessionsEnded"] == 1
    # At once, on every process: both access tokens of the session, and its refresh token.
    for api in range(3):
        for token in (session["accessToken"], access):
            refused = post(scaled, api, ME, {}, token)
            assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    renewed = post(scaled, 0, REFRESH, {"token": refresh})["data"]["refreshToken"]
    assert renewed["__typename"] != "AuthPayload"


def test_rate_limits_are_counted_across_processes(scaled: Cluster) -> None:
    kinds = []
    for n in range(4):  # the limit is 3 per address per hour, whichever process answers
        body = post(
            scaled,
            n % 3,
            REGISTER,
            {"email": f"scale.new{n}@example.com", "password": PASSWORD, "first": "A", "last": "B"},
        )
        kinds.append(body["data"]["register"]["__typename"])
    assert kinds == ["RegistrationAccepted"] * 3 + ["RateLimited"]


def test_lockout_failures_are_counted_across_processes(scaled: Cluster) -> None:
    kinds = [login(scaled, n % 3, LOCKED, f"wrong password {n}")["__typename"] for n in range(4)]
    assert kinds == ["InvalidCredentials"] * 3 + ["AccountLocked"]
    # Locked on every process, even with the right password.
    for api in range(3):
        assert login(scaled, api, LOCKED, PASSWORD)["__typename"] == "AccountLocked"
