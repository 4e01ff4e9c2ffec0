"""A Redis copy of OAuth client documents: introspection, userinfo and every token
request read the client, and a resource server introspects on each call it serves.

Every write to a client goes through ``OAuthClients``, which drops the copy (all
processes share it, so disabling a client takes effect everywhere at once); a TTL
bounds staleness should an invalidation ever be missed. Unknown client ids are not
cached (they would let anyone fill Redis). If Redis is down the cache steps aside.
"""

from __future__ import annotations

from loguru import logger
from pydantic import ValidationError as PydanticValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from domain.core.settings import Settings
from domain.oauth.documents import OAuthClient

CACHE_TTL_SECONDS = 300


class CachedClients:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        self._prefix = f"{settings.redis_key_prefix}oauth-client:"

    async def get(self, client_id: str) -> OAuthClient | None:
        key = self._prefix + client_id
        try:
            cached = await self._redis.get(key)
        except RedisError as exc:
            logger.warning("OAuth client cache unavailable: {}", exc)
            return await _read(client_id)
        if cached is not None:
            try:
                found: OAuthClient = OAuthClient.model_validate_json(cached)
                return found
            except PydanticValidationError:
                pass  # an older shape: read it again below
        client = await _read(client_id)
        if client is not None:
            try:
                await self._redis.set(
                    key, client.model_dump_json(by_alias=True), ex=CACHE_TTL_SECONDS
                )
            except RedisError as exc:
                logger.warning("OAuth client cache unavailable: {}", exc)
        return client

    async def invalidate(self, client_id: str) -> None:
        try:
            await self._redis.delete(self._prefix + client_id)
        except RedisError as exc:
            logger.warning("OAuth client cache invalidation failed: {}", exc)


async def _read(client_id: str) -> OAuthClient | None:
    return await OAuthClient.find_one({"_id": client_id})
