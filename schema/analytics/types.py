from __future__ import annotations

import datetime

import strawberry

from domain.analytics.service import ActiveUsers, Cohort, DailyAuthStats, OperationCount


@strawberry.type(name="ActiveUsers", description="Distinct signed-in users (HyperLogLog, ±1%).")
class ActiveUsersType:
    day: datetime.date
    daily: int
    weekly: int = strawberry.field(description="The 7 days ending on `day`.")
    monthly: int = strawberry.field(description="The 30 days ending on `day`.")

    @classmethod
    def build(cls, value: ActiveUsers) -> ActiveUsersType:
        return cls(day=value.day, daily=value.daily, weekly=value.weekly, monthly=value.monthly)


@strawberry.type(name="DailyAuthStats")
class DailyAuthStatsType:
    day: datetime.date
    logins: int
    failed_logins: int
    signups: int

    @classmethod
    def build(cls, value: DailyAuthStats) -> DailyAuthStatsType:
        return cls(
            day=value.day,
            logins=value.logins,
            failed_logins=value.failed_logins,
            signups=value.signups,
        )


@strawberry.type(name="RetentionCohort")
class CohortType:
    week_start: datetime.date
    size: int
    retained: list[int] = strawberry.field(
        description="Members who signed in during week 0, 1, 2, ... after joining."
    )

    @classmethod
    def build(cls, value: Cohort) -> CohortType:
        return cls(week_start=value.week_start, size=value.size, retained=value.retained)


@strawberry.type(name="OperationCount")
class OperationCountType:
    name: str
    count: int

    @classmethod
    def build(cls, value: OperationCount) -> OperationCountType:
        return cls(name=value.name, count=value.count)
