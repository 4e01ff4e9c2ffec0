"""Fixtures of the sessions slice's tests: a SessionService on the real FerretDB and Redis."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from beanie import PydanticObjectId
from redis.asyncio import Redis

from domain.audit.service import AuditService
from domain.core.clock import FrozenClock
from domain.core.sealing import sealing_box
from domain.core.settings import Settings
from domain.sessions.documents import Session
from domain.sessions.family_cache import RefreshFamilies
from domain.sessions.revocation import SessionRevocations
from domain.sessions.service import SessionOwner, SessionService
from domain.tokens.access import AccessTokenService
from domain.tokens.keys import load_key_set
from tests.sessions.support import Owner, Sessions


@pytest.fixture
def sessions(
    database: None,
    settings: Settings,
    redis: Redis,
    frozen_clock: Callable[..., FrozenClock],
) -> Sessions:
    clock = frozen_clock()
    revocations = SessionRevocations(redis, settings)
    owners: dict[PydanticObjectId, Owner] = {}
    reuse_alerts: list[Session] = []

    async def alert(session: Session) -> None:
        reuse_alerts.append(session)

    async def active_owner(user_id: PydanticObjectId) -> SessionOwner | None:
        return owners.get(user_id)

    service = SessionService(
        settings,
        clock,
        AccessTokenService(load_key_set(settings), settings, clock),
        revocations,
        redis,
        AuditService(clock),
        on_reuse=alert,
        load_active_owner=active_owner,
        box=sealing_box(settings),
        families=RefreshFamilies(redis, settings),
    )
    return Sessions(
        service=service,
        revocations=revocations,
        clock=clock,
        idle=timedelta(seconds=settings.refresh_token_idle_seconds),
        absolute=timedelta(seconds=settings.refresh_token_absolute_seconds),
        owners=owners,
        reuse_alerts=reuse_alerts,
    )
