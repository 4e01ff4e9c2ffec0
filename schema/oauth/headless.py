"""GraphQL fields of headless login and consent (domain/oauth/headless.py): the
deployment's login UI reads a pending authorization request and answers it for the
caller's session; each answer is the URL to send the browser to."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission

from resolvers import oauth_headless
from schema.oauth.headless_types import OAuthChallenge, OAuthChallengeAnswered
from schema.permissions import IsAuthenticated
from schema.user_errors import Forbidden, InvalidToken, ReauthenticationRequired

OAuthChallengeResult = Annotated[
    OAuthChallenge | InvalidToken, strawberry.union("OAuthChallengeResult")
]
AcceptLoginChallengeResult = Annotated[
    OAuthChallengeAnswered | InvalidToken | ReauthenticationRequired,
    strawberry.union("AcceptLoginChallengeResult"),
]
AcceptConsentChallengeResult = Annotated[
    OAuthChallengeAnswered | InvalidToken | Forbidden | ReauthenticationRequired,
    strawberry.union("AcceptConsentChallengeResult"),
]
RejectChallengeResult = Annotated[
    OAuthChallengeAnswered | InvalidToken | Forbidden, strawberry.union("RejectChallengeResult")
]

_AUTH: list[type[BasePermission]] = [IsAuthenticated]


@strawberry.type
class HeadlessQuery:
    oauth_challenge: OAuthChallengeResult = strawberry.field(
        resolver=oauth_headless.oauth_challenge,
        description="The pending authorization request a login or consent UI was sent "
        "(`login_challenge` / `consent_challenge`): the client and the scopes it asks for.",
    )


@strawberry.type
class HeadlessMutation:
    accept_login_challenge = strawberry.mutation(
        resolver=oauth_headless.accept_login_challenge,
        permission_classes=_AUTH,
        graphql_type=AcceptLoginChallengeResult,
        description="Sign the pending authorization request in with the caller's session.",
    )
    accept_consent_challenge = strawberry.mutation(
        resolver=oauth_headless.accept_consent_challenge,
        permission_classes=_AUTH,
        graphql_type=AcceptConsentChallengeResult,
        description="Allow the client the scopes it asks for (the caller's own request only).",
    )
    reject_challenge = strawberry.mutation(
        resolver=oauth_headless.reject_challenge,
        graphql_type=RejectChallengeResult,
        description="Refuse the request: the client is told `access_denied`. A consent "
        "step needs the session of the person it asks.",
    )
