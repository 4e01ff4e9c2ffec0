"""A session ended while Redis could not be written stays ended once Redis is back
(domain/sessions/revocation.py): the revocation record, and the refresh family's copy
dropped, are written by a retry as soon as Redis answers, against a real Redis server
that is stopped and started again (the fault suite's Redis restart found a logout whose
tokens worked again after it)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import redis as sync_redis
import services

from domain.core.redis import create_redis
from domain.core.settings import Settings
from domain.sessions.revocation import EndedSessions, SessionRevocations
from domain.sessions.rotation import family_copy_key


async def test_a_record_redis_refused_is_written_when_it_answers_again(tmp_path: Path) -> None:
    # Persistent, as production's: what was written before the restart is still there.
    server = services.redis_server(tmp_path / "redis", persist=True).start()
    settings = Settings(_env_file=None, redis_url=f"redis://127.0.0.1:{server.port}/0")  # type: ignore[call-arg]
    redis = create_redis(settings)
    revocations = SessionRevocations(redis, settings)
    ended = EndedSessions(revocations, bus=None)
    ended.RETRY_SECONDS = 0.05
    try:
        copy = family_copy_key(settings, "s-1")
        await redis.hset(copy, mapping={"gen": "3"})
        server.stop()
        await ended.announce("u-1", ["s-1"], "logout")  # Redis down: answered, not raised
        server = services.redis_server(tmp_path / "redis", server.port, persist=True).start()
        # The copy came back with Redis (a blocking client: the retry cannot run between).
        with sync_redis.Redis(port=server.port) as direct:
            assert direct.exists(copy) == 1
        for _ in range(100):
            if await revocations.is_revoked("s-1"):
                break
            await asyncio.sleep(0.05)
        assert await revocations.is_revoked("s-1")
        assert await redis.exists(copy) == 0
    finally:
        await redis.aclose()
        server.stop()
