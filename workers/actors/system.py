"""A trivial actor that proves the queue path end to end (API → Redis → worker)."""

from __future__ import annotations

import asyncio

import dramatiq

from domain.core.request_context import current_request_id
from domain.core.settings import get_settings
from workers.resources import get_redis

PING_TTL_SECONDS = 300
MAX_HOLD_MS = 5_000


def ping_key(token: str, stage: str = "done") -> str:
    return f"{get_settings().redis_key_prefix}jobs:ping:{token}:{stage}"


@dramatiq.actor(actor_name="system.ping", max_retries=3, time_limit=15_000)
async def ping(token: str, hold_ms: int = 0) -> None:
    """Record that the job ran, with the request id it carried.

    ``hold_ms`` keeps the job busy for a while (bounded), which is how the
    graceful-shutdown test catches the worker in the middle of a job.
    """
    redis = get_redis()
    rid = current_request_id() or ""
    await redis.set(ping_key(token, "started"), rid, ex=PING_TTL_SECONDS)
    if hold_ms > 0:
        await asyncio.sleep(min(hold_ms, MAX_HOLD_MS) / 1000)
    await redis.set(ping_key(token), rid, ex=PING_TTL_SECONDS, nx=True)
