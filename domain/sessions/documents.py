"""Sessions (one per login on a device) and the refresh tokens of each session's family."""

from __future__ import annotations

from datetime import datetime

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel


class Session(Document):
    user_id: PydanticObjectId
    device: str
    user_agent: str
    ip: str
    created_at: datetime
    last_seen_at: datetime
    # Absolute end of the refresh-token family; idle expiry lives on each refresh token.
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    # Signed in with a second factor: every access token of the session says so (amr).
    mfa: bool = False

    class Settings:
        name = "sessions"
        use_state_management = False
        indexes = [
            IndexModel(
                [("user_id", ASCENDING), ("revoked_at", ASCENDING), ("last_seen_at", DESCENDING)],
                name="user_active",
            ),
            IndexModel([("expires_at", ASCENDING)], name="expires_at"),
        ]


class RefreshToken(Document):
    """One link of a session's rotation chain, keyed by the token's SHA-256."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    session_id: PydanticObjectId
    user_id: PydanticObjectId
    generation: int
    created_at: datetime
    idle_expires_at: datetime
    rotated_at: datetime | None = None

    class Settings:
        name = "refresh_tokens"
        indexes = [
            IndexModel([("session_id", ASCENDING)], name="session"),
            IndexModel([("idle_expires_at", ASCENDING)], name="idle_expires_at"),
        ]
