from __future__ import annotations

from domain.core.errors import DomainError


class InvalidCredentialsError(DomainError):
    code = "INVALID_CREDENTIALS"
    status_code = 401
    default_message = "The email or password is not correct."


class EmailNotVerifiedError(DomainError):
    code = "EMAIL_NOT_VERIFIED"
    status_code = 403
    default_message = "Confirm your email address first. We can send the link again."


class AccountDisabledError(DomainError):
    code = "ACCOUNT_DISABLED"
    status_code = 403
    default_message = "This account is disabled. Contact support."


class EmailTakenError(DomainError):
    code = "EMAIL_TAKEN"
    status_code = 409
    default_message = "That email address belongs to another account."


class AccountLockedError(DomainError):
    code = "ACCOUNT_LOCKED"
    status_code = 423
    default_message = (
        "This account is locked after too many failed sign-ins. Use the link we emailed "
        "you to unlock it, or contact support."
    )
