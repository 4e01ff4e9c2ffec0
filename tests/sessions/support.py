"""The sessions slice as the composition root builds it, for the tests of this package."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from beanie import PydanticObjectId

from domain.core.actor import Actor
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.sessions.documents import Session
from domain.sessions.revocation import SessionRevocations
from domain.sessions.service import IssuedTokens, SessionService

CLIENT = Actor.anonymous("198.51.100.20", "pytest", "req-1")
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"


@dataclass(frozen=True)
class Owner:
    id: PydanticObjectId
    role: Role = Role.STUDENT


@dataclass
class Sessions:
    """A SessionService built as the composition root builds it, and what it told."""

    service: SessionService
    revocations: SessionRevocations
    clock: FrozenClock
    idle: timedelta
    absolute: timedelta
    owners: dict[PydanticObjectId, Owner]
    reuse_alerts: list[Session]

    async def start(self) -> tuple[Owner, IssuedTokens]:
        owner = Owner(PydanticObjectId())
        self.owners[owner.id] = owner
        return owner, await self.service.start(owner, user_agent=UA, ip="198.51.100.20")
