"""Publish and follow live events on Redis pub/sub channels.

Every API instance publishes to, and listens on, the same Redis, so a subscriber
connected to one instance hears about an event that happened on another. Pub/sub
is fire-and-forget: a live feed, not a record (the audit trail is the record).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError


class EventBus:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{prefix}events:"

    def audit_channel(self) -> str:
        return f"{self._prefix}audit"

    def user_channel(self, user_id: str) -> str:
        return f"{self._prefix}user:{user_id}"

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        try:
            await self._redis.publish(channel, orjson.dumps(payload, default=str))
        except RedisError as exc:
            logger.bind(channel=channel).warning("live event not published: {}", exc)

    def user_channels(self) -> str:
        """The pattern matching every user's channel (one listener per process)."""
        return f"{self._prefix}user:*"

    async def follow_pattern(self, pattern: str) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Yield (channel, payload) of every channel matching ``pattern``."""
        pubsub = self._redis.pubsub()
        await pubsub.psubscribe(pattern)
        try:
            async for message in pubsub.listen():
                if message.get("type") != "pmessage":
                    continue
                channel = message["channel"]
                name = channel.decode() if isinstance(channel, bytes) else str(channel)
                yield name, orjson.loads(message["data"])
        finally:
            await pubsub.punsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def follow(self, channels: Sequence[str]) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Yield (channel, payload) until the consumer stops iterating."""
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(*channels)
        try:
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                channel = message["channel"]
                name = channel.decode() if isinstance(channel, bytes) else str(channel)
                yield name, orjson.loads(message["data"])
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]
