"""The user cache: `me` is served from Redis, and every change shows at once."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import services

from domain.core.redis import create_redis
from domain.core.settings import Settings
from domain.identity.cache import CachedUsers
from tests.api.identity_ops import ME, UPDATE_PROFILE, call, login, verified_user
from tests.support.asgi import LifespanManager
from tests.support.smtp import MailInbox


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(email_backend="smtp", smtp_port=mail_inbox.port)


async def test_me_is_served_from_cache_and_invalidated_on_change(
    client: httpx.AsyncClient, app: LifespanManager, mail_inbox: MailInbox
) -> None:
    cache: CachedUsers = app.state.services.users
    email = await verified_user(client, mail_inbox)
    token = (await login(client, email))["accessToken"]
    await call(client, ME, token=token)
    hits = cache.hits
    for _ in range(5):
        assert (await call(client, ME, token=token))["data"]["me"]["email"] == email
    assert cache.hits == hits + 5

    await call(client, UPDATE_PROFILE, {"first": "Fresh"}, token)
    assert (await call(client, ME, token=token))["data"]["me"]["firstName"] == "Fresh"


async def test_cache_steps_aside_when_redis_is_down(
    client: httpx.AsyncClient, mail_inbox: MailInbox, make_settings: Callable[..., Settings]
) -> None:
    email = await verified_user(client, mail_inbox)
    user_id = (await login(client, email))["user"]["id"]
    dead = make_settings(
        redis_url=f"redis://127.0.0.1:{services.free_port()}/0",
        redis_connect_timeout_seconds=0.2,
        redis_socket_timeout_seconds=0.2,
    )
    redis = create_redis(dead)
    try:
        cache = CachedUsers(redis, dead)
        user = await cache.get(user_id)
        assert user is not None
        assert user.email == email
        await cache.invalidate(user_id)  # no error either
    finally:
        await redis.aclose()
