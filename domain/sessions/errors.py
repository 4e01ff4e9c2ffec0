from __future__ import annotations

from domain.core.errors import DomainError


class InvalidRefreshTokenError(DomainError):
    code = "INVALID_REFRESH_TOKEN"
    status_code = 401
    default_message = "The refresh token is invalid. Sign in again."


class RefreshTokenReusedError(DomainError):
    code = "REFRESH_TOKEN_REUSED"
    status_code = 401
    default_message = (
        "This refresh token was already used. The session has been ended for your safety; "
        "sign in again."
    )


class SessionExpiredError(DomainError):
    code = "SESSION_EXPIRED"
    status_code = 401
    default_message = "The session has expired. Sign in again."
