"""Refresh tokens of the format before refresh families: one stored document per token.

Sessions opened before the upgrade keep working: their current token refreshes once,
strictly (no grace), into a refresh family, and from then on rotates like any other.
A rotated token of the old format presented again is reuse, as it always was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.core.actor import Actor
from domain.core.claims import claim_once
from domain.core.clock import Clock
from domain.core.secrets import looks_like_token, token_hash
from domain.sessions.documents import RefreshToken, Session
from domain.sessions.errors import (
    InvalidRefreshTokenError,
    RefreshTokenReusedError,
    SessionExpiredError,
)
from domain.sessions.issued import IssuedTokens, utc

if TYPE_CHECKING:
    from domain.sessions.service import SessionService


class LegacyRefresh:
    def __init__(self, sessions: SessionService, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def refresh(self, raw: object, actor: Actor) -> IssuedTokens:
        if not looks_like_token(raw):
            raise InvalidRefreshTokenError
        assert isinstance(raw, str)
        digest = token_hash(raw)
        token = await RefreshToken.get(digest)
        if token is None:
            raise InvalidRefreshTokenError
        session = await Session.get(token.session_id)
        if session is None or session.revoked_at is not None:
            raise InvalidRefreshTokenError
        now = self._clock.now()
        if token.rotated_at is not None:
            await self._sessions.reuse_detected(session, actor)
            raise RefreshTokenReusedError
        if utc(session.expires_at) <= now or utc(token.idle_expires_at) <= now:
            await self._sessions.revoke(session, reason="expired", actor=actor)
            raise SessionExpiredError
        if not await claim_once(f"refresh:{digest}", now=now, expires_at=utc(session.expires_at)):
            await self._sessions.reuse_detected(session, actor)
            raise RefreshTokenReusedError
        await RefreshToken.find_one(RefreshToken.id == digest).update(
            {"$set": {"rotated_at": now, "idle_expires_at": utc(session.expires_at)}}
        )
        user = await self._sessions.active_owner(session, actor)
        return await self._sessions.open_family(user, session, generation=token.generation + 1)
