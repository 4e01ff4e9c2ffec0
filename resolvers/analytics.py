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
    return info.context.state.clock.now().date()


async def active_users(info: Info, day: datetime.date | None = None) -> ActiveUsersType:
    value = await info.context.state.analytics.active_users(day or _today(info))
    return ActiveUsersType.build(value)


async def daily_auth_stats(
    info: Info, since: datetime.date, until: datetime.date | None = None
) -> list[DailyAuthStatsType]:
    end = until or _today(info)
    if since > end or (end - since).days >= MAX_DAYS:
        raise ValidationError(
            [FieldError("since", f"Ask for 1 to {MAX_DAYS} days, oldest first.", "INVALID")]
        )
    rows = await info.context.state.analytics.daily_auth_stats(since, end)
    return [DailyAuthStatsType.build(r) for r in rows]


async def retention_cohorts(info: Info, weeks: int = 8) -> list[CohortType]:
    rows = await info.context.state.analytics.weekly_retention(max(1, min(weeks, 26)))
    return [CohortType.build(r) for r in rows]


async def top_operations(info: Info, days: int = 7, limit: int = 10) -> list[OperationCountType]:
    rows = await info.context.state.analytics.top_operations(
        _today(info), max(1, min(days, 90)), max(1, min(limit, 100))
    )
    return [OperationCountType.build(r) for r in rows]
