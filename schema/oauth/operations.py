"""GraphQL fields of OAuth client management."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission

from domain.identity.permissions import Permission
from resolvers import oauth
from schema.oauth.consents import ConsentMutation, ConsentQuery
from schema.oauth.headless import HeadlessMutation, HeadlessQuery
from schema.oauth.types import (
    OAuthClientCreated,
    OAuthClientSaved,
    OAuthClientSecretRotated,
    OAuthClientType,
)
from schema.permissions import permission_guard
from schema.user_errors import NotFound, ReauthenticationRequired, ValidationFailed

CreateOAuthClientResult = Annotated[
    OAuthClientCreated | ValidationFailed | ReauthenticationRequired,
    strawberry.union("CreateOAuthClientResult"),
]
UpdateOAuthClientResult = Annotated[
    OAuthClientSaved | ValidationFailed | NotFound | ReauthenticationRequired,
    strawberry.union("UpdateOAuthClientResult"),
]
RotateOAuthClientSecretResult = Annotated[
    OAuthClientSecretRotated | ValidationFailed | NotFound | ReauthenticationRequired,
    strawberry.union("RotateOAuthClientSecretResult"),
]
DisableOAuthClientResult = Annotated[
    OAuthClientSaved | NotFound, strawberry.union("DisableOAuthClientResult")
]

# A client is lasting access to every account that signs in to it: creating, changing
# and re-keying one also need a recent sign-in (schema/recent_authentication.py).
_MANAGE: list[type[BasePermission]] = permission_guard(Permission.OAUTH_CLIENTS_MANAGE)


@strawberry.type
class OAuthQuery(HeadlessQuery, ConsentQuery):
    oauth_clients: list[OAuthClientType] = strawberry.field(
        resolver=oauth.oauth_clients,
        permission_classes=_MANAGE,
        description="Every registered OAuth / OpenID Connect client.",
    )


@strawberry.type
class OAuthMutation(HeadlessMutation, ConsentMutation):
    create_oauth_client = strawberry.mutation(
        resolver=oauth.create_oauth_client,
        name="createOAuthClient",
        permission_classes=_MANAGE,
        graphql_type=CreateOAuthClientResult,
        description="Register a client; a confidential client's secret is returned once.",
    )
    update_oauth_client = strawberry.mutation(
        resolver=oauth.update_oauth_client,
        name="updateOAuthClient",
        permission_classes=_MANAGE,
        graphql_type=UpdateOAuthClientResult,
    )
    rotate_oauth_client_secret = strawberry.mutation(
        resolver=oauth.rotate_oauth_client_secret,
        name="rotateOAuthClientSecret",
        permission_classes=_MANAGE,
        graphql_type=RotateOAuthClientSecretResult,
        description="A new secret, returned once; the old one stops at once.",
    )
    disable_oauth_client = strawberry.mutation(
        resolver=oauth.disable_oauth_client,
        name="disableOAuthClient",
        permission_classes=_MANAGE,
        graphql_type=DisableOAuthClientResult,
        description="The client can no longer sign anyone in; its tokens stop being active.",
    )
