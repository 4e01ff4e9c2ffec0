"""Expected failures as data: the members of mutation result unions.

Each has a human ``message`` and a stable ``code``; ``map_user_error`` turns a
domain error into its GraphQL type in one place.
"""

from __future__ import annotations

from collections.abc import Callable

import strawberry

from domain.core.errors import DomainError, FieldError, RateLimitedError, ValidationError


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


@strawberry.type
class RateLimited(UserError):
    retry_after_seconds: int


def _simple(kind: type[UserError]) -> Callable[[DomainError], UserError]:
    def build(error: DomainError) -> UserError:
        return kind(message=error.message, code=error.code)

    return build


def _validation(error: DomainError) -> UserError:
    assert isinstance(error, ValidationError)
    return ValidationFailed(
        message=error.message,
        code=error.code,
        field_errors=[FieldErrorType.from_domain(e) for e in error.field_errors],
    )


def _rate_limited(error: DomainError) -> UserError:
    assert isinstance(error, RateLimitedError)
    return RateLimited(
        message=error.message, code=error.code, retry_after_seconds=error.retry_after_seconds
    )


_BY_CODE: dict[str, Callable[[DomainError], UserError]] = {
    "VALIDATION_FAILED": _validation,
    "RATE_LIMITED": _rate_limited,
    "INVALID_CREDENTIALS": _simple(InvalidCredentials),
    "EMAIL_NOT_VERIFIED": _simple(EmailNotVerified),
    "ACCOUNT_DISABLED": _simple(AccountDisabled),
    "INVALID_TOKEN": _simple(InvalidToken),
    "INVALID_REFRESH_TOKEN": _simple(InvalidRefreshToken),
    "REFRESH_TOKEN_REUSED": _simple(RefreshTokenReused),
    "SESSION_EXPIRED": _simple(SessionExpired),
    "EMAIL_TAKEN": _simple(EmailTaken),
    "ACCOUNT_LOCKED": _simple(AccountLocked),
    "NOT_FOUND": _simple(NotFound),
    "FORBIDDEN": _simple(Forbidden),
    "INVALID_MFA_CODE": _simple(InvalidMfaCode),
    # A right code used twice: refused, but not counted as a guess.
    "MFA_CODE_REPLAYED": _simple(InvalidMfaCode),
    "TOTP_ALREADY_ENABLED": _simple(TotpAlreadyEnabled),
    "NO_PENDING_ENROLLMENT": _simple(NoPendingEnrollment),
    "TOTP_NOT_ENABLED": _simple(TotpNotEnabled),
}


def map_user_error(error: DomainError) -> UserError:
    """The union member for an expected failure; anything unmapped is re-raised."""
    build = _BY_CODE.get(error.code)
    if build is None:
        raise error
    return build(error)
