"""The short-lived challenge that sits between a correct password and a second factor.

Only the SHA-256 of the challenge token is kept, in Redis with a TTL. Finishing the
login consumes it with GETDEL, so of two racing completions exactly one wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.asyncio import Redis

from domain.core.clock import Clock
from domain.core.secrets import looks_like_token, new_token, token_hash
from domain.core.settings import Settings


@dataclass(frozen=True, slots=True)
class Challenge:
    token: str
    expires_at: datetime


class MfaChallenges:
    def __init__(self, settings: Settings, redis: Redis, clock: Clock) -> None:
        self._redis = redis
        self._clock = clock
        self._ttl = settings.mfa_challenge_ttl_seconds
        self._prefix = f"{settings.redis_key_prefix}mfa:challenge:"

    async def issue(self, user_id: str) -> Challenge:
        raw = new_token()
        await self._redis.set(self._prefix + token_hash(raw), user_id.encode(), ex=self._ttl)
        return Challenge(token=raw, expires_at=self._clock.now() + timedelta(seconds=self._ttl))

    async def peek(self, raw: object) -> str | None:
        """The user the challenge belongs to, if it is live (not consumed)."""
        if not looks_like_token(raw):
            return None
        assert isinstance(raw, str)
        return _text(await self._redis.get(self._prefix + token_hash(raw)))

    async def consume(self, raw: str) -> str | None:
        return _text(await self._redis.getdel(self._prefix + token_hash(raw)))


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else value
