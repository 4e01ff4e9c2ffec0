"""Token and session lifetimes, with the application's clock under the test's control."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
import pytest

from domain.core.clock import FrozenClock
from domain.core.settings import Settings
from tests.api.identity_ops import (
    ME,
    NEW_PASSWORD,
    PASSWORD,
    REFRESH,
    REGISTER,
    REQUEST_RESET,
    RESET,
    VERIFY,
    call,
    error_code,
    login,
    unique_email,
    verified_user,
)
from tests.support.asgi import AppWith, asgi_client
from tests.support.processes import running_worker
from tests.support.smtp import MailInbox


@pytest.fixture(scope="module")
async def client(
    make_settings: Callable[..., Settings],
    app_with: AppWith,
    mail_inbox: MailInbox,
    clock: FrozenClock,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[httpx.AsyncClient]:
    mail = {"email_backend": "smtp", "smtp_port": mail_inbox.port}
    with running_worker(make_settings(**mail), tmp_path_factory.mktemp("worker") / "worker.log"):
        async with app_with(clock=clock, **mail) as manager, asgi_client(manager) as http:
            yield http


async def test_access_token_expires_with_small_skew_tolerated(
    client: httpx.AsyncClient, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email = await verified_user(client, mail_inbox)
    access = (await login(client, email))["accessToken"]
    clock.advance(timedelta(minutes=15, seconds=10))  # past exp, inside the 30 s leeway
    assert (await call(client, ME, token=access))["data"]["me"]["email"] == email
    clock.advance(timedelta(seconds=30))
    assert error_code(await call(client, ME, token=access)) == "UNAUTHENTICATED"


async def test_refresh_idle_lifetime(
    client: httpx.AsyncClient, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email = await verified_user(client, mail_inbox)
    refresh = (await login(client, email))["refreshToken"]
    clock.advance(timedelta(days=6))
    fresh = (await call(client, REFRESH, {"token": refresh}))["data"]["refreshToken"]
    assert fresh["__typename"] == "AuthPayload"
    clock.advance(timedelta(days=7, minutes=1))
    idle = (await call(client, REFRESH, {"token": fresh["refreshToken"]}))["data"]["refreshToken"]
    assert idle["__typename"] == "SessionExpired"


async def test_refresh_absolute_lifetime(
    client: httpx.AsyncClient, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email = await verified_user(client, mail_inbox)
    token = (await login(client, email))["refreshToken"]
    # Keep the session busy: a refresh every 6 days, never idle for 7.
    for _ in range(4):
        clock.advance(timedelta(days=6))
        result = (await call(client, REFRESH, {"token": token}))["data"]["refreshToken"]
        assert result["__typename"] == "AuthPayload"
        token = result["refreshToken"]
    clock.advance(timedelta(days=6, minutes=1))  # 30 days after the login
    over = (await call(client, REFRESH, {"token": token}))["data"]["refreshToken"]
    assert over["__typename"] == "SessionExpired"


async def test_verification_link_expires_after_a_day(
    client: httpx.AsyncClient, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email = unique_email("late")
    await call(
        client, REGISTER, {"email": email, "password": PASSWORD, "first": "L", "last": "Ate"}
    )
    (mail,) = await mail_inbox.wait_for(email, "Confirm your email")
    clock.advance(timedelta(hours=24, seconds=1))
    late = (await call(client, VERIFY, {"token": mail.token()}))["data"]["verifyEmail"]
    assert late["__typename"] == "InvalidToken"


async def test_reset_link_expires_after_an_hour(
    client: httpx.AsyncClient, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email = await verified_user(client, mail_inbox)
    await call(client, REQUEST_RESET, {"email": email})
    (mail,) = await mail_inbox.wait_for(email, "Reset your")
    clock.advance(timedelta(minutes=61))
    late = await call(client, RESET, {"token": mail.token(), "password": NEW_PASSWORD})
    assert late["data"]["resetPassword"]["__typename"] == "InvalidToken"
