"""Delivering what is pending the way the worker's actor does (``deliveries.deliver``),
to a real receiver, each signature checked: for tests of the events a use case fires
without a worker process."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from domain.core.actor import Actor
from domain.webhooks.documents import WebhookDelivery
from domain.webhooks.signing import verify_signature
from tests.support.asgi import LifespanManager
from tests.webhooks.receiver import Receiver


async def delivered(
    manager: LifespanManager, receiver: Receiver, http: httpx.AsyncClient, secret: str
) -> list[dict[str, Any]]:
    """Deliver what is pending; the bodies the receiver got, each signature checked."""
    receiver.reset()
    pending = await WebhookDelivery.find({"status": "pending"}).to_list()
    for delivery in pending:
        await manager.state.services.webhooks.deliveries.deliver(delivery.id, http, Actor.system())
    bodies = []
    for request in receiver.wait_for(len(pending)):
        headers = request.headers
        assert verify_signature(
            secret,
            headers["gatehouse-signature"],
            headers["gatehouse-timestamp"],
            request.body,
            now=manager.state.clock.now().timestamp(),  # signed by the app's frozen clock
        )
        body: dict[str, Any] = orjson.loads(request.body)
        assert headers["gatehouse-event-type"] == body["type"]
        bodies.append(body)
    return bodies
