"""Exactly-once decisions by inserting a document whose ``_id`` is the business key.

MongoDB and FerretDB both enforce ``_id`` uniqueness atomically, so of any number
of racing inserts exactly one succeeds; the others get a duplicate-key error. This
is durable (unlike a Redis key that a restart could lose) and works on both.
"""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel
from pymongo.errors import OperationFailure

from domain.core.duplicates import is_unique_violation


class Claim(Document):
    id: str = Field(alias="_id")  # type: ignore[assignment]
    created_at: datetime
    expires_at: datetime

    class Settings:
        name = "claims"
        indexes = [IndexModel([("expires_at", ASCENDING)], name="expires_at")]


async def claimed_at(key: str) -> datetime | None:
    """When ``key`` was claimed, or None if it is not (or no longer) claimed."""
    claim = await Claim.get(key)
    return None if claim is None else claim.created_at


async def claim_once(key: str, *, now: datetime, expires_at: datetime) -> bool:
    """True for the one caller that claims ``key`` first; False for everyone after."""
    try:
        await Claim(_id=key, created_at=now, expires_at=expires_at).insert()
    except OperationFailure as error:
        if not is_unique_violation(error):
            raise
        return False
    return True
