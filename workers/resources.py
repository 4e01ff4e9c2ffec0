"""Clients the actors share inside one worker process, created on first use."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from domain.core.redis import create_redis
from domain.core.settings import get_settings

_redis_by_loop: dict[int, Redis] = {}


def get_redis() -> Redis:
    """The async Redis client of the running event loop (actors run on one loop thread)."""
    loop_id = id(asyncio.get_running_loop())
    client = _redis_by_loop.get(loop_id)
    if client is None:
        client = create_redis(get_settings())
        _redis_by_loop[loop_id] = client
    return client
