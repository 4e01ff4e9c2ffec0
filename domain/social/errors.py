"""Errors the social sign-in slice raises on purpose, each with a stable ``code``."""

from __future__ import annotations

from enum import StrEnum

from domain.core.errors import DomainError


class SocialErrorCode(StrEnum):
    """The social slice's error codes, as clients see them (part of the API contract)."""

    SOCIAL_SIGN_IN_FAILED = "SOCIAL_SIGN_IN_FAILED"
    SOCIAL_IDENTITY_TAKEN = "SOCIAL_IDENTITY_TAKEN"
    SOCIAL_LINK_EXPIRED = "SOCIAL_LINK_EXPIRED"


class SocialFailure(StrEnum):
    """Why a social sign-in failed; ``SocialSignInFailed.reason`` in the API."""

    UNKNOWN_PROVIDER = "unknown_provider"
    REDIRECT_NOT_ALLOWED = "redirect_not_allowed"
    CONSENT_DENIED = "consent_denied"
    BAD_STATE = "bad_state"
    PROVIDER_ERROR = "provider_error"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    INVALID_ID_TOKEN = "invalid_id_token"
    EMAIL_MISSING = "email_missing"
    EMAIL_NOT_VERIFIED = "email_not_verified"
    DOMAIN_NOT_ALLOWED = "domain_not_allowed"
    EMAIL_RESERVED = "email_reserved"


_MESSAGES: dict[SocialFailure, str] = {
    SocialFailure.UNKNOWN_PROVIDER: "This sign-in provider is not available.",
    SocialFailure.REDIRECT_NOT_ALLOWED: "This return address is not allowed.",
    SocialFailure.CONSENT_DENIED: "The sign-in was cancelled at the provider.",
    SocialFailure.BAD_STATE: "This sign-in has expired or was already used. Start again.",
    SocialFailure.PROVIDER_ERROR: "The provider refused this sign-in. Start again.",
    SocialFailure.PROVIDER_UNAVAILABLE: "The provider did not answer. Try again later.",
    SocialFailure.INVALID_ID_TOKEN: "The provider's answer could not be verified.",
    SocialFailure.EMAIL_MISSING: "The provider did not share an email address.",
    SocialFailure.EMAIL_NOT_VERIFIED: "The provider has not verified this email address.",
    SocialFailure.DOMAIN_NOT_ALLOWED: "Accounts at this email domain cannot sign in here.",
    # Told only to whoever the provider vouches holds the address.
    SocialFailure.EMAIL_RESERVED: (
        "An account with this email address was deleted recently; the address cannot be "
        "used for a new account yet."
    ),
}


class SocialSignInFailedError(DomainError):
    """A sign-in through a provider did not prove an identity; ``reason`` says why (the
    logs and the audit trail say more)."""

    code = SocialErrorCode.SOCIAL_SIGN_IN_FAILED
    default_message = "The sign-in with this provider failed."

    def __init__(self, reason: SocialFailure, detail: str = "") -> None:
        super().__init__(_MESSAGES[reason])
        self.reason = reason
        self.detail = detail


class SocialIdentityTakenError(DomainError):
    """The provider identity already belongs to another account."""

    code = SocialErrorCode.SOCIAL_IDENTITY_TAKEN
    status_code = 409
    default_message = "This provider account is already linked to another account."


class SocialLinkExpiredError(DomainError):
    code = SocialErrorCode.SOCIAL_LINK_EXPIRED
    default_message = "This link request has expired or was already used. Sign in again."
