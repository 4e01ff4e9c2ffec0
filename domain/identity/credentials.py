"""The credentials a user signs in with: the password (change, reset, history) and the
email address (change, confirmed by a link to the new address).
"""

from __future__ import annotations

from datetime import timedelta

from beanie import PydanticObjectId
from pymongo.errors import PyMongoError

from domain.audit.documents import AuditAction
from domain.audit.service import AuditService
from domain.breached.checker import BreachedPasswords
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.core.duplicates import unique_violation_as
from domain.core.errors import FieldError, ValidationError
from domain.core.settings import Settings
from domain.email.outbox import Outbox
from domain.identity import email_lookup, repository
from domain.identity.action_tokens import ActionPurpose, ActionTokens, InvalidActionTokenError
from domain.identity.cache import CachedUsers
from domain.identity.common import fingerprint, mask_email, raise_if
from domain.identity.documents import User, UserStatus
from domain.identity.errors import (
    EmailTakenError,
    InvalidCredentialsError,
)
from domain.identity.passwords import PasswordHasher
from domain.identity.ports import AccountLock
from domain.identity.quiet_mail import QuietMail
from domain.identity.registration import IsReserved
from domain.identity.validation import check_password_policy, validate_email
from domain.sessions.service import SessionService


class CredentialsService:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        hasher: PasswordHasher,
        mailer: Outbox,
        tokens: ActionTokens,
        quiet: QuietMail,
        sessions: SessionService,
        lockout: AccountLock,
        audit: AuditService,
        users: CachedUsers,
        breached: BreachedPasswords,
        is_reserved: IsReserved,
    ) -> None:
        self._is_reserved = is_reserved
        self._settings = settings
        self._clock = clock
        self._hasher = hasher
        self._mailer = mailer
        self._tokens = tokens
        self._quiet = quiet
        self._sessions = sessions
        self._lockout = lockout
        self._audit = audit
        self._users = users
        self._breached = breached

    async def _taken(self, normalized_email: str) -> bool:
        """Held by an account, or reserved after an erasure (domain/privacy/tombstones.py):
        an erased person's address is not taken over by another account meanwhile."""
        if await repository.find_by_email(normalized_email) is not None:
            return True
        return await self._is_reserved(normalized_email)

    async def _check_new_password(self, user: User, new_password: object, field: str) -> str:
        errors = check_password_policy(
            new_password,
            settings=self._settings,
            user_inputs=[user.email, user.email.split("@", 1)[0], user.first_name, user.last_name],
            field=field,
        )
        raise_if(errors)
        raise_if(await self._breached.new_password_problems(new_password, field))
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
            password_breached_at=None,
        )

    async def change_password(
        self,
        user_id: PydanticObjectId,
        *,
        current_password: object,
        new_password: object,
        current_session_id: str | None,
        actor: Actor,
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
            await self._lockout.record_failed_attempt(user, actor)
            raise InvalidCredentialsError("The current password is not correct.")
        password = await self._check_new_password(user, new_password, "newPassword")
        await self._set_password(user, password)
        await self._tokens.revoke_all(user_id, ActionPurpose.RESET_PASSWORD)
        ended = await self._sessions.revoke_all(
            user_id, reason="password_changed", actor=actor, keep_session_id=current_session_id
        )
        await self._audit.record(
            "user.password_changed",
            AuditAction.UPDATE,
            actor=actor,
            target_id=str(user_id),
            details={"other_sessions_ended": ended},
        )
        await self._mailer.send(
            "password_changed", user.email, user_id=user.id, name=user.first_name
        )
        return ended

    async def request_password_reset(self, email: object) -> None:
        """Raises: ValidationError for a malformed email; otherwise always succeeds quietly."""
        normalized, errors = validate_email(email)
        raise_if(errors)
        assert normalized
        if not await self._quiet.cooldown("reset", normalized, 60):
            return
        user = await repository.find_by_email(normalized)
        if user is None or user.status is not UserStatus.ACTIVE or user.id is None:
            await self._quiet.send_nothing(ActionPurpose.RESET_PASSWORD, "password_reset")
            return
        ttl = timedelta(seconds=self._settings.password_reset_ttl_seconds)
        raw = await self._tokens.issue(
            ActionPurpose.RESET_PASSWORD, user.id, ttl, fingerprint=fingerprint(user.password_hash)
        )
        await self._mailer.send(
            "password_reset",
            user.email,
            user_id=user.id,
            name=user.first_name,
            link=self._mailer.link(self._settings.reset_password_path, raw),
            minutes=int(ttl.total_seconds() // 60),
        )

    async def reset_password(self, *, token: object, new_password: object, actor: Actor) -> None:
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
        if user.status is not UserStatus.ACTIVE or record.fingerprint != fingerprint(
            user.password_hash
        ):
            raise InvalidActionTokenError
        await self._set_password(user, new_password)
        assert user.id is not None
        await self._tokens.revoke_all(user.id, ActionPurpose.RESET_PASSWORD)
        if user.locked_at is not None:
            # The reset proved control of the mailbox, as the unlock link would.
            await self._lockout.unlock(user, actor)
        await self._sessions.revoke_all(user.id, reason="password_reset", actor=actor)
        await self._audit.record(
            "user.password_reset",
            AuditAction.UPDATE,
            actor=actor.as_user(str(user.id)),
            target_id=str(user.id),
        )
        await self._mailer.send(
            "password_changed", user.email, user_id=user.id, name=user.first_name
        )

    async def request_email_change(
        self,
        user_id: PydanticObjectId,
        *,
        new_email: object,
        current_password: object,
        actor: Actor,
    ) -> None:
        """Send a confirmation link to the new address and a notice to the old one.

        Raises: ValidationError, InvalidCredentialsError, EmailTakenError.
        """
        normalized, errors = validate_email(new_email, "newEmail")
        if not isinstance(current_password, str) or not current_password:
            errors.append(FieldError("currentPassword", "Enter your current password.", "REQUIRED"))
        raise_if(errors)
        assert normalized
        assert isinstance(current_password, str)
        user = await repository.get(user_id)
        if user is None or user.status is not UserStatus.ACTIVE or user.id is None:
            raise InvalidCredentialsError
        if not (await self._hasher.verify(current_password, user.password_hash)).valid:
            # A stolen session guessing the password counts toward the lock like a login.
            await self._lockout.record_failed_attempt(user, actor)
            raise InvalidCredentialsError("The current password is not correct.")
        if normalized == user.email:
            raise ValidationError(
                [FieldError("newEmail", "This is already your email address.", "UNCHANGED")]
            )
        if await self._taken(normalized):
            raise EmailTakenError
        ttl = timedelta(seconds=self._settings.email_change_ttl_seconds)
        raw = await self._tokens.issue(
            ActionPurpose.CHANGE_EMAIL,
            user.id,
            ttl,
            fingerprint=fingerprint(user.email),
            new_email=normalized,
        )
        await self._mailer.send(
            "email_change_confirm",
            normalized,
            user_id=user.id,
            name=user.first_name,
            link=self._mailer.link(self._settings.confirm_email_change_path, raw),
            hours=int(ttl.total_seconds() // 3600),
        )
        await self._audit.record(
            "user.email_change_requested",
            AuditAction.UPDATE,
            actor=actor,
            target_id=str(user.id),
            details={"new_email": mask_email(normalized)},
        )
        await self._mailer.send(
            "email_change_notice",
            user.email,
            user_id=user.id,
            name=user.first_name,
            new_email_masked=mask_email(normalized),
        )

    async def confirm_email_change(self, token: object, actor: Actor) -> User:
        """Raises: InvalidActionTokenError, EmailTakenError."""
        # The link is spent only if the change is made: a loser of a race for the address
        # (EmailTaken) keeps a working link, for when the address is free again.
        async with self._tokens.redeeming(ActionPurpose.CHANGE_EMAIL, token) as record:
            user = await repository.get(record.user_id)
            if (
                user is None
                or user.id is None
                or record.new_email is None
                or record.fingerprint != fingerprint(user.email)
            ):
                raise InvalidActionTokenError
            # The common case gets a clear answer before any write; the unique index
            # decides a race, through the one mapping of its violation (core/duplicates).
            if await self._taken(record.new_email):
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
        await self._sessions.revoke_all(user.id, reason="email_changed", actor=actor)
        await self._audit.record(
            "user.email_changed",
            AuditAction.UPDATE,
            actor=actor.as_user(str(user.id)),
            target_id=str(user.id),
            before={"email": old_email},
            after={"email": user.email},
        )
        return user
