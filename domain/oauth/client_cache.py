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
PARSED_KEPT = 256


class CachedClients:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        self._prefix = f"{settings.redis_key_prefix}oauth-client:"
        # Parsed copies by their exact Redis bytes: Redis stays the truth (a changed or
        # dropped client has other bytes or none), the validation is done once.
        self._parsed: dict[bytes, OAuthClient] = {}

    async def get(self, client_id: str) -> OAuthClient | None:
        key = self._prefix + client_id
        try:
            cached = await self._redis.get(key)
        except RedisError as exc:
            logger.warning("OAuth client cache unavailable: {}", exc)
            return await _read(client_id)
        if cached is not None:
            found = self._parse(cached.encode() if isinstance(cached, str) else cached)
            if found is not None:
                return found
        client = await _read(client_id)
        if client is not None:
            try:
                await self._redis.set(
                    key, client.model_dump_json(by_alias=True), ex=CACHE_TTL_SECONDS
                )
            except RedisError as exc:
                logger.warning("OAuth client cache unavailable: {}", exc)
        return client

    async def get_many(
        self, client_ids: list[str], *, exists: list[str]
    ) -> tuple[dict[str, OAuthClient | None], bool]:
        """Several clients, and whether any of the keys ``exists`` names exists, in one
        round trip (introspection asks both on every call). Clients Redis does not
        hold are read from the database. Raises RedisError: the caller decides."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.mget([self._prefix + client_id for client_id in client_ids])
        if exists:
            pipe.exists(*exists)
        replies = await pipe.execute()
        found: dict[str, OAuthClient | None] = {}
        for client_id, cached in zip(client_ids, replies[0], strict=True):
            client = None
            if cached is not None:
                client = self._parse(cached.encode() if isinstance(cached, str) else cached)
            found[client_id] = client if client is not None else await self.get(client_id)
        return found, bool(exists) and bool(replies[1])

    def _parse(self, raw: bytes) -> OAuthClient | None:
        """The client these bytes hold (a copy: callers may change theirs), or None for
        an older shape, read again from the database."""
        known = self._parsed.get(raw)
        if known is None:
            try:
                known = OAuthClient.model_validate_json(raw)
            except PydanticValidationError:
                return None
            if len(self._parsed) >= PARSED_KEPT:
                self._parsed.pop(next(iter(self._parsed)))
            self._parsed[raw] = known
        copy: OAuthClient = known.model_copy()
        return copy

    async def invalidate(self, client_id: str) -> None:
        try:
            await self._redis.delete(self._prefix + client_id)
        except RedisError as exc:
            logger.warning("OAuth client cache invalidation failed: {}", exc)


async def _read(client_id: str) -> OAuthClient | None:
    return await OAuthClient.find_one({"_id": client_id})
