"""Recent authentication: a stolen access token alone never buys lasting control.

Changes that give lasting control of an account (a second factor, a password or email,
an API key, a webhook that sends data out, a raised role; each declares its own maximum
age with ``@requires_recent_authentication`` in schema/recent_authentication.py, and
SECURITY.md lists them) need a session whose last authentication is recent enough. A
session authenticates when it is signed in (the password, or password and second
factor, opened it) and when it answers ``reauthenticate``. Refreshing the tokens does
not count: the refresh token is as stealable as the access token.

The time of that last authentication is the session's ``auth_time``
(``Session.authenticated_at``, else its sign-in), kept in the database with the session,
so it ends with the session and every access token of the session carries it (the OIDC
``auth_time`` claim, kept across refreshes). ``reauthenticate`` hands back a fresh access
token with the new time. GATEHOUSE_REAUTHENTICATION_MAX_AGE_SECONDS caps every
operation's maximum age (lower it to tighten them all).

The proof is the password, a current TOTP or backup code, or one of the account's
passkeys (an answer to ``beginPasskeyReauthentication``'s challenge, bound to the
session; checked by the passkeys slice through ``PasskeyProof``). Wrong passwords, codes
and passkey answers count toward the account lock like a wrong sign-in; a replay of a
code already used is refused without counting (it is not a guess).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from beanie import PydanticObjectId
from bson.errors import InvalidId

from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.core.errors import FieldError, UnauthenticatedError, ValidationError
from domain.core.settings import Settings
from domain.identity import repository
from domain.identity.documents import User, UserStatus
from domain.identity.errors import (
    AccountLockedError,
    InvalidCredentialsError,
    ReauthenticationRequiredError,
)
from domain.identity.login import has_password
from domain.identity.passwords import PasswordHasher
from domain.identity.ports import PasskeyProof
from domain.mfa.errors import InvalidMfaCodeError
from domain.mfa.service import MfaService
from domain.sessions.activity import record_authentication
from domain.sessions.documents import Session
from domain.sessions.family_cache import RefreshFamilies
from domain.sessions.principal import Principal
from domain.tokens.access import AccessTokenService

# Counts a wrong answer toward the lock; raises AccountLockedError at the threshold.
FailureCounter = Callable[[User, Actor], Awaitable[None]]
# The shortest maximum age any operation declares: ``validUntil`` is told against it.
STRICTEST_MAX_AGE_SECONDS = 300
_ENDED = "This session has ended: sign in again."


class ProofMethod(StrEnum):
    PASSWORD = "password"
    TOTP = "totp"
    BACKUP_CODE = "backup_code"
    PASSKEY = "passkey"


@dataclass(frozen=True, slots=True)
class Proof:
    """A session's fresh authentication, and the access token that carries it."""

    auth_time: datetime
    # Until when every operation accepts it (the strictest maximum age).
    valid_until: datetime
    access_token: str
    access_expires_at: datetime


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _given(value: str | None) -> bool:
    return value is not None and value != ""


class Reauthentication:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        hasher: PasswordHasher,
        mfa: MfaService,
        audit: AuditService,
        count_failure: FailureCounter,
        access_tokens: AccessTokenService,
        passkeys: PasskeyProof,
        families: RefreshFamilies,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._hasher = hasher
        self._mfa = mfa
        self._audit = audit
        self._count_failure = count_failure
        self._access = access_tokens
        self._passkeys = passkeys
        self._families = families
        self._ceiling = settings.reauthentication_max_age_seconds

    def max_age(self, declared_seconds: int) -> int:
        """An operation's maximum age in seconds: as declared, at most the configured cap."""
        return min(declared_seconds, self._ceiling)

    async def reauthenticate(
        self,
        principal: Principal,
        *,
        actor: Actor,
        password: str | None = None,
        code: str | None = None,
        backup_code: str | None = None,
        passkey: object = None,
    ) -> Proof:
        """Check one proof (the password, a current TOTP code, a backup code or a
        passkey's answer), record it as the session's new ``auth_time`` and issue an
        access token carrying it.

        Raises: ValidationError (none or several proofs), InvalidCredentialsError,
        InvalidMfaCodeError (TotpCodeReplayedError for a used code), the passkeys
        slice's errors, AccountLockedError, UnauthenticatedError (the session has ended).
        """
        method = _method(password, code, backup_code, passkey is not None)
        session = await _live_session(principal, self._clock.now())
        if session is None:
            raise UnauthenticatedError(_ENDED)
        user = await repository.get(principal.user_id)
        if user is None or user.id is None or user.status is not UserStatus.ACTIVE:
            raise InvalidCredentialsError
        if user.locked_at is not None:
            raise AccountLockedError
        if method is ProofMethod.PASSKEY:
            await self._passkeys.prove(user, principal.session_id, passkey, actor)
        elif method is ProofMethod.PASSWORD:
            assert password is not None
            right = (
                has_password(user)
                and len(password) <= self._settings.password_max_length
                and (await self._hasher.verify(password, user.password_hash)).valid
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
        proof = await self._record(session, user)
        await self._audit.record(
            "user.reauthenticated",
            AuditAction.SECURITY,
            actor=actor.as_user(str(user.id)),
            target_id=str(user.id),
            details={"session": principal.session_id, "method": method.value},
        )
        return proof

    async def _refuse(self, user: User, method: ProofMethod, actor: Actor) -> None:
        await self._audit.record(
            "user.reauthentication_failed",
            AuditAction.SECURITY,
            actor=actor.as_user(str(user.id)),
            result=AuditResult.FAILURE,
            target_id=str(user.id),
            details={"method": method.value},
        )
        # A stolen session guessing the password counts toward the lock like a login.
        await self._count_failure(user, actor)

    async def _record(self, session: Session, user: User) -> Proof:
        now = self._clock.now()
        assert session.id is not None
        if not await record_authentication(session.id, now):
            raise UnauthenticatedError(_ENDED)  # ended while the proof was checked
        await self._families.forget(str(session.id))  # its auth_time moved
        token, claims = self._access.issue(
            str(session.user_id),
            str(session.id),
            user.role.value,
            mfa=session.mfa,
            amr=session.methods,
            auth_time=now,
        )
        return Proof(
            auth_time=now,
            valid_until=now + timedelta(seconds=self.max_age(STRICTEST_MAX_AGE_SECONDS)),
            access_token=token,
            access_expires_at=claims.exp,
        )

    async def auth_time(self, principal: Principal) -> datetime | None:
        """When this live session last proved who it is (None: the session has ended)."""
        session = await _live_session(principal, self._clock.now())
        return None if session is None else _utc(session.auth_time)

    async def is_recent(self, principal: Principal, max_age_seconds: int) -> bool:
        proved = await self.auth_time(principal)
        limit = timedelta(seconds=self.max_age(max_age_seconds))
        return proved is not None and self._clock.now() < proved + limit

    async def require_recent(self, principal: Principal, max_age_seconds: int) -> None:
        """Raises: ReauthenticationRequiredError, with the proofs this account can give."""
        if await self.is_recent(principal, max_age_seconds):
            return
        raise ReauthenticationRequiredError(
            self.max_age(max_age_seconds), [m.value for m in await self.methods(principal)]
        )

    async def methods(self, principal: Principal) -> list[ProofMethod]:
        """The proofs ``reauthenticate`` accepts from this account."""
        user = await repository.get(principal.user_id)
        found = [] if user is not None and not has_password(user) else [ProofMethod.PASSWORD]
        if await self._mfa.is_enabled(principal.user_id):
            found.append(ProofMethod.TOTP)
            if await self._mfa.remaining_backup_codes(principal.user_id) > 0:
                found.append(ProofMethod.BACKUP_CODE)
        if await self._passkeys.has_passkey(PydanticObjectId(principal.user_id)):
            found.append(ProofMethod.PASSKEY)
        return found


def _method(
    password: str | None, code: str | None, backup_code: str | None, passkey: bool
) -> ProofMethod:
    given = [
        method
        for method, value in (
            (ProofMethod.PASSWORD, password),
            (ProofMethod.TOTP, code),
            (ProofMethod.BACKUP_CODE, backup_code),
        )
        if _given(value)
    ]
    if passkey:
        given.append(ProofMethod.PASSKEY)
    if len(given) == 1:
        return given[0]
    message = (
        "Give your password, a code from your authenticator app, a backup code or a passkey."
        if not given
        else "Give only one of password, code, backupCode or passkey."
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
