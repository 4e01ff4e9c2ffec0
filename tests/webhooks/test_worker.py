"""End to end: the real Redis broker, an in-process Dramatiq worker, a real receiver.

The worker's actors read their settings from the environment (``get_settings()``),
so this module points the environment at the test services. It is synchronous:
the worker runs its own event loop, and the setup runs in a loop of its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
import pymongo
import pytest
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.brokers.redis import RedisBroker

import domain.documents
import workers.resources
from domain.core.actor import Actor
from domain.core.clock import FrozenClock, SystemClock
from domain.core.db import create_mongo_client, init_database
from domain.core.settings import Settings, get_settings
from domain.webhooks.documents import WebhookDelivery
from domain.webhooks.signing import verify_signature
from tests.conftest import ServiceUrls
from tests.webhooks.conftest import all_models, make_webhooks
from tests.webhooks.receiver import Receiver
from workers.actors.webhooks import deliver_webhook, enqueue_delivery, retry_stale_webhooks
from workers.broker import setup_broker


@pytest.fixture
def worker_env(
    monkeypatch: pytest.MonkeyPatch, service_urls: ServiceUrls, database_name: str
) -> Iterator[Settings]:
    for name, value in {
        "GATEHOUSE_ENVIRONMENT": "test",
        "GATEHOUSE_MONGODB_URL": service_urls.mongodb_url,
        "GATEHOUSE_MONGODB_DATABASE": database_name,
        "GATEHOUSE_REDIS_URL": service_urls.redis_url,
        "GATEHOUSE_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "GATEHOUSE_WEBHOOK_RETRY_BASE_MS": "50",
        "GATEHOUSE_WEBHOOK_RETRY_MAX_MS": "200",
        "GATEHOUSE_WEBHOOK_STALE_AFTER_SECONDS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    # Until domain/documents.py lists the webhook documents, the worker must know them.
    monkeypatch.setattr(domain.documents, "DOCUMENT_MODELS", all_models())
    # A fresh worker loop must initialise Beanie even if an old loop's id is reused.
    monkeypatch.setattr(workers.resources, "_initialised", set())
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def broker(worker_env: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisBroker]:
    broker = setup_broker(worker_env)
    for actor in (deliver_webhook, retry_stale_webhooks):
        monkeypatch.setattr(actor, "broker", broker)
        broker.declare_actor(actor)
    broker.flush_all()
    yield broker
    broker.flush_all()
    broker.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def run_setup(settings: Settings, step: Callable[[], Any]) -> Any:
    async def main() -> Any:
        client = create_mongo_client(settings)
        try:
            await init_database(client[settings.mongodb_database], all_models())
            return await step()
        finally:
            await client.close()

    return asyncio.run(main())


def run_worker_until(broker: RedisBroker, done: Callable[[], bool], timeout: float = 30) -> None:
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, "the deliveries did not finish in time"
            time.sleep(0.05)
    finally:
        _close_worker_database()
        worker.stop()


def _close_worker_database() -> None:
    """Close the Mongo client the actors opened on the worker's loop, before it stops."""
    loop_thread = get_event_loop_thread()
    if loop_thread is None:
        return

    async def close() -> None:
        await WebhookDelivery.get_pymongo_collection().database.client.close()

    loop_thread.run_coroutine(close())


def delivery_doc(settings: Settings, delivery_id: str) -> dict[str, Any]:
    client: pymongo.MongoClient[dict[str, Any]]
    with pymongo.MongoClient(settings.mongodb_url.get_secret_value()) as client:
        found = client[settings.mongodb_database]["webhook_deliveries"].find_one(
            {"_id": delivery_id}
        )
    assert found is not None
    return found


def test_the_worker_retries_until_delivered(
    worker_env: Settings, broker: RedisBroker, receiver: Receiver
) -> None:
    service = make_webhooks(worker_env, SystemClock(), enqueue=enqueue_delivery)

    async def emit() -> tuple[str, list[str]]:
        _, secret = await service.endpoints.create(
            Actor.system(), receiver.url(), ["user.registered"]
        )
        return secret, await service.publishing.emit("user.registered", {"user_id": "u1"})

    receiver.respond(500, 500, 200)
    secret, [delivery_id] = run_setup(worker_env, emit)
    run_worker_until(broker, lambda: delivery_doc(worker_env, delivery_id)["status"] == "succeeded")
    requests = receiver.requests
    assert len(requests) == 3
    assert len({r.headers["gatehouse-event-id"] for r in requests}) == 1
    for request in requests:
        assert verify_signature(
            secret,
            request.headers["gatehouse-signature"],
            request.headers["gatehouse-timestamp"],
            request.body,
        )
    record = delivery_doc(worker_env, delivery_id)
    assert record["attempts"] == 3
    assert record["last_status_code"] == 200


def test_the_stale_sweep_enqueues_lost_deliveries(
    worker_env: Settings, broker: RedisBroker, receiver: Receiver
) -> None:
    """Recorded while the queue was down (nothing enqueued): the sweep sends it."""
    past = FrozenClock(datetime.now(UTC) - timedelta(seconds=30))
    offline = make_webhooks(worker_env, past)  # no enqueue port: as if Redis were down

    async def emit() -> list[str]:
        await offline.endpoints.create(Actor.system(), receiver.url(), ["user.locked"])
        return await offline.publishing.emit("user.locked", {"user_id": "u1"})

    [delivery_id] = run_setup(worker_env, emit)
    retry_stale_webhooks.send()
    run_worker_until(broker, lambda: delivery_doc(worker_env, delivery_id)["status"] == "succeeded")
    assert len(receiver.requests) == 1


def audit_events(settings: Settings, event: str) -> list[dict[str, Any]]:
    client: pymongo.MongoClient[dict[str, Any]]
    with pymongo.MongoClient(settings.mongodb_url.get_secret_value()) as client:
        return list(client[settings.mongodb_database]["audit_events"].find({"event": event}))


def test_the_worker_audits_a_delivery_that_fails_for_good(
    worker_env: Settings,
    broker: RedisBroker,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The worker builds the slice as the API does (build_audit_and_webhooks): a
    delivery it gives up on is in the audit trail, by the system, on the endpoint."""
    monkeypatch.setenv("GATEHOUSE_WEBHOOK_MAX_ATTEMPTS", "2")
    get_settings.cache_clear()
    settings = get_settings()
    service = make_webhooks(settings, SystemClock(), enqueue=enqueue_delivery)

    async def emit() -> tuple[str, list[str]]:
        # An event no other test here subscribes to: their endpoints are still stored.
        endpoint, _ = await service.endpoints.create(
            Actor.system(), receiver.url(), ["user.verified"]
        )
        return endpoint.id, await service.publishing.emit("user.verified", {"user_id": "u1"})

    receiver.respond(500, 503)
    endpoint_id, [delivery_id] = run_setup(settings, emit)

    def failure_audited() -> list[dict[str, Any]]:
        return [
            e
            for e in audit_events(settings, "webhook.delivery_failed")
            if e["details"]["delivery_id"] == delivery_id
        ]

    run_worker_until(broker, lambda: bool(failure_audited()), timeout=15)
    assert delivery_doc(settings, delivery_id)["status"] == "failed"
    [failed] = failure_audited()
    assert (failed["target_id"], failed["target_type"]) == (endpoint_id, "webhook_endpoint")
    assert (failed["actor_type"], failed["result"]) == ("system", "failure")
    assert failed["details"]["attempts"] == 2
    assert failed["details"]["http_status"] == 503
    assert failed["details"]["event_type"] == "user.verified"
