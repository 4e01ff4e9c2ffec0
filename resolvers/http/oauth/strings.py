"""The built-in pages' words in English: the reference every translation is checked
against (its keys, and each string's ``{placeholders}``). A translation may also give
``error.<CODE>`` for the domain errors the pages show (ERROR_CODES); English shows the
domain's own message for those. ``scope.<name>`` describes a scope on the consent page.
"""

from __future__ import annotations

from typing import Final

ENGLISH: Final[dict[str, str]] = {
    "sign_in": "Sign in",
    "email": "Email",
    "password": "Password",
    "continue": "Continue",
    "code": "Authentication code",
    "code_help": "Enter the 6-digit code from your authenticator app.",
    "consent_title": "Allow {client} to use your account?",
    "consent_lead": "{client} is asking for:",
    "allow": "Allow",
    "deny": "Deny",
    "error_title": "This sign-in cannot continue",
    "to": "to continue to {client}",
    "sign_out_title": "Sign out of Gatehouse?",
    "sign_out_lead": "You will be signed out of every app you signed in to from here.",
    "sign_out_from": "{client} asked to sign you out.",
    "sign_out": "Sign out",
    "stay": "Stay signed in",
    "signed_out_title": "You are signed out",
    "signed_out_lead": "You can close this page.",
    "still_signed_in_title": "You are still signed in",
    "device_title": "Connect a device",
    "device_lead": "Enter the code your device shows.",
    "device_code": "Code",
    "device_approve_title": "Allow {client} on your device?",
    "device_check": "Only continue if your device shows this code: {code}",
    "device_signed_in_as": "Signed in as {email}",
    "device_approved_title": "Your device is connected",
    "device_denied_title": "Your device was not connected",
    "device_return": "You can return to your device.",
    "social_or": "Or sign in with another account",
    "passkey_button": "Sign in with a passkey",
    "passkey_failed": "The passkey sign-in did not finish. Try again, or use your password.",
    "social_button": "Continue with {provider}",
    "social_link_required": (
        "An account with this email address already exists. Sign in to it here, then "
        "link {provider} in your account settings."
    ),
    "expired": "This sign-in request has expired. Go back to the app and start again.",
    "device_expired": "This code has expired or was already used. Start again on your device.",
    "sign_out_expired": "This sign-out request has expired. Go back to the app and start again.",
    "access_denied": "Access denied.",
    "scope.openid": "Know who you are",
    "scope.profile": "Your name",
    "scope.email": "Your email address",
    "scope.offline_access": "Stay signed in to it when you are away",
}

# The domain errors the sign-in pages show (their codes, domain/*/errors.py): a
# translation may word each as ``error.<CODE>`` (no placeholders); English, and any
# translation that leaves one out, shows the error's own message.
ERROR_CODES: Final[tuple[str, ...]] = (
    "INVALID_CREDENTIALS",
    "EMAIL_NOT_VERIFIED",
    "ACCOUNT_DISABLED",
    "ACCOUNT_LOCKED",
    "PASSWORD_CHANGE_REQUIRED",
    "INVALID_MFA_CODE",
    "MFA_CODE_REPLAYED",
    "RATE_LIMITED",
    "VALIDATION_FAILED",
    "INVALID_PASSKEY",
    "PASSKEY_CHALLENGE_EXPIRED",
    "SOCIAL_SIGN_IN_FAILED",
)
