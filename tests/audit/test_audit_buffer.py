"""Audit events written in bulk while the API runs (domain/audit/buffer.py), through
the real app on the real database: a sign-in does not wait for its audit insert, the
process reads its own events at once, a full buffer is written by the request that
filled it, and a clean stop writes everything."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pymongo import AsyncMongoClient

from domain.audit.buffer import AuditBuffer
from domain.audit.documents import AuditAction, AuditEvent
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.core.settings import Settings
from tests.api.identity_ops import PASSWORD, call, login
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager, asgi_client
from tests.support.commands import COMMANDS

MY_EVENTS = "query { mySecurityEvents(first: 5) { event } }"


async def stored(event: str, target_id: str) -> int:
    return await AuditEvent.find({"event": event, "target_id": target_id}).count()


def buffered(make_settings: Callable[..., Settings], **overrides: Any) -> Settings:
    # A long interval: only a read, a full buffer or the stop writes within a test.
    return make_settings(audit_flush_interval_ms=5_000, **overrides)


async def test_a_sign_in_does_not_wait_for_its_audit_insert_and_the_process_reads_it(
    make_settings: Callable[..., Settings], clock: FrozenClock
) -> None:
    from app import create_app

    COMMANDS.install()
    async with LifespanManager(create_app(buffered(make_settings), clock=clock)) as manager:
        user = await staff_account(manager.state, "buffer-one@example.com", PASSWORD, Role.STUDENT)
        async with asgi_client(manager) as client:
            with COMMANDS.counting() as sent:
                signed_in = await login(client, user.email)
            assert signed_in["__typename"] == "AuthPayload"
            assert ("insert", "audit_events") not in sent, sent
            assert await stored("user.login", str(user.id)) == 0
            # Read through the service: this process's own events are written first.
            body = await call(client, MY_EVENTS, token=signed_in["accessToken"])
            assert "user.login" in [e["event"] for e in body["data"]["mySecurityEvents"]]
            assert await stored("user.login", str(user.id)) == 1


async def test_a_clean_stop_writes_every_waiting_event(
    make_settings: Callable[..., Settings], clock: FrozenClock
) -> None:
    from app import create_app

    settings = buffered(make_settings)
    async with LifespanManager(create_app(settings, clock=clock)) as manager:
        user = await staff_account(manager.state, "buffer-stop@example.com", PASSWORD, Role.STUDENT)
        async with asgi_client(manager) as client:
            for _ in range(3):
                assert (await login(client, user.email))["__typename"] == "AuthPayload"
        assert manager.state.services.audit._buffer.pending >= 3
        assert await stored("user.login", str(user.id)) == 0
    # The app's client is closed with it: count through one of the test's own.
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongodb_url.get_secret_value()
    )
    try:
        events = client[settings.mongodb_database]["audit_events"]
        assert await events.count_documents({"event": "user.login", "target_id": str(user.id)}) == 3
    finally:
        await client.close()


async def test_a_full_buffer_is_written_by_the_request_that_filled_it(
    make_settings: Callable[..., Settings], clock: FrozenClock
) -> None:
    from app import create_app

    settings = buffered(make_settings, audit_buffer_max_events=2)
    async with LifespanManager(create_app(settings, clock=clock)) as manager:
        user = await staff_account(manager.state, "buffer-full@example.com", PASSWORD, Role.STUDENT)
        async with asgi_client(manager) as client:
            await login(client, user.email)
            assert await stored("user.login", str(user.id)) == 0
            await login(client, user.email)
            assert await stored("user.login", str(user.id)) == 2
            assert manager.state.services.audit._buffer.pending == 0


async def test_without_a_running_flusher_each_event_is_written_at_once(
    clock: FrozenClock, database: None
) -> None:
    # The workers build the same services without the API's lifespan: no buffering.
    audit = AuditService(clock, buffer=AuditBuffer(interval_seconds=5, max_events=100))
    event = await audit.record(
        "test.immediate", AuditAction.VIEW, actor=Actor.system(), target_id="t-1"
    )
    assert event is not None
    assert event.id is not None
    assert await stored("test.immediate", "t-1") == 1
