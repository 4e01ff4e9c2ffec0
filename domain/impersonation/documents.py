"""One record per impersonation: who, whom, why, and when and how it ended."""

from __future__ import annotations

from datetime import datetime

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel


class ImpersonationRecord(Document):
    """Keyed by the impersonation session's id. Apart from the session so the sweep that
    records ends (expiry, the administrator's session ending) reads a collection of
    impersonations only, never every session: FerretDB scans any filter but ``_id``."""

    id: PydanticObjectId = Field(alias="_id")
    admin_id: str
    admin_session_id: str
    user_id: str
    reason: str
    read_only: bool
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None
    # ended (endImpersonation), expired, parent_ended, or the session's revoked reason
    # (logout, the user ending it from mySessions, the account disabled, ...).
    end_reason: str | None = None

    class Settings:
        name = "impersonations"
        use_state_management = False
        indexes = [IndexModel([("ended_at", ASCENDING)], name="open")]
