from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission

from domain.identity.permissions import Permission
from resolvers import apikeys
from schema.apikeys.types import ApiKeyCreated, ApiKeyRevoked, ApiKeyType
from schema.permissions import RecentAuthentication, permission_guard
from schema.user_errors import NotFound, ValidationFailed

CreateApiKeyResult = Annotated[
    ApiKeyCreated | ValidationFailed, strawberry.union("CreateApiKeyResult")
]
RevokeApiKeyResult = Annotated[ApiKeyRevoked | NotFound, strawberry.union("RevokeApiKeyResult")]

_MANAGE: list[type[BasePermission]] = permission_guard(Permission.APIKEYS_MANAGE)
# A new key is lasting access that outlives the session: a recent sign-in first.
_MINT: list[type[BasePermission]] = [*_MANAGE, RecentAuthentication()]


@strawberry.type
class ApiKeyQuery:
    api_keys: list[ApiKeyType] = strawberry.field(
        resolver=apikeys.api_keys, permission_classes=_MANAGE, description="All API keys."
    )


@strawberry.type
class ApiKeyMutation:
    create_api_key = strawberry.mutation(
        resolver=apikeys.create_api_key,
        permission_classes=_MINT,
        graphql_type=CreateApiKeyResult,
        description="Create a key for a service client; the key is returned once. Needs a "
        "recent sign-in; the creator is emailed.",
    )
    revoke_api_key = strawberry.mutation(
        resolver=apikeys.revoke_api_key,
        permission_classes=_MANAGE,
        graphql_type=RevokeApiKeyResult,
    )
