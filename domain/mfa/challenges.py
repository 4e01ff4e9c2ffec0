"""The short-lived challenge that sits between a correct password and a second factor.

Only the SHA-256 of the challenge token is kept, in Redis with a TTL. Finishing the
login consumes it with GETDEL, so of two racing completions exactly one wins. The
challenge remembers how the first step was proved (RFC 8176 ``amr`` values: ``pwd``, or
``otp`` for an emailed code, ``hwk`` for a passkey), so the session it opens records both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.asyncio import Redis

from domain.core.clock import Clock
from domain.core.secrets import looks_like_token, new_token, token_hash
from domain.core.settings import Settings

# What a challenge issued before the first step was kept proved: a password.
_FIRST_STEP = ("pwd",)


@dataclass(frozen=True, slots=True)
class Challenge:
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    """A consumed challenge: whose sign-in, and the methods of its first step."""

    user_id: str
    first_step: tuple[str, ...]


class MfaChallenges:
    def __init__(self, settings: Settings, redis: Redis, clock: Clock) -> None:
        self._redis = redis
        self._clock = clock
        self._ttl = settings.mfa_challenge_ttl_seconds
        self._prefix = f"{settings.redis_key_prefix}mfa:challenge:"

    async def issue(self, user_id: str, first_step: Sequence[str] = _FIRST_STEP) -> Challenge:
        raw = new_token()
        value = " ".join([user_id, *first_step])
        await self._redis.set(self._prefix + token_hash(raw), value.encode(), ex=self._ttl)
        return Challenge(token=raw, expires_at=self._clock.now() + timedelta(seconds=self._ttl))

    async def peek(self, raw: object) -> str | None:
        """The user the challenge belongs to, if it is live (not consumed)."""
        pending = await self.pending(raw)
        return None if pending is None else pending.user_id

    async def pending(self, raw: object) -> PendingSignIn | None:
        """The live challenge's sign-in, without using it up."""
        if not looks_like_token(raw):
            return None
        assert isinstance(raw, str)
        return _pending(await self._redis.get(self._prefix + token_hash(raw)))

    async def consume(self, raw: str) -> PendingSignIn | None:
        """Use the challenge up: None if it was not live (another request took it)."""
        return _pending(await self._redis.getdel(self._prefix + token_hash(raw)))


def _pending(value: bytes | str | None) -> PendingSignIn | None:
    if value is None:
        return None
    text = value.decode() if isinstance(value, bytes) else value
    user_id, *first_step = text.split(" ")
    return PendingSignIn(user_id, tuple(first_step) or _FIRST_STEP)
