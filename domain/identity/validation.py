"""Input rules that answer with per-field errors a user can act on.

Emails are compared case-insensitively: the stored form is trimmed and
lower-cased. Anything that is not a string (an injected ``{"$gt": ""}`` object, a
number, null) is refused here with a typed error, never passed to a query.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from email_validator import EmailNotValidError
from email_validator import validate_email as _check_email
from zxcvbn import zxcvbn

from domain.core.errors import FieldError
from domain.core.settings import Settings

MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 100
# zxcvbn's cost grows fast with length; past this a password is long enough anyway.
ZXCVBN_PREFIX = 100
_SPACES = re.compile(r"\s+")


def _has_control_characters(value: str) -> bool:
    return any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in value)


def validate_email(raw: object, field: str = "email") -> tuple[str | None, list[FieldError]]:
    if not isinstance(raw, str):
        return None, [FieldError(field, "Enter an email address.", "INVALID_TYPE")]
    value = raw.strip()
    if not value:
        return None, [FieldError(field, "Enter an email address.", "REQUIRED")]
    if len(value) > MAX_EMAIL_LENGTH:
        return None, [FieldError(field, f"Use at most {MAX_EMAIL_LENGTH} characters.", "TOO_LONG")]
    try:
        checked = _check_email(value, check_deliverability=False, allow_domain_literal=False)
    except EmailNotValidError as exc:
        return None, [
            FieldError(field, f"This is not a valid email address: {exc}", "INVALID_EMAIL")
        ]
    if "." not in checked.ascii_domain:
        return None, [
            FieldError(field, "The domain of this email address is incomplete.", "INVALID_EMAIL")
        ]
    return checked.normalized.lower(), []


def validate_name(raw: object, field: str) -> tuple[str | None, list[FieldError]]:
    if not isinstance(raw, str):
        return None, [FieldError(field, "Enter a name.", "INVALID_TYPE")]
    if _has_control_characters(raw):
        return None, [
            FieldError(
                field, "The name contains characters that are not allowed.", "INVALID_CHARACTERS"
            )
        ]
    value = _SPACES.sub(" ", raw).strip()
    if not value:
        return None, [FieldError(field, "Enter a name.", "REQUIRED")]
    if len(value) > MAX_NAME_LENGTH:
        return None, [FieldError(field, f"Use at most {MAX_NAME_LENGTH} characters.", "TOO_LONG")]
    return value, []


def check_password_policy(
    password: object,
    *,
    settings: Settings,
    user_inputs: Sequence[str],
    field: str = "password",
) -> list[FieldError]:
    if not isinstance(password, str):
        return [FieldError(field, "Enter a password.", "INVALID_TYPE")]
    if not password:
        return [FieldError(field, "Enter a password.", "REQUIRED")]
    if "\x00" in password:
        return [
            FieldError(
                field,
                "The password contains a character that is not allowed.",
                "INVALID_CHARACTERS",
            )
        ]
    if len(password) < settings.password_min_length:
        return [
            FieldError(
                field, f"Use at least {settings.password_min_length} characters.", "TOO_SHORT"
            )
        ]
    if len(password) > settings.password_max_length:
        return [
            FieldError(field, f"Use at most {settings.password_max_length} characters.", "TOO_LONG")
        ]
    inputs = [item for item in user_inputs if item]
    result = zxcvbn(password[:ZXCVBN_PREFIX], user_inputs=inputs)
    if int(result["score"]) < settings.password_min_strength:
        feedback = result.get("feedback") or {}
        hints = [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
        detail = " ".join(h for h in hints if h)
        message = "This password is too easy to guess."
        if detail:
            message += f" {detail}"
        return [FieldError(field, message, "TOO_WEAK")]
    return []
