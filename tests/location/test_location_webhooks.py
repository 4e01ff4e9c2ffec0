"""The location signals reach webhook receivers: a real HTTP receiver on 127.0.0.1, each
body signed with the endpoint's secret.

No worker process runs in this module: each delivery is made here the way the worker's
actor makes it (``deliveries.deliver``), on the app's injected clock, so nothing else
races for it (tests/social/test_social_webhooks.py does the same).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from domain.core.actor import Actor
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.webhooks.documents import WebhookDelivery
from domain.webhooks.signing import verify_signature
from tests.api.identity_ops import PASSWORD, unique_email
from tests.passwordless.support import LOGIN, answer
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.webhooks.receiver import Receiver

CLOCK_START = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)
FRANCE, USA = "90.0.0.1", "8.8.8.8"
SIGNALS = ["security.impossible_travel", "security.new_country_sign_in"]


@pytest.fixture(scope="module")
async def manager(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LifespanManager]:
    settings = {"trusted_proxies": ["127.0.0.1"], "webhook_allow_private_targets": True}
    async with app_with(clock=clock, **settings) as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


async def sign_in(manager: LifespanManager, email: str, ip: str) -> None:
    async with asgi_client(manager) as client:
        response = await client.post(
            "/graphql",
            json={"query": LOGIN, "variables": {"email": email, "password": PASSWORD}},
            headers={"X-Forwarded-For": ip},
        )
    assert answer(response.json())["__typename"] == "AuthPayload"


async def test_the_signals_reach_webhook_receivers(
    manager: LifespanManager, clock: FrozenClock, receiver: Receiver
) -> None:
    webhooks = manager.state.services.webhooks
    _, secret = await webhooks.endpoints.create(Actor.system(), receiver.url(), SIGNALS)
    email = unique_email("hooked")
    user = await staff_account(manager.state, email, PASSWORD, Role.STUDENT)
    await sign_in(manager, email, FRANCE)
    clock.advance(timedelta(minutes=10))
    await sign_in(manager, email, USA)  # ~6,000 km in ten minutes, and a new country

    pending = await WebhookDelivery.find({"status": "pending"}).to_list()
    assert len(pending) == 2
    async with httpx.AsyncClient(trust_env=False) as http:
        for delivery in pending:
            await webhooks.deliveries.deliver(delivery.id, http, Actor.system())
    bodies: list[dict[str, Any]] = []
    for request in receiver.wait_for(2):
        assert verify_signature(
            secret,
            request.headers["gatehouse-signature"],
            request.headers["gatehouse-timestamp"],
            request.body,
            now=clock.now().timestamp(),  # signed by the app's frozen clock
        )
        bodies.append(orjson.loads(request.body))
    bodies.sort(key=lambda body: str(body["type"]))
    assert [body["type"] for body in bodies] == SIGNALS
    travel, new_country = (body["data"] for body in bodies)
    assert new_country == {"user_id": str(user.id), "country": "US"}
    assert travel["user_id"] == str(user.id)
    assert travel["previous_country"] == "FR"
    assert travel["country"] == "US"
    assert travel["minutes"] == 10
    assert 5000 < travel["distance_km"] < 8000
