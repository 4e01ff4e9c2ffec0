"""Consecutive failed sign-ins per address, counted atomically in Redis.

The lock itself (the user's ``locked_at``, the email, the unlock link) is
``service.py``; this module is only the count, the throttle and the lock marker.

``INCR`` hands every concurrent failure its own number, so exactly one attempt sees
the threshold and locks the account (one lock, one email). Before the threshold,
each failure past ``lockout_throttle_after`` makes the next attempt wait longer.

Everything is keyed by the address's fingerprint, for accounts and non-accounts
alike. Reaching the threshold also leaves a lock marker that outlives the 24 h
failure counter, so an address without an account stays "locked" as a real account
stays locked (until unlocked), and a locked address answers the lock before any
throttle: the answers never tell the two apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError

from domain.core.clock import Clock
from domain.core.settings import Settings

# How long the lock marker lasts without attempts; every attempt on a locked address
# renews it. A real account stays locked past it (its user document says so), so it is
# long: only an address nobody tried for a year can be told apart by its lock.
LOCK_MARKER_TTL_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Gate:
    """What an attempt on an address meets before anything else."""

    locked: bool
    wait_seconds: int


@dataclass(frozen=True, slots=True)
class Failure:
    count: int
    just_locked: bool
    locked: bool


class AttemptCounter:
    def __init__(self, settings: Settings, redis: Redis, clock: Clock) -> None:
        self._settings = settings
        self._redis = redis
        self._clock = clock
        self._prefix = f"{settings.redis_key_prefix}lockout:"

    def _now_ms(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    async def gate(self, user_id: str) -> Gate:
        """Whether the address is locked, and how long it must wait (one round trip)."""
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.exists(f"{self._prefix}locked:{user_id}")
            pipe.get(f"{self._prefix}wait:{user_id}")
            locked, raw = await pipe.execute()
        except RedisError as exc:
            logger.warning("lockout gate unavailable: {}", exc)
            return Gate(locked=False, wait_seconds=0)
        wait = 0
        if raw is not None:
            remaining_ms = int(raw) - self._now_ms()
            wait = math.ceil(remaining_ms / 1000) if remaining_ms > 0 else 0
        return Gate(locked=bool(locked), wait_seconds=wait)

    async def mark_locked(self, user_id: str) -> None:
        """Set (or renew) the lock marker of an address."""
        try:
            await self._redis.set(
                f"{self._prefix}locked:{user_id}", b"1", ex=LOCK_MARKER_TTL_SECONDS
            )
        except RedisError as exc:
            logger.warning("lockout marker unavailable: {}", exc)

    async def wait_seconds(self, user_id: str) -> int:
        """How long this account must wait before its next attempt (0: go ahead)."""
        try:
            raw = await self._redis.get(f"{self._prefix}wait:{user_id}")
        except RedisError as exc:
            logger.warning("lockout throttle unavailable: {}", exc)
            return 0
        if raw is None:
            return 0
        remaining_ms = int(raw) - self._now_ms()
        return math.ceil(remaining_ms / 1000) if remaining_ms > 0 else 0

    async def record_failure(self, user_id: str) -> Failure:
        s = self._settings
        counter = f"{self._prefix}fail:{user_id}"
        try:
            pipe = self._redis.pipeline(transaction=True)
            pipe.incr(counter)
            pipe.expire(counter, s.lockout_counter_ttl_seconds)
            count = int((await pipe.execute())[0])
            if count >= s.lockout_threshold:
                await self._redis.set(
                    f"{self._prefix}locked:{user_id}", b"1", ex=LOCK_MARKER_TTL_SECONDS
                )
            if count >= s.lockout_throttle_after and s.lockout_throttle_base_seconds > 0:
                delay = min(
                    s.lockout_throttle_base_seconds * 2 ** (count - s.lockout_throttle_after),
                    s.lockout_throttle_max_seconds,
                )
                until = self._now_ms() + int(delay * 1000)
                await self._redis.set(
                    f"{self._prefix}wait:{user_id}", until, px=max(int(delay * 1000), 1)
                )
        except RedisError as exc:
            logger.warning("lockout counter unavailable: {}", exc)
            return Failure(count=0, just_locked=False, locked=False)
        return Failure(
            count=count,
            just_locked=count == s.lockout_threshold,
            locked=count >= s.lockout_threshold,
        )

    async def failures(self, user_id: str) -> int:
        """Consecutive failures counted now (0 when none, or when Redis cannot say)."""
        try:
            raw = await self._redis.get(f"{self._prefix}fail:{user_id}")
        except RedisError as exc:
            logger.warning("lockout counter unavailable: {}", exc)
            return 0
        return int(raw) if raw is not None else 0

    async def reset(self, user_id: str) -> None:
        try:
            await self._redis.delete(
                f"{self._prefix}fail:{user_id}",
                f"{self._prefix}wait:{user_id}",
                f"{self._prefix}locked:{user_id}",
            )
        except RedisError as exc:
            logger.warning("lockout reset unavailable: {}", exc)
