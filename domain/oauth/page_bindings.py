"""Which pending authorization request a sign-in begun on the built-in page belongs to.

A sign-in the page hands to another slice (a provider's ``state``, a passkey attempt)
comes back with only that slice's token; the record here, under the token's SHA-256,
names the challenge it was begun for and (optionally) the SHA-256 of a key the browser
that began it holds. It is taken once (GETDEL), so a token finishes one request, in one
browser, once, and the challenge id is never read from what comes back.
"""

from __future__ import annotations

import hmac

import orjson
from redis.asyncio import Redis

from domain.core.secrets import looks_like_token, token_hash
from domain.core.settings import Settings


class PageBindings:
    def __init__(self, settings: Settings, redis: Redis) -> None:
        self._redis = redis
        self._prefix = f"{settings.redis_key_prefix}oauth:bound:"

    async def bind(
        self, kind: str, token: str, challenge_id: str, *, browser: str | None, ttl: int
    ) -> None:
        record = {"c": challenge_id, "b": token_hash(browser) if browser else None}
        await self._redis.set(
            f"{self._prefix}{kind}:{token_hash(token)}", orjson.dumps(record), ex=ttl
        )

    async def take(self, kind: str, token: object, *, browser: str | None) -> str | None:
        """The challenge id the token was bound to, once; None for an unknown or spent
        token, or (when a browser key was bound) another browser's."""
        if not looks_like_token(token):
            return None
        assert isinstance(token, str)
        raw = await self._redis.getdel(f"{self._prefix}{kind}:{token_hash(token)}")
        if raw is None:
            return None
        record = orjson.loads(raw)
        bound = record.get("b")
        if bound is not None and not (
            isinstance(browser, str)
            and hmac.compare_digest(token_hash(browser).encode(), str(bound).encode())
        ):
            return None
        return str(record["c"])
