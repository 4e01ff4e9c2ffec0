from __future__ import annotations

import strawberry
from strawberry.permission import BasePermission

from domain.identity.permissions import Permission
from resolvers import analytics
from schema.analytics.types import (
    ActiveUsersType,
    CohortType,
    DailyAuthStatsType,
    OperationCountType,
)
from schema.permissions import permission_guard

_READ: list[type[BasePermission]] = permission_guard(Permission.ANALYTICS_READ)


@strawberry.type
class AnalyticsQuery:
    active_users: ActiveUsersType = strawberry.field(
        resolver=analytics.active_users, permission_classes=_READ
    )
    daily_auth_stats: list[DailyAuthStatsType] = strawberry.field(
        resolver=analytics.daily_auth_stats,
        permission_classes=_READ,
        description="Logins, failed logins and sign-ups per day.",
    )
    retention_cohorts: list[CohortType] = strawberry.field(
        resolver=analytics.retention_cohorts,
        permission_classes=_READ,
        description="Weekly sign-up cohorts and how many came back each week.",
    )
    top_operations: list[OperationCountType] = strawberry.field(
        resolver=analytics.top_operations,
        permission_classes=_READ,
        description="The most used GraphQL operations over the last days.",
    )
