from __future__ import annotations

from enum import StrEnum

from domain.core.errors import DomainError


class PrivacyErrorCode(StrEnum):
    """The privacy slice's error codes, as clients see them (part of the API contract)."""

    LAST_SUPER_ADMIN = "LAST_SUPER_ADMIN"
    EXPORT_UNAVAILABLE = "EXPORT_UNAVAILABLE"


class LastSuperAdminError(DomainError):
    code = PrivacyErrorCode.LAST_SUPER_ADMIN
    status_code = 409
    default_message = (
        "This is the last active super-admin account; appoint another super-admin first."
    )


class ExportUnavailableError(DomainError):
    """The download link is unknown, used, expired, or its file is gone."""

    code = PrivacyErrorCode.EXPORT_UNAVAILABLE
    status_code = 404
    default_message = "This download link is invalid or has expired. Request a new export."
