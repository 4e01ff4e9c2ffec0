"""The erasure sweep: accounts whose grace period is over are erased everywhere.

For each, every entry of the personal data map (domain/privacy/data_map.py) is applied
(records deleted, or kept with the person taken out: audit events keep a pseudonymous
actor), waiting export files are removed, the cached account is dropped, a tombstone
keeps the address from being silently taken over for another grace period, and the
``privacy.user_erased`` audit event tells webhook receivers (``user.deleted`` with
``erased: true``) so other services erase too. Every step can run again: a sweep that
died half-way is finished by the next; a claim keeps two sweeps off one account.
"""

from __future__ import annotations

from datetime import timedelta

from beanie import PydanticObjectId
from loguru import logger

from domain.audit.documents import AuditAction
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.claims import claim_once
from domain.core.clock import Clock
from domain.identity import repository as user_repository
from domain.identity.cache import CachedUsers
from domain.identity.documents import UserStatus
from domain.privacy.data_map import PERSONAL_DATA
from domain.privacy.export import DataExports
from domain.privacy.schedule import ErasureSchedule
from domain.privacy.subjects import PersonKeys
from domain.privacy.tombstones import Tombstones

# Long enough for one erasure; a sweep that died leaves the claim to expire, and the
# maintenance sweep removes it, so the next round tries again.
_CLAIM = timedelta(minutes=30)
BATCH = 100


class Erasure:
    def __init__(
        self,
        clock: Clock,
        *,
        schedule: ErasureSchedule,
        keys: PersonKeys,
        tombstones: Tombstones,
        exports: DataExports,
        users: CachedUsers,
        audit: AuditService,
    ) -> None:
        self._clock = clock
        self._schedule = schedule
        self._keys = keys
        self._tombstones = tombstones
        self._exports = exports
        self._users = users
        self._audit = audit

    async def erase_due(self, limit: int = BATCH) -> int:
        """Erase the accounts whose grace period is over; how many were erased."""
        erased = 0
        for pending in await self._schedule.due(self._clock.now(), limit):
            if await self.erase(pending.id):
                erased += 1
        if erased:
            logger.bind(erased=erased).info("accounts erased")
        return erased

    async def erase(self, user_id: PydanticObjectId) -> bool:
        now = self._clock.now()
        if not await claim_once(f"erasure:{user_id}", now=now, expires_at=now + _CLAIM):
            return False
        user = await user_repository.get(user_id)
        if user is None or user.status is not UserStatus.DELETED:
            # Erased already (a sweep that died after the account went), or restored.
            await self._schedule.unschedule(user_id)
            return False
        subject = self._keys.subject(user)
        await self._exports.discard_for(user_id)
        for entry in PERSONAL_DATA:
            collection = entry.model.get_pymongo_collection()
            for selector, update in entry.erasure_steps(subject):
                if update is None:
                    await collection.delete_many(selector)
                else:
                    await collection.update_many(selector, update)
        await self._users.invalidate(user_id)
        await self._tombstones.lay(subject.email, now + self._schedule.grace)
        await self._audit.record(
            "privacy.user_erased",
            AuditAction.DELETE,
            actor=Actor.system(),
            actor_type="system",
            target_id=str(user_id),
        )
        return True
