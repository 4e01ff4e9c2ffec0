"""A trivial actor that proves the queue path end to end (API → Redis → worker)."""

from __future__ import annotations

import dramatiq

from domain.core.request_context import current_request_id
from domain.core.settings import get_settings
from workers.resources import get_redis

PING_TTL_SECONDS = 300


def ping_key(token: str) -> str:
    return f"{get_settings().redis_key_prefix}jobs:ping:{token}"


@dramatiq.actor(actor_name="system.ping", max_retries=3, time_limit=10_000)
async def ping(token: str) -> None:
    """Record that the job ran, with the request id it carried."""
    await get_redis().set(
        ping_key(token), current_request_id() or "", ex=PING_TTL_SECONDS, nx=True
    )
