"""A passkey's name: what its owner calls it in the list ("Work laptop", "Phone")."""

from __future__ import annotations

import unicodedata

from domain.core.errors import FieldError, ValidationError

MAX_NAME_LENGTH = 64
DEFAULT_NAME = "Passkey"


def passkey_name(raw: object, *, field: str = "name", default: str | None = None) -> str:
    """The trimmed name; ``default`` when none was given (if a default is allowed).

    Raises: ValidationError (too long, control characters, or missing).
    """
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        if default is not None:
            return default
        raise ValidationError([FieldError(field, "Give the passkey a name.", "REQUIRED")])
    if len(text) > MAX_NAME_LENGTH:
        raise ValidationError(
            [FieldError(field, f"At most {MAX_NAME_LENGTH} characters.", "TOO_LONG")]
        )
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise ValidationError(
            [FieldError(field, "Use letters, digits and punctuation only.", "INVALID")]
        )
    return text
