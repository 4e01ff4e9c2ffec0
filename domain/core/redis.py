"""The Redis connection pool shared by cache, limits, revocation and the health check."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.connection import BlockingConnectionPool

# The asyncio Retry: the sync one's call_with_retry returns the command's coroutine
# unawaited, so a stale pooled connection failed the request instead of being retried.
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from domain.core.settings import Settings


def create_redis(settings: Settings) -> Redis:
    pool = BlockingConnectionPool.from_url(
        settings.redis_url.get_secret_value(),
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_connect_timeout_seconds,
        socket_timeout=settings.redis_socket_timeout_seconds,
        socket_connect_timeout=settings.redis_connect_timeout_seconds,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=1),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        decode_responses=False,
    )
    return Redis(connection_pool=pool)
