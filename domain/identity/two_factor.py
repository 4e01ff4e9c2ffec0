"""A user's own second factor: enrol, confirm, new backup codes, turn it off (the
notice when a right code comes again is domain/identity/replay_notice.py).
"""

from __future__ import annotations

from beanie import PydanticObjectId

from domain.audit.documents import AuditAction
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.errors import FieldError, ValidationError
from domain.identity import repository
from domain.identity.documents import User, UserStatus
from domain.identity.errors import InvalidCredentialsError
from domain.identity.passwords import PasswordHasher
from domain.identity.ports import AccountLock
from domain.mfa.errors import InvalidMfaCodeError, TotpNotEnabledError
from domain.mfa.service import Enrollment, MfaService


class TwoFactorService:
    def __init__(
        self,
        hasher: PasswordHasher,
        lockout: AccountLock,
        audit: AuditService,
        mfa: MfaService,
    ) -> None:
        self._hasher = hasher
        self._lockout = lockout
        self._audit = audit
        self._mfa = mfa

    async def _check_password_and_code(
        self, user_id: PydanticObjectId, password: object, code: object, actor: Actor
    ) -> User:
        user = await repository.get(user_id)
        if user is None or user.status is not UserStatus.ACTIVE:
            raise InvalidCredentialsError
        if not isinstance(password, str) or not password:
            raise ValidationError([FieldError("password", "Enter your password.", "REQUIRED")])
        if not (await self._hasher.verify(password, user.password_hash)).valid:
            await self._lockout.record_failed_attempt(user, actor)
            raise InvalidCredentialsError("The password is not correct.")
        if not await self._mfa.is_enabled(user_id):
            raise TotpNotEnabledError
        if not await self._mfa.verify_code(user_id, code, actor):
            await self._lockout.record_failed_attempt(user, actor)
            raise InvalidMfaCodeError
        return user

    async def begin_totp_enrollment(self, user_id: PydanticObjectId) -> Enrollment:
        """Raises: TotpAlreadyEnabledError, InvalidCredentialsError."""
        user = await repository.get(user_id)
        if user is None or user.status is not UserStatus.ACTIVE:
            raise InvalidCredentialsError
        return await self._mfa.begin_enrollment(user_id, user.email)

    async def confirm_totp_enrollment(
        self, user_id: PydanticObjectId, code: object, actor: Actor
    ) -> list[str]:
        """Returns the backup codes, shown once. Raises: InvalidMfaCodeError, ..."""
        codes = await self._mfa.confirm_enrollment(user_id, code, actor)
        await self._audit.record(
            "user.mfa_enabled", AuditAction.UPDATE, actor=actor, target_id=str(user_id)
        )
        return codes

    async def regenerate_backup_codes(
        self, user_id: PydanticObjectId, *, password: object, code: object, actor: Actor
    ) -> list[str]:
        await self._check_password_and_code(user_id, password, code, actor)
        codes = await self._mfa.regenerate_backup_codes(user_id)
        await self._audit.record(
            "user.mfa_backup_codes_regenerated",
            AuditAction.UPDATE,
            actor=actor,
            target_id=str(user_id),
        )
        return codes

    async def disable_totp(
        self, user_id: PydanticObjectId, *, password: object, code: object, actor: Actor
    ) -> None:
        await self._check_password_and_code(user_id, password, code, actor)
        await self._mfa.disable(user_id)
        await self._audit.record(
            "user.mfa_disabled", AuditAction.UPDATE, actor=actor, target_id=str(user_id)
        )
