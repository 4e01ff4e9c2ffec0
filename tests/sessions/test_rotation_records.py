"""A rotation is one inserted record (domain/sessions/rotation_records.py): where a
presented token stands is read from the family document and at most two records by
_id when the family's Redis copy is gone, and the records alone keep the rules when
Redis has lost the ledger's claims too."""

from __future__ import annotations

from datetime import timedelta

import pytest
import services
from beanie import PydanticObjectId
from pydantic import SecretStr
from redis.asyncio import Redis

from domain.core.actor import Actor
from domain.core.redis import create_redis
from domain.core.settings import Settings
from domain.sessions.device import client_context
from domain.sessions.documents import RefreshFamily, Session
from domain.sessions.errors import InvalidRefreshTokenError, RefreshTokenReusedError
from domain.sessions.family_cache import RefreshFamilies
from domain.sessions.rotation import (
    Rotation,
    RotationLedger,
    family_copy_key,
    refresh_key_prefix,
)
from domain.sessions.rotation_records import record_rotation
from tests.sessions.support import CLIENT, Sessions
from tests.support.rotations import live_generation, recorded_generations

OTHER_NETWORK = CLIENT.__class__.anonymous("203.0.113.7", "pytest", "req-2")


async def forget_copy(redis: Redis, settings: Settings, session_id: str) -> None:
    """As when the copy's life is over."""
    await redis.delete(family_copy_key(settings, session_id))


async def forget_redis(redis: Redis, settings: Settings, session_id: str) -> None:
    """As when Redis lost everything of the session's refreshes (a flush, a new server)."""
    async for key in redis.scan_iter(match=f"{refresh_key_prefix(settings)}{session_id}:*"):
        await redis.delete(key)


async def refused_as_reuse(
    sessions: Sessions, token: str, session_id: str, client: Actor = OTHER_NETWORK
) -> None:
    """The presentation is reuse: refused, the session ended for it, the owner alerted."""
    with pytest.raises(RefreshTokenReusedError):
        await sessions.service.refresh(token, client)
    assert len(sessions.reuse_alerts) == 1
    session = await Session.get(PydanticObjectId(session_id))
    assert session is not None
    assert session.revoked_reason == "refresh_token_reuse"


async def test_without_its_copy_the_live_token_refreshes_from_the_records(
    sessions: Sessions, settings: Settings, redis: Redis
) -> None:
    _, first = await sessions.start()
    second = await sessions.service.refresh(first.refresh_token, CLIENT)
    third = await sessions.service.refresh(second.refresh_token, CLIENT)
    await forget_copy(redis, settings, first.session_id)
    sessions.clock.advance(timedelta(minutes=30))
    fourth = await sessions.service.refresh(third.refresh_token, CLIENT)
    assert await recorded_generations(first.session_id) == [2, 3, 4]
    # The copy is kept again, at the live generation, with the idle expiry of its rotation.
    assert await redis.hget(family_copy_key(settings, first.session_id), "gen") == b"4"
    assert fourth.refresh_expires_at == sessions.clock.now() + sessions.idle


async def test_without_its_copy_the_grace_rule_reads_the_rotation_record(
    sessions: Sessions, settings: Settings, redis: Redis
) -> None:
    _, first = await sessions.start()
    second = await sessions.service.refresh(first.refresh_token, CLIENT)
    await forget_copy(redis, settings, first.session_id)
    again = await sessions.service.refresh(first.refresh_token, CLIENT)
    assert again.refresh_token == second.refresh_token
    # The record keeps the rotating request's client context: another network is reuse.
    await forget_copy(redis, settings, first.session_id)
    await refused_as_reuse(sessions, first.refresh_token, first.session_id)


async def test_when_redis_lost_its_claims_an_older_ancestor_is_still_reuse(
    sessions: Sessions, settings: Settings, redis: Redis
) -> None:
    _, first = await sessions.start()
    second = await sessions.service.refresh(first.refresh_token, CLIENT)
    await sessions.service.refresh(second.refresh_token, CLIENT)
    await forget_redis(redis, settings, first.session_id)
    # Generations 2 and 3 are recorded: the first token is two behind, whatever is live.
    await refused_as_reuse(sessions, first.refresh_token, first.session_id, CLIENT)
    assert await live_generation(first.session_id) is None


async def test_a_grace_answer_records_its_successor_before_handing_it_out(
    sessions: Sessions, settings: Settings, redis: Redis
) -> None:
    _, first = await sessions.start()
    second = await sessions.service.refresh(first.refresh_token, CLIENT)
    # Generation 2 is claimed and the copy moved, but the winner's insert never lands
    # (the database timed out on it, the process died).
    ledger = RotationLedger(redis, settings, sessions.revocations.key(""))
    rotating = Rotation(sessions.clock.now(), client_context(CLIENT.user_agent, CLIENT.ip))
    assert (await ledger.rotate(first.session_id, 2, rotating, None)).won
    retried = await sessions.service.refresh(second.refresh_token, CLIENT)  # the same tab
    assert await recorded_generations(first.session_id) == [2, 3]
    await sessions.service.refresh(retried.refresh_token, CLIENT)
    assert await recorded_generations(first.session_id) == [2, 3, 4]
    # So no chain stands above a missing record: once Redis forgot, a replay of the
    # rotated token is still reuse.
    await forget_redis(redis, settings, first.session_id)
    await refused_as_reuse(sessions, second.refresh_token, first.session_id)


async def test_a_replay_through_a_stale_copy_is_reuse(
    sessions: Sessions, settings: Settings, redis: Redis
) -> None:
    _, first = await sessions.start()
    key = family_copy_key(settings, first.session_id)
    snapshot = await redis.hgetall(key)
    await sessions.service.refresh(first.refresh_token, CLIENT)
    # Redis restarted from a snapshot taken before that rotation: its claim is gone and
    # the copy says generation 1 again. The record of generation 2 says otherwise.
    await forget_redis(redis, settings, first.session_id)
    await redis.hset(key, mapping=snapshot)
    sessions.clock.advance(timedelta(minutes=10))
    await refused_as_reuse(sessions, first.refresh_token, first.session_id)


async def test_when_redis_lost_its_claims_a_generation_is_still_minted_once(
    sessions: Sessions, settings: Settings, redis: Redis
) -> None:
    _, first = await sessions.start()
    second = await sessions.service.refresh(first.refresh_token, CLIENT)
    await forget_redis(redis, settings, first.session_id)
    # Redis has no claim of generation 2: the records show it was rotated already, so
    # the parent gets the grace answer, not a second successor.
    again = await sessions.service.refresh(first.refresh_token, CLIENT)
    assert again.refresh_token == second.refresh_token
    family = await RefreshFamily.get(PydanticObjectId(first.session_id))
    assert family is not None
    at = sessions.clock.now()
    assert await record_rotation(family, 3, Rotation(at, "c")) is True
    # Recorded again by the same rotation (a grace answer's): as recorded. By another: no.
    assert await record_rotation(family, 3, Rotation(at, "c")) is True
    assert await record_rotation(family, 3, Rotation(at, "d")) is False
    assert await record_rotation(family, 3, Rotation(at + timedelta(seconds=1), "c")) is False
    assert await recorded_generations(first.session_id) == [2, 3]


async def test_a_token_whose_rotation_never_landed_does_not_refresh(
    sessions: Sessions, settings: Settings, redis: Redis
) -> None:
    # A grace answer hands out the successor while its rotation is still landing; had
    # that insert never happened, the successor is from a future that did not.
    _, first = await sessions.start()
    second = await sessions.service.refresh(first.refresh_token, CLIENT)
    await (
        RefreshFamily.get_pymongo_collection()
        .database["refresh_rotations"]
        .delete_one({"_id": f"{first.session_id}:2"})
    )
    await forget_copy(redis, settings, first.session_id)
    with pytest.raises(InvalidRefreshTokenError):
        await sessions.service.refresh(second.refresh_token, CLIENT)


async def test_a_sign_in_stands_when_its_copy_cannot_be_kept(
    sessions: Sessions, settings: Settings, redis: Redis
) -> None:
    _, first = await sessions.start()
    family = await RefreshFamily.get(PydanticObjectId(first.session_id))
    assert family is not None
    nowhere = settings.model_copy(
        update={"redis_url": SecretStr(f"redis://127.0.0.1:{services.free_port()}/0")}
    )
    unreachable = create_redis(nowhere)
    try:
        await RefreshFamilies(unreachable, nowhere).keep(family)  # logged, not raised
        # Listing sessions (which ending all of them reads first) goes on without it too.
        assert await RefreshFamilies(unreachable, nowhere).rotated_at([family.id]) == {}
    finally:
        await unreachable.aclose()
    await forget_copy(redis, settings, first.session_id)
    # Without the copy the first refresh reads the database, and the ledger keeps it.
    second = await sessions.service.refresh(first.refresh_token, CLIENT)
    assert second.session_id == first.session_id
    assert await redis.hget(family_copy_key(settings, first.session_id), "gen") == b"2"
