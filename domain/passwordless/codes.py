"""Pending email sign-ins: a 6-digit code and a link token per address, in Redis.

One pending sign-in per address (a new request replaces it, and with it the old code
and link), kept as a Redis hash under the address's fingerprint with a TTL, and
expiring on the injected clock too (Redis forgets on its own clock; the service decides
on ours). Neither secret is stored: the code as an HMAC under a server key bound to the
address (a 6-digit code hashed without a secret key is found by trying a million), the
link token (256 random bits) as its SHA-256, with a pointer from that digest to the
address so the link alone finds its sign-in, on any device.

Every decision is one Lua script, so it is atomic: the right code or link takes the
sign-in and deletes it (of two racing completions exactly one wins); a wrong code counts
against it, and the ``max_attempts``-th wrong code deletes it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from redis.asyncio import Redis

from domain.core.clock import Clock
from domain.core.derived_keys import derive_key
from domain.core.secrets import new_token, token_hash
from domain.core.settings import Settings

CODE_DIGITS = 6
# Redis keeps a record a little past its expiry on our clock, never less.
_REDIS_MARGIN_SECONDS = 60

_TAKE = """
local want = redis.call('HGET', KEYS[1], ARGV[1])
if not want then return {0} end
local user = redis.call('HGET', KEYS[1], 'u')
if tonumber(redis.call('HGET', KEYS[1], 'e')) <= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  return {0, user}
end
if want == ARGV[2] then
  redis.call('DEL', KEYS[1])
  return {1, user}
end
if ARGV[1] ~= 'c' then return {0} end
local failures = redis.call('HINCRBY', KEYS[1], 'f', 1)
if failures >= tonumber(ARGV[4]) then redis.call('DEL', KEYS[1]) end
return {2, user, failures}
"""


class Verdict(Enum):
    TAKEN = "taken"  # the right code or link: the sign-in is this caller's
    WRONG = "wrong"  # a wrong code against a live sign-in (counted)
    NONE = "none"  # nothing live: never asked, expired, used, replaced or ended


@dataclass(frozen=True, slots=True)
class Attempt:
    verdict: Verdict
    # The account the sign-in was issued for (the nobody id for an address without one).
    user_id: str | None = None
    # Wrong codes so far, and whether that was the last one allowed.
    failures: int = 0
    ended: bool = False


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str
    link_token: str
    expires_at: datetime


def code_key(settings: Settings) -> bytes:
    """The key codes are stored under (domain/core/derived_keys.py)."""
    return derive_key(settings, b"gatehouse-email-sign-in-code")


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else value


class EmailCodes:
    def __init__(self, settings: Settings, redis: Redis, clock: Clock, key: bytes) -> None:
        self._redis = redis
        self._clock = clock
        self._key = key
        self._ttl = settings.email_sign_in_ttl_seconds
        self._max_attempts = settings.email_sign_in_max_attempts
        self._prefix = f"{settings.redis_key_prefix}email-sign-in:"
        self._take = redis.register_script(_TAKE)

    def _record(self, fingerprint: str) -> str:
        return f"{self._prefix}address:{fingerprint}"

    def _link(self, digest: str) -> str:
        return f"{self._prefix}link:{digest}"

    def _code_digest(self, email: str, code: str) -> str:
        return hmac.new(self._key, f"{email}\n{code}".encode(), hashlib.sha256).hexdigest()

    async def issue(self, email: str, fingerprint: str, user_id: str) -> IssuedCode:
        """A new code and link for ``email`` (replacing any pending one), for ``user_id``."""
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        link_token = new_token()
        expires_at = self._clock.now() + timedelta(seconds=self._ttl)
        record = self._record(fingerprint)
        lifetime = self._ttl + _REDIS_MARGIN_SECONDS
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(record)  # a replaced sign-in's wrong-code count goes with it
        pipe.hset(
            record,
            mapping={
                "u": user_id,
                "c": self._code_digest(email, code),
                "t": token_hash(link_token),
                "e": str(expires_at.timestamp()),
                "f": "0",
            },
        )
        pipe.expire(record, lifetime)
        pipe.set(self._link(token_hash(link_token)), fingerprint, ex=lifetime)
        await pipe.execute()
        return IssuedCode(code=code, link_token=link_token, expires_at=expires_at)

    async def take_code(self, email: str, fingerprint: str, code: str) -> Attempt:
        return await self._decide(self._record(fingerprint), "c", self._code_digest(email, code))

    async def take_link(self, link_token: str) -> Attempt:
        digest = token_hash(link_token)
        fingerprint = _text(await self._redis.get(self._link(digest)))
        if fingerprint is None:
            return Attempt(Verdict.NONE)
        attempt = await self._decide(self._record(fingerprint), "t", digest)
        if attempt.verdict is Verdict.TAKEN:
            await self._redis.delete(self._link(digest))
        return attempt

    async def _decide(self, record: str, field: str, presented: str) -> Attempt:
        now = str(self._clock.now().timestamp())
        reply = await self._take(
            keys=[record], args=[field, presented, now, str(self._max_attempts)]
        )
        status = int(reply[0])
        user_id = _text(reply[1]) if len(reply) > 1 else None
        if status == 1:
            return Attempt(Verdict.TAKEN, user_id)
        if status == 2:
            failures = int(reply[2])
            return Attempt(Verdict.WRONG, user_id, failures, failures >= self._max_attempts)
        return Attempt(Verdict.NONE, user_id)
