"""Sessions across devices and the rotation of their refresh tokens.

A session is one sign-in on one device. Its refresh tokens form a family: each use
returns a new pair and retires the old token. Presenting a retired token again is
reuse: the whole session (family) is revoked and the owner is told. Retiring a
token is decided exactly once by a claim, so of two racing refreshes one wins.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from beanie import PydanticObjectId, SortDirection
from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError

from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.claims import claim_once
from domain.core.clock import Clock
from domain.core.roles import Role
from domain.core.secrets import looks_like_token, new_token, token_hash
from domain.core.settings import Settings
from domain.events.bus import EventBus
from domain.sessions.device import device_label
from domain.sessions.documents import RefreshToken, Session
from domain.sessions.errors import (
    InvalidRefreshTokenError,
    RefreshTokenReusedError,
    SessionExpiredError,
)
from domain.sessions.revocation import SessionRevocations
from domain.tokens.access import AccessTokenService


class SessionOwner(Protocol):
    """The account a session belongs to, as far as sessions need it (identity's User)."""

    @property
    def id(self) -> PydanticObjectId | None: ...

    @property
    def role(self) -> Role: ...


# The owner's account if it may go on using its sessions (it is active), else None.
# Identity decides what active means; sessions only ask.
ActiveOwnerLoader = Callable[[PydanticObjectId], Awaitable[SessionOwner | None]]
# Tells the owner of a session whose refresh token was replayed.
ReuseHook = Callable[[Session], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    session_id: str
    user_id: str


def _utc(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class SessionService:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        access_tokens: AccessTokenService,
        revocations: SessionRevocations,
        redis: Redis,
        audit: AuditService,
        bus: EventBus | None = None,
        on_reuse: ReuseHook | None = None,
        *,
        load_active_owner: ActiveOwnerLoader,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._access = access_tokens
        self._revocations = revocations
        self._redis = redis
        self._on_reuse = on_reuse
        self._audit = audit
        self._bus = bus
        # The app passes the Redis-cached reader; the status it checks is in the cache.
        self._load_active_owner = load_active_owner
        self._idle = timedelta(seconds=settings.refresh_token_idle_seconds)
        self._absolute = timedelta(seconds=settings.refresh_token_absolute_seconds)

    async def start(
        self, user: SessionOwner, *, user_agent: str, ip: str, mfa: bool = False
    ) -> IssuedTokens:
        """Open a session for a user who just proved who they are."""
        assert user.id is not None
        now = self._clock.now()
        session = Session(
            user_id=user.id,
            device=device_label(user_agent),
            user_agent=user_agent[:512],
            ip=ip,
            created_at=now,
            last_seen_at=now,
            expires_at=now + self._absolute,
            mfa=mfa,
        )
        await session.insert()
        return await self._issue(user, session, generation=1)

    async def _issue(
        self, user: SessionOwner, session: Session, *, generation: int
    ) -> IssuedTokens:
        assert user.id is not None
        assert session.id is not None
        now = self._clock.now()
        raw = new_token()
        idle_expires = min(now + self._idle, _utc(session.expires_at))
        await RefreshToken(
            _id=token_hash(raw),
            session_id=session.id,
            user_id=user.id,
            generation=generation,
            created_at=now,
            idle_expires_at=idle_expires,
        ).insert()
        access, claims = self._access.issue(
            str(user.id), str(session.id), user.role.value, mfa=session.mfa
        )
        return IssuedTokens(
            access_token=access,
            access_expires_at=claims.exp,
            refresh_token=raw,
            refresh_expires_at=idle_expires,
            session_id=str(session.id),
            user_id=str(user.id),
        )

    async def refresh(self, raw: object, actor: Actor) -> IssuedTokens:
        """Rotate: retire the presented token and return a new pair.

        Raises:
            InvalidRefreshTokenError: unknown or malformed token, ended session, inactive user.
            RefreshTokenReusedError: the token was already rotated; the session is now revoked.
            SessionExpiredError: idle or absolute lifetime is over.
        """
        if not looks_like_token(raw):
            raise InvalidRefreshTokenError
        assert isinstance(raw, str)
        digest = token_hash(raw)
        token = await RefreshToken.find_one(RefreshToken.id == digest)
        if token is None:
            raise InvalidRefreshTokenError
        session = await Session.get(token.session_id)
        if session is None or session.revoked_at is not None:
            raise InvalidRefreshTokenError
        now = self._clock.now()
        if token.rotated_at is not None:
            await self._reuse_detected(session, actor)
            raise RefreshTokenReusedError
        if _utc(session.expires_at) <= now or _utc(token.idle_expires_at) <= now:
            await self.revoke(session, reason="expired", actor=actor)
            raise SessionExpiredError
        if not await claim_once(f"refresh:{digest}", now=now, expires_at=_utc(session.expires_at)):
            # Someone rotated this token a moment ago: this is a second use.
            await self._reuse_detected(session, actor)
            raise RefreshTokenReusedError
        user = await self._load_active_owner(token.user_id)
        retire = RefreshToken.find_one(RefreshToken.id == digest).update(
            {"$set": {"rotated_at": now, "idle_expires_at": _utc(session.expires_at)}}
        )
        if user is None:
            await retire
            await self.revoke(session, reason="user_inactive", actor=actor)
            raise InvalidRefreshTokenError
        # Independent writes, so one wait instead of three.
        _, issued, _ = await asyncio.gather(
            retire,
            self._issue(user, session, generation=token.generation + 1),
            self._record_activity(session),
        )
        return issued

    async def _record_activity(self, session: Session) -> None:
        """last_seen_at, at most once per interval (the marker the admission sets too)."""
        assert session.id is not None
        marker, ttl = self.seen_marker(str(session.id))
        try:
            due = bool(await self._redis.set(marker, b"1", nx=True, ex=ttl))
        except RedisError:
            due = True
        if due:
            await self.record_seen(str(session.id))

    async def _reuse_detected(self, session: Session, actor: Actor) -> None:
        logger.bind(session_id=str(session.id), user_id=str(session.user_id)).warning(
            "refresh token reuse detected; revoking the session"
        )
        await self.revoke(session, reason="refresh_token_reuse", actor=actor)
        await self._audit.record(
            "session.refresh_reuse",
            AuditAction.SECURITY,
            actor=actor,
            result=AuditResult.FAILURE,
            actor_type="anonymous",
            target_id=str(session.user_id),
            details={"session": str(session.id), "device": session.device},
        )
        # One alert per session, however many replays arrive.
        now = self._clock.now()
        first = await claim_once(
            f"reuse-alert:{session.id}", now=now, expires_at=_utc(session.expires_at)
        )
        if first and self._on_reuse is not None:
            await self._on_reuse(session)

    async def revoke(self, session: Session, *, reason: str, actor: Actor) -> None:
        assert session.id is not None
        now = self._clock.now()
        await Session.find_one(Session.id == session.id, Session.revoked_at == None).update(  # noqa: E711
            {"$set": {"revoked_at": now, "revoked_reason": reason}}
        )
        await self._revoke_tokens(str(session.user_id), [str(session.id)], reason)
        await self._audit.record(
            "session.revoked",
            AuditAction.LOGOUT if reason == "logout" else AuditAction.REVOKE,
            actor=actor,
            target_id=str(session.user_id),
            details={"session": str(session.id), "reason": reason},
        )

    async def revoke_by_id(
        self, user_id: PydanticObjectId, session_id: str, *, reason: str, actor: Actor
    ) -> bool:
        """End one of the user's own sessions; False if it is not theirs or already over."""
        try:
            oid = PydanticObjectId(session_id)
        except Exception:
            return False
        session = await Session.find_one(
            Session.id == oid,
            Session.user_id == user_id,
            Session.revoked_at == None,  # noqa: E711
        )
        if session is None:
            return False
        await self.revoke(session, reason=reason, actor=actor)
        return True

    async def revoke_all(
        self,
        user_id: PydanticObjectId,
        *,
        reason: str,
        actor: Actor,
        keep_session_id: str | None = None,
    ) -> int:
        sessions = await self.list_active(user_id)
        ended = [s for s in sessions if str(s.id) != keep_session_id]
        if not ended:
            return 0
        now = self._clock.now()
        ids = [s.id for s in ended]
        await Session.find({"_id": {"$in": ids}}).update(
            {"$set": {"revoked_at": now, "revoked_reason": reason}}
        )
        await self._revoke_tokens(str(user_id), [str(i) for i in ids], reason)
        await self._audit.record(
            "session.revoked_all",
            AuditAction.REVOKE,
            actor=actor,
            target_id=str(user_id),
            details={"reason": reason, "sessions": len(ended)},
        )
        return len(ended)

    async def _revoke_tokens(self, user_id: str, session_ids: list[str], reason: str) -> None:
        """Refuse the sessions' access tokens at once and tell their listeners.

        The database already says the sessions ended; without Redis the access tokens
        are refused anyway (authentication fails closed when it cannot check).
        """
        try:
            await self._revocations.revoke(session_ids)
        except RedisError as exc:
            logger.bind(user_id=user_id).warning("revocation record not written: {}", exc)
        await self._announce(user_id, session_ids, reason)

    async def _announce(self, user_id: str, session_ids: list[str], reason: str) -> None:
        if self._bus is None:
            return
        for session_id in session_ids:
            await self._bus.publish(
                self._bus.user_channel(user_id),
                {"type": "session_revoked", "session_id": session_id, "reason": reason},
            )

    async def list_active(self, user_id: PydanticObjectId) -> list[Session]:
        now = self._clock.now()
        return (
            await Session.find(
                Session.user_id == user_id,
                Session.revoked_at == None,  # noqa: E711
                Session.expires_at > now,
            )
            .sort([("last_seen_at", SortDirection.DESCENDING)])
            .to_list()
        )

    def seen_marker(self, session_id: str) -> tuple[str, int]:
        """The Redis key (and its lifetime) whose creation means: time to record activity.

        Activity is written at most once per interval per session, not once per request;
        the marker is set by the request admission (domain/sessions/admission.py).
        """
        key = f"{self._settings.redis_key_prefix}seen:{session_id}"
        return key, self._settings.session_last_seen_interval_seconds

    async def record_seen(self, session_id: str) -> None:
        await Session.find_one(Session.id == PydanticObjectId(session_id)).update(
            {"$set": {"last_seen_at": self._clock.now()}}
        )
