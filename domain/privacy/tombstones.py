"""Erased addresses stay reserved for the grace period, by a keyed hash only.

Registration asks ``is_reserved`` for every address (one ``_id`` read, taken or not),
and a reserved address gets the answer a taken one gets: accepted, nothing said.
"""

from __future__ import annotations

from datetime import UTC, datetime

from domain.core.clock import Clock
from domain.privacy.documents import EmailTombstone
from domain.privacy.subjects import PersonKeys


class Tombstones:
    def __init__(self, clock: Clock, keys: PersonKeys) -> None:
        self._clock = clock
        self._keys = keys

    async def lay(self, normalized_email: str, until: datetime) -> None:
        key = self._keys.tombstone_id(normalized_email)
        await EmailTombstone.get_pymongo_collection().update_one(
            {"_id": key},
            {"$set": {"erased_at": self._clock.now(), "expires_at": until}},
            upsert=True,
        )

    async def is_reserved(self, normalized_email: str) -> bool:
        stone = await EmailTombstone.get(self._keys.tombstone_id(normalized_email))
        if stone is None:
            return False
        expires = stone.expires_at
        expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
        return expires > self._clock.now()

    async def purge_expired(self) -> int:
        result = await EmailTombstone.find({"expires_at": {"$lt": self._clock.now()}}).delete()
        return int(getattr(result, "deleted_count", 0) or 0)
