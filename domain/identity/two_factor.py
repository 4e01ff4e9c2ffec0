"""A user's own second factor: enrol, confirm, new backup codes, turn it off; and the
notice when a right code comes again (the MFA service refuses the replay and calls
``notify_code_replayed``).
"""

from __future__ import annotations

from beanie import PydanticObjectId

from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.errors import FieldError, ValidationError
from domain.email.outbox import Outbox
from domain.identity import repository
from domain.identity.documents import User, UserStatus
from domain.identity.errors import InvalidCredentialsError
from domain.identity.passwords import PasswordHasher
from domain.identity.ports import AccountLock
from domain.identity.quiet_mail import QuietMail
from domain.mfa.errors import InvalidMfaCodeError, TotpNotEnabledError
from domain.mfa.service import Enrollment, MfaService


class TwoFactorService:
    def __init__(
        self,
        hasher: PasswordHasher,
        mailer: Outbox,
        quiet: QuietMail,
        lockout: AccountLock,
        audit: AuditService,
        mfa: MfaService,
    ) -> None:
        self._hasher = hasher
        self._mailer = mailer
        self._quiet = quiet
        self._lockout = lockout
        self._audit = audit
        self._mfa = mfa

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
        if await self._quiet.cooldown("totp-replay", str(user.id), 3600):
            await self._mailer.send("totp_replayed", user.email, name=user.first_name)
