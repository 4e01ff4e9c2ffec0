"""A provider that is down or slow degrades into a typed ``SocialSignInFailed``
(``PROVIDER_UNAVAILABLE``), never a 500, and within the deployment's timeout.

"Down" is a closed port on 127.0.0.1; "slow" is a real HTTP server there that holds
its answer past the timeout (tests/social/slow_provider.py). Nothing is mocked: the
gateway's own HTTP client makes the calls.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from domain.audit.documents import AuditEvent
from tests.social.conftest import provider_settings
from tests.social.slow_provider import SlowProvider, closed_port
from tests.social.support import REDIRECT_URI, begin, complete

TIMEOUT_SECONDS = 0.5
DELAY_SECONDS = 3.0


@pytest.fixture(scope="module")
def slow() -> Iterator[SlowProvider]:
    server = SlowProvider(DELAY_SECONDS).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def social_settings(slow: SlowProvider) -> dict[str, Any]:
    return {
        "social_providers": {
            "down": provider_settings(f"http://127.0.0.1:{closed_port()}"),
            "slow": provider_settings(slow.issuer),
        },
        "social_redirect_uris": [REDIRECT_URI],
        "social_http_timeout_seconds": TIMEOUT_SECONDS,
        # Every call reaches the provider (no discovery cached from an earlier test).
        "social_metadata_ttl_seconds": 0,
    }


@pytest.fixture(autouse=True)
def prompt(slow: SlowProvider) -> None:
    slow.slow_paths.clear()


def state_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


async def last_failure() -> AuditEvent:
    event = await AuditEvent.find_one(
        {"event": "user.login_failed", "details.method": "social"}, sort=[("_id", -1)]
    )
    assert event is not None
    return event


async def test_a_provider_that_is_down_is_a_typed_failure(client: httpx.AsyncClient) -> None:
    failed = await begin(client, "down")
    assert failed["__typename"] == "SocialSignInFailed", failed
    assert failed["reason"] == "PROVIDER_UNAVAILABLE"


async def test_a_slow_discovery_times_out(client: httpx.AsyncClient, slow: SlowProvider) -> None:
    slow.slow_paths.add("/.well-known/openid-configuration")
    started = time.monotonic()
    failed = await begin(client, "slow")
    assert time.monotonic() - started < DELAY_SECONDS - 1
    assert failed["__typename"] == "SocialSignInFailed", failed
    assert failed["reason"] == "PROVIDER_UNAVAILABLE"


async def test_a_slow_token_endpoint_times_out(
    client: httpx.AsyncClient, slow: SlowProvider
) -> None:
    begun = await begin(client, "slow")
    assert begun["__typename"] == "SocialAuthorization", begun
    slow.slow_paths.add("/token")
    started = time.monotonic()
    failed = await complete(
        client, "slow", code="c" * 32, state=state_of(begun["authorizationUrl"])
    )
    assert time.monotonic() - started < DELAY_SECONDS - 1
    assert failed["__typename"] == "SocialSignInFailed", failed
    assert failed["reason"] == "PROVIDER_UNAVAILABLE"
    assert "/token" in slow.seen
    event = await last_failure()
    assert event.details["reason"] == "provider_unavailable"
    assert "Timeout" in event.details["detail"]


async def test_a_token_endpoint_failing_is_a_typed_failure(
    client: httpx.AsyncClient, slow: SlowProvider
) -> None:
    begun = await begin(client, "slow")
    failed = await complete(
        client, "slow", code="c" * 32, state=state_of(begun["authorizationUrl"])
    )
    assert failed["__typename"] == "SocialSignInFailed", failed
    # A 5xx (here with OAuth's ``server_error``) says the provider is not working.
    assert failed["reason"] == "PROVIDER_UNAVAILABLE"
