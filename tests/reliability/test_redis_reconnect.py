"""After Redis restarts, the pooled connections it closed are retried, not failed."""

from __future__ import annotations

from pathlib import Path

import services

from domain.core.redis import create_redis
from domain.core.settings import Settings


async def test_commands_after_a_redis_restart_succeed_first_time(tmp_path: Path) -> None:
    server = services.redis_server(tmp_path / "redis").start()
    settings = Settings(_env_file=None, redis_url=f"redis://127.0.0.1:{server.port}/0")  # type: ignore[call-arg]
    redis = create_redis(settings)
    try:
        await redis.set("gh:probe", b"1")
        server.stop()
        server = services.redis_server(tmp_path / "redis", server.port).start()
        # The pooled connection was closed by the old server: one retry reconnects.
        assert await redis.get("gh:probe") is None
        assert await redis.ping()
    finally:
        await redis.aclose()
        server.stop()
