"""Recent authentication: a stolen access token alone never buys lasting control.

Changes that give lasting control of an account (a new second factor, an API key, a
webhook that sends data out, a raised role; the list is in SECURITY.md) need a
session that proved who it is within ``reauthentication_max_age_seconds``
(default 5 minutes). A session is recent when it was signed in that recently (the
password, or password and second factor, opened it) or when it answered
``reauthenticate`` that recently. Refreshing the tokens does not make it recent:
the refresh token is as stealable as the access token.

The proof is recorded per session in Redis (``reauth:<session id>`` holds the time
it was given, by the injected clock) and only counts while the session is live, so
it ends with the session. Without Redis the answer is "try again later", never a
guess either way.

Wrong passwords and codes count toward the account lock like a wrong sign-in; a
replay of a code already used is refused without counting (it is not a guess).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from beanie import PydanticObjectId
from bson.errors import InvalidId
from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError

from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.core.errors import DependencyUnavailableError, FieldError, ValidationError
from domain.core.settings import Settings
from domain.identity import repository
from domain.identity.documents import User, UserStatus
from domain.identity.errors import AccountLockedError, InvalidCredentialsError
from domain.identity.passwords import PasswordHasher
from domain.mfa.errors import InvalidMfaCodeError
from domain.mfa.service import MfaService
from domain.sessions.documents import Session
from domain.sessions.principal import Principal

# Counts a wrong answer toward the lock; raises AccountLockedError at the threshold.
FailureCounter = Callable[[User, Actor], Awaitable[None]]
# Outlives the proof it holds in real time, whatever the clock says: only cleanup.
_MARKER_SLACK_SECONDS = 60


class ProofMethod(StrEnum):
    PASSWORD = "password"
    TOTP = "totp"
    BACKUP_CODE = "backup_code"


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _given(value: str | None) -> bool:
    return value is not None and value != ""


class Reauthentication:
    def __init__(
        self,
        settings: Settings,
        redis: Redis,
        clock: Clock,
        hasher: PasswordHasher,
        mfa: MfaService,
        audit: AuditService,
        count_failure: FailureCounter,
    ) -> None:
        self._settings = settings
        self._redis = redis
        self._clock = clock
        self._hasher = hasher
        self._mfa = mfa
        self._audit = audit
        self._count_failure = count_failure
        self._max_age = timedelta(seconds=settings.reauthentication_max_age_seconds)
        self._prefix = f"{settings.redis_key_prefix}reauth:"

    @property
    def max_age(self) -> timedelta:
        return self._max_age

    async def reauthenticate(
        self,
        principal: Principal,
        *,
        actor: Actor,
        password: str | None = None,
        code: str | None = None,
        backup_code: str | None = None,
    ) -> datetime:
        """Check one proof (the password, a current TOTP code or a backup code) and
        record it for this session; returns when the recent authentication ends.

        Raises: ValidationError (none or several proofs), InvalidCredentialsError,
        InvalidMfaCodeError (TotpCodeReplayedError for a used code), AccountLockedError,
        DependencyUnavailableError (Redis).
        """
        method = _method(password, code, backup_code)
        user = await repository.get(principal.user_id)
        if user is None or user.id is None or user.status is not UserStatus.ACTIVE:
            raise InvalidCredentialsError
        if user.locked_at is not None:
            raise AccountLockedError
        if method is ProofMethod.PASSWORD:
            assert password is not None
            right = len(password) <= self._settings.password_max_length and (
                (await self._hasher.verify(password, user.password_hash)).valid
            )
            if not right:
                await self._refuse(user, method, actor)
                raise InvalidCredentialsError("The password is not correct.")
        else:
            if not await self._mfa.is_enabled(user.id):
                raise InvalidMfaCodeError(
                    "This account has no authenticator app: confirm with your password."
                )
            if method is ProofMethod.TOTP:
                right = await self._mfa.verify_code(user.id, code, actor)
            else:
                right = await self._mfa.use_backup_code(user.id, backup_code)
            if not right:
                await self._refuse(user, method, actor)
                raise InvalidMfaCodeError
        valid_until = await self.record(principal.session_id)
        await self._audit.record(
            "user.reauthenticated",
            AuditAction.SECURITY,
            actor=actor.as_user(str(user.id)),
            target_id=str(user.id),
            details={"session": principal.session_id, "method": method.value},
        )
        return valid_until

    async def _refuse(self, user: User, method: ProofMethod, actor: Actor) -> None:
        await self._audit.record(
            "user.reauthentication_failed",
            AuditAction.SECURITY,
            result=AuditResult.FAILURE,
            actor=actor.as_user(str(user.id)),
            target_id=str(user.id),
            details={"method": method.value},
        )
        # A stolen session guessing the password counts toward the lock like a login.
        await self._count_failure(user, actor)

    async def record(self, session_id: str) -> datetime:
        """Note that this session proved itself now; returns when that stops counting.

        Raises: DependencyUnavailableError (Redis).
        """
        now = self._clock.now()
        ttl = int(self._max_age.total_seconds()) + _MARKER_SLACK_SECONDS
        try:
            await self._redis.set(self._key(session_id), str(now.timestamp()), ex=ttl)
        except RedisError as error:
            logger.warning("re-authentication not recorded: {}", error)
            raise DependencyUnavailableError from error
        return now + self._max_age

    async def recent_until(self, principal: Principal) -> datetime | None:
        """Until when this live session counts as recently authenticated (None: not now).

        Raises: DependencyUnavailableError (Redis).
        """
        now = self._clock.now()
        session = await _live_session(principal, now)
        if session is None:
            return None
        proved = [_utc(session.created_at)]
        try:
            raw = await self._redis.get(self._key(principal.session_id))
        except RedisError as error:
            logger.warning("re-authentication cannot be checked: {}", error)
            raise DependencyUnavailableError from error
        if raw is not None:
            proved.append(datetime.fromtimestamp(float(raw), UTC))
        until = max(proved) + self._max_age
        return until if now < until else None

    async def is_recent(self, principal: Principal) -> bool:
        """Raises: DependencyUnavailableError (Redis)."""
        return await self.recent_until(principal) is not None

    def _key(self, session_id: str) -> str:
        return self._prefix + session_id


def _method(password: str | None, code: str | None, backup_code: str | None) -> ProofMethod:
    given = [
        method
        for method, value in (
            (ProofMethod.PASSWORD, password),
            (ProofMethod.TOTP, code),
            (ProofMethod.BACKUP_CODE, backup_code),
        )
        if _given(value)
    ]
    if len(given) == 1:
        return given[0]
    message = (
        "Give your password, or a code from your authenticator app, or a backup code."
        if not given
        else "Give only one of password, code or backupCode."
    )
    raise ValidationError(
        [FieldError("password", message, "REQUIRED" if not given else "ONE_ONLY")]
    )


async def _live_session(principal: Principal, now: datetime) -> Session | None:
    try:
        session_id = PydanticObjectId(principal.session_id)
    except (InvalidId, TypeError):
        return None
    session = await Session.get(session_id)
    if (
        session is None
        or session.revoked_at is not None
        or str(session.user_id) != principal.user_id
        or _utc(session.expires_at) <= now
    ):
        return None
    return session
