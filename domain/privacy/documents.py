"""What the privacy slice stores: accounts waiting for erasure, and erased addresses.

Both are keyed by ``_id`` (the one filter FerretDB serves from an index): a pending
erasure by the user's id, a tombstone by a keyed hash of the normalised address, so
the tombstone itself holds nothing that identifies the person.
"""

from __future__ import annotations

from datetime import datetime

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel


class PendingErasure(Document):
    """An account deleted (by its owner or an administrator) and not yet erased."""

    id: PydanticObjectId = Field(alias="_id")  # the user's id
    requested_at: datetime
    erase_after: datetime
    # "self" or "admin": who asked, for the export and the audit trail.
    requested_by: str

    class Settings:
        name = "pending_erasures"
        use_state_management = False
        indexes = [IndexModel([("erase_after", ASCENDING)], name="erase_after")]


class EmailTombstone(Document):
    """An erased account's address, as HMAC-SHA256 under a derived key, reserved until
    ``expires_at`` so nobody silently takes it over during the grace period."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    erased_at: datetime
    expires_at: datetime

    class Settings:
        name = "email_tombstones"
        use_state_management = False
        indexes = [IndexModel([("expires_at", ASCENDING)], name="expires_at")]
