"""Small helpers the identity use cases share (and the lockout slice, for its keys)."""

from __future__ import annotations

import hashlib

from domain.core.errors import FieldError, ValidationError
from domain.identity.documents import User


def fingerprint(value: str) -> str:
    """A short digest that keys Redis entries and binds link tokens without the value."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def public_state(user: User) -> dict[str, object]:
    """What an audit record may keep of a user (no hashes, no secrets)."""
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role.value,
        "status": user.status.value,
        "email_verified": user.email_verified,
    }


def raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationError(errors)
