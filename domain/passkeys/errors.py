"""Errors the passkeys slice raises on purpose, each with a stable ``code``."""

from __future__ import annotations

from enum import StrEnum

from domain.core.errors import DomainError


class PasskeyErrorCode(StrEnum):
    """The passkeys slice's error codes, as clients see them (part of the API contract)."""

    INVALID_PASSKEY = "INVALID_PASSKEY"
    PASSKEY_CLONE_SUSPECTED = "PASSKEY_CLONE_SUSPECTED"
    PASSKEY_ALREADY_REGISTERED = "PASSKEY_ALREADY_REGISTERED"
    PASSKEY_CHALLENGE_EXPIRED = "PASSKEY_CHALLENGE_EXPIRED"
    LAST_SIGN_IN_METHOD = "LAST_SIGN_IN_METHOD"


class InvalidPasskeyError(DomainError):
    """The credential did not verify: unknown, another account's, a wrong origin or RP ID,
    a bad signature, a malformed answer. The message never says which (the logs do)."""

    code = PasskeyErrorCode.INVALID_PASSKEY
    default_message = "This passkey could not be verified. Try again, or use another way in."

    def __init__(self, reason: str = "invalid", message: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class PasskeyCloneSuspectedError(InvalidPasskeyError):
    """The signature was right but the authenticator's counter did not move forward: two
    copies of the key may exist. Refused, audited, and the owner is emailed."""

    code = PasskeyErrorCode.PASSKEY_CLONE_SUSPECTED
    default_message = (
        "This passkey was refused for your protection: it may have been copied. "
        "Use another way in, and check the email we sent you."
    )


class PasskeyAlreadyRegisteredError(InvalidPasskeyError):
    code = PasskeyErrorCode.PASSKEY_ALREADY_REGISTERED
    default_message = "This passkey is already registered."


class PasskeyChallengeExpiredError(DomainError):
    """The ceremony's challenge is unknown, used or past its expiry: start again."""

    code = PasskeyErrorCode.PASSKEY_CHALLENGE_EXPIRED
    default_message = "This passkey request has expired. Start again."


class LastSignInMethodError(DomainError):
    code = PasskeyErrorCode.LAST_SIGN_IN_METHOD
    status_code = 409
    default_message = (
        "This is the only way into your account: add another passkey or set a password first."
    )
