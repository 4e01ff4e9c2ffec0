from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission

from domain.identity.permissions import Permission
from resolvers import admin
from schema.admin.types import AdminUserDetail, UserConnection, UserSessionsRevoked, UserUpdated
from schema.permissions import permission_guard
from schema.user_errors import Forbidden, NotFound, ReauthenticationRequired, ValidationFailed

UserResult = Annotated[AdminUserDetail | NotFound, strawberry.union("AdminUserResult")]
# Giving someone a role or their account back, or removing their second factor, is
# lasting control: those resolvers also need a recent sign-in (SECURITY.md lists them).
UserUpdateResult = Annotated[
    UserUpdated | NotFound | Forbidden | ValidationFailed | ReauthenticationRequired,
    strawberry.union("UserUpdateResult"),
]
# Taking access away (soft delete) or ending a lock: no fresh proof, so no such member.
UserStatusResult = Annotated[
    UserUpdated | NotFound | Forbidden | ValidationFailed, strawberry.union("UserStatusResult")
]
RevokeUserSessionsResult = Annotated[
    UserSessionsRevoked | NotFound | Forbidden, strawberry.union("RevokeUserSessionsResult")
]

_READ: list[type[BasePermission]] = permission_guard(Permission.USERS_READ)
_WRITE: list[type[BasePermission]] = permission_guard(Permission.USERS_WRITE)


@strawberry.type
class AdminQuery:
    users: UserConnection = strawberry.field(
        resolver=admin.users,
        permission_classes=_READ,
        description="Accounts, filtered, searched, sorted and cursor-paged, with a total count.",
    )
    user = strawberry.field(resolver=admin.user, permission_classes=_READ, graphql_type=UserResult)


@strawberry.type
class AdminMutation:
    update_user = strawberry.mutation(
        resolver=admin.update_user,
        permission_classes=_WRITE,
        graphql_type=UserUpdateResult,
        description="Change role and/or activation; the user's sessions end.",
    )
    delete_user = strawberry.mutation(
        resolver=admin.delete_user,
        permission_classes=_WRITE,
        graphql_type=UserStatusResult,
        description="Soft delete: hidden, cannot sign in, restorable.",
    )
    restore_user = strawberry.mutation(
        resolver=admin.restore_user, permission_classes=_WRITE, graphql_type=UserUpdateResult
    )
    unlock_user = strawberry.mutation(
        resolver=admin.unlock_user, permission_classes=_WRITE, graphql_type=UserStatusResult
    )
    reset_user_two_factor = strawberry.mutation(
        resolver=admin.reset_user_two_factor,
        permission_classes=_WRITE,
        graphql_type=UserUpdateResult,
        description="Remove a user's TOTP and backup codes (a lost phone).",
    )
    revoke_user_sessions = strawberry.mutation(
        resolver=admin.revoke_user_sessions,
        permission_classes=_WRITE,
        graphql_type=RevokeUserSessionsResult,
    )
