"""WebAuthn challenges: single use, short-lived, bound to whom they were issued for.

Each lives in Redis (under the SHA-256 of its key when the key is a client's token) with
the configured TTL, and is taken with GETDEL, so of two answers to one challenge exactly
one is checked. The expiry is also written in the record and compared with the injected
clock: Redis forgets it on its own clock, the service decides on ours.

- A registration challenge is keyed by the account: one ceremony in flight per account, a
  new one replacing it; an answer is checked against its own account's challenge only.
- A sign-in attempt is keyed by an opaque attempt token the client holds, and remembers
  the account it is bound to (one named by email, or the one a password already proved),
  or none (usernameless: any account's discoverable passkey).
- A re-authentication challenge is keyed by the session that asked, and bound to its
  account: only that session can answer it, with a passkey of that account.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from redis.asyncio import Redis

from domain.core.clock import Clock
from domain.core.secrets import token_hash
from domain.core.settings import Settings


@dataclass(frozen=True, slots=True)
class PendingChallenge:
    challenge: bytes
    expires_at: datetime
    # The account the answer must belong to (None: any, for a usernameless sign-in).
    user_id: str | None = None
    # The sign-in continues a password sign-in's second-factor challenge (its token is
    # the attempt token): the passkey is that sign-in's second factor.
    second_factor: bool = False


class ChallengeStore:
    def __init__(self, settings: Settings, redis: Redis, clock: Clock) -> None:
        self._redis = redis
        self._clock = clock
        self.ttl_seconds = settings.passkey_challenge_ttl_seconds
        self._prefix = f"{settings.redis_key_prefix}passkey:"

    def _expiry(self) -> datetime:
        return self._clock.now() + timedelta(seconds=self.ttl_seconds)

    async def _put(self, key: str, pending: PendingChallenge) -> None:
        record = {
            "c": base64.urlsafe_b64encode(pending.challenge).decode(),
            "e": pending.expires_at.timestamp(),
            "u": pending.user_id,
            "m": pending.second_factor,
        }
        await self._redis.set(self._prefix + key, orjson.dumps(record), ex=self.ttl_seconds)

    async def _take(self, key: str) -> PendingChallenge | None:
        raw = await self._redis.getdel(self._prefix + key)
        if raw is None:
            return None
        record = orjson.loads(raw)
        expires_at = datetime.fromtimestamp(float(record["e"]), UTC)
        if self._clock.now() >= expires_at:
            return None
        return PendingChallenge(
            challenge=base64.urlsafe_b64decode(record["c"]),
            expires_at=expires_at,
            user_id=record["u"],
            second_factor=bool(record["m"]),
        )

    async def issue_registration(self, user_id: str, challenge: bytes) -> PendingChallenge:
        pending = PendingChallenge(challenge, self._expiry(), user_id=user_id)
        await self._put(f"register:{user_id}", pending)
        return pending

    async def take_registration(self, user_id: str) -> PendingChallenge | None:
        return await self._take(f"register:{user_id}")

    async def issue_sign_in(
        self, attempt: str, challenge: bytes, *, user_id: str | None, second_factor: bool
    ) -> PendingChallenge:
        pending = PendingChallenge(
            challenge, self._expiry(), user_id=user_id, second_factor=second_factor
        )
        await self._put(f"sign-in:{token_hash(attempt)}", pending)
        return pending

    async def take_sign_in(self, attempt: str) -> PendingChallenge | None:
        return await self._take(f"sign-in:{token_hash(attempt)}")

    async def issue_reauthentication(
        self, session_id: str, user_id: str, challenge: bytes
    ) -> PendingChallenge:
        pending = PendingChallenge(challenge, self._expiry(), user_id=user_id)
        await self._put(f"reauth:{session_id}", pending)
        return pending

    async def take_reauthentication(self, session_id: str) -> PendingChallenge | None:
        return await self._take(f"reauth:{session_id}")
