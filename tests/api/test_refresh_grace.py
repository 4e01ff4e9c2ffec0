"""The refresh grace (issue 16, items 1 and 2) through GraphQL, on the real FerretDB, Redis
and SMTP server, with a clock the tests move.

The immediately previous refresh token, presented again within the grace window by
the rotating request's client context (user-agent family, IP network), before the
successor was used and at most five times, gets the same successor and a fresh access
token. Anything else is reuse: the session ends, the owner is emailed, an audit event
is recorded. A rotation is one durable write.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from beanie import PydanticObjectId

from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.core.secrets import new_token, token_hash
from domain.core.settings import Settings
from domain.identity.documents import User
from domain.sessions.documents import RefreshFamily, RefreshToken, Session
from domain.sessions.rotation import family_copy_key
from tests.api.identity_ops import ME, PASSWORD, REFRESH, call, login
from tests.security.support import audit_events
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.support.commands import COMMANDS
from tests.support.rotations import live_generation, recorded_generations
from tests.support.smtp import MailInbox

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
FIREFOX_NEWER = "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
HOME = ("198.51.100.20", 50000)
SAME_NETWORK = ("198.51.100.77", 50001)
ELSEWHERE = ("203.0.113.9", 50002)
WRITES = {"insert", "update", "delete", "findAndModify"}


@pytest.fixture(scope="module")
def clock(frozen_clock: Callable[..., FrozenClock]) -> FrozenClock:
    return frozen_clock(START)


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(email_backend="smtp", smtp_port=mail_inbox.port)


@pytest.fixture(scope="module")
async def manager(
    settings: Settings, clock: FrozenClock, email_worker: None
) -> AsyncIterator[LifespanManager]:
    from app import create_app

    COMMANDS.install()  # before the app makes its database client
    async with LifespanManager(create_app(settings, clock=clock)) as running:
        yield running


@pytest.fixture(scope="module")
async def home(manager: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(manager, HOME) as http:
        yield http


async def account(manager: LifespanManager, name: str) -> User:
    return await staff_account(manager.state, f"{name}@example.com", PASSWORD, Role.STUDENT)


async def refresh(
    client: httpx.AsyncClient, token: str, user_agent: str = FIREFOX
) -> dict[str, Any]:
    body = await call(client, REFRESH, {"token": token}, user_agent=user_agent)
    return dict(body["data"]["refreshToken"])


async def signed_in(client: httpx.AsyncClient, access: str) -> bool:
    return (await call(client, ME, token=access))["data"] is not None


async def reuse_events(user: User) -> int:
    return len(await audit_events("session.refresh_reuse", target_id=str(user.id)))


async def session_of(payload: dict[str, Any]) -> Session:
    session = await Session.get(PydanticObjectId(payload["sessionId"]))
    assert session is not None
    return session


async def assert_reuse_ended(
    client: httpx.AsyncClient, mail_inbox: MailInbox, user: User, payload: dict[str, Any]
) -> None:
    """The verdict was reuse: the session ended, the owner was emailed, it was audited."""
    assert (await session_of(payload)).revoked_reason == "refresh_token_reuse"
    assert not await signed_in(client, payload["accessToken"])
    (alert,) = await mail_inbox.wait_for(user.email, "signed out a session")
    assert "used twice" in alert.text
    assert await reuse_events(user) >= 1


async def test_inside_the_window_the_same_successor_and_a_fresh_access_token(
    manager: LifespanManager, home: httpx.AsyncClient, clock: FrozenClock, mail_inbox: MailInbox
) -> None:
    user = await account(manager, "inside")
    first = await login(home, user.email, user_agent=FIREFOX)
    second = await refresh(home, first["refreshToken"])
    assert second["__typename"] == "AuthPayload"
    clock.advance(timedelta(seconds=9))
    # Another tab of the same browser, on the same home network, a moment later.
    async with asgi_client(manager, SAME_NETWORK) as tab:
        again = await refresh(tab, first["refreshToken"], FIREFOX_NEWER)
    assert again["__typename"] == "AuthPayload"
    assert again["refreshToken"] == second["refreshToken"]
    assert again["accessToken"] != second["accessToken"]
    assert again["sessionId"] == first["sessionId"]
    assert await signed_in(home, again["accessToken"])
    assert await signed_in(home, second["accessToken"])
    assert await reuse_events(user) == 0
    # The session keeps one live refresh token: the successor rotates on as usual.
    third = await refresh(home, second["refreshToken"])
    assert third["__typename"] == "AuthPayload"
    assert third["refreshToken"] not in (first["refreshToken"], second["refreshToken"])
    assert (await session_of(first)).revoked_at is None
    await asyncio.sleep(0.3)
    assert not [m for m in mail_inbox.all(user.email) if "signed out" in m.subject]


async def test_after_the_window_the_previous_token_is_reuse(
    manager: LifespanManager, home: httpx.AsyncClient, clock: FrozenClock, mail_inbox: MailInbox
) -> None:
    user = await account(manager, "after")
    first = await login(home, user.email, user_agent=FIREFOX)
    second = await refresh(home, first["refreshToken"])
    clock.advance(timedelta(seconds=11))
    replay = await refresh(home, first["refreshToken"])
    assert replay["__typename"] == "RefreshTokenReused"
    assert replay["code"] == "REFRESH_TOKEN_REUSED"
    await assert_reuse_ended(home, mail_inbox, user, second)
    assert (await refresh(home, second["refreshToken"]))["__typename"] == "InvalidRefreshToken"


async def test_an_older_ancestor_is_reuse(
    manager: LifespanManager, home: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    user = await account(manager, "ancestor")
    first = await login(home, user.email, user_agent=FIREFOX)
    second = await refresh(home, first["refreshToken"])
    third = await refresh(home, second["refreshToken"])
    fourth = await refresh(home, third["refreshToken"])
    assert fourth["__typename"] == "AuthPayload"
    # Two generations back, within seconds, from the same client: not covered.
    assert (await refresh(home, second["refreshToken"]))["__typename"] == "RefreshTokenReused"
    await assert_reuse_ended(home, mail_inbox, user, fourth)


@pytest.mark.parametrize(
    ("peer", "user_agent"), [(HOME, CHROME), (ELSEWHERE, FIREFOX)], ids=["family", "network"]
)
async def test_a_presentation_from_another_client_context_is_reuse(
    manager: LifespanManager,
    home: httpx.AsyncClient,
    mail_inbox: MailInbox,
    peer: tuple[str, int],
    user_agent: str,
) -> None:
    user = await account(manager, f"context-{peer[0]}-{user_agent[-6:]}")
    first = await login(home, user.email, user_agent=FIREFOX)
    second = await refresh(home, first["refreshToken"])
    async with asgi_client(manager, peer) as thief:
        stolen = await refresh(thief, first["refreshToken"], user_agent)
    assert stolen["__typename"] == "RefreshTokenReused"
    await assert_reuse_ended(home, mail_inbox, user, second)


async def test_a_used_successor_makes_the_previous_token_reuse(
    manager: LifespanManager, home: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    user = await account(manager, "used")
    first = await login(home, user.email, user_agent=FIREFOX)
    second = await refresh(home, first["refreshToken"])
    third = await refresh(home, second["refreshToken"])
    assert third["__typename"] == "AuthPayload"
    assert (await refresh(home, second["refreshToken"]))["__typename"] == "AuthPayload"
    # The first token's successor was used: the first token is not graced any more.
    assert (await refresh(home, first["refreshToken"]))["__typename"] == "RefreshTokenReused"
    await assert_reuse_ended(home, mail_inbox, user, third)


async def test_the_sixth_grace_retry_is_reuse(
    manager: LifespanManager, home: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    user = await account(manager, "retries")
    first = await login(home, user.email, user_agent=FIREFOX)
    second = await refresh(home, first["refreshToken"])
    for _ in range(5):
        again = await refresh(home, first["refreshToken"])
        assert again["refreshToken"] == second["refreshToken"]
    assert (await refresh(home, first["refreshToken"]))["__typename"] == "RefreshTokenReused"
    await assert_reuse_ended(home, mail_inbox, user, second)


async def test_concurrent_tabs_within_the_retry_cap_all_stay_signed_in(
    manager: LifespanManager, home: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    user = await account(manager, "tabs")
    first = await login(home, user.email, user_agent=FIREFOX)
    results = await asyncio.gather(*(refresh(home, first["refreshToken"]) for _ in range(5)))
    assert [r["__typename"] for r in results] == ["AuthPayload"] * 5
    assert len({r["refreshToken"] for r in results}) == 1
    assert await recorded_generations(first["sessionId"]) == [2]  # one rotation
    assert all([await signed_in(home, r["accessToken"]) for r in results])
    assert (await refresh(home, results[0]["refreshToken"]))["__typename"] == "AuthPayload"
    assert await reuse_events(user) == 0


async def test_twenty_concurrent_presentations_rotate_once(
    manager: LifespanManager, home: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    user = await account(manager, "race")
    first = await login(home, user.email, user_agent=FIREFOX)
    results = await asyncio.gather(*(refresh(home, first["refreshToken"]) for _ in range(20)))
    kinds = [r["__typename"] for r in results]
    granted = [r for r in results if r["__typename"] == "AuthPayload"]
    # One rotation and five grace answers, all the same successor; past the cap, reuse.
    # The first reuse verdict ends the session: presentations read after it find an
    # ended session, and the rotation may land on one (both InvalidRefreshToken).
    assert len(granted) in (5, 6), kinds
    assert len({r["refreshToken"] for r in granted}) == 1
    assert kinds.count("RefreshTokenReused") >= 1, kinds
    assert set(kinds) <= {"AuthPayload", "RefreshTokenReused", "InvalidRefreshToken"}
    await assert_reuse_ended(home, mail_inbox, user, granted[0])


async def test_twenty_concurrent_presentations_from_different_contexts_never_fork(
    manager: LifespanManager, home: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    user = await account(manager, "forks")
    first = await login(home, user.email, user_agent=FIREFOX)
    token = first["refreshToken"]
    peers = [(f"192.0.2.{i}", 40000 + i) if i % 2 else (f"203.0.{i}.1", 40000) for i in range(20)]

    async def present(peer: tuple[str, int], user_agent: str) -> dict[str, Any]:
        async with asgi_client(manager, peer) as http:
            return await refresh(http, token, user_agent)

    results = await asyncio.gather(
        *(present(peer, CHROME if i % 3 else FIREFOX) for i, peer in enumerate(peers))
    )
    granted = {r["refreshToken"] for r in results if r["__typename"] == "AuthPayload"}
    assert len(granted) <= 1, results  # never a second family
    assert {r["__typename"] for r in results} <= {
        "AuthPayload",
        "RefreshTokenReused",
        "InvalidRefreshToken",
    }
    assert (await session_of(first)).revoked_reason == "refresh_token_reuse"
    for successor in granted:
        assert (await refresh(home, successor))["__typename"] == "InvalidRefreshToken"
    await mail_inbox.wait_for(user.email, "signed out a session")


async def test_a_rotation_is_one_durable_write(
    manager: LifespanManager, home: httpx.AsyncClient
) -> None:
    user = await account(manager, "budget")
    first = await login(home, user.email, user_agent=FIREFOX)
    warm = await refresh(home, first["refreshToken"])  # the user is cached from here on
    with COMMANDS.counting() as rotation:
        rotated = await refresh(home, warm["refreshToken"])
    with COMMANDS.counting() as grace:
        again = await refresh(home, warm["refreshToken"])
    assert again["refreshToken"] == rotated["refreshToken"]
    # The family is read from its Redis copy, the user from its cache: the rotation's
    # record is the one command (an insert: FerretDB's updates are read-modify-writes).
    assert rotation == [("insert", "refresh_rotations")], rotation
    # The grace answer reads its successor's record (written there had its rotation not
    # landed), no more.
    assert grace == [("find", "refresh_rotations")], grace


async def test_a_family_opened_before_it_kept_auth_time_refreshes_with_the_sessions(
    manager: LifespanManager, home: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await account(manager, "authtime")
    signed_in_at = clock.now()
    first = await login(home, user.email, user_agent=FIREFOX)
    sid = PydanticObjectId(first["sessionId"])
    await RefreshFamily.get_pymongo_collection().update_one(
        {"_id": sid}, {"$unset": {"auth_time": ""}}
    )
    clock.advance(timedelta(seconds=30))
    refreshed = await refresh(home, first["refreshToken"])
    assert refreshed["__typename"] == "AuthPayload"
    verified = manager.state.services.access_tokens.verify(refreshed["accessToken"])
    assert verified.auth_time == signed_in_at


async def test_a_session_whose_family_is_gone_does_not_refresh(
    manager: LifespanManager, home: httpx.AsyncClient
) -> None:
    # Ending a session deletes its family first; without its Redis copy (expired) a
    # refresh reads the family alone.
    user = await account(manager, "familygone")
    first = await login(home, user.email, user_agent=FIREFOX)
    await RefreshFamily.get_pymongo_collection().delete_one(
        {"_id": PydanticObjectId(first["sessionId"])}
    )
    await manager.state.redis.delete(family_copy_key(manager.state.settings, first["sessionId"]))
    assert (await refresh(home, first["refreshToken"]))["__typename"] == "InvalidRefreshToken"


async def test_a_session_from_before_the_upgrade_refreshes_once_into_the_new_format(
    manager: LifespanManager, home: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await account(manager, "legacy")
    assert user.id is not None
    now = clock.now()
    session = Session(
        user_id=user.id,
        device="Firefox on Linux",
        user_agent=FIREFOX,
        ip=HOME[0],
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(days=30),
    )
    await session.insert()
    assert session.id is not None
    old = new_token()
    await RefreshToken(
        _id=token_hash(old),
        session_id=session.id,
        user_id=user.id,
        generation=4,
        created_at=now,
        idle_expires_at=now + timedelta(days=7),
    ).insert()
    upgraded = await refresh(home, old)
    assert upgraded["__typename"] == "AuthPayload"
    assert upgraded["refreshToken"].startswith("r1.")
    assert (await refresh(home, upgraded["refreshToken"]))["__typename"] == "AuthPayload"
    assert await live_generation(session.id) == 6
    # The old-format token, rotated, is reuse as it always was.
    assert (await refresh(home, old))["__typename"] == "RefreshTokenReused"


# Last in the module: a second app rebinds the documents to its own database client.
async def test_a_grace_of_zero_is_strict(
    app_with: AppWith, clock: FrozenClock, settings: Settings
) -> None:
    async with (
        app_with(
            clock=clock,
            refresh_token_grace_seconds=0,
            email_backend="smtp",
            smtp_port=settings.smtp_port,
        ) as strict,
        asgi_client(strict, HOME) as http,
    ):
        user = await account(strict, "strict")
        first = await login(http, user.email, user_agent=FIREFOX)
        second = await refresh(http, first["refreshToken"])
        assert (await refresh(http, first["refreshToken"]))["__typename"] == "RefreshTokenReused"
        assert (await session_of(second)).revoked_reason == "refresh_token_reuse"
        assert await reuse_events(user) == 1
