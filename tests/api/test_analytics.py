"""Activity analytics against a seeded, known history (real Redis and FerretDB)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from domain.audit.documents import AuditAction
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from tests.api.identity_ops import ME, SESSIONS, call, login
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.support.smtp import MailInbox

NOW = CLOCK_START = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # a Wednesday
PASSWORD = "orchid compass thunder 7310"
STATS = """
query Stats($since: Date!, $until: Date) {
  dailyAuthStats(since: $since, until: $until) { day logins failedLogins signups }
}"""


@pytest.fixture(scope="module")
async def manager(
    app_with: AppWith, mail_inbox: MailInbox, clock: FrozenClock
) -> AsyncIterator[LifespanManager]:
    async with app_with(clock=clock, email_backend="smtp", smtp_port=mail_inbox.port) as running:
        yield running


@pytest.fixture(scope="module")
async def client(manager: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(manager) as http:
        yield http


async def account(manager: LifespanManager, clock: FrozenClock, email: str, role: Role) -> None:
    state = manager.state
    await staff_account(state, email, PASSWORD, role, clock=clock)


async def seed_history() -> None:
    """Week of 2 Mar: 3 sign-ups; 2 of them back the week after, 1 the week after that."""
    week0 = NOW.replace(day=2)  # Monday 2 March
    events = [
        (week0, "user.registered", "u1"),
        (week0 + timedelta(days=1), "user.registered", "u2"),
        (week0 + timedelta(days=2), "user.registered", "u3"),
        (week0 + timedelta(days=7), "user.login", "u1"),
        (week0 + timedelta(days=8), "user.login", "u2"),
        (week0 + timedelta(days=9), "user.login", "u2"),
        (week0 + timedelta(days=14), "user.login", "u1"),
        (week0 + timedelta(days=14), "user.login_failed", "u3"),
        (week0 + timedelta(days=14), "user.login_failed", None),
    ]
    for moment, event, target in events:
        action = AuditAction.CREATE if event == "user.registered" else AuditAction.LOGIN
        await AuditService(FrozenClock(moment)).record(
            event, action, actor=Actor.system(), target_id=target
        )


async def test_analytics_match_known_history(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    await seed_history()
    await account(manager, clock, "analyst@example.com", Role.ADMIN)
    for i in range(3):
        await account(manager, clock, f"member{i}@example.com", Role.STUDENT)
    admin = (await login(client, "analyst@example.com", PASSWORD))["accessToken"]

    # Today: three members are active (one of them twice), plus the admin.
    tokens = [
        (await login(client, f"member{i}@example.com", PASSWORD))["accessToken"] for i in range(3)
    ]
    for token in tokens + tokens[:1]:
        await call(client, ME, token=token)
    await call(client, SESSIONS, token=tokens[0])

    active = (await call(client, "{ activeUsers { daily weekly monthly } }", token=admin))["data"]
    assert active["activeUsers"] == {"daily": 3, "weekly": 3, "monthly": 3}

    stats = (await call(client, STATS, {"since": "2026-03-02", "until": "2026-03-16"}, admin))[
        "data"
    ]["dailyAuthStats"]
    by_day = {row["day"]: row for row in stats}
    assert len(stats) == 15
    assert by_day["2026-03-02"]["signups"] == 1
    assert [by_day[d]["logins"] for d in ("2026-03-09", "2026-03-10", "2026-03-11")] == [1, 1, 1]
    assert by_day["2026-03-16"] == {
        "day": "2026-03-16",
        "logins": 1,
        "failedLogins": 2,
        "signups": 0,
    }
    assert by_day["2026-03-05"]["logins"] == 0

    cohorts = (
        await call(
            client, "{ retentionCohorts(weeks: 3) { weekStart size retained } }", token=admin
        )
    )["data"]["retentionCohorts"]
    assert cohorts[0] == {"weekStart": "2026-03-02", "size": 3, "retained": [3, 2, 1]}

    top = (await call(client, "{ topOperations(days: 1, limit: 3) { name count } }", token=admin))[
        "data"
    ]["topOperations"]
    assert top[0]["name"] == "Login"
    assert {"name": "Me", "count": 4} in top


async def test_students_cannot_read_analytics(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    await account(manager, clock, "curious@example.com", Role.STUDENT)
    token = (await login(client, "curious@example.com", PASSWORD))["accessToken"]
    body = await call(client, "{ activeUsers { daily } }", token=token)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
