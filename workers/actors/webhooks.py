"""Webhook actors: deliver one delivery; re-enqueue lost ones; apply retention.

Retries follow the service's own backoff schedule (the delivery record and the
queue agree on the attempt count), so the broker's Retries middleware is off for
``webhooks.deliver`` (``max_retries=0``); an unexpected crash leaves the delivery
pending and ``webhooks.retry_stale`` picks it up.
"""

from __future__ import annotations

from datetime import timedelta

import dramatiq
import httpx
from loguru import logger

from domain.core.actor import Actor
from domain.core.clock import SystemClock
from domain.core.request_context import current_request_id
from domain.core.settings import get_settings
from domain.webhooks.events import USER_AGENT
from domain.webhooks.wiring import Webhooks
from workers.resources import ensure_database, get_services

QUEUE = "webhooks"


def enqueue_delivery(delivery_id: str) -> None:
    """The ``enqueue`` port of webhook publishing (API and workers alike)."""
    deliver_webhook.send(delivery_id)


def worker_webhooks() -> Webhooks:
    """The slice as the API builds it (the same composition root): audited the same way,
    to the same live feed."""
    return get_services().webhooks


def http_client(timeout_seconds: float) -> httpx.AsyncClient:
    """No redirects, no proxies from the environment, no pooled connections (each
    delivery dials the address it has just checked)."""
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(timeout_seconds),
        limits=httpx.Limits(max_keepalive_connections=0),
        headers={"User-Agent": USER_AGENT},
    )


@dramatiq.actor(actor_name="webhooks.deliver", queue_name=QUEUE, max_retries=0, time_limit=120_000)
async def deliver_webhook(delivery_id: str) -> None:
    await ensure_database()
    deliveries = worker_webhooks().deliveries
    async with http_client(get_settings().webhook_timeout_seconds) as client:
        # The system acts; the id of the request that queued the job traces it back.
        outcome = await deliveries.deliver(
            delivery_id, client, Actor.system(request_id=current_request_id())
        )
    if outcome.should_retry:
        deliver_webhook.send_with_options(args=(delivery_id,), delay=outcome.retry_in_ms)


@dramatiq.actor(
    actor_name="webhooks.retry_stale", queue_name=QUEUE, max_retries=1, time_limit=300_000
)
async def retry_stale_webhooks() -> None:
    """Re-enqueue pending deliveries long overdue (a Redis or worker outage lost their job)."""
    await ensure_database()
    stale = await worker_webhooks().deliveries.requeue_stale()
    if stale:
        logger.bind(count=len(stale)).info("stale webhook deliveries re-enqueued")


@dramatiq.actor(actor_name="webhooks.purge", queue_name=QUEUE, max_retries=1, time_limit=600_000)
async def purge_webhook_deliveries() -> None:
    await ensure_database()
    settings = get_settings()
    cutoff = SystemClock().now() - timedelta(days=settings.webhook_retention_days)
    removed = await worker_webhooks().deliveries.purge_older_than(cutoff)
    logger.bind(removed=removed, retention_days=settings.webhook_retention_days).info(
        "webhook retention applied"
    )
