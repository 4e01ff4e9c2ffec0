from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission

from domain.identity.permissions import Permission
from resolvers import apikeys
from schema.apikeys.types import ApiKeyCreated, ApiKeyRevoked, ApiKeyType
from schema.permissions import permission_guard
from schema.user_errors import NotFound, ReauthenticationRequired, ValidationFailed

CreateApiKeyResult = Annotated[
    ApiKeyCreated | ValidationFailed | ReauthenticationRequired,
    strawberry.union("CreateApiKeyResult"),
]
RevokeApiKeyResult = Annotated[ApiKeyRevoked | NotFound, strawberry.union("RevokeApiKeyResult")]

# A new key is lasting access that outlives the session: its resolver also needs a
# recent sign-in (schema/recent_authentication.py).
_MANAGE: list[type[BasePermission]] = permission_guard(Permission.APIKEYS_MANAGE)


@strawberry.type
class ApiKeyQuery:
    api_keys: list[ApiKeyType] = strawberry.field(
        resolver=apikeys.api_keys, permission_classes=_MANAGE, description="All API keys."
    )


@strawberry.type
class ApiKeyMutation:
    create_api_key = strawberry.mutation(
        resolver=apikeys.create_api_key,
        permission_classes=_MANAGE,
        graphql_type=CreateApiKeyResult,
        description="Create a key for a service client; the key is returned once. Needs a "
        "recent sign-in; the creator is emailed.",
    )
    revoke_api_key = strawberry.mutation(
        resolver=apikeys.revoke_api_key,
        permission_classes=_MANAGE,
        graphql_type=RevokeApiKeyResult,
    )
