"""The settings of the breached-password check (domain/breached/), as a base of Settings.

Kept in a module of their own so the settings module stays one screenful per concern;
``Settings`` inherits these fields, so they read from ``GATEHOUSE_BREACHED_PASSWORD_*``
like any other setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

BreachedSignInPolicy = Literal["off", "warn", "require"]


class BreachedPasswordSettings(BaseModel):
    # A filter compiled by ``python -m scripts.build_breached_filter``. Set: it must exist
    # (start-up fails otherwise). Unset: ``<var_dir>/breached-passwords.bloom`` if present,
    # else only the built-in list (with a warning in the log).
    breached_password_list_path: Path | None = None
    # The built-in list (zxcvbn's 30,000 most common passwords) beside the operator's.
    breached_password_builtin: bool = True
    # At sign-in, after a right password: "warn" flags the account and emails the owner
    # once; "require" also answers PasswordChangeRequired until a new password is set.
    breached_password_sign_in: BreachedSignInPolicy = "warn"
    # How long the token PasswordChangeRequired carries (for resetPassword) lives.
    breached_password_change_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    # The k-anonymity check: a Pwned Passwords style `range` API base URL (e.g.
    # https://api.pwnedpasswords.com); empty: nothing is ever sent anywhere.
    breached_password_range_url: str = ""
    breached_password_range_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    # When the range API cannot answer: refuse new passwords (closed) or accept them
    # (open). Sign-in never fails on it either way.
    breached_password_range_fail_closed: bool = False

    @field_validator("breached_password_range_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("GATEHOUSE_BREACHED_PASSWORD_RANGE_URL must be an http(s) URL")
        return value
