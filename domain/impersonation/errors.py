"""Impersonation refusals: each a FORBIDDEN-kind error with its own stable code."""

from __future__ import annotations

from enum import StrEnum

from domain.core.errors import ForbiddenError


class ImpersonationErrorCode(StrEnum):
    IMPERSONATION_NOT_ALLOWED = "IMPERSONATION_NOT_ALLOWED"
    IMPERSONATION_READ_ONLY = "IMPERSONATION_READ_ONLY"
    NOT_IMPERSONATING = "NOT_IMPERSONATING"


class ImpersonationRefusedError(ForbiddenError):
    """This administrator may not impersonate this account (``rule`` says which rule)."""

    code = ImpersonationErrorCode.IMPERSONATION_NOT_ALLOWED  # type: ignore[assignment]  # its own code, as DomainError allows
    default_message = "You cannot impersonate this account."

    def __init__(self, rule: str, message: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule


class ImpersonationReadOnlyError(ForbiddenError):
    """A mutation an impersonation session may not run (read-only, or lasting control)."""

    code = ImpersonationErrorCode.IMPERSONATION_READ_ONLY  # type: ignore[assignment]  # its own code, as DomainError allows
    default_message = (
        "This is an impersonation session: it cannot run this mutation. "
        "End it with endImpersonation."
    )


class NotImpersonatingError(ForbiddenError):
    code = ImpersonationErrorCode.NOT_IMPERSONATING  # type: ignore[assignment]  # its own code, as DomainError allows
    default_message = "This session is not an impersonation."
