from __future__ import annotations

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


@strawberry.type
class UserConnection:
    edges: list[Edge[UserType]]
    page_info: PageInfo
    total_count: int


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
