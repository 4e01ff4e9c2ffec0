"""The dependency checks behind the health routes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from redis.asyncio import Redis

from domain.email.transport import EmailTransport
from domain.health.service import CheckFn

QueueProbe = Callable[[], Mapping[str, object]]


def core_checks(database: AsyncDatabase[dict[str, Any]], redis: Redis) -> dict[str, CheckFn]:
    async def mongo() -> Mapping[str, object]:
        await database.command("ping")
        return {"database": database.name}

    async def redis_ping() -> Mapping[str, object]:
        await redis.ping()
        return {}

    return {"mongo": mongo, "redis": redis_ping}


def all_checks(
    database: AsyncDatabase[dict[str, Any]],
    redis: Redis,
    email: EmailTransport,
    queue_probe: QueueProbe,
) -> dict[str, CheckFn]:
    async def email_check() -> Mapping[str, object]:
        return {"transport": email.name, **await email.check()}

    async def queue() -> Mapping[str, object]:
        # The broker's client is synchronous; keep it off the event loop.
        return await asyncio.to_thread(queue_probe)

    return {**core_checks(database, redis), "email": email_check, "queue": queue}
