"""Admin resolvers: the permission classes have already checked who is asking."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import strawberry

from domain.admin.user_filter import UserFilter, user_cursor
from domain.core.actor import Actor
from domain.core.errors import ForbiddenError, NotFoundError, ValidationError
from domain.core.roles import Role
from domain.identity.documents import UserStatus
from schema.actor import actor_of
from schema.admin.types import (
    AdminUserDetail,
    UserConnection,
    UserFilterInput,
    UserSessionsRevoked,
    UserSort,
    UserUpdated,
)
from schema.audit.types import AuditEventType
from schema.context import Info
from schema.error_mapping import maps_domain_errors
from schema.identity.types import RoleEnum, SessionType, UserType
from schema.pagination import Edge, PageInfo, page_size
from schema.recent_authentication import requires_recent_authentication


def _actor(info: Info) -> Actor:
    """The signed-in administrator (UNAUTHENTICATED without one)."""
    info.context.require_principal()
    return actor_of(info)


async def users(
    info: Info,
    filter: UserFilterInput | None = None,
    sort: UserSort = UserSort.CREATED_DESC,
    first: int | None = 20,
    after: str | None = None,
) -> UserConnection:
    given = filter or UserFilterInput()
    criteria = UserFilter(
        role=Role(given.role) if given.role is not None else None,
        status=UserStatus(given.status.value) if given.status is not None else None,
        email_verified=given.email_verified,
        locked=given.locked,
        created_after=given.created_after,
        created_before=given.created_before,
        search=given.search,
        include_deleted=given.include_deleted,
    )
    size = page_size(first)
    admin_users = info.context.services.admin_users
    page = await admin_users.find_users(criteria, sort=sort.value, after=after, limit=size)
    edges = [
        Edge(cursor=user_cursor(sort.value, u), node=UserType.from_document(u)) for u in page.users
    ]
    return UserConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
        ),
        count_matching=lambda: admin_users.count_users(criteria),
    )


@maps_domain_errors(NotFoundError)
async def user(info: Info, id: strawberry.ID) -> AdminUserDetail:
    services = info.context.services
    found = await services.admin_users.get(_actor(info), str(id))
    assert found.id is not None
    sessions = await services.admin_users.sessions_of(found.id)
    events = await services.audit.search(target_id=str(found.id), limit=20)
    return AdminUserDetail(
        user=UserType.from_document(found),
        sessions=[SessionType.from_document(s, current_session_id=None) for s in sessions],
        recent_events=[AuditEventType.from_document(e) for e in events],
    )


def _grants(args: Mapping[str, Any]) -> bool:
    """Giving a role or an account back needs a recent sign-in; taking access away must
    stay fast, so deactivating does not."""
    return args.get("role") is not None or bool(args.get("active"))


@requires_recent_authentication(max_age_seconds=300, when=_grants)
@maps_domain_errors(NotFoundError, ForbiddenError, ValidationError)
async def update_user(
    info: Info,
    id: strawberry.ID,
    role: RoleEnum | None = None,  # type: ignore[valid-type]
    active: bool | None = None,
) -> UserUpdated:
    updated = await info.context.services.admin_users.update(
        _actor(info), str(id), role=Role(role) if role is not None else None, active=active
    )
    return UserUpdated(user=UserType.from_document(updated))


@maps_domain_errors(NotFoundError, ForbiddenError, ValidationError)
async def delete_user(info: Info, id: strawberry.ID) -> UserUpdated:
    deleted = await info.context.services.admin_users.delete(_actor(info), str(id))
    return UserUpdated(user=UserType.from_document(deleted))


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(NotFoundError, ForbiddenError, ValidationError)
async def restore_user(info: Info, id: strawberry.ID) -> UserUpdated:
    restored = await info.context.services.admin_users.restore(_actor(info), str(id))
    return UserUpdated(user=UserType.from_document(restored))


@maps_domain_errors(NotFoundError, ForbiddenError, ValidationError)
async def unlock_user(info: Info, id: strawberry.ID) -> UserUpdated:
    unlocked = await info.context.services.admin_users.unlock(_actor(info), str(id))
    return UserUpdated(user=UserType.from_document(unlocked))


@maps_domain_errors(NotFoundError, ForbiddenError)
async def revoke_user_sessions(info: Info, id: strawberry.ID) -> UserSessionsRevoked:
    ended = await info.context.services.admin_users.revoke_sessions(_actor(info), str(id))
    return UserSessionsRevoked(sessions_ended=ended)


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(NotFoundError, ForbiddenError, ValidationError)
async def reset_user_two_factor(
    info: Info,
    id: strawberry.ID,
) -> UserUpdated:
    user = await info.context.services.admin_users.reset_two_factor(_actor(info), str(id))
    return UserUpdated(user=UserType.from_document(user))
