"""Redis records that refuse access tokens of ended sessions on the very next request.

An access token lives ``access_token_ttl_seconds`` at most; the record lives as long
(plus leeway), so the check is one Redis ``EXISTS`` and needs no cleanup. Every API
instance reads the same Redis, so a logout on one is enforced on all at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError

from domain.core.settings import Settings
from domain.events.bus import EventBus
from domain.sessions.rotation import family_copy_key


class SessionRevocations:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings
        self._prefix = f"{settings.redis_key_prefix}revoked:sid:"
        self._ttl = settings.access_token_ttl_seconds + settings.jwt_leeway_seconds + 5

    async def revoke(self, session_ids: Iterable[str]) -> None:
        ids = list(session_ids)
        if not ids:
            return
        pipe = self._redis.pipeline(transaction=False)
        for sid in ids:
            pipe.set(self.key(sid), b"1", ex=self._ttl)
            # The refresh family's copy (family_cache.py): it would be refused by the
            # record above for as long as it could live anyway.
            pipe.delete(family_copy_key(self._settings, sid))
        await pipe.execute()

    def key(self, session_id: str) -> str:
        """The record whose existence refuses the session's access tokens."""
        return self._prefix + session_id

    async def is_revoked(self, session_id: str) -> bool:
        return bool(await self._redis.exists(self.key(session_id)))


class EndedSessions:
    """What follows the database's record that sessions ended: their access tokens are
    refused at once, and their listeners (sockets, ``sessionRevoked``) are told."""

    def __init__(self, revocations: SessionRevocations, bus: EventBus | None) -> None:
        self._revocations = revocations
        self._bus = bus

    async def announce(self, user_id: str, session_ids: list[str], reason: str) -> None:
        """The database already says the sessions ended; without Redis the access tokens
        are refused anyway (authentication fails closed when it cannot check)."""
        try:
            await self._revocations.revoke(session_ids)
        except RedisError as exc:
            logger.bind(user_id=user_id).warning("revocation record not written: {}", exc)
        if self._bus is None:
            return
        for session_id in session_ids:
            await self._bus.publish(
                self._bus.user_channel(user_id),
                {"type": "session_revoked", "session_id": session_id, "reason": reason},
            )
