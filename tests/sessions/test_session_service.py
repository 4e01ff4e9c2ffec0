"""The sessions slice at service level, against the real FerretDB and Redis the session
starts, with a clock the tests move: a refresh rotates the token, replaying a rotated
token ends the whole family (and tells the owner once), the idle and absolute
lifetimes end a session, and revoking one or all sessions refuses their tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from beanie import PydanticObjectId
from redis.asyncio import Redis

from domain.audit.documents import AuditEvent
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import FrozenClock
from domain.core.redis import create_redis
from domain.core.roles import Role
from domain.core.sealing import sealing_box
from domain.core.settings import Settings
from domain.sessions.documents import RefreshFamily, Session
from domain.sessions.errors import (
    InvalidRefreshTokenError,
    RefreshTokenReusedError,
    SessionExpiredError,
)
from domain.sessions.family_cache import RefreshFamilies
from domain.sessions.revocation import SessionRevocations
from domain.sessions.rotation import RotationLedger, family_copy_key
from domain.sessions.service import IssuedTokens, SessionOwner, SessionService
from domain.tokens.access import AccessTokenService
from domain.tokens.keys import load_key_set

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


@pytest.fixture(scope="module")
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = create_redis(settings)
    yield client
    await client.aclose()


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


async def stored_session(issued: IssuedTokens) -> Session:
    session = await Session.get(PydanticObjectId(issued.session_id))
    assert session is not None
    return session


async def test_a_refresh_rotates_the_token_and_retires_the_old_one(sessions: Sessions) -> None:
    owner, first = await sessions.start()
    assert first.user_id == str(owner.id)
    sessions.clock.advance(timedelta(minutes=5))
    second = await sessions.service.refresh(first.refresh_token, CLIENT)
    assert second.session_id == first.session_id
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    family = await RefreshFamily.get(PydanticObjectId(first.session_id))
    assert family is not None
    assert family.generation == 2
    assert family.rotated_at is not None
    third = await sessions.service.refresh(second.refresh_token, CLIENT)
    assert third.session_id == first.session_id
    with pytest.raises(InvalidRefreshTokenError):
        await sessions.service.refresh("not a token", CLIENT)


async def test_replaying_a_rotated_token_ends_the_family_and_alerts_once(
    sessions: Sessions,
) -> None:
    owner, first = await sessions.start()
    second = await sessions.service.refresh(first.refresh_token, CLIENT)
    # Past the refresh grace, the previous token is a replay.
    sessions.clock.advance(timedelta(seconds=11))
    with pytest.raises(RefreshTokenReusedError):
        await sessions.service.refresh(first.refresh_token, CLIENT)
    # The newest token of the family dies with it: the thief's copy and the owner's alike.
    with pytest.raises(InvalidRefreshTokenError):
        await sessions.service.refresh(second.refresh_token, CLIENT)
    with pytest.raises(InvalidRefreshTokenError):
        await sessions.service.refresh(first.refresh_token, CLIENT)
    session = await stored_session(first)
    assert session.revoked_reason == "refresh_token_reuse"
    assert await sessions.revocations.is_revoked(first.session_id)
    assert [str(s.id) for s in sessions.reuse_alerts] == [first.session_id]
    reuse = await AuditEvent.find(
        {"event": "session.refresh_reuse", "target_id": str(owner.id)}
    ).to_list()
    assert len(reuse) == 1
    assert reuse[0].ip == CLIENT.ip


async def test_the_idle_lifetime_ends_a_session_that_is_not_used(sessions: Sessions) -> None:
    idle = sessions.idle
    _, first = await sessions.start()
    assert first.refresh_expires_at == sessions.clock.now() + idle
    # Used just inside the idle time, the session lives on and the idle time restarts.
    sessions.clock.advance(idle - timedelta(seconds=1))
    second = await sessions.service.refresh(first.refresh_token, CLIENT)
    sessions.clock.advance(idle + timedelta(seconds=1))
    with pytest.raises(SessionExpiredError):
        await sessions.service.refresh(second.refresh_token, CLIENT)
    assert (await stored_session(first)).revoked_reason == "expired"


async def test_the_absolute_lifetime_ends_a_session_however_often_it_is_used(
    sessions: Sessions,
) -> None:
    absolute = sessions.absolute
    _, issued = await sessions.start()
    started = sessions.clock.now()
    step = timedelta(days=6)
    while sessions.clock.now() + step < started + absolute:
        sessions.clock.advance(step)
        issued = await sessions.service.refresh(issued.refresh_token, CLIENT)
        # A refresh token never outlives its session.
        assert issued.refresh_expires_at <= started + absolute
    sessions.clock.advance(started + absolute - sessions.clock.now())
    with pytest.raises(SessionExpiredError):
        await sessions.service.refresh(issued.refresh_token, CLIENT)


async def test_an_owner_no_longer_active_cannot_refresh(sessions: Sessions) -> None:
    owner, first = await sessions.start()
    del sessions.owners[owner.id]
    with pytest.raises(InvalidRefreshTokenError):
        await sessions.service.refresh(first.refresh_token, CLIENT)
    assert (await stored_session(first)).revoked_reason == "user_inactive"


async def test_revoking_one_or_all_sessions_refuses_their_tokens(sessions: Sessions) -> None:
    owner, laptop = await sessions.start()
    phone = await sessions.service.start(owner, user_agent=UA, ip="192.0.2.8")
    tablet = await sessions.service.start(owner, user_agent=UA, ip="192.0.2.9")
    stranger, _ = await sessions.start()
    assert len(await sessions.service.list_active(owner.id)) == 3
    # Nobody ends a session that is not theirs.
    assert not await sessions.service.revoke_by_id(
        stranger.id, laptop.session_id, reason="logout", actor=CLIENT
    )
    assert not await sessions.service.revoke_by_id(
        owner.id, "not-an-id", reason="logout", actor=CLIENT
    )
    assert await sessions.service.revoke_by_id(
        owner.id, laptop.session_id, reason="logout", actor=CLIENT
    )
    assert await sessions.revocations.is_revoked(laptop.session_id)
    with pytest.raises(InvalidRefreshTokenError):
        await sessions.service.refresh(laptop.refresh_token, CLIENT)
    ended = await sessions.service.revoke_all(
        owner.id, reason="password_changed", actor=CLIENT, keep_session_id=tablet.session_id
    )
    assert ended == 1
    assert await sessions.revocations.is_revoked(phone.session_id)
    assert not await sessions.revocations.is_revoked(tablet.session_id)
    assert [str(s.id) for s in await sessions.service.list_active(owner.id)] == [tablet.session_id]
    await sessions.service.refresh(tablet.refresh_token, CLIENT)
    with pytest.raises(InvalidRefreshTokenError):
        await sessions.service.refresh(phone.refresh_token, CLIENT)


# --- the family's Redis copy (domain/sessions/family_cache.py) ---


def copy_key(settings: Settings, issued: IssuedTokens) -> str:
    return family_copy_key(settings, issued.session_id)


async def test_the_copy_follows_every_rotation_of_the_document(
    sessions: Sessions, settings: Settings, redis: Redis
) -> None:
    _, first = await sessions.start()
    assert not await redis.exists(copy_key(settings, first))  # kept from the first refresh
    second = await sessions.service.refresh(first.refresh_token, CLIENT)
    third = await sessions.service.refresh(second.refresh_token, CLIENT)
    family = await RefreshFamily.get(PydanticObjectId(first.session_id))
    assert family is not None
    assert family.generation == 3
    assert await redis.hget(copy_key(settings, first), "gen") == b"3"
    # The copy answers the grace rule as the document would: the same successor again.
    again = await sessions.service.refresh(second.refresh_token, CLIENT)
    assert again.refresh_token == third.refresh_token


async def test_a_read_that_raced_a_rotation_does_not_put_an_older_generation_back(
    sessions: Sessions, settings: Settings, redis: Redis
) -> None:
    _, first = await sessions.start()
    families = RefreshFamilies(redis, settings)
    stale, fill = await families.load(PydanticObjectId(first.session_id))
    assert stale is not None
    assert fill is not None
    assert fill.generation == 1
    second = await sessions.service.refresh(first.refresh_token, CLIENT)  # claims gen 1
    await redis.delete(copy_key(settings, first))
    # The slow request's ledger call arrives with the generation it read before.
    ledger = RotationLedger(redis, settings, sessions.revocations.key(""))
    await ledger.retry(first.session_id, 1, fill)
    assert not await redis.exists(copy_key(settings, first))
    third = await sessions.service.refresh(second.refresh_token, CLIENT)
    assert await redis.hget(copy_key(settings, first), "gen") == b"3"
    assert third.refresh_token != second.refresh_token


async def test_an_ended_session_is_refused_even_with_a_copy_that_outlived_it(
    sessions: Sessions, settings: Settings, redis: Redis
) -> None:
    owner, first = await sessions.start()
    second = await sessions.service.refresh(first.refresh_token, CLIENT)
    kept = await redis.hgetall(copy_key(settings, first))
    assert await sessions.service.revoke_by_id(
        owner.id, first.session_id, reason="logout", actor=CLIENT
    )
    assert not await redis.exists(copy_key(settings, first))
    # A lost drop, or a read that raced the end, puts the copy back: the revocation
    # record refuses it; once that is gone the rotation finds no document.
    await redis.hset(copy_key(settings, first), mapping=kept)
    with pytest.raises(InvalidRefreshTokenError):
        await sessions.service.refresh(second.refresh_token, CLIENT)
    await redis.delete(sessions.revocations.key(first.session_id))
    with pytest.raises(InvalidRefreshTokenError):
        await sessions.service.refresh(second.refresh_token, CLIENT)
    assert await RefreshFamily.get(PydanticObjectId(first.session_id)) is None
