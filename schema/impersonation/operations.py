"""Impersonation mutations, with their result unions and guards."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission

from domain.identity.permissions import Permission
from resolvers import impersonation
from schema.impersonation.types import ImpersonationEnded, ImpersonationStarted
from schema.permissions import IsAuthenticated, SessionWithSecondFactor, permission_guard
from schema.user_errors import Forbidden, NotFound, ReauthenticationRequired, ValidationFailed

ImpersonateUserResult = Annotated[
    ImpersonationStarted | NotFound | Forbidden | ValidationFailed | ReauthenticationRequired,
    strawberry.union("ImpersonateUserResult"),
]
EndImpersonationResult = Annotated[
    ImpersonationEnded | Forbidden, strawberry.union("EndImpersonationResult")
]

# The permission, then a second factor on this very session whatever the role settings.
_IMPERSONATE: list[type[BasePermission]] = [
    *permission_guard(Permission.USERS_IMPERSONATE),
    SessionWithSecondFactor(Permission.USERS_IMPERSONATE.value),
]


@strawberry.type
class ImpersonationMutation:
    impersonate_user = strawberry.mutation(
        resolver=impersonation.impersonate_user,
        permission_classes=_IMPERSONATE,
        graphql_type=ImpersonateUserResult,
        description="Act as a user of a strictly lower rank for a short session, to see what "
        "they see: read-only unless `readOnly: false`, never lasting control over the "
        "account. Needs a second factor on your session and a recent sign-in; the user is "
        "emailed, and the session ends with yours.",
    )
    end_impersonation = strawberry.mutation(
        resolver=impersonation.end_impersonation,
        permission_classes=[IsAuthenticated],
        graphql_type=EndImpersonationResult,
        description="End the impersonation session making this request.",
    )
