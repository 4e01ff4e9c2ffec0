"""Social sign-in types, built field by field: provider tokens and secrets never leave."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.social.documents import SocialIdentity
from schema.context import Info


@strawberry.type(name="SocialIdentity", description="A provider account linked to a user.")
class SocialIdentityType:
    id: strawberry.ID = strawberry.field(description='"<provider>:<subject>".')
    provider: str
    email: str | None = strawberry.field(description="The address the provider gave.")
    email_verified: bool
    picture: str | None = strawberry.field(description="The provider's avatar URL (https).")
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def from_document(cls, identity: SocialIdentity) -> SocialIdentityType:
        return cls(
            id=strawberry.ID(identity.id),
            provider=identity.provider,
            email=identity.email,
            email_verified=identity.email_verified,
            picture=identity.picture,
            created_at=identity.created_at,
            last_used_at=identity.last_used_at,
        )


async def identities_of_viewer(root: object, info: Info) -> list[SocialIdentityType] | None:
    """``User.identities``: the viewer's own only (administrators: ``userIdentities``)."""
    from beanie import PydanticObjectId

    principal = info.context.principal
    user_id = str(getattr(root, "id", ""))
    if principal is None or principal.user_id != user_id:
        return None
    found = await info.context.services.social_identities.of_user(PydanticObjectId(user_id))
    return [SocialIdentityType.from_document(i) for i in found]


@strawberry.type(description="A provider this server signs in with.")
class SocialProvider:
    name: str = strawberry.field(description="What `beginSocialSignIn(provider:)` takes.")
    display_name: str


@strawberry.type(
    description="Send the browser to `authorizationUrl`; the provider returns it to the "
    "`redirectUri`, whose page calls `completeSocialSignIn` with `code` and `state` "
    "(or `error`) before `expiresAt`."
)
class SocialAuthorization:
    authorization_url: str
    expires_at: datetime


@strawberry.type(
    description="The provider's verified email belongs to an existing account, which is "
    "never linked silently: sign in to that account (password or passkey) and call "
    "`confirmSocialLink(linkToken)`, or call `requestSocialLinkEmail(linkToken)` to have "
    "a confirmation link emailed to the account's address."
)
class AccountLinkRequired:
    link_token: str = strawberry.field(description="Opaque; single use.")
    provider: str
    expires_at: datetime


@strawberry.type
class SocialIdentityLinked:
    identity: SocialIdentityType


@strawberry.type
class SocialIdentityUnlinked:
    id: strawberry.ID


@strawberry.type(description="If the link was valid, the account's owner has been emailed.")
class SocialLinkEmailSent:
    sent: bool = True


@strawberry.type(description="A user's linked identities, for an administrator.")
class UserIdentities:
    identities: list[SocialIdentityType]
