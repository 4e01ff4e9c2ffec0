"""Expected failures as data: the members of mutation result unions.

Each has a human ``message`` and a stable ``code``. ``USER_ERROR_TYPES`` says which
member each domain error becomes; schema/error_mapping.py applies it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import strawberry

from domain.core.errors import (
    DomainError,
    FieldError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    ValidationError,
)
from domain.identity.action_tokens import InvalidActionTokenError
from domain.identity.errors import (
    AccountDisabledError,
    AccountLockedError,
    EmailNotVerifiedError,
    EmailTakenError,
    InvalidCredentialsError,
    PasswordChangeRequiredError,
    ReauthenticationRequiredError,
)
from domain.mfa.errors import (
    InvalidMfaCodeError,
    NoPendingEnrollmentError,
    TotpAlreadyEnabledError,
    TotpNotEnabledError,
)
from domain.passkeys.errors import (
    InvalidPasskeyError,
    LastSignInMethodError,
    PasskeyChallengeExpiredError,
)
from domain.passwordless.errors import EmailSignInDisabledError, InvalidEmailCodeError
from domain.privacy.errors import LastSuperAdminError
from domain.sessions.errors import (
    InvalidRefreshTokenError,
    RefreshTokenReusedError,
    SessionExpiredError,
)
from domain.social.errors import (
    SocialFailure,
    SocialIdentityTakenError,
    SocialLinkExpiredError,
    SocialSignInFailedError,
)


@strawberry.interface(description="An expected failure the user can act on.")
class UserError:
    message: str
    code: str


@strawberry.type(description="One problem with one input field.")
class FieldErrorType:
    field: str = strawberry.field(description="The input field, as named in the schema.")
    message: str
    code: str

    @classmethod
    def from_domain(cls, error: FieldError) -> FieldErrorType:
        return cls(field=error.field, message=error.message, code=error.code)


@strawberry.type
class ValidationFailed(UserError):
    field_errors: list[FieldErrorType]


@strawberry.type
class InvalidCredentials(UserError):
    pass


@strawberry.type
class EmailNotVerified(UserError):
    pass


@strawberry.type
class AccountDisabled(UserError):
    pass


@strawberry.type
class InvalidToken(UserError):
    pass


@strawberry.type
class InvalidRefreshToken(UserError):
    pass


@strawberry.type
class RefreshTokenReused(UserError):
    pass


@strawberry.type
class SessionExpired(UserError):
    pass


@strawberry.type
class AccountLocked(UserError):
    pass


@strawberry.type
class Forbidden(UserError):
    pass


@strawberry.type
class InvalidMfaCode(UserError):
    pass


@strawberry.type
class TotpAlreadyEnabled(UserError):
    pass


@strawberry.type
class NoPendingEnrollment(UserError):
    pass


@strawberry.type
class TotpNotEnabled(UserError):
    pass


@strawberry.type
class EmailTaken(UserError):
    pass


@strawberry.type
class NotFound(UserError):
    pass


@strawberry.type(
    description="The passkey did not verify (`INVALID_PASSKEY`), is already registered "
    "(`PASSKEY_ALREADY_REGISTERED`), or was refused because its counter went back "
    "(`PASSKEY_CLONE_SUSPECTED`; the owner is emailed)."
)
class InvalidPasskey(UserError):
    pass


@strawberry.type(description="The passkey challenge is used, unknown or expired: begin again.")
class PasskeyChallengeExpired(UserError):
    pass


@strawberry.type(
    description="The emailed code is wrong (`INVALID_EMAIL_CODE`: try again; every wrong "
    "code counts toward the account lock, the fifth ends the code), or no code is live for "
    "the address (`EMAIL_CODE_EXPIRED`: expired, used, replaced or ended; ask for a new one)."
)
class InvalidEmailCode(UserError):
    pass


@strawberry.type(description="This deployment does not offer sign-in with an emailed code.")
class EmailSignInDisabled(UserError):
    pass


@strawberry.type(description="The only way into the account cannot be removed.")
class LastSignInMethod(UserError):
    pass


SocialSignInFailureReason = strawberry.enum(
    SocialFailure, name="SocialSignInFailureReason", description="Why a social sign-in failed."
)


@strawberry.type(description="The sign-in through a provider did not prove an identity.")
class SocialSignInFailed(UserError):
    reason: SocialSignInFailureReason  # type: ignore[valid-type]


@strawberry.type(description="This provider account is already linked to another account.")
class SocialIdentityTaken(UserError):
    pass


@strawberry.type(description="The link token is unknown, used, expired or another account's.")
class SocialLinkExpired(UserError):
    pass


@strawberry.type(
    description="The last active super-admin cannot delete their account: appoint another first."
)
class LastSuperAdmin(UserError):
    pass


@strawberry.type
class RateLimited(UserError):
    retry_after_seconds: int


@strawberry.type(
    description="The session's last sign-in is too old for this change: call "
    "`reauthenticate` with one of `methods`, then try again (with the returned access token)."
)
class ReauthenticationRequired(UserError):
    max_age_seconds: int = strawberry.field(
        description="How recent a sign-in or `reauthenticate` this operation needs."
    )
    methods: list[str] = strawberry.field(
        description="The proofs this account can give `reauthenticate`: "
        '"password" (unless the account has none), with two-factor on "totp" and (while '
        'any are left) "backup_code", and "passkey" when the account has one.'
    )


@strawberry.type(
    description="The password was right, but it appears in a list of passwords exposed in "
    "data breaches and this deployment requires a new one: no session was opened. Send a new "
    "password with `token` to `resetPassword` (it can do nothing else, works once and expires "
    "at `expiresAt`), then sign in with the new password."
)
class PasswordChangeRequired(UserError):
    token: str
    expires_at: datetime


# The one table from a domain error to the union member a client sees. A subclass maps
# with its base: a replayed TOTP code (TotpCodeReplayedError) is an InvalidMfaCode that
# keeps its own code, refused but not counted as a guess.
USER_ERROR_TYPES: Mapping[type[DomainError], type[UserError]] = {
    ValidationError: ValidationFailed,
    RateLimitedError: RateLimited,
    InvalidCredentialsError: InvalidCredentials,
    EmailNotVerifiedError: EmailNotVerified,
    AccountDisabledError: AccountDisabled,
    InvalidActionTokenError: InvalidToken,
    InvalidRefreshTokenError: InvalidRefreshToken,
    RefreshTokenReusedError: RefreshTokenReused,
    SessionExpiredError: SessionExpired,
    EmailTakenError: EmailTaken,
    AccountLockedError: AccountLocked,
    NotFoundError: NotFound,
    ForbiddenError: Forbidden,
    InvalidMfaCodeError: InvalidMfaCode,
    TotpAlreadyEnabledError: TotpAlreadyEnabled,
    NoPendingEnrollmentError: NoPendingEnrollment,
    TotpNotEnabledError: TotpNotEnabled,
    ReauthenticationRequiredError: ReauthenticationRequired,
    InvalidPasskeyError: InvalidPasskey,
    PasskeyChallengeExpiredError: PasskeyChallengeExpired,
    InvalidEmailCodeError: InvalidEmailCode,
    EmailSignInDisabledError: EmailSignInDisabled,
    LastSignInMethodError: LastSignInMethod,
    SocialSignInFailedError: SocialSignInFailed,
    SocialIdentityTakenError: SocialIdentityTaken,
    SocialLinkExpiredError: SocialLinkExpired,
    LastSuperAdminError: LastSuperAdmin,
    PasswordChangeRequiredError: PasswordChangeRequired,
}


def user_error_type(error: type[DomainError]) -> type[UserError] | None:
    """The union member for this error class (or its nearest mapped base), if it has one.

    Errors without one (an outage, UNAUTHENTICATED) are about the request, not the
    operation: they travel as top-level errors.
    """
    for kind in error.__mro__:
        found = USER_ERROR_TYPES.get(kind)
        if found is not None:
            return found
    return None


def to_user_error(error: DomainError) -> UserError:
    """Build the union member of a mapped error; its message and code are the error's."""
    kind = user_error_type(type(error))
    if kind is None:
        raise TypeError(f"{type(error).__name__} has no union member in USER_ERROR_TYPES")
    if isinstance(error, ValidationError):
        return ValidationFailed(
            message=error.message,
            code=error.code,
            field_errors=[FieldErrorType.from_domain(e) for e in error.field_errors],
        )
    if isinstance(error, RateLimitedError):
        return RateLimited(
            message=error.message, code=error.code, retry_after_seconds=error.retry_after_seconds
        )
    if isinstance(error, ReauthenticationRequiredError):
        return ReauthenticationRequired(
            message=error.message,
            code=error.code,
            max_age_seconds=error.max_age_seconds,
            methods=list(error.methods),
        )
    if isinstance(error, PasswordChangeRequiredError):
        return PasswordChangeRequired(
            message=error.message, code=error.code, token=error.token, expires_at=error.expires_at
        )
    if isinstance(error, SocialSignInFailedError):
        return SocialSignInFailed(message=error.message, code=error.code, reason=error.reason)
    return kind(message=error.message, code=error.code)
