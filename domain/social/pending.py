"""Sign-ins in flight: state, nonce and PKCE verifier, kept in Redis, single use.

Keyed by the SHA-256 of the ``state`` the provider sends back, with the configured TTL
(ten minutes by default) and taken with GETDEL, so a replayed or forged state finds
nothing. The expiry is also in the record and compared with the injected clock.
A pending sign-in remembers the provider and the exact redirect URI it was begun
with (the token request must repeat it), and for a link, whose account asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from redis.asyncio import Redis

from domain.core.clock import Clock
from domain.core.secrets import looks_like_token, new_token, token_hash
from domain.core.settings import Settings


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    provider: str
    redirect_uri: str
    nonce: str
    code_verifier: str
    expires_at: datetime
    # Set when a signed-in account began this to link the identity to itself.
    link_user_id: str | None = None


class PendingSignIns:
    def __init__(self, settings: Settings, redis: Redis, clock: Clock) -> None:
        self._redis = redis
        self._clock = clock
        self.ttl_seconds = settings.social_state_ttl_seconds
        self._prefix = f"{settings.redis_key_prefix}social:state:"

    async def begin(
        self, provider: str, redirect_uri: str, *, link_user_id: str | None = None
    ) -> tuple[str, PendingSignIn]:
        """A new state and what it stands for."""
        state = new_token()
        pending = PendingSignIn(
            provider=provider,
            redirect_uri=redirect_uri,
            nonce=new_token(),
            code_verifier=new_token() + new_token()[:20],  # 63 characters (RFC 7636: 43-128)
            expires_at=self._clock.now() + timedelta(seconds=self.ttl_seconds),
            link_user_id=link_user_id,
        )
        record = {
            "p": pending.provider,
            "r": pending.redirect_uri,
            "n": pending.nonce,
            "v": pending.code_verifier,
            "e": pending.expires_at.timestamp(),
            "u": pending.link_user_id,
        }
        await self._redis.set(
            self._prefix + token_hash(state), orjson.dumps(record), ex=self.ttl_seconds
        )
        return state, pending

    async def take(self, state: object) -> PendingSignIn | None:
        """The pending sign-in, once; None for an unknown, used or expired state."""
        if not looks_like_token(state):
            return None
        assert isinstance(state, str)
        raw = await self._redis.getdel(self._prefix + token_hash(state))
        if raw is None:
            return None
        record = orjson.loads(raw)
        expires_at = datetime.fromtimestamp(float(record["e"]), UTC)
        if self._clock.now() >= expires_at:
            return None
        return PendingSignIn(
            provider=record["p"],
            redirect_uri=record["r"],
            nonce=record["n"],
            code_verifier=record["v"],
            expires_at=expires_at,
            link_user_id=record["u"],
        )
