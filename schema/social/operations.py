"""Queries and mutations of social sign-in, with their result unions."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission

from domain.identity.permissions import Permission
from resolvers import social
from schema.identity.types import AuthPayload, MfaRequired
from schema.permissions import IsAuthenticated, permission_guard
from schema.social.types import (
    AccountLinkRequired,
    SocialAuthorization,
    SocialIdentityLinked,
    SocialIdentityUnlinked,
    SocialLinkEmailSent,
    SocialProvider,
    UserIdentities,
)
from schema.user_errors import (
    AccountDisabled,
    AccountLocked,
    Forbidden,
    LastSignInMethod,
    NotFound,
    RateLimited,
    ReauthenticationRequired,
    SocialIdentityTaken,
    SocialLinkExpired,
    SocialSignInFailed,
)

BeginSocialSignInResult = Annotated[
    SocialAuthorization | SocialSignInFailed | RateLimited,
    strawberry.union("BeginSocialSignInResult"),
]
CompleteSocialSignInResult = Annotated[
    AuthPayload
    | MfaRequired
    | AccountLinkRequired
    | SocialSignInFailed
    | AccountLocked
    | AccountDisabled
    | RateLimited,
    strawberry.union("CompleteSocialSignInResult"),
]
BeginSocialLinkResult = Annotated[
    SocialAuthorization | SocialSignInFailed | ReauthenticationRequired,
    strawberry.union("BeginSocialLinkResult"),
]
LinkSocialIdentityResult = Annotated[
    SocialIdentityLinked
    | SocialSignInFailed
    | SocialIdentityTaken
    | NotFound
    | ReauthenticationRequired,
    strawberry.union("LinkSocialIdentityResult"),
]
ConfirmSocialLinkResult = Annotated[
    SocialIdentityLinked | SocialLinkExpired | SocialIdentityTaken | ReauthenticationRequired,
    strawberry.union("ConfirmSocialLinkResult"),
]
RequestSocialLinkEmailResult = Annotated[
    SocialLinkEmailSent | SocialLinkExpired | RateLimited,
    strawberry.union("RequestSocialLinkEmailResult"),
]
ConfirmSocialLinkEmailResult = Annotated[
    SocialIdentityLinked | SocialLinkExpired | SocialIdentityTaken | RateLimited,
    strawberry.union("ConfirmSocialLinkEmailResult"),
]
UnlinkSocialIdentityResult = Annotated[
    SocialIdentityUnlinked | NotFound | LastSignInMethod | ReauthenticationRequired,
    strawberry.union("UnlinkSocialIdentityResult"),
]
UserIdentitiesResult = Annotated[
    UserIdentities | NotFound, strawberry.union("UserIdentitiesResult")
]
RemoveUserIdentityResult = Annotated[
    SocialIdentityUnlinked | NotFound | Forbidden | ReauthenticationRequired,
    strawberry.union("RemoveUserIdentityResult"),
]

_AUTH: list[type[BasePermission]] = [IsAuthenticated]
_READ: list[type[BasePermission]] = permission_guard(Permission.USERS_READ)
_WRITE: list[type[BasePermission]] = permission_guard(Permission.USERS_WRITE)


@strawberry.type
class SocialQuery:
    social_providers: list[SocialProvider] = strawberry.field(
        resolver=social.social_providers,
        description="The providers a sign-in page can offer.",
    )
    user_identities = strawberry.field(
        resolver=social.user_identities,
        permission_classes=_READ,
        graphql_type=UserIdentitiesResult,
        description="A user's linked provider identities (administrators).",
    )


@strawberry.type
class SocialMutation:
    begin_social_sign_in = strawberry.mutation(
        resolver=social.begin_social_sign_in,
        graphql_type=BeginSocialSignInResult,
        description="Start signing in with a provider: the URL to send the browser to. "
        "`redirectUri` must be one of GATEHOUSE_SOCIAL_REDIRECT_URIS exactly.",
    )
    complete_social_sign_in = strawberry.mutation(
        resolver=social.complete_social_sign_in,
        graphql_type=CompleteSocialSignInResult,
        description="Finish a provider sign-in with the callback's `code` and `state` (or "
        "its `error`): signed in, a second factor to answer, or an existing account to "
        "prove before linking. `deviceToken`: a trusted device's token (as for `login`) "
        "skips the second factor.",
    )
    begin_social_link = strawberry.mutation(
        resolver=social.begin_social_link,
        permission_classes=_AUTH,
        graphql_type=BeginSocialLinkResult,
        description="Start linking another provider to your account; needs a recent sign-in.",
    )
    link_social_identity = strawberry.mutation(
        resolver=social.link_social_identity,
        permission_classes=_AUTH,
        graphql_type=LinkSocialIdentityResult,
        description="Finish `beginSocialLink` with the callback's `code` and `state`, as the "
        "account that began it.",
    )
    confirm_social_link = strawberry.mutation(
        resolver=social.confirm_social_link,
        permission_classes=_AUTH,
        graphql_type=ConfirmSocialLinkResult,
        description="Link the identity of an `AccountLinkRequired` after signing in to the "
        "account it names (the proof of ownership).",
    )
    request_social_link_email = strawberry.mutation(
        resolver=social.request_social_link_email,
        graphql_type=RequestSocialLinkEmailResult,
        description="Email the account of an `AccountLinkRequired` a confirmation link.",
    )
    confirm_social_link_email = strawberry.mutation(
        resolver=social.confirm_social_link_email,
        graphql_type=ConfirmSocialLinkEmailResult,
        description="Link with the token of the emailed confirmation link.",
    )
    unlink_social_identity = strawberry.mutation(
        resolver=social.unlink_social_identity,
        permission_classes=_AUTH,
        graphql_type=UnlinkSocialIdentityResult,
        description="Unlink a provider (never the last way into the account); needs a "
        "recent sign-in.",
    )
    remove_user_identity = strawberry.mutation(
        resolver=social.remove_user_identity,
        permission_classes=_WRITE,
        graphql_type=RemoveUserIdentityResult,
        description="Remove a user's linked identity (administrators).",
    )
