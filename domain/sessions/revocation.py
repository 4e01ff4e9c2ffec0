"""Redis records that refuse access tokens of ended sessions on the very next request.

An access token lives ``access_token_ttl_seconds`` at most; the record lives as long
(plus leeway), so the check is one Redis ``EXISTS`` and needs no cleanup. Every API
instance reads the same Redis, so a logout on one is enforced on all at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from redis.asyncio import Redis

from domain.core.settings import Settings


class SessionRevocations:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        self._prefix = f"{settings.redis_key_prefix}revoked:sid:"
        self._ttl = settings.access_token_ttl_seconds + settings.jwt_leeway_seconds + 5

    async def revoke(self, session_ids: Iterable[str]) -> None:
        ids = list(session_ids)
        if not ids:
            return
        pipe = self._redis.pipeline(transaction=False)
        for sid in ids:
            pipe.set(self.key(sid), b"1", ex=self._ttl)
        await pipe.execute()

    def key(self, session_id: str) -> str:
        """The record whose existence refuses the session's access tokens."""
        return self._prefix + session_id

    async def is_revoked(self, session_id: str) -> bool:
        return bool(await self._redis.exists(self.key(session_id)))
