from __future__ import annotations

from enum import StrEnum

from domain.core.errors import DomainError


class SessionErrorCode(StrEnum):
    """The sessions slice's error codes, as clients see them (part of the API contract)."""

    INVALID_REFRESH_TOKEN = "INVALID_REFRESH_TOKEN"
    REFRESH_TOKEN_REUSED = "REFRESH_TOKEN_REUSED"
    SESSION_EXPIRED = "SESSION_EXPIRED"


class InvalidRefreshTokenError(DomainError):
    code = SessionErrorCode.INVALID_REFRESH_TOKEN
    status_code = 401
    default_message = "The refresh token is invalid. Sign in again."


class RefreshTokenReusedError(DomainError):
    code = SessionErrorCode.REFRESH_TOKEN_REUSED
    status_code = 401
    default_message = (
        "This refresh token was already used. The session has been ended for your safety; "
        "sign in again."
    )


class SessionExpiredError(DomainError):
    code = SessionErrorCode.SESSION_EXPIRED
    status_code = 401
    default_message = "The session has expired. Sign in again."
