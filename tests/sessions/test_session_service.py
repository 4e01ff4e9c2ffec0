"""The sessions slice at service level, against the real FerretDB and Redis the session
starts, with a clock the tests move: a refresh rotates the token, replaying a rotated
token ends the whole family (and tells the owner once), the idle and absolute
lifetimes end a session, and revoking one or all sessions refuses their tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from beanie import PydanticObjectId
from redis.asyncio import Redis

from domain.audit.documents import AuditEvent
from domain.core.settings import Settings
from domain.sessions.documents import RefreshFamily, RefreshRotation, Session
from domain.sessions.errors import (
    InvalidRefreshTokenError,
    RefreshTokenReusedError,
    SessionExpiredError,
)
from domain.sessions.family_cache import RefreshFamilies
from domain.sessions.issued import utc
from domain.sessions.rotation import RotationLedger, family_copy_key
from domain.sessions.service import IssuedTokens
from tests.sessions.support import CLIENT, UA, Sessions
from tests.support.rotations import live_generation, recorded_generations


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
    # The rotation is one inserted record: generation 2 minted, when and from where.
    assert await recorded_generations(first.session_id) == [2]
    record = await RefreshRotation.get(f"{first.session_id}:2")
    assert record is not None
    assert utc(record.at) == sessions.clock.now()
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
    # Kept from the sign-in, for its access tokens' lifetime; a rotation does not extend it.
    assert await redis.hget(copy_key(settings, first), "gen") == b"1"
    ttl = await redis.ttl(copy_key(settings, first))
    assert 0 < ttl <= settings.access_token_ttl_seconds
    second = await sessions.service.refresh(first.refresh_token, CLIENT)
    third = await sessions.service.refresh(second.refresh_token, CLIENT)
    assert await live_generation(first.session_id) == 3
    assert await redis.hget(copy_key(settings, first), "gen") == b"3"
    assert 0 < await redis.ttl(copy_key(settings, first)) <= ttl
    # The copy answers the grace rule as the document would: the same successor again.
    again = await sessions.service.refresh(second.refresh_token, CLIENT)
    assert again.refresh_token == third.refresh_token


async def test_a_read_that_raced_a_rotation_does_not_put_an_older_generation_back(
    sessions: Sessions, settings: Settings, redis: Redis
) -> None:
    _, first = await sessions.start()
    await redis.delete(copy_key(settings, first))  # as if it expired
    families = RefreshFamilies(redis, settings)
    stale, fill = await families.load(PydanticObjectId(first.session_id), 1)
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


async def test_an_ended_session_refreshes_no_longer_than_its_copy_lives(
    sessions: Sessions, settings: Settings, redis: Redis
) -> None:
    owner, first = await sessions.start()
    second = await sessions.service.refresh(first.refresh_token, CLIENT)
    key = copy_key(settings, first)
    kept, life = await redis.hgetall(key), await redis.pttl(key)
    assert await sessions.service.revoke_by_id(
        owner.id, first.session_id, reason="logout", actor=CLIENT
    )
    assert not await redis.exists(key)
    # A read that raced the end puts the copy back: the revocation record refuses it.
    await redis.hset(key, mapping=kept)
    await redis.pexpire(key, life)
    with pytest.raises(InvalidRefreshTokenError):
        await sessions.service.refresh(second.refresh_token, CLIENT)
    # Had the record not been written (Redis unreachable from the instance that ended
    # the session), the copy refreshes until it expires, as the session's access tokens
    # are accepted for as long; a rotation does not extend it, and without it the
    # refresh reads the database, where the family is gone.
    await redis.delete(sessions.revocations.key(first.session_id))
    third = await sessions.service.refresh(second.refresh_token, CLIENT)
    assert 0 < await redis.pttl(key) <= life
    await redis.delete(key)  # its life is over
    with pytest.raises(InvalidRefreshTokenError):
        await sessions.service.refresh(third.refresh_token, CLIENT)
    assert await RefreshFamily.get(PydanticObjectId(first.session_id)) is None
