"""The user document. Secrets (hashes) stay inside the domain layer."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from domain.core.roles import DEFAULT_ROLE, Role

# The user an address without an account stands for, so it costs the same reads and
# writes as one with (decoy tokens, the write made for nobody). No ObjectId the server
# generates is all zeros.
NO_USER = PydanticObjectId("000000000000000000000000")


class UserStatus(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    DELETED = "deleted"


class User(Document):
    email: str
    first_name: str
    last_name: str
    role: Role = DEFAULT_ROLE
    status: UserStatus = UserStatus.ACTIVE
    email_verified: bool = False
    email_verified_at: datetime | None = None
    password_hash: str = Field(repr=False)
    # The previous hashes, newest first, for the "not one of the last N" rule.
    password_history: list[str] = Field(default_factory=list, repr=False)
    password_changed_at: datetime
    # Written when the account locks (the live count is the Redis lockout counter) and
    # cleared by a successful sign-in or an unlock.
    failed_login_count: int = 0
    last_failed_login_at: datetime | None = None
    locked_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None = None
    # Device labels this user has signed in from (most recent last), so telling a new
    # device from a known one needs no query over the user's sessions.
    known_devices: list[str] = Field(default_factory=list)
    # The countries signed in from (ISO 3166 codes, most recent last), and the last one
    # with its time: the history the location signals read (domain/location/), written
    # with the sign-in's own update.
    known_countries: list[str] = Field(default_factory=list)
    last_country: str | None = None
    last_country_at: datetime | None = None
    # When a sign-in found the password on a breached-password list (domain/breached/);
    # cleared when the password changes or a sign-in finds it no longer listed.
    password_breached_at: datetime | None = None
    version: int = 1

    class Settings:
        name = "users"
        use_state_management = False
        indexes = [
            IndexModel([("email", ASCENDING)], name="email_unique", unique=True),
            IndexModel([("role", ASCENDING)], name="role"),
            IndexModel([("status", ASCENDING)], name="status"),
            IndexModel([("created_at", DESCENDING)], name="created_at"),
            # The admin list: filter by status (and role), newest first, cursor on _id.
            IndexModel(
                [("status", ASCENDING), ("role", ASCENDING), ("created_at", DESCENDING)],
                name="status_role_created",
            ),
        ]

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
