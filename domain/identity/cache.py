"""A Redis cache of user documents, so an authenticated read costs no database trip.

Every write to a user goes through ``CachedUsers.update``, which drops the cached
copy; a TTL bounds staleness should an invalidation ever be missed. If Redis is
down the cache steps aside and reads go to the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from loguru import logger
from pydantic import ValidationError as PydanticValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from domain.core.settings import Settings
from domain.identity import repository
from domain.identity.documents import User, UserStatus

CACHE_TTL_SECONDS = 300


class CachedUsers:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        self._prefix = f"{settings.redis_key_prefix}user:"
        self.hits = 0
        self.misses = 0

    def key(self, user_id: PydanticObjectId | str) -> str:
        """Where a user's account is kept (the request admission reads it too)."""
        return f"{self._prefix}{user_id}"

    async def get(
        self, user_id: PydanticObjectId | str, *, cached: bytes | str | None = None
    ) -> User | None:
        """``cached``: the copy a request's admission already read for this user in its
        round trip (domain/sessions/admission.py), so it is not asked for again."""
        key = self.key(user_id)
        if cached is None:
            try:
                cached = await self._redis.get(key)
            except RedisError as exc:
                logger.warning("user cache unavailable: {}", exc)
                return await repository.get(user_id)
        if cached is not None:
            try:
                user: User | None = User.model_validate_json(cached)
            except PydanticValidationError:
                user = None
            if user is not None:
                self.hits += 1
                return user
        self.misses += 1
        user = await repository.get(user_id)
        if user is not None:
            try:
                # No password material in Redis: the cached copy is for reading profiles.
                public = user.model_copy(update={"password_hash": "", "password_history": []})
                await self._redis.set(key, public.model_dump_json(), ex=CACHE_TTL_SECONDS)
            except RedisError as exc:
                logger.warning("user cache unavailable: {}", exc)
        return user

    async def get_active(self, user_id: PydanticObjectId | str) -> User | None:
        """The account if it is active: only then may its sessions go on (refresh)."""
        user = await self.get(user_id)
        return user if user is not None and user.status is UserStatus.ACTIVE else None

    async def invalidate(self, user_id: PydanticObjectId | str | None) -> None:
        if user_id is None:
            return
        try:
            await self._redis.delete(self.key(user_id))
        except RedisError as exc:
            logger.warning("user cache invalidation failed: {}", exc)

    async def update(self, user: User, now: datetime, **changes: Any) -> None:
        await repository.update(user, now, **changes)
        await self.invalidate(user.id)
