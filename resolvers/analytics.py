from __future__ import annotations

import datetime

from domain.core.errors import FieldError, ValidationError
from schema.analytics.types import (
    ActiveUsersType,
    CohortType,
    DailyAuthStatsType,
    OperationCountType,
)
from schema.context import Info

MAX_DAYS = 366


def _today(info: Info) -> datetime.date:
    return info.context.clock.now().date()


def _check_day(info: Info, day: datetime.date, field: str) -> datetime.date:
    # Analytics keep about a year; anything far outside that is a mistake, not a query.
    today = _today(info)
    if not today - datetime.timedelta(days=3660) <= day <= today + datetime.timedelta(days=1):
        raise ValidationError([FieldError(field, "Pick a day in the last ten years.", "INVALID")])
    return day


async def active_users(info: Info, day: datetime.date | None = None) -> ActiveUsersType:
    chosen = _check_day(info, day, "day") if day else _today(info)
    value = await info.context.services.analytics.active_users(chosen)
    return ActiveUsersType.build(value)


async def daily_auth_stats(
    info: Info, since: datetime.date, until: datetime.date | None = None
) -> list[DailyAuthStatsType]:
    end = _check_day(info, until, "until") if until else _today(info)
    _check_day(info, since, "since")
    if since > end or (end - since).days >= MAX_DAYS:
        raise ValidationError(
            [FieldError("since", f"Ask for 1 to {MAX_DAYS} days, oldest first.", "INVALID")]
        )
    rows = await info.context.services.analytics.daily_auth_stats(since, end)
    return [DailyAuthStatsType.build(r) for r in rows]


async def retention_cohorts(info: Info, weeks: int = 8) -> list[CohortType]:
    rows = await info.context.services.analytics.weekly_retention(max(1, min(weeks, 26)))
    return [CohortType.build(r) for r in rows]


async def top_operations(info: Info, days: int = 7, limit: int = 10) -> list[OperationCountType]:
    rows = await info.context.services.analytics.top_operations(
        _today(info), max(1, min(days, 90)), max(1, min(limit, 100))
    )
    return [OperationCountType.build(r) for r in rows]
