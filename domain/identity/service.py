"""Registration, verification, login, the password lifecycle and the profile.

Every method takes plain values and raises typed domain errors; the GraphQL layer
maps them to union results. Answers that could reveal whether an email has an
account (register, resend, reset) are the same either way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from beanie import PydanticObjectId
from loguru import logger
from pymongo.errors import OperationFailure, PyMongoError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.clock import Clock
from domain.core.duplicates import is_unique_violation, unique_violation_as
from domain.core.errors import FieldError, ValidationError
from domain.core.settings import Settings
from domain.email.outbox import Outbox
from domain.identity import email_lookup, repository
from domain.identity.action_tokens import ActionPurpose, ActionTokens, InvalidActionTokenError
from domain.identity.cache import CachedUsers
from domain.identity.documents import NO_USER, User, UserStatus
from domain.identity.errors import (
    AccountDisabledError,
    AccountLockedError,
    EmailNotVerifiedError,
    EmailTakenError,
    InvalidCredentialsError,
)
from domain.identity.passwords import PasswordHasher
from domain.identity.ports import AccountLock
from domain.identity.validation import check_password_policy, validate_email, validate_name
from domain.mfa.challenges import Challenge, MfaChallenges
from domain.mfa.errors import InvalidMfaCodeError, TotpNotEnabledError
from domain.mfa.service import Enrollment, MfaService
from domain.sessions.device import device_label
from domain.sessions.service import IssuedTokens, SessionService

MAX_KNOWN_DEVICES = 20


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """Either tokens, or (for a two-factor account) the challenge to answer first."""

    user: User
    tokens: IssuedTokens | None = None
    challenge: Challenge | None = None


def _fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _public_state(user: User) -> dict[str, object]:
    """What an audit record may keep of a user (no hashes, no secrets)."""
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role.value,
        "status": user.status.value,
        "email_verified": user.email_verified,
    }


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationError(errors)


class IdentityService:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        hasher: PasswordHasher,
        mailer: Outbox,
        sessions: SessionService,
        redis: Redis,
        lockout: AccountLock,
        audit: AuditService,
        users: CachedUsers,
        mfa: MfaService,
        challenges: MfaChallenges,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._hasher = hasher
        self._mailer = mailer
        self._sessions = sessions
        self._redis = redis
        self._tokens = ActionTokens(clock)
        self._lockout = lockout
        self._audit = audit
        self._users = users
        self._mfa = mfa
        self._challenges = challenges

    # ----------------------------------------------------------------- registration

    async def register(
        self, *, email: object, password: object, first_name: object, last_name: object
    ) -> None:
        """Create an account and send the verification email.

        Raises:
            ValidationError: with one FieldError per bad field. An email that already has
                an account is *not* an error: its owner gets a notice instead.
        """
        normalized, errors = validate_email(email)
        first, first_errors = validate_name(first_name, "firstName")
        last, last_errors = validate_name(last_name, "lastName")
        errors += first_errors + last_errors
        context = [v for v in (normalized, first, last) if v]
        if normalized:
            context.append(normalized.split("@", 1)[0])
        errors += check_password_policy(password, settings=self._settings, user_inputs=context)
        _raise_if(errors)
        assert normalized
        assert first
        assert last
        assert isinstance(password, str)

        # Hashed whether or not the email is taken, so both paths cost the same.
        password_hash = await self._hasher.hash(password)
        now = self._clock.now()
        user = User(
            email=normalized,
            first_name=first,
            last_name=last,
            password_hash=password_hash,
            password_changed_at=now,
            created_at=now,
            updated_at=now,
        )
        # The unique email index decides, in one indexed write: no lookup first. From
        # here both outcomes make the same writes and reads in the same collections
        # (the email pointed and looked up, Redis cooldown, audit, token, outbox),
        # so neither the time nor the database traffic says which it was.
        if not await self._insert_user(user):
            await self._register_existing(normalized)
            return
        assert user.id is not None
        try:
            await email_lookup.point(normalized, user.id)
        except PyMongoError:
            # Not found by its email the account could never sign in: undo, so a retry
            # registers it afresh.
            await repository.delete(user)
            raise
        # Read back as sign-in will (the taken path reads the owner the same way).
        if await repository.find_by_email(normalized) is None:
            logger.bind(user_id=str(user.id)).warning("new account not found by its email")
        # The Redis write the taken path makes for its notice cooldown (equal work).
        await self._cooldown("registered", normalized, 60)
        logger.bind(user_id=str(user.id)).info("user registered")
        await self._audit.record(
            "user.registered",
            AuditAction.CREATE,
            actor_id=str(user.id),
            target_id=str(user.id),
            after=_public_state(user),
        )
        await self._send_verification(user)

    async def _insert_user(self, user: User) -> bool:
        """Insert a new user; False when the email is taken (the unique index said so)."""
        try:
            await user.insert()
        except OperationFailure as error:
            if not is_unique_violation(error):
                raise
            return False
        return True

    async def _register_existing(self, email: str) -> None:
        existing = await repository.find_by_email(email)
        if existing is not None and existing.id is not None:
            await email_lookup.point(email, existing.id)
        notify = existing is not None and await self._cooldown("exists", email, 3600)
        await self._audit.record(
            "user.register_existing",
            AuditAction.SECURITY,
            result=AuditResult.FAILURE,
            target_id=str(existing.id) if existing is not None else None,
        )
        if existing is not None and notify:
            await self._decoy_token(ActionPurpose.VERIFY_EMAIL)
            await self._mailer.send("account_exists", existing.email, name=existing.first_name)
        else:
            await self._send_nothing(ActionPurpose.VERIFY_EMAIL, "account_exists")

    async def _decoy_token(self, purpose: ActionPurpose) -> None:
        """The token write of a real email, for nobody (its raw value is dropped, and no
        user has the id it names); expires and is purged like any other."""
        await self._tokens.issue(purpose, NO_USER, timedelta(hours=1))

    async def _send_nothing(self, purpose: ActionPurpose, template: str) -> None:
        """The work of issuing a link and mailing it, where nothing may be sent: for an
        address without an account, or an account that does not qualify."""
        await self._decoy_token(purpose)
        await self._mailer.send_nothing(template)

    async def notify_code_replayed(self, user_id: PydanticObjectId) -> None:
        """A right TOTP code came again for a step already used (the MFA service's replay
        hook): audit it and tell the user, at most once an hour (a double submit does it
        too, so the email says so)."""
        user = await repository.get(user_id)
        if user is None:
            return
        await self._audit.record(
            "user.mfa_replayed",
            AuditAction.SECURITY,
            result=AuditResult.FAILURE,
            target_id=str(user.id),
        )
        if await self._cooldown("totp-replay", str(user.id), 3600):
            await self._mailer.send("totp_replayed", user.email, name=user.first_name)

    async def _notify_existing(self, user: User) -> None:
        if await self._cooldown("exists", user.email, 3600):
            await self._mailer.send("account_exists", user.email, name=user.first_name)

    async def _cooldown(self, kind: str, subject: str, seconds: int) -> bool:
        """True at most once per window per subject: quiet throttling of emails."""
        key = f"{self._settings.redis_key_prefix}cooldown:{kind}:{_fingerprint(subject)}"
        try:
            return bool(await self._redis.set(key, b"1", nx=True, ex=seconds))
        except RedisError as exc:
            # Send rather than fail: the answer must not depend on whether an account exists.
            logger.warning("email cooldown unavailable: {}", exc)
            return True

    async def _send_verification(self, user: User) -> None:
        assert user.id is not None
        ttl = timedelta(seconds=self._settings.email_verification_ttl_seconds)
        raw = await self._tokens.issue(
            ActionPurpose.VERIFY_EMAIL, user.id, ttl, fingerprint=_fingerprint(user.email)
        )
        await self._mailer.send(
            "verify_email",
            user.email,
            name=user.first_name,
            link=self._mailer.link(self._settings.verify_email_path, raw),
            hours=int(ttl.total_seconds() // 3600),
        )

    async def verify_email(self, token: object) -> User:
        """Raises: InvalidActionTokenError."""
        record = await self._tokens.consume(ActionPurpose.VERIFY_EMAIL, token)
        user = await repository.get(record.user_id)
        if user is None or record.fingerprint != _fingerprint(user.email):
            raise InvalidActionTokenError
        if not user.email_verified:
            now = self._clock.now()
            await self._users.update(user, now, email_verified=True, email_verified_at=now)
        await self._audit.record(
            "user.verified", AuditAction.VERIFY, actor_id=str(user.id), target_id=str(user.id)
        )
        return user

    async def resend_verification(self, email: object) -> None:
        """Raises: ValidationError for a malformed email; otherwise always succeeds quietly."""
        normalized, errors = validate_email(email)
        _raise_if(errors)
        assert normalized
        if not await self._cooldown("verify", normalized, 60):
            return
        user = await repository.find_by_email(normalized)
        if user is not None and user.status is UserStatus.ACTIVE and not user.email_verified:
            await self._send_verification(user)
        else:
            await self._send_nothing(ActionPurpose.VERIFY_EMAIL, "verify_email")

    # ----------------------------------------------------------------------- login

    async def login(
        self, *, email: object, password: object, user_agent: str, ip: str
    ) -> LoginOutcome:
        """Raises: ValidationError, InvalidCredentialsError, EmailNotVerifiedError,
        AccountDisabledError."""
        normalized, errors = validate_email(email)
        if not isinstance(password, str) or not password:
            errors.append(FieldError("password", "Enter your password.", "REQUIRED"))
        elif len(password) > self._settings.password_max_length:
            # Longer than any password we accept: refuse before spending a hash on it.
            raise InvalidCredentialsError
        _raise_if(errors)
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
            await self._login_failed(user, "locked", email=normalized)
            await self._lockout.mark_locked(normalized)
            raise AccountLockedError
        if user is None:
            await self._hasher.dummy_verify(password)
            await self._login_failed(None, "unknown_email", email=normalized)
            await self._lockout.record_unknown_failure(normalized)
            raise InvalidCredentialsError
        result = await self._hasher.verify(password, user.password_hash)
        now = self._clock.now()
        if not result.valid:
            await self._login_failed(user, "wrong_password")
            await self._lockout.record_failed_attempt(user)
            raise InvalidCredentialsError
        if user.status is UserStatus.DEACTIVATED:
            await self._login_failed(user, "deactivated")
            raise AccountDisabledError
        if not user.email_verified and not self._settings.allow_unverified_login:
            await self._login_failed(user, "email_not_verified")
            raise EmailNotVerifiedError
        if result.new_hash is not None:
            await self._users.update(user, now, password_hash=result.new_hash)
        assert user.id is not None
        if await self._mfa.is_enabled(user.id):
            challenge = await self._challenges.issue(str(user.id))
            await self._audit.record(
                "user.mfa_challenged", AuditAction.LOGIN, target_id=str(user.id)
            )
            return LoginOutcome(user=user, challenge=challenge)
        return await self._finish_login(user, user_agent=user_agent, ip=ip, mfa=False)

    async def complete_mfa_login(
        self,
        *,
        challenge: object,
        code: str | None,
        backup_code: str | None,
        user_agent: str,
        ip: str,
    ) -> LoginOutcome:
        """The second step of a two-factor sign-in.

        Raises: InvalidActionTokenError (expired or used challenge), InvalidMfaCodeError,
        AccountLockedError, AccountDisabledError.
        """
        user_id = await self._challenges.peek(challenge)
        user = await repository.get(user_id) if user_id else None
        if user is None or user.id is None or user.status is UserStatus.DELETED:
            raise InvalidActionTokenError("This sign-in step has expired. Sign in again.")
        if user.locked_at is not None:
            raise AccountLockedError
        if user.status is UserStatus.DEACTIVATED:
            raise AccountDisabledError
        if not await self._mfa.verify_second_factor(user.id, code, backup_code):
            await self._audit.record(
                "user.mfa_failed",
                AuditAction.LOGIN,
                result=AuditResult.FAILURE,
                target_id=str(user.id),
            )
            await self._lockout.record_failed_attempt(user)
            raise InvalidMfaCodeError
        assert isinstance(challenge, str)
        if await self._challenges.consume(challenge) is None:
            # Another request finished this sign-in a moment ago.
            raise InvalidActionTokenError("This sign-in step has expired. Sign in again.")
        return await self._finish_login(
            user, user_agent=user_agent, ip=ip, mfa=True, backup=bool(backup_code)
        )

    async def _finish_login(
        self, user: User, *, user_agent: str, ip: str, mfa: bool, backup: bool = False
    ) -> LoginOutcome:
        now = self._clock.now()
        first_login = user.last_login_at is None
        device = device_label(user_agent)
        assert user.id is not None
        known_device = device in user.known_devices
        devices = user.known_devices
        if not devices or devices[-1] != device:
            devices = [*(d for d in devices if d != device), device][-MAX_KNOWN_DEVICES:]
        await self._users.update(
            user, now, last_login_at=now, failed_login_count=0, known_devices=devices
        )
        await self._lockout.clear_failures(user.email)
        tokens = await self._sessions.start(user, user_agent=user_agent, ip=ip, mfa=mfa)
        if not first_login and not known_device:
            await self._mailer.send(
                "new_device_login",
                user.email,
                name=user.first_name,
                device=device,
                ip=ip,
                when=now.strftime("%Y-%m-%d %H:%M UTC"),
            )
        logger.bind(user_id=str(user.id), session_id=tokens.session_id).info("login")
        await self._audit.record(
            "user.login",
            AuditAction.LOGIN,
            actor_id=str(user.id),
            target_id=str(user.id),
            details={"session": tokens.session_id, "mfa": mfa, "backup_code": backup},
        )
        return LoginOutcome(user=user, tokens=tokens)

    # ------------------------------------------------------------------- two-factor

    async def _check_password_and_code(
        self, user_id: PydanticObjectId, password: object, code: object
    ) -> User:
        user = await repository.get(user_id)
        if user is None or user.status is not UserStatus.ACTIVE:
            raise InvalidCredentialsError
        if not isinstance(password, str) or not password:
            raise ValidationError([FieldError("password", "Enter your password.", "REQUIRED")])
        if not (await self._hasher.verify(password, user.password_hash)).valid:
            await self._lockout.record_failed_attempt(user)
            raise InvalidCredentialsError("The password is not correct.")
        if not await self._mfa.is_enabled(user_id):
            raise TotpNotEnabledError
        if not await self._mfa.verify_code(user_id, code):
            await self._lockout.record_failed_attempt(user)
            raise InvalidMfaCodeError
        return user

    async def begin_totp_enrollment(self, user_id: PydanticObjectId) -> Enrollment:
        """Raises: TotpAlreadyEnabledError, InvalidCredentialsError."""
        user = await repository.get(user_id)
        if user is None or user.status is not UserStatus.ACTIVE:
            raise InvalidCredentialsError
        return await self._mfa.begin_enrollment(user_id, user.email)

    async def confirm_totp_enrollment(self, user_id: PydanticObjectId, code: object) -> list[str]:
        """Returns the backup codes, shown once. Raises: InvalidMfaCodeError, ..."""
        codes = await self._mfa.confirm_enrollment(user_id, code)
        await self._audit.record("user.mfa_enabled", AuditAction.UPDATE, target_id=str(user_id))
        return codes

    async def regenerate_backup_codes(
        self, user_id: PydanticObjectId, *, password: object, code: object
    ) -> list[str]:
        await self._check_password_and_code(user_id, password, code)
        codes = await self._mfa.regenerate_backup_codes(user_id)
        await self._audit.record(
            "user.mfa_backup_codes_regenerated", AuditAction.UPDATE, target_id=str(user_id)
        )
        return codes

    async def disable_totp(
        self, user_id: PydanticObjectId, *, password: object, code: object
    ) -> None:
        await self._check_password_and_code(user_id, password, code)
        await self._mfa.disable(user_id)
        await self._audit.record("user.mfa_disabled", AuditAction.UPDATE, target_id=str(user_id))

    async def challenge_owner(self, challenge: object) -> str | None:
        """Whose sign-in this challenge continues (for per-account limits)."""
        return await self._challenges.peek(challenge)

    async def two_factor_enabled(self, user_id: PydanticObjectId | str) -> bool:
        return await self._mfa.is_enabled(user_id)

    async def _login_failed(self, user: User | None, reason: str, email: str = "") -> None:
        details: dict[str, object] = {"reason": reason}
        if user is None:
            # Who was tried, without keeping the address of someone who is not a user.
            details["email_fingerprint"] = _fingerprint(email)
        await self._audit.record(
            "user.login_failed",
            AuditAction.LOGIN,
            result=AuditResult.FAILURE,
            target_id=str(user.id) if user else None,
            details=details,
        )

    # -------------------------------------------------------------------- passwords

    async def _check_new_password(self, user: User, new_password: object, field: str) -> str:
        errors = check_password_policy(
            new_password,
            settings=self._settings,
            user_inputs=[user.email, user.email.split("@", 1)[0], user.first_name, user.last_name],
            field=field,
        )
        _raise_if(errors)
        assert isinstance(new_password, str)
        size = self._settings.password_history_size
        recent = [user.password_hash, *user.password_history][:size]
        if size and await self._hasher.matches_any(new_password, recent):
            raise ValidationError(
                [
                    FieldError(
                        field,
                        f"Choose a password you have not used for your last {size} passwords.",
                        "PASSWORD_REUSED",
                    )
                ]
            )
        return new_password

    async def _set_password(self, user: User, new_password: str) -> None:
        new_hash = await self._hasher.hash(new_password)
        history = [user.password_hash, *user.password_history][
            : max(self._settings.password_history_size - 1, 0)
        ]
        now = self._clock.now()
        await self._users.update(
            user,
            now,
            password_hash=new_hash,
            password_history=history,
            password_changed_at=now,
            failed_login_count=0,
        )

    async def change_password(
        self,
        user_id: PydanticObjectId,
        *,
        current_password: object,
        new_password: object,
        current_session_id: str | None,
    ) -> int:
        """Change the password and end every other session; returns how many ended.

        Raises: InvalidCredentialsError (current password wrong), ValidationError.
        """
        user = await repository.get(user_id)
        if user is None or user.status is not UserStatus.ACTIVE:
            raise InvalidCredentialsError
        if not isinstance(current_password, str) or not current_password:
            raise ValidationError(
                [FieldError("currentPassword", "Enter your current password.", "REQUIRED")]
            )
        if not (await self._hasher.verify(current_password, user.password_hash)).valid:
            # A stolen session guessing the password counts toward the lock like a login.
            await self._lockout.record_failed_attempt(user)
            raise InvalidCredentialsError("The current password is not correct.")
        password = await self._check_new_password(user, new_password, "newPassword")
        await self._set_password(user, password)
        await self._tokens.revoke_all(user_id, ActionPurpose.RESET_PASSWORD)
        ended = await self._sessions.revoke_all(
            user_id, reason="password_changed", keep_session_id=current_session_id
        )
        await self._audit.record(
            "user.password_changed",
            AuditAction.UPDATE,
            target_id=str(user_id),
            details={"other_sessions_ended": ended},
        )
        await self._mailer.send("password_changed", user.email, name=user.first_name)
        return ended

    async def request_password_reset(self, email: object) -> None:
        """Raises: ValidationError for a malformed email; otherwise always succeeds quietly."""
        normalized, errors = validate_email(email)
        _raise_if(errors)
        assert normalized
        if not await self._cooldown("reset", normalized, 60):
            return
        user = await repository.find_by_email(normalized)
        if user is None or user.status is not UserStatus.ACTIVE or user.id is None:
            await self._send_nothing(ActionPurpose.RESET_PASSWORD, "password_reset")
            return
        ttl = timedelta(seconds=self._settings.password_reset_ttl_seconds)
        raw = await self._tokens.issue(
            ActionPurpose.RESET_PASSWORD, user.id, ttl, fingerprint=_fingerprint(user.password_hash)
        )
        await self._mailer.send(
            "password_reset",
            user.email,
            name=user.first_name,
            link=self._mailer.link(self._settings.reset_password_path, raw),
            minutes=int(ttl.total_seconds() // 60),
        )

    async def reset_password(self, *, token: object, new_password: object) -> None:
        """Raises: InvalidActionTokenError, ValidationError.

        The policy is checked before the token is spent, so a weak password does not
        cost the user their link.
        """
        if not isinstance(new_password, str):
            raise ValidationError([FieldError("newPassword", "Enter a password.", "REQUIRED")])
        record = await self._tokens.peek(ActionPurpose.RESET_PASSWORD, token)
        user = await repository.get(record.user_id)
        if user is None:
            raise InvalidActionTokenError
        await self._check_new_password(user, new_password, "newPassword")
        record = await self._tokens.consume(ActionPurpose.RESET_PASSWORD, token)
        if user.status is not UserStatus.ACTIVE or record.fingerprint != _fingerprint(
            user.password_hash
        ):
            raise InvalidActionTokenError
        await self._set_password(user, new_password)
        assert user.id is not None
        await self._tokens.revoke_all(user.id, ActionPurpose.RESET_PASSWORD)
        if user.locked_at is not None:
            # The reset proved control of the mailbox, as the unlock link would.
            await self._lockout.unlock(user)
        await self._sessions.revoke_all(user.id, reason="password_reset")
        await self._audit.record(
            "user.password_reset", AuditAction.UPDATE, actor_id=str(user.id), target_id=str(user.id)
        )
        await self._mailer.send("password_changed", user.email, name=user.first_name)

    # ---------------------------------------------------------------------- profile

    async def get_user(self, user_id: PydanticObjectId | str) -> User | None:
        """The user, from the cache when possible (the hot path of ``me``)."""
        return await self._users.get(user_id)

    async def update_profile(
        self, user_id: PydanticObjectId, *, first_name: object = None, last_name: object = None
    ) -> User:
        """Raises: ValidationError, InvalidCredentialsError (no such active user)."""
        user = await repository.get(user_id)
        if user is None or user.status is not UserStatus.ACTIVE:
            raise InvalidCredentialsError
        changes: dict[str, object] = {}
        errors: list[FieldError] = []
        for field, raw, attr in (
            ("firstName", first_name, "first_name"),
            ("lastName", last_name, "last_name"),
        ):
            if raw is None:
                continue
            value, problems = validate_name(raw, field)
            errors += problems
            if value is not None:
                changes[attr] = value
        _raise_if(errors)
        if changes:
            before = _public_state(user)
            await self._users.update(user, self._clock.now(), **changes)
            await self._audit.record(
                "user.profile_updated",
                AuditAction.UPDATE,
                target_id=str(user_id),
                before=before,
                after=_public_state(user),
            )
        return user

    async def request_email_change(
        self, user_id: PydanticObjectId, *, new_email: object, current_password: object
    ) -> None:
        """Send a confirmation link to the new address and a notice to the old one.

        Raises: ValidationError, InvalidCredentialsError, EmailTakenError.
        """
        normalized, errors = validate_email(new_email, "newEmail")
        if not isinstance(current_password, str) or not current_password:
            errors.append(FieldError("currentPassword", "Enter your current password.", "REQUIRED"))
        _raise_if(errors)
        assert normalized
        assert isinstance(current_password, str)
        user = await repository.get(user_id)
        if user is None or user.status is not UserStatus.ACTIVE or user.id is None:
            raise InvalidCredentialsError
        if not (await self._hasher.verify(current_password, user.password_hash)).valid:
            # A stolen session guessing the password counts toward the lock like a login.
            await self._lockout.record_failed_attempt(user)
            raise InvalidCredentialsError("The current password is not correct.")
        if normalized == user.email:
            raise ValidationError(
                [FieldError("newEmail", "This is already your email address.", "UNCHANGED")]
            )
        if await repository.find_by_email(normalized) is not None:
            raise EmailTakenError
        ttl = timedelta(seconds=self._settings.email_change_ttl_seconds)
        raw = await self._tokens.issue(
            ActionPurpose.CHANGE_EMAIL,
            user.id,
            ttl,
            fingerprint=_fingerprint(user.email),
            new_email=normalized,
        )
        await self._mailer.send(
            "email_change_confirm",
            normalized,
            name=user.first_name,
            link=self._mailer.link(self._settings.confirm_email_change_path, raw),
            hours=int(ttl.total_seconds() // 3600),
        )
        await self._audit.record(
            "user.email_change_requested",
            AuditAction.UPDATE,
            target_id=str(user.id),
            details={"new_email": _mask_email(normalized)},
        )
        await self._mailer.send(
            "email_change_notice",
            user.email,
            name=user.first_name,
            new_email_masked=_mask_email(normalized),
        )

    async def confirm_email_change(self, token: object) -> User:
        """Raises: InvalidActionTokenError, EmailTakenError."""
        # The link is spent only if the change is made: a loser of a race for the address
        # (EmailTaken) keeps a working link, for when the address is free again.
        async with self._tokens.redeeming(ActionPurpose.CHANGE_EMAIL, token) as record:
            user = await repository.get(record.user_id)
            if (
                user is None
                or user.id is None
                or record.new_email is None
                or record.fingerprint != _fingerprint(user.email)
            ):
                raise InvalidActionTokenError
            # The common case gets a clear answer before any write; the unique index
            # decides a race, through the one mapping of its violation (core/duplicates).
            if await repository.find_by_email(record.new_email) is not None:
                raise EmailTakenError
            old_email = user.email
            now = self._clock.now()
            with unique_violation_as(EmailTakenError):
                await self._users.update(
                    user, now, email=record.new_email, email_verified=True, email_verified_at=now
                )
            try:
                await email_lookup.point(user.email, user.id)
            except PyMongoError:
                # Not reachable by its new address: put the old one back, keep the link.
                await self._users.update(user, self._clock.now(), email=old_email)
                raise
        await email_lookup.release(old_email, user.id)
        # Links already mailed to the old address (a reset above all) must not outlive the
        # move: whoever still reads that mailbox could otherwise take the account back.
        await self._tokens.revoke_all(user.id, ActionPurpose.RESET_PASSWORD)
        # A new sign-in name is a credential change: every session signs in again.
        await self._sessions.revoke_all(user.id, reason="email_changed")
        await self._audit.record(
            "user.email_changed",
            AuditAction.UPDATE,
            actor_id=str(user.id),
            target_id=str(user.id),
            before={"email": old_email},
            after={"email": user.email},
        )
        return user
