"""The audit slice at service level, against the real FerretDB the session starts:
secrets are redacted by field name before anything is stored, listeners hear each
stored event in order (a failing one is skipped, not fatal), and the trail is
searched by actor, target, event, time span and cursor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from domain.audit.documents import AuditAction, AuditEvent, AuditResult
from domain.audit.service import REDACTED, AuditService
from domain.core.actor import Actor
from domain.core.clock import FrozenClock

ADMIN = Actor(user_id="admin-1", role=None, ip="198.51.100.4", user_agent="ua", request_id="r1")


async def test_secrets_are_redacted_before_the_event_is_stored(
    database: None, clock: FrozenClock
) -> None:
    audit = AuditService(clock)
    stored = await audit.record(
        "user.password_changed",
        AuditAction.UPDATE,
        actor=ADMIN,
        target_id="user-redact",
        before={"password_hash": "$argon2id$old", "email": "a@example.com"},
        after={"password_hash": "$argon2id$new", "profile": {"apiKey": "k", "name": "Ann"}},
        details={"reset_token": "abc", "totp_code": "123456", "attempts": 2},
    )
    assert stored is not None
    event = await AuditEvent.get(stored.id)
    assert event is not None
    assert event.before == {"password_hash": REDACTED, "email": "a@example.com"}
    assert event.after == {
        "password_hash": REDACTED,
        "profile": {"apiKey": REDACTED, "name": "Ann"},
    }
    assert event.details == {"reset_token": REDACTED, "totp_code": REDACTED, "attempts": 2}
    assert event.actor_id == "admin-1"
    assert event.actor_type == "user"
    assert event.ip == "198.51.100.4"
    assert event.occurred_at == clock.now().replace(tzinfo=event.occurred_at.tzinfo)
    assert event.day == clock.now().strftime("%Y-%m-%d")


async def test_listeners_hear_each_event_in_order_and_a_failing_one_is_skipped(
    database: None, clock: FrozenClock
) -> None:
    heard: list[str] = []

    async def first(event: AuditEvent) -> None:
        heard.append(f"first:{event.event}")

    async def failing(event: AuditEvent) -> None:
        heard.append(f"failing:{event.event}")
        raise RuntimeError("listener down")

    async def last(event: AuditEvent) -> None:
        # The event is stored before any listener hears of it.
        assert await AuditEvent.get(event.id) is not None
        heard.append(f"last:{event.event}")

    audit = AuditService(clock, listeners=[first, failing, last])
    stored = await audit.record("user.login", AuditAction.LOGIN, actor=Actor.system())
    assert stored is not None
    assert stored.actor_type == "anonymous"
    await audit.record("user.logout", AuditAction.LOGOUT, actor=ADMIN, result=AuditResult.FAILURE)
    assert heard == [
        "first:user.login",
        "failing:user.login",
        "last:user.login",
        "first:user.logout",
        "failing:user.logout",
        "last:user.logout",
    ]


async def test_search_filters_by_actor_target_event_and_time_and_pages_newest_first(
    database: None, frozen_clock: Callable[..., FrozenClock]
) -> None:
    clock = frozen_clock()
    audit = AuditService(clock)
    alice = Actor(user_id="s-alice", role=None, ip="", user_agent="", request_id=None)
    bob = Actor(user_id="s-bob", role=None, ip="", user_agent="", request_id=None)
    start = clock.now()
    ids: list[str] = []
    for actor, event, target in [
        (alice, "search.a", "s-t1"),
        (bob, "search.a", "s-t2"),
        (alice, "search.b", "s-t2"),
        (bob, "search.b", "s-t1"),
    ]:
        stored = await audit.record(event, AuditAction.UPDATE, actor=actor, target_id=target)
        assert stored is not None
        ids.append(str(stored.id))
        clock.advance(timedelta(hours=1))

    def events(found: list[AuditEvent]) -> list[str]:
        return [str(e.id) for e in found]

    assert events(await audit.search(actor_id="s-alice")) == [ids[2], ids[0]]
    assert events(await audit.search(target_id="s-t1")) == [ids[3], ids[0]]
    assert events(await audit.search(event="search.b", actor_id="s-bob")) == [ids[3]]
    window = await audit.search(
        since=start + timedelta(minutes=30), until=start + timedelta(hours=2, minutes=30)
    )
    assert events(window) == [ids[2], ids[1]]
    page = await audit.search(event="search.a", limit=1)
    assert events(page) == [ids[1]]
    assert events(await audit.search(event="search.a", after_id=ids[1])) == [ids[0]]
    assert await audit.search(after_id="not-an-id") == []
    mine = await audit.for_user("s-t2")
    assert {e.event for e in mine} == {"search.a", "search.b"}
    assert events(mine) == [ids[2], ids[1]]
