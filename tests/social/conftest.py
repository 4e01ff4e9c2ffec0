"""Fixtures of the social tests: Canaille (pytest-iam) as the provider, and an app that
signs in with it. The module clock starts at the real time when the module's first test
runs, and is brought up to the real time before each test: the provider stamps its ID
tokens with the real clock, and Gatehouse checks them against the injected one (a
module-level ``datetime.now()`` was read when the whole suite was collected, minutes
before these tests ran in a full run, and every ID token looked issued in the future)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from domain.core.clock import FrozenClock
from tests.social.support import CLIENT_SECRET, REDIRECT_URI, register_client
from tests.support.asgi import AppWith, LifespanManager, asgi_client

# The ``email_verified`` claim: "true" (as Apple sends it) unless the person's
# department says otherwise, so a test picks a verified or an unverified email.
EMAIL_VERIFIED = "{% if user.department != 'unverified' %}true{% endif %}"


@pytest.fixture(scope="module")
def clock(frozen_clock: Callable[..., FrozenClock]) -> FrozenClock:
    return frozen_clock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture(autouse=True)
def clock_at_real_time(clock: FrozenClock) -> None:
    """Never behind the provider's clock when a test starts (a test may move it on)."""
    behind = datetime.now(UTC) - clock.now()
    if behind.total_seconds() > 0:
        clock.advance(behind)


@pytest.fixture(scope="session")
def provider(iam_server: Any) -> Any:
    mapping = iam_server.app.config["CANAILLE_OIDC"]["USERINFO_MAPPING"]
    mapping["EMAIL_VERIFIED"] = EMAIL_VERIFIED
    register_client(iam_server, "gatehouse")
    return iam_server


@pytest.fixture(scope="session")
def issuer(provider: Any) -> str:
    document = httpx.get(f"{provider.url}.well-known/openid-configuration", timeout=10).json()
    return str(document["issuer"])


def provider_settings(issuer: str, **extra: Any) -> dict[str, Any]:
    return {"issuer": issuer, "client_id": "gatehouse", "client_secret": CLIENT_SECRET, **extra}


@pytest.fixture(scope="module")
def social_settings(issuer: str) -> dict[str, Any]:
    return {
        "social_providers": {
            "iam": provider_settings(issuer, display_name="Company IdP"),
            "corp": provider_settings(issuer, allowed_domains=["corp.example"]),
        },
        "social_redirect_uris": [REDIRECT_URI],
    }


@pytest.fixture(scope="module")
async def manager(
    app_with: AppWith, clock: FrozenClock, social_settings: dict[str, Any]
) -> AsyncIterator[LifespanManager]:
    async with app_with(clock=clock, **social_settings) as running:
        yield running


@pytest.fixture(scope="module")
async def client(manager: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(manager) as http:
        yield http
