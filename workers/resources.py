"""Clients the actors share inside one worker process, created on first use."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from domain.core.db import create_mongo_client, init_database
from domain.core.redis import create_redis
from domain.core.settings import get_settings

_redis_by_loop: dict[int, Redis] = {}
_database_ready: dict[int, asyncio.Lock] = {}
_initialised: set[int] = set()


def get_redis() -> Redis:
    """The async Redis client of the running event loop (actors run on one loop thread)."""
    loop_id = id(asyncio.get_running_loop())
    client = _redis_by_loop.get(loop_id)
    if client is None:
        client = create_redis(get_settings())
        _redis_by_loop[loop_id] = client
    return client


async def ensure_database() -> None:
    """Initialise Beanie once per event loop before an actor touches documents."""
    from domain.documents import DOCUMENT_MODELS

    loop_id = id(asyncio.get_running_loop())
    if loop_id in _initialised:
        return
    lock = _database_ready.setdefault(loop_id, asyncio.Lock())
    async with lock:
        if loop_id in _initialised:
            return
        settings = get_settings()
        client = create_mongo_client(settings)
        await init_database(
            client[settings.mongodb_database], DOCUMENT_MODELS, settings.database_flavour
        )
        _initialised.add(loop_id)
