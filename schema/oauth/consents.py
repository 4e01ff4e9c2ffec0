"""GraphQL fields of a person's authorized apps (their OAuth consents)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission

from resolvers import oauth_consents
from schema.oauth.consent_types import AuthorizedAppRevoked, AuthorizedAppType
from schema.permissions import IsAuthenticated
from schema.user_errors import NotFound

RevokeAuthorizedAppResult = Annotated[
    AuthorizedAppRevoked | NotFound, strawberry.union("RevokeAuthorizedAppResult")
]

_AUTH: list[type[BasePermission]] = [IsAuthenticated]


@strawberry.type
class ConsentQuery:
    my_authorized_apps: list[AuthorizedAppType] = strawberry.field(
        resolver=oauth_consents.my_authorized_apps,
        permission_classes=_AUTH,
        description="The apps you allowed to sign you in, newest consent first.",
    )


@strawberry.type
class ConsentMutation:
    revoke_authorized_app = strawberry.mutation(
        resolver=oauth_consents.revoke_authorized_app,
        permission_classes=_AUTH,
        graphql_type=RevokeAuthorizedAppResult,
        description="Withdraw an app's consent: it asks again next time, and every token "
        "you gave it stops now (refresh tokens refused, access tokens inactive).",
    )
