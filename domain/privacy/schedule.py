"""Which deleted accounts wait for erasure, and until when.

A deleted account (by its owner, ``deleteMyAccount``, or by an administrator,
``deleteUser``) gets one record keyed by its id; restoring it (the owner's cancel
link, ``restoreUser``) removes the record; the erasure sweep takes the records whose
grace period is over.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from beanie import PydanticObjectId, SortDirection

from domain.core.clock import Clock
from domain.core.settings import Settings
from domain.privacy.documents import PendingErasure


class ErasureSchedule:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._clock = clock
        self.grace = timedelta(days=settings.account_deletion_grace_days)

    async def schedule(self, user_id: PydanticObjectId, requested_by: str) -> PendingErasure:
        """Erase ``user_id`` after the grace period; a second deletion keeps the first date."""
        existing = await PendingErasure.get(user_id)
        if existing is not None:
            return existing
        now = self._clock.now()
        record = PendingErasure(
            _id=user_id, requested_at=now, erase_after=now + self.grace, requested_by=requested_by
        )
        await PendingErasure.get_pymongo_collection().update_one(
            {"_id": user_id},
            {"$setOnInsert": record.model_dump(by_alias=True, exclude={"id"})},
            upsert=True,
        )
        return record

    async def unschedule(self, user_id: PydanticObjectId) -> bool:
        result = await PendingErasure.get_pymongo_collection().delete_one({"_id": user_id})
        return bool(result.deleted_count)

    async def pending(self, user_id: PydanticObjectId) -> PendingErasure | None:
        return await PendingErasure.get(user_id)

    async def due(self, now: datetime, limit: int) -> list[PendingErasure]:
        return (
            await PendingErasure.find({"erase_after": {"$lte": now}})
            .sort([("erase_after", SortDirection.ASCENDING)])
            .limit(limit)
            .to_list()
        )
