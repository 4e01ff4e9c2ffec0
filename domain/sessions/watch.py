"""Telling long-lived connections, at once, that their session has ended.

A WebSocket outlives the request that opened it: its session can be logged out,
its user demoted, disabled or deleted (each of which ends the user's sessions)
while it stays open. Every API instance hears about ended sessions on the event
bus; one pattern subscription per process (not one Redis connection per socket)
wakes the sockets of the ended session. Pub/sub can drop a message while Redis
restarts, so sockets also re-check the revocation record on an interval.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from contextlib import suppress

from loguru import logger
from redis.exceptions import RedisError

from domain.events.bus import EventBus

_RETRY_SECONDS = 1.0


class SessionEnded:
    """Resolved with the reason once the watched session ends (or any of them: an
    impersonation ends with the administrator's session too)."""

    def __init__(self, *session_ids: str) -> None:
        self.session_ids = session_ids
        self._done: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def end(self, reason: str) -> None:
        if not self._done.done():
            self._done.set_result(reason)

    async def wait(self, seconds: float) -> str | None:
        """The reason, or None when ``seconds`` pass first."""
        with suppress(TimeoutError):
            return await asyncio.wait_for(asyncio.shield(self._done), seconds)
        return None


class SessionWatch:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._watchers: defaultdict[str, set[SessionEnded]] = defaultdict(set)
        self._listener: asyncio.Task[None] | None = None

    def watch(self, *session_ids: str) -> SessionEnded:
        watcher = SessionEnded(*session_ids)
        for session_id in session_ids:
            self._watchers[session_id].add(watcher)
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen())
        return watcher

    def unwatch(self, watcher: SessionEnded) -> None:
        for session_id in watcher.session_ids:
            watchers = self._watchers.get(session_id)
            if watchers is None:
                continue
            watchers.discard(watcher)
            if not watchers:
                del self._watchers[session_id]

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener

    async def _listen(self) -> None:
        while self._watchers:
            try:
                async for _, payload in self._bus.follow_pattern(self._bus.user_channels()):
                    if payload.get("type") == "session_revoked":
                        self._ended(str(payload.get("session_id", "")), payload.get("reason"))
                    if not self._watchers:
                        return
            except (RedisError, OSError) as error:
                # The interval re-check covers what is missed while Redis is away.
                logger.warning("session watch lost its subscription: {}", error)
                await asyncio.sleep(_RETRY_SECONDS)

    def _ended(self, session_id: str, reason: object) -> None:
        for watcher in list(self._watchers.get(session_id, ())):
            watcher.end(str(reason or "revoked"))
