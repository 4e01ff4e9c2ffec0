"""Email actors: deliver one queued message; sweep messages that never left the outbox."""

from __future__ import annotations

from datetime import timedelta

import dramatiq
from dramatiq.middleware import CurrentMessage
from loguru import logger

from domain.core.clock import SystemClock
from domain.core.settings import get_settings
from domain.ratelimit.limiter import Rule, SlidingWindowLimiter
from workers.resources import ensure_database, get_redis, get_services

QUEUE = "email"


async def _provider_allows() -> int:
    """0 when we may send now, else milliseconds to wait (our rate toward the provider)."""
    settings = get_settings()
    rule = Rule.parse("email-provider", settings.email_send_rate)
    limiter = SlidingWindowLimiter(get_redis(), settings.redis_key_prefix)
    decision = await limiter.hit([(rule, "all")], int(SystemClock().now().timestamp() * 1000))
    return 0 if decision.allowed else decision.retry_after_seconds * 1000


@dramatiq.actor(actor_name="email.send", queue_name=QUEUE, max_retries=0, time_limit=120_000)
async def send_email(message_id: str) -> None:
    await ensure_database()
    wait_ms = await _provider_allows()
    if wait_ms:
        send_email.send_with_options(args=(message_id,), delay=wait_ms)
        return
    result = await get_services().email_delivery.deliver(message_id)
    if result.status == "retry":
        # Our own backoff, so the outbox record and the queue agree on the attempt count.
        send_email.send_with_options(args=(message_id,), delay=result.retry_in_ms)
    message = CurrentMessage.get_current_message()
    if message is not None and result.status == "skipped":
        logger.bind(email_id=message_id).debug("email already handled")


@dramatiq.actor(actor_name="email.sweep", queue_name=QUEUE, max_retries=1, time_limit=300_000)
async def sweep_outbox() -> None:
    """Re-enqueue messages that sat in the outbox too long (Redis or a worker was down)."""
    await ensure_database()
    settings = get_settings()
    outbox = get_services().outbox
    cutoff = SystemClock().now() - timedelta(seconds=settings.email_stuck_after_seconds)
    stuck = await outbox.stuck(cutoff)
    for message in stuck:
        await outbox.enqueue(str(message.id))
    if stuck:
        logger.bind(count=len(stuck)).info("outbox sweep re-enqueued emails")
