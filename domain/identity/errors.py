from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
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
    PASSWORD_CHANGE_REQUIRED = "PASSWORD_CHANGE_REQUIRED"


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


class PasswordChangeRequiredError(DomainError):
    """The password was right but is on a breached-password list, and the deployment
    requires a new one before signing in (``breached_password_sign_in=require``)."""

    code = IdentityErrorCode.PASSWORD_CHANGE_REQUIRED
    status_code = 403
    default_message = (
        "This password appears in a list of passwords exposed in data breaches. Choose a "
        'new password before signing in again (or use "Forgot password").'
    )

    def __init__(self, token: str, expires_at: datetime) -> None:
        super().__init__()
        # A password-reset token (domain/identity/action_tokens.py): it sets a new
        # password and nothing else, and dies when the password changes.
        self.token = token
        self.expires_at = expires_at
