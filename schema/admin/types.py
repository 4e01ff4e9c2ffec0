from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import Enum

import strawberry

from schema.audit.types import AuditEventType
from schema.identity.types import RoleEnum, SessionType, UserStatusEnum, UserType
from schema.pagination import Edge, PageInfo


@strawberry.enum
class UserSort(Enum):
    CREATED_DESC = "CREATED_DESC"
    CREATED_ASC = "CREATED_ASC"
    EMAIL_ASC = "EMAIL_ASC"


@strawberry.input
class UserFilterInput:
    role: RoleEnum | None = None  # type: ignore[valid-type]
    status: UserStatusEnum | None = None
    email_verified: bool | None = None
    locked: bool | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    search: str | None = strawberry.field(
        default=None, description="A prefix of the email, first or last name."
    )
    include_deleted: bool = False


async def _total_count(root: UserConnection) -> int:
    # A count visits every matching user; a client paging without it should not pay.
    return await root.count_matching()


@strawberry.type
class UserConnection:
    edges: list[Edge[UserType]]
    page_info: PageInfo
    count_matching: strawberry.Private[Callable[[], Awaitable[int]]]
    total_count: int = strawberry.field(
        resolver=_total_count,
        description="How many users match the filter (counted only when asked for).",
    )


@strawberry.type
class AdminUserDetail:
    user: UserType
    sessions: list[SessionType]
    recent_events: list[AuditEventType]


@strawberry.type
class UserUpdated:
    user: UserType


@strawberry.type
class UserSessionsRevoked:
    sessions_ended: int
