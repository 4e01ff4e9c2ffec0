from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from domain.core.errors import DomainError


class IdentityErrorCode(StrEnum):
    """The identity slice's error codes, as clients see them (part of the API contract)."""

    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    EMAIL_NOT_VERIFIED = "EMAIL_NOT_VERIFIED"
    ACCOUNT_DISABLED = "ACCOUNT_DISABLED"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    INVALID_TOKEN = "INVALID_TOKEN"
    REAUTHENTICATION_REQUIRED = "REAUTHENTICATION_REQUIRED"


class InvalidCredentialsError(DomainError):
    code = IdentityErrorCode.INVALID_CREDENTIALS
    status_code = 401
    default_message = "The email or password is not correct."


class EmailNotVerifiedError(DomainError):
    code = IdentityErrorCode.EMAIL_NOT_VERIFIED
    status_code = 403
    default_message = "Confirm your email address first. We can send the link again."


class AccountDisabledError(DomainError):
    code = IdentityErrorCode.ACCOUNT_DISABLED
    status_code = 403
    default_message = "This account is disabled. Contact support."


class EmailTakenError(DomainError):
    code = IdentityErrorCode.EMAIL_TAKEN
    status_code = 409
    default_message = "That email address belongs to another account."


class AccountLockedError(DomainError):
    code = IdentityErrorCode.ACCOUNT_LOCKED
    status_code = 423
    default_message = (
        "This account is locked after too many failed sign-ins. Use the link we emailed "
        "you to unlock it, or contact support."
    )


class ReauthenticationRequiredError(DomainError):
    """The session's last sign-in or ``reauthenticate`` is older than the operation allows."""

    code = IdentityErrorCode.REAUTHENTICATION_REQUIRED
    status_code = 403
    default_message = (
        "This change needs a recent sign-in: confirm it is you with `reauthenticate` and try again."
    )

    def __init__(self, max_age_seconds: int, methods: Sequence[str]) -> None:
        super().__init__()
        self.max_age_seconds = max_age_seconds
        # The proofs this account can give to ``reauthenticate``: "password", "totp", ...
        self.methods = tuple(methods)
