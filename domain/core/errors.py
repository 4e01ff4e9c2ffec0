"""The base of every error that domain code raises on purpose.

Each error has a stable machine ``code`` (part of the public contract) and a
human ``message`` that is safe to show a client. Anything that is not a
``DomainError`` is unexpected, gets logged with its stack, and is masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar


class CoreErrorCode(StrEnum):
    """Codes shared by every slice, as clients see them (part of the API contract).

    Each slice lists its own in its errors.py (IdentityErrorCode, SessionErrorCode, ...).
    """

    DOMAIN_ERROR = "DOMAIN_ERROR"
    VALIDATION_FAILED = "VALIDATION_FAILED"
    NOT_FOUND = "NOT_FOUND"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


class DomainError(Exception):
    code: ClassVar[str] = CoreErrorCode.DOMAIN_ERROR
    status_code: ClassVar[int] = 400
    default_message: ClassVar[str] = "The request could not be completed."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one input field, in words a user can act on."""

    field: str
    message: str
    code: str = "INVALID"


class ValidationError(DomainError):
    code = CoreErrorCode.VALIDATION_FAILED
    status_code = 422
    default_message = "The input is not valid."

    def __init__(self, field_errors: Sequence[FieldError], message: str | None = None) -> None:
        super().__init__(message)
        self.field_errors = list(field_errors)


class NotFoundError(DomainError):
    code = CoreErrorCode.NOT_FOUND
    status_code = 404
    default_message = "Not found."


class UnauthenticatedError(DomainError):
    code = CoreErrorCode.UNAUTHENTICATED
    status_code = 401
    default_message = "Authentication is required."


class ForbiddenError(DomainError):
    code = CoreErrorCode.FORBIDDEN
    status_code = 403
    default_message = "You are not allowed to do this."


class RateLimitedError(DomainError):
    code = CoreErrorCode.RATE_LIMITED
    status_code = 429
    default_message = "Too many requests."

    def __init__(self, retry_after_seconds: int, message: str | None = None) -> None:
        super().__init__(message, retry_after_seconds=retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds


class DependencyUnavailableError(DomainError):
    code = CoreErrorCode.SERVICE_UNAVAILABLE
    status_code = 503
    default_message = "A service this request needs is unavailable. Try again shortly."
