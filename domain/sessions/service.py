"""Sessions across devices and the rotation of their refresh tokens.

A session is one sign-in on one device. Its refresh tokens form a family: each use
returns a new pair and retires the old token. Presenting a retired token again is
reuse: the whole session (family) is revoked and the owner is told, except for the
refresh grace: the immediately previous token, presented again within
``refresh_token_grace_seconds`` of its rotation from the rotating request's client
context, before the successor was used, at most five times, gets the same successor
(two tabs refreshing at once, or a response lost on the way). Which request rotates a
generation is decided once in Redis (domain/sessions/rotation.py); the rotation itself
is one conditional update of the family document, which a refresh reads from its Redis
copy (domain/sessions/family_cache.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from beanie import PydanticObjectId
from loguru import logger
from redis.asyncio import Redis

from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.by_id import update_by_id
from domain.core.claims import claim_once
from domain.core.clock import Clock
from domain.core.secret_box import SecretBox, SecretDecryptionError
from domain.core.settings import Settings
from domain.events.bus import EventBus
from domain.sessions import refresh_tokens
from domain.sessions.activity import live_sessions
from domain.sessions.device import client_context, device_label
from domain.sessions.documents import RefreshFamily, Session
from domain.sessions.errors import (
    InvalidRefreshTokenError,
    RefreshTokenReusedError,
    SessionExpiredError,
)
from domain.sessions.family_cache import RefreshFamilies
from domain.sessions.issued import (
    ActiveOwnerLoader,
    AllEndedHook,
    IssuedTokens,
    ReuseHook,
    SessionOwner,
    utc,
)
from domain.sessions.legacy import LegacyRefresh
from domain.sessions.refresh_tokens import RefreshTokenCodec
from domain.sessions.revocation import EndedSessions, SessionRevocations
from domain.sessions.rotation import Rotation, RotationLedger, grace_allows
from domain.sessions.rotation_records import ensure_recorded, record_rotation
from domain.tokens.access import AccessTokenService
from domain.tokens.methods import legacy_methods

__all__ = ["ActiveOwnerLoader", "IssuedTokens", "ReuseHook", "SessionOwner", "SessionService"]


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
        box: SecretBox,
        on_all_ended: AllEndedHook | None = None,
        families: RefreshFamilies,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._access = access_tokens
        self._revocations = revocations
        self._redis = redis
        self._on_reuse = on_reuse
        self._audit = audit
        self._ended = EndedSessions(revocations, bus)
        # Told when every session of an account ends (a credential change, logoutAll, an
        # administrator): what else skips a full sign-in ends with them (trusted devices).
        self._on_all_ended = on_all_ended
        # The app passes the Redis-cached reader; the status it checks is in the cache.
        self._load_active_owner = load_active_owner
        self._idle = timedelta(seconds=settings.refresh_token_idle_seconds)
        self._absolute = timedelta(seconds=settings.refresh_token_absolute_seconds)
        self._codec = RefreshTokenCodec(box)
        self._ledger = RotationLedger(redis, settings, revocations.key(""))
        self._families = families
        self._legacy = LegacyRefresh(self, clock)

    async def start(
        self,
        user: SessionOwner,
        *,
        user_agent: str,
        ip: str,
        mfa: bool = False,
        amr: Sequence[str] | None = None,
    ) -> IssuedTokens:
        """Open a session for a user who just proved who they are (``amr``: how, RFC
        8176; without it a password, and a code when ``mfa``)."""
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
            amr=list(amr if amr is not None else legacy_methods(mfa)),
        )
        await session.insert()
        return await self.open_family(user, session, generation=1)

    async def open_family(
        self, user: SessionOwner, session: Session, *, generation: int
    ) -> IssuedTokens:
        """The session's refresh family, its first token being ``generation``."""
        assert session.id is not None
        now = self._clock.now()
        secret, sealed = self._codec.new_secret(session.id)
        family = RefreshFamily(
            _id=session.id,
            user_id=session.user_id,
            sealed_secret=sealed,
            generation=generation,
            expires_at=session.expires_at,
            idle_expires_at=min(now + self._idle, utc(session.expires_at)),
            mfa=session.mfa,
            amr=list(session.methods),
            auth_time=session.auth_time,
        )
        await family.insert()
        await self._families.keep(family)
        return self._pair(user, family, secret, generation, session.auth_time)

    def _pair(
        self,
        user: SessionOwner,
        family: RefreshFamily,
        secret: bytes,
        generation: int,
        auth_time: datetime,
    ) -> IssuedTokens:
        access, claims = self._access.issue(
            str(user.id),
            str(family.id),
            user.role.value,
            mfa=family.mfa,
            amr=family.methods,
            auth_time=auth_time,  # the sign-in or reauthenticate, never a refresh
        )
        return IssuedTokens(
            access_token=access,
            access_expires_at=claims.exp,
            refresh_token=self._codec.token(secret, family.id, generation),
            refresh_expires_at=utc(family.idle_expires_at),
            session_id=str(family.id),
            user_id=str(family.user_id),
            owner=user,
        )

    async def refresh(self, raw: object, actor: Actor) -> IssuedTokens:
        """Rotate: retire the presented token and return a new pair; or, for the
        immediately previous token within the grace rule, the same successor again.

        Raises:
            InvalidRefreshTokenError: unknown or malformed token, ended session, inactive user.
            RefreshTokenReusedError: the token was already rotated and the grace rule does
                not cover it; the session is now revoked.
            SessionExpiredError: idle or absolute lifetime is over.
        """
        presented = refresh_tokens.parse(raw)
        if presented is None:
            return await self._legacy.refresh(raw, actor)
        # The family alone (its Redis copy): it exists exactly while the session may
        # refresh, and carries what the new pair needs. The session is read on rare paths.
        family, fill = await self._families.load(presented.session_id, presented.generation)
        if family is None:
            raise InvalidRefreshTokenError
        secret = self._open(family)
        n = presented.generation
        if not self._codec.verifies(secret, presented) or n > family.generation:
            raise InvalidRefreshTokenError
        if n < family.generation - 1:
            await self.reuse_detected(await self._session_of(family), actor)
            raise RefreshTokenReusedError
        now = self._clock.now()
        if utc(family.expires_at) <= now or utc(family.idle_expires_at) <= now:
            await self.revoke(await self._session_of(family), reason="expired", actor=actor)
            raise SessionExpiredError
        auth_time = family.auth_time or (await self._session_of(family)).auth_time
        context = client_context(actor.user_agent, actor.ip)
        session_id = str(family.id)
        if n == family.generation:
            answer = await self._ledger.rotate(session_id, n, Rotation(now, context), fill)
            if answer.won:
                return await self._rotate(family, secret, now, context, auth_time, actor)
        else:
            answer = await self._ledger.retry(session_id, n, fill)
            if family.rotated_at is not None and family.rotated_context is not None:
                answer = replace(
                    answer, rotation=Rotation(family.rotated_at, family.rotated_context)
                )
        if answer.ended:
            raise InvalidRefreshTokenError
        allowed = grace_allows(
            grace_seconds=self._settings.refresh_token_grace_seconds,
            rotation=answer.rotation,
            context=context,
            now=now,
            successor_used=answer.successor_used,
            retry=answer.retry,
        )
        if not allowed:
            await self.reuse_detected(await self._session_of(family), actor)
            raise RefreshTokenReusedError
        user = await self._owner_of(family, actor)
        assert answer.rotation is not None  # the grace rule needs it
        if not await ensure_recorded(family, n + 1, answer.rotation):
            await self.reuse_detected(await self._session_of(family), actor)
            raise RefreshTokenReusedError
        if n == family.generation:
            # The rotation is still landing: its idle expiry is derived as it derives it.
            idle = min(utc(answer.rotation.at) + self._idle, utc(family.expires_at))
            family = family.model_copy(update={"idle_expires_at": idle})
        return self._pair(user, family, secret, n + 1, auth_time)

    async def _session_of(self, family: RefreshFamily) -> Session:
        session = await Session.get(family.id)
        if session is None or session.revoked_at is not None:
            # Ended between its family's read and this one (the family goes first).
            raise InvalidRefreshTokenError
        return session

    async def _owner_of(self, family: RefreshFamily, actor: Actor) -> SessionOwner:
        user = await self._load_active_owner(family.user_id)
        if user is None:
            await self.revoke(await self._session_of(family), reason="user_inactive", actor=actor)
            raise InvalidRefreshTokenError
        return user

    def _open(self, family: RefreshFamily) -> bytes:
        try:
            return self._codec.open_secret(family.id, family.sealed_secret)
        except SecretDecryptionError:
            logger.bind(session_id=str(family.id)).error("refresh family secret unreadable")
            raise InvalidRefreshTokenError from None

    async def active_owner(self, session: Session, actor: Actor) -> SessionOwner:
        user = await self._load_active_owner(session.user_id)
        if user is None:
            await self.revoke(session, reason="user_inactive", actor=actor)
            raise InvalidRefreshTokenError
        return user

    async def _rotate(
        self,
        family: RefreshFamily,
        secret: bytes,
        now: datetime,
        context: str,
        auth_time: datetime,
        actor: Actor,
    ) -> IssuedTokens:
        """The one durable write of a rotation (an insert), after Redis decided it is
        this caller's."""
        user = await self._owner_of(family, actor)
        idle = min(now + self._idle, utc(family.expires_at))
        if not await record_rotation(family, family.generation + 1, Rotation(now, context)):
            await self.reuse_detected(await self._session_of(family), actor)
            raise RefreshTokenReusedError
        family = family.model_copy(update={"idle_expires_at": idle})
        return self._pair(user, family, secret, family.generation + 1, auth_time)

    async def reuse_detected(self, session: Session, actor: Actor) -> None:
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
            f"reuse-alert:{session.id}", now=now, expires_at=utc(session.expires_at)
        )
        if first and self._on_reuse is not None:
            await self._on_reuse(session)

    async def revoke(self, session: Session, *, reason: str, actor: Actor) -> None:
        assert session.id is not None
        now = self._clock.now()
        # The family first: without it no token of the session refreshes, even should
        # this stop before the session is marked. A rotation decided just before still
        # answers, with tokens dead on arrival: the refresh token's family is gone, and
        # the access token's session is in the revocation record below.
        await RefreshFamily.find_one(RefreshFamily.id == session.id).delete()
        await update_by_id(
            Session.get_pymongo_collection(),
            session.id,
            {"$set": {"revoked_at": now, "revoked_reason": reason}},
            guard={"revoked_at": None},
        )
        await self._ended.announce(str(session.user_id), [str(session.id)], reason)
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
        # By _id alone (domain/core/by_id.py), the ownership checked here.
        session = await Session.get(oid)
        if session is None or session.user_id != user_id or session.revoked_at is not None:
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
        if self._on_all_ended is not None:
            await self._on_all_ended(user_id, reason, actor)
        sessions = await self.list_active(user_id)
        ended = [s for s in sessions if str(s.id) != keep_session_id]
        if not ended:
            return 0
        now = self._clock.now()
        ids = [s.id for s in ended]
        await RefreshFamily.find({"_id": {"$in": ids}}).delete()
        await Session.find({"_id": {"$in": ids}}).update(
            {"$set": {"revoked_at": now, "revoked_reason": reason}}
        )
        await self._ended.announce(str(user_id), [str(i) for i in ids], reason)
        await self._audit.record(
            "session.revoked_all",
            AuditAction.REVOKE,
            actor=actor,
            target_id=str(user_id),
            details={"reason": reason, "sessions": len(ended)},
        )
        return len(ended)

    async def list_active(self, user_id: PydanticObjectId) -> list[Session]:
        return await live_sessions(user_id, self._clock.now(), self._families)

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
