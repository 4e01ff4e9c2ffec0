"""Errors the passwordless slice raises on purpose, each with a stable ``code``."""

from __future__ import annotations

from enum import StrEnum

from domain.core.errors import DomainError


class PasswordlessErrorCode(StrEnum):
    """The passwordless slice's error codes, as clients see them (part of the API contract)."""

    INVALID_EMAIL_CODE = "INVALID_EMAIL_CODE"
    EMAIL_CODE_EXPIRED = "EMAIL_CODE_EXPIRED"
    EMAIL_SIGN_IN_DISABLED = "EMAIL_SIGN_IN_DISABLED"


class InvalidEmailCodeError(DomainError):
    """A wrong code for a live sign-in: it counts toward the code's and the account's limits."""

    code = PasswordlessErrorCode.INVALID_EMAIL_CODE
    status_code = 401
    default_message = "That code is not right. Check the latest email we sent and try again."


class EmailCodeExpiredError(InvalidEmailCodeError):
    """No live code for the address: never asked, expired, used, replaced by a newer
    request, or ended by too many wrong codes. Ask for a new one."""

    code = PasswordlessErrorCode.EMAIL_CODE_EXPIRED
    default_message = "This code has expired or can no longer be used. Ask for a new one."


class EmailSignInDisabledError(DomainError):
    code = PasswordlessErrorCode.EMAIL_SIGN_IN_DISABLED
    status_code = 403
    default_message = "Signing in with an emailed code is not available here."
