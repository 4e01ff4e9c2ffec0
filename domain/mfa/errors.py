"""Errors the MFA domain raises on purpose, each with a stable ``code``."""

from __future__ import annotations

from enum import StrEnum

from domain.core.errors import DomainError


class MfaErrorCode(StrEnum):
    """The two-factor slice's error codes, as clients see them (part of the API contract)."""

    TOTP_ALREADY_ENABLED = "TOTP_ALREADY_ENABLED"
    NO_PENDING_ENROLLMENT = "NO_PENDING_ENROLLMENT"
    INVALID_MFA_CODE = "INVALID_MFA_CODE"
    TOTP_NOT_ENABLED = "TOTP_NOT_ENABLED"
    MFA_CODE_REPLAYED = "MFA_CODE_REPLAYED"


class TotpAlreadyEnabledError(DomainError):
    code = MfaErrorCode.TOTP_ALREADY_ENABLED
    status_code = 409
    default_message = "Two-factor authentication is already enabled."


class NoPendingEnrollmentError(DomainError):
    code = MfaErrorCode.NO_PENDING_ENROLLMENT
    status_code = 409
    default_message = "Start setting up two-factor authentication first."


class InvalidMfaCodeError(DomainError):
    code = MfaErrorCode.INVALID_MFA_CODE
    default_message = "The code is not correct or has already been used."


class TotpNotEnabledError(DomainError):
    code = MfaErrorCode.TOTP_NOT_ENABLED
    status_code = 409
    default_message = "Two-factor authentication is not enabled."


class TotpCodeReplayedError(InvalidMfaCodeError):
    """The right code of a step already used: entered twice, or seen by someone else.

    A replay is not a guess (the code was right), so it never counts toward the lock;
    a wrong code still does. Its own code lets a client say "wait for the next code".
    """

    code = MfaErrorCode.MFA_CODE_REPLAYED
    default_message = "This code was already used. Wait for the next code from your app."
