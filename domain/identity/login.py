"""Sign-in: the password step, the hand-off to a second factor, and the session it opens.

The lock and the throttle are the lockout slice's (asked through ``AccountLock``); an
unknown address, a wrong password, an account without a password and a locked account
cost the same hashing work. Other first steps (an emailed code, a passkey) hand their
proven user to ``second_step``; every sign-in ends in ``_finish_login``, which records
how it was proved (RFC 8176 ``amr``, domain/tokens/methods.py) on the session. A device
trusted after a second factor (``deviceToken``, domain/mfa/trusted_devices.py) skips it,
unless the sign-in comes from a country new to the account and the settings say that
needs the factor (domain/location/). The end of every sign-in tells the owner of a new
device or an unusual location (domain/location/notices.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from beanie import PydanticObjectId
from loguru import logger

from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.core.errors import FieldError
from domain.core.settings import Settings
from domain.identity import repository
from domain.identity.action_tokens import InvalidActionTokenError
from domain.identity.breached_sign_in import BreachedSignIn
from domain.identity.cache import CachedUsers
from domain.identity.common import fingerprint, raise_if
from domain.identity.documents import User, UserStatus
from domain.identity.errors import (
    AccountDisabledError,
    AccountLockedError,
    EmailNotVerifiedError,
    InvalidCredentialsError,
)
from domain.identity.passwords import PasswordHasher
from domain.identity.ports import AccountLock
from domain.identity.validation import validate_email
from domain.location.notices import Recipient, SignInLocations
from domain.location.signals import LocationHistory
from domain.mfa.challenges import Challenge, MfaChallenges
from domain.mfa.errors import InvalidMfaCodeError
from domain.mfa.service import MfaService
from domain.mfa.trusted_devices import TrustedDevices
from domain.sessions.device import device_label
from domain.sessions.service import IssuedTokens, SessionService
from domain.tokens.methods import (
    HARDWARE_KEY,
    ONE_TIME_CODE,
    PASSWORD,
    is_multi_factor,
    legacy_methods,
    sign_in_methods,
)

MAX_KNOWN_DEVICES = 20
# Whether the account has a passkey (domain/passkeys/, which depends on this slice).
PasskeyCheck = Callable[[PydanticObjectId], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """Either tokens, or (for a two-factor account) the challenge to answer first."""

    user: User
    tokens: IssuedTokens | None = None
    challenge: Challenge | None = None
    # What can answer the challenge: "totp", "backup_code", and "passkey" when the
    # account has one (and the first step was not a passkey already).
    methods: tuple[str, ...] = ()
    # A trusted-device token granted with the tokens (``rememberDevice``).
    device_token: str | None = None


def has_password(user: User) -> bool:
    """Whether the account can sign in with a password (an account whose address an
    emailed code verified has none until it sets one; domain/passwordless/)."""
    return bool(user.password_hash)


class LoginService:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        hasher: PasswordHasher,
        sessions: SessionService,
        lockout: AccountLock,
        audit: AuditService,
        users: CachedUsers,
        mfa: MfaService,
        challenges: MfaChallenges,
        trusted: TrustedDevices,
        has_passkey: PasskeyCheck,
        locations: SignInLocations,
        breached: BreachedSignIn,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._hasher = hasher
        self._sessions = sessions
        self._lockout = lockout
        self._audit = audit
        self._users = users
        self._mfa = mfa
        self._challenges = challenges
        self._trusted = trusted
        self._has_passkey = has_passkey
        self._locations = locations
        self._breached = breached

    async def login(
        self, *, email: object, password: object, actor: Actor, device_token: object = None
    ) -> LoginOutcome:
        """Raises: ValidationError, InvalidCredentialsError, EmailNotVerifiedError,
        AccountDisabledError, PasswordChangeRequiredError (a breached password, under
        ``breached_password_sign_in=require``)."""
        normalized, errors = validate_email(email)
        if not isinstance(password, str) or not password:
            errors.append(FieldError("password", "Enter your password.", "REQUIRED"))
        elif len(password) > self._settings.password_max_length:
            # Longer than any password we accept: refuse before spending a hash on it.
            raise InvalidCredentialsError
        raise_if(errors)
        assert normalized
        assert isinstance(password, str)

        # The lock and the throttle are keyed by the address, for accounts and
        # non-accounts alike, and a lock answers before any throttle, so neither says
        # whether the account exists (security review, finding 5).
        locked = await self._lockout.check(normalized)
        # The same reads whether or not the address has an account (email_lookup.py).
        user = await repository.find_by_email(normalized)
        if user is not None and user.status is UserStatus.DELETED:
            user = None
        if locked or (user is not None and user.locked_at is not None):
            # Same work as a real attempt, and no hint whether the password was right.
            await self._hasher.dummy_verify(password)
            await self._login_failed(user, "locked", actor, email=normalized)
            await self._lockout.mark_locked(normalized)
            raise AccountLockedError
        if user is None:
            await self._hasher.dummy_verify(password)
            await self._login_failed(None, "unknown_email", actor, email=normalized)
            await self._lockout.record_unknown_failure(normalized, actor)
            raise InvalidCredentialsError
        if not has_password(user):
            # No password to check: the same work, and the same answer as a wrong one.
            await self._hasher.dummy_verify(password)
            await self._login_failed(user, "no_password", actor)
            await self._lockout.record_failed_attempt(user, actor)
            raise InvalidCredentialsError
        result = await self._hasher.verify(password, user.password_hash)
        now = self._clock.now()
        if not result.valid:
            await self._login_failed(user, "wrong_password", actor)
            await self._lockout.record_failed_attempt(user, actor)
            raise InvalidCredentialsError
        if user.status is UserStatus.DEACTIVATED:
            await self._login_failed(user, "deactivated", actor)
            raise AccountDisabledError
        if not user.email_verified and not self._settings.allow_unverified_login:
            await self._login_failed(user, "email_not_verified", actor)
            raise EmailNotVerifiedError
        if result.new_hash is not None:
            await self._users.update(user, now, password_hash=result.new_hash)
        # Only now, with the password proved right: nothing about it is looked up for
        # a wrong password or an unknown address (domain/identity/breached_sign_in.py).
        await self._breached.password_proved(user, password, actor)
        return await self.second_step(user, actor, first=(PASSWORD,), device_token=device_token)

    async def second_step(
        self, user: User, actor: Actor, *, first: Sequence[str], device_token: object = None
    ) -> LoginOutcome:
        """After a first step proved ``user`` (``first``: its RFC 8176 methods): the
        session, or for a two-factor account the challenge, unless this device is
        trusted for the account."""
        assert user.id is not None
        if not await self._mfa.is_enabled(user.id):
            return await self._finish_login(user, actor, sign_in_methods(first, multi_factor=False))
        location = self._locations.assess(_history(user), actor.ip, self._clock.now())
        forced = self._locations.forces_second_factor(location)
        if (
            device_token is not None
            and not forced
            and await self._trusted.trusts(user.id, device_token, actor)
        ):
            amr = sign_in_methods(first, multi_factor=True)
            return await self._finish_login(user, actor, amr, trusted_device=True)
        challenge = await self._challenges.issue(str(user.id), first)
        await self._audit.record(
            "user.mfa_challenged",
            AuditAction.LOGIN,
            actor=actor,
            target_id=str(user.id),
            details={"new_country": forced} if forced else None,
        )
        methods = ["totp", "backup_code"]
        if HARDWARE_KEY not in first and await self._has_passkey(user.id):
            methods.append("passkey")
        return LoginOutcome(user=user, challenge=challenge, methods=tuple(methods))

    async def complete_mfa_login(
        self,
        *,
        challenge: object,
        code: str | None,
        backup_code: str | None,
        actor: Actor,
        remember_device: bool = False,
    ) -> LoginOutcome:
        """The second step of a two-factor sign-in; ``remember_device`` grants this
        device a trusted-device token (returned on the outcome).

        Raises: InvalidActionTokenError (expired or used challenge), InvalidMfaCodeError,
        AccountLockedError, AccountDisabledError, PasswordChangeRequiredError.
        """
        user_id = await self._challenges.peek(challenge)
        user = await repository.get(user_id) if user_id else None
        if user is None or user.id is None or user.status is UserStatus.DELETED:
            raise InvalidActionTokenError("This sign-in step has expired. Sign in again.")
        if user.locked_at is not None:
            raise AccountLockedError
        if user.status is UserStatus.DEACTIVATED:
            raise AccountDisabledError
        if not await self._mfa.verify_second_factor(user.id, code, backup_code, actor):
            await self._audit.record(
                "user.mfa_failed",
                AuditAction.LOGIN,
                actor=actor,
                result=AuditResult.FAILURE,
                target_id=str(user.id),
            )
            await self._lockout.record_failed_attempt(user, actor)
            raise InvalidMfaCodeError
        assert isinstance(challenge, str)
        pending = await self._challenges.consume(challenge)
        if pending is None:
            # Another request finished this sign-in a moment ago.
            raise InvalidActionTokenError("This sign-in step has expired. Sign in again.")
        amr = sign_in_methods((*pending.first_step, ONE_TIME_CODE), multi_factor=True)
        outcome = await self._finish_login(user, actor, amr, backup=bool(backup_code))
        if not remember_device:
            return outcome
        device = device_label(actor.user_agent)
        token = await self._trusted.grant(user.id, device=device, actor=actor)
        return LoginOutcome(user=user, tokens=outcome.tokens, device_token=token)

    async def _finish_login(
        self,
        user: User,
        actor: Actor,
        amr: Sequence[str],
        *,
        backup: bool = False,
        trusted_device: bool = False,
    ) -> LoginOutcome:
        # A breached password under "require" opens no session, whatever the second step.
        await self._breached.hold_if_required(user, amr, actor)
        user_agent, ip = actor.user_agent, actor.ip
        now = self._clock.now()
        first_login = user.last_login_at is None
        device = device_label(user_agent)
        assert user.id is not None
        known_device = device in user.known_devices
        devices = user.known_devices
        if not devices or devices[-1] != device:
            devices = [*(d for d in devices if d != device), device][-MAX_KNOWN_DEVICES:]
        location = self._locations.assess(_history(user), ip, now)
        await self._users.update(
            user,
            now,
            last_login_at=now,
            failed_login_count=0,
            known_devices=devices,
            **location.remembered,
        )
        await self._lockout.clear_failures(user.email)
        mfa = is_multi_factor(amr)
        tokens = await self._sessions.start(user, user_agent=user_agent, ip=ip, mfa=mfa, amr=amr)
        await self._locations.announce(
            Recipient(str(user.id), user.email, user.first_name),
            actor,
            location,
            device=device,
            new_device=not first_login and not known_device,
            now=now,
            multi_factor=mfa,
        )
        logger.bind(user_id=str(user.id), session_id=tokens.session_id).info("login")
        await self._audit.record(
            "user.login",
            AuditAction.LOGIN,
            actor=actor.as_user(str(user.id)),
            target_id=str(user.id),
            details={
                "session": tokens.session_id,
                "mfa": mfa,
                "amr": " ".join(amr),  # RFC 8176 values; the trail keeps scalars
                "backup_code": backup,
                "trusted_device": trusted_device,
            },
        )
        return LoginOutcome(user=user, tokens=tokens)

    async def sign_in_proven(
        self,
        user: User,
        actor: Actor,
        *,
        mfa: bool = False,
        amr: Sequence[str] | None = None,
    ) -> LoginOutcome:
        """Open the session of a user another authenticator has proved (a passkey,
        domain/passkeys/sign_in.py) with the RFC 8176 methods ``amr``, through the same
        end as a password sign-in. Without ``amr``: a password, and a code when ``mfa``."""
        return await self._finish_login(
            user, actor, amr if amr is not None else legacy_methods(mfa)
        )

    async def challenge_owner(self, challenge: object) -> str | None:
        """Whose sign-in this challenge continues (for per-account limits)."""
        return await self._challenges.peek(challenge)

    async def _login_failed(
        self, user: User | None, reason: str, actor: Actor, email: str = ""
    ) -> None:
        details: dict[str, object] = {"reason": reason}
        if user is None:
            # Who was tried, without keeping the address of someone who is not a user.
            details["email_fingerprint"] = fingerprint(email)
        await self._audit.record(
            "user.login_failed",
            AuditAction.LOGIN,
            actor=actor,
            result=AuditResult.FAILURE,
            target_id=str(user.id) if user else None,
            details=details,
        )


def _history(user: User) -> LocationHistory:
    return LocationHistory(user.known_countries, user.last_country, user.last_country_at)
