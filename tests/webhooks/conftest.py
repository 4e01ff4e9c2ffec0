"""Webhook tests: real FerretDB, real Redis, a real HTTP receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from beanie import Document

from domain.audit.service import AuditService
from domain.core.claims import Claim
from domain.core.clock import Clock, FrozenClock
from domain.core.db import create_mongo_client, init_database
from domain.core.settings import Settings
from domain.documents import DOCUMENT_MODELS
from domain.webhooks.documents import WebhookDelivery, WebhookEndpoint, WebhookEvent
from domain.webhooks.events import Enqueue
from domain.webhooks.publishing import WebhookPublishing
from domain.webhooks.wiring import Webhooks, build_webhooks
from tests.webhooks.receiver import Receiver

WEBHOOK_MODELS: list[type[Document]] = [WebhookEndpoint, WebhookEvent, WebhookDelivery]


def all_models() -> list[type[Document]]:
    """The application's documents plus ours (until domain/documents.py lists them)."""
    return list(DOCUMENT_MODELS) + [m for m in WEBHOOK_MODELS if m not in DOCUMENT_MODELS]


def make_webhooks(
    settings: Settings,
    clock: Clock,
    *,
    enqueue: Enqueue | None = None,
    audit: AuditService | None = None,
) -> Webhooks:
    """The slice as the composition root builds it, with a queue port of the test's choosing."""
    return build_webhooks(
        settings, clock, audit or AuditService(clock), WebhookPublishing(clock, enqueue)
    )


@pytest.fixture(scope="module")
def webhook_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        webhook_allow_private_targets=True,
        webhook_retry_base_ms=100,
        webhook_retry_max_ms=1_000,
        webhook_timeout_seconds=5.0,
    )


@pytest.fixture(scope="module")
async def database(webhook_settings: Settings) -> AsyncIterator[None]:
    client = create_mongo_client(webhook_settings)
    await init_database(client[webhook_settings.mongodb_database], all_models())
    yield
    await client.close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
async def clean(database: None, receiver: Receiver) -> None:
    models: list[type[Document]] = [*WEBHOOK_MODELS, Claim]
    for model in models:
        await model.get_pymongo_collection().delete_many({})
    receiver.reset()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def service(webhook_settings: Settings, clock: FrozenClock, clean: None) -> Webhooks:
    return make_webhooks(webhook_settings, clock)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as client:
        yield client
