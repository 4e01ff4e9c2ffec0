"""Redis records that refuse access tokens of ended sessions on the very next request.

An access token lives ``access_token_ttl_seconds`` at most; the record lives as long
(plus leeway), so the check is one Redis ``EXISTS`` and needs no cleanup. Every API
instance reads the same Redis, so a logout on one is enforced on all at once.
"""

from __future__ import annotations

import asyncio
import time
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

    @property
    def record_seconds(self) -> int:
        """How long a record lives: past it, the session's access tokens have expired."""
        return self._ttl

    def key(self, session_id: str) -> str:
        """The record whose existence refuses the session's access tokens."""
        return self._prefix + session_id

    async def is_revoked(self, session_id: str) -> bool:
        return bool(await self._redis.exists(self.key(session_id)))


class EndedSessions:
    """What follows the database's record that sessions ended: their access tokens are
    refused at once, and their listeners (sockets, ``sessionRevoked``) are told."""

    # How often a record Redis refused is tried again.
    RETRY_SECONDS = 0.5

    def __init__(self, revocations: SessionRevocations, bus: EventBus | None) -> None:
        self._revocations = revocations
        self._bus = bus
        self._retrying: set[asyncio.Task[None]] = set()

    async def announce(self, user_id: str, session_ids: list[str], reason: str) -> None:
        """The database already says the sessions ended. Without Redis the access tokens
        are refused anyway (authentication fails closed when it cannot check); when Redis
        answers again, the record must be there, or the tokens (and the refresh family's
        copy) would work again until they expire: a record Redis refused is written by a
        retry as soon as it answers (fault suite: a logout during a Redis restart)."""
        try:
            await self._revocations.revoke(session_ids)
        except RedisError as exc:
            logger.bind(user_id=user_id).warning(
                "revocation record not written yet, retrying: {}", exc
            )
            self._retry_later(user_id, session_ids)
        if self._bus is None:
            return
        for session_id in session_ids:
            await self._bus.publish(
                self._bus.user_channel(user_id),
                {"type": "session_revoked", "session_id": session_id, "reason": reason},
            )

    def _retry_later(self, user_id: str, session_ids: list[str]) -> None:
        task = asyncio.create_task(self._retry(user_id, session_ids))
        self._retrying.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._retrying.discard)

    async def _retry(self, user_id: str, session_ids: list[str]) -> None:
        """Until the record is written, or no token it would refuse can be alive. A process
        that stops first leaves the tokens of those sessions working for the rest of their
        life (at most ``access_token_ttl_seconds``: SECURITY.md)."""
        give_up = time.monotonic() + self._revocations.record_seconds
        while time.monotonic() < give_up:
            await asyncio.sleep(self.RETRY_SECONDS)
            try:
                await self._revocations.revoke(session_ids)
            except RedisError:
                continue
            logger.bind(user_id=user_id).info("revocation record written after a retry")
            return
        logger.bind(user_id=user_id).error("revocation record never written")
