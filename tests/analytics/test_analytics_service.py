"""The analytics slice at service level, against the real Redis and FerretDB the
session starts: active users are distinct ids per day, week and month (HyperLogLog),
noted in memory until a flush, and daily sign-in stats are counted from the audit
trail by its stored day, zeros included."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from redis.asyncio import Redis

from domain.analytics.service import AnalyticsService, DailyAuthStats
from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import FrozenClock
from domain.core.settings import Settings

CLOCK_START = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)


def analytics_for(
    make_settings: Callable[..., Settings], redis: Redis, clock: FrozenClock, prefix: str
) -> AnalyticsService:
    return AnalyticsService(make_settings(redis_key_prefix=prefix), redis, clock)


async def test_active_users_count_distinct_ids_per_day_week_and_month(
    make_settings: Callable[..., Settings],
    redis: Redis,
    frozen_clock: Callable[..., FrozenClock],
) -> None:
    today = CLOCK_START
    clock = frozen_clock(today - timedelta(days=40))
    analytics = analytics_for(make_settings, redis, clock, "au:")
    activity = {
        40: ["too-old"],  # outside the month
        20: ["month-only", "weekly"],  # inside the month, not the week
        3: ["weekly", "this-week"],
        0: ["today-1", "today-2", "today-1", "weekly"],
    }
    for days_ago, users in activity.items():
        clock.advance(today - timedelta(days=days_ago) - clock.now())
        for user in users:
            analytics.note_activity(user, "Me")
        analytics.note_activity(None, "Anonymous")  # counted as an operation, not a user
    counts = await analytics.active_users(today.date())
    assert (counts.daily, counts.weekly, counts.monthly) == (3, 4, 5)
    earlier = await analytics.active_users((today - timedelta(days=3)).date())
    assert (earlier.daily, earlier.weekly, earlier.monthly) == (2, 2, 3)


async def test_activity_is_written_only_by_a_flush(
    make_settings: Callable[..., Settings], redis: Redis, clock: FrozenClock
) -> None:
    analytics = analytics_for(make_settings, redis, clock, "fl:")
    for _ in range(3):
        analytics.note_activity("u1", "Login")
    analytics.note_activity("u2", "Me")
    assert await redis.keys("fl:analytics:*") == []
    await analytics.flush()
    assert sorted(await redis.keys("fl:analytics:*")) == [
        f"fl:analytics:active:{clock.now().date().isoformat()}".encode(),
        f"fl:analytics:ops:{clock.now().date().isoformat()}".encode(),
    ]
    top = await analytics.top_operations(clock.now().date(), days=1, limit=5)
    assert [(op.name, op.count) for op in top] == [("Login", 3), ("Me", 1)]


async def test_daily_auth_stats_count_the_trail_by_day_with_zeros(
    database: None,
    make_settings: Callable[..., Settings],
    redis: Redis,
    frozen_clock: Callable[..., FrozenClock],
) -> None:
    monday = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    clock = frozen_clock(monday)
    audit = AuditService(clock)
    actor = Actor.anonymous("192.0.2.1", "ua", None)
    history = {
        0: [("user.registered", AuditResult.SUCCESS), ("user.login", AuditResult.SUCCESS)],
        2: [("user.login", AuditResult.SUCCESS)] * 2 + [("user.login_failed", AuditResult.FAILURE)],
        # A minute before midnight UTC: still Thursday's.
        3: [("user.registered", AuditResult.SUCCESS)],
    }
    for day, events in history.items():
        clock.advance(monday + timedelta(days=day, hours=14, minutes=59) - clock.now())
        for event, result in events:
            await audit.record(event, AuditAction.LOGIN, actor=actor, result=result)
    await audit.record("user.password_changed", AuditAction.UPDATE, actor=actor)
    analytics = analytics_for(make_settings, redis, clock, "st:")
    stats = await analytics.daily_auth_stats(date(2026, 2, 1), date(2026, 2, 5))
    assert stats == [
        DailyAuthStats(day=date(2026, 2, 1), logins=0, failed_logins=0, signups=0),
        DailyAuthStats(day=date(2026, 2, 2), logins=1, failed_logins=0, signups=1),
        DailyAuthStats(day=date(2026, 2, 3), logins=0, failed_logins=0, signups=0),
        DailyAuthStats(day=date(2026, 2, 4), logins=2, failed_logins=1, signups=0),
        DailyAuthStats(day=date(2026, 2, 5), logins=0, failed_logins=0, signups=1),
    ]
    assert await analytics.daily_auth_stats(date(2026, 2, 3), date(2026, 2, 3)) == [
        DailyAuthStats(day=date(2026, 2, 3), logins=0, failed_logins=0, signups=0)
    ]
