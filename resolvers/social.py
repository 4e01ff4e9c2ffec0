"""Resolvers of social sign-in: read the context, call one service, shape the result."""

from __future__ import annotations

import strawberry
from beanie import PydanticObjectId

from domain.core.errors import ForbiddenError, NotFoundError, RateLimitedError
from domain.identity.errors import AccountDisabledError, AccountLockedError
from domain.passkeys.errors import LastSignInMethodError
from domain.ratelimit.policy import Operation
from domain.social.errors import (
    SocialIdentityTakenError,
    SocialLinkExpiredError,
    SocialSignInFailedError,
)
from domain.social.sign_in import LinkRequired
from resolvers.guards import limit
from resolvers.identity import login_result
from schema.actor import actor_of
from schema.context import Info
from schema.error_mapping import maps_domain_errors
from schema.identity.types import AuthPayload, MfaRequired
from schema.recent_authentication import requires_recent_authentication
from schema.social.types import (
    AccountLinkRequired,
    SocialAuthorization,
    SocialIdentityLinked,
    SocialIdentityType,
    SocialIdentityUnlinked,
    SocialLinkEmailSent,
    SocialProvider,
    UserIdentities,
)


def _user_id(info: Info) -> PydanticObjectId:
    return PydanticObjectId(info.context.require_principal().user_id)


def social_providers(info: Info) -> list[SocialProvider]:
    gateway = info.context.services.social_sign_in
    return [SocialProvider(name=p.name, display_name=p.display_name) for p in gateway.providers()]


@maps_domain_errors(SocialSignInFailedError, RateLimitedError)
async def begin_social_sign_in(info: Info, provider: str, redirect_uri: str) -> SocialAuthorization:
    await limit(info, Operation.LOGIN)
    begun = await info.context.services.social_sign_in.begin(
        provider=provider, redirect_uri=redirect_uri
    )
    return SocialAuthorization(
        authorization_url=begun.authorization_url, expires_at=begun.expires_at
    )


@maps_domain_errors(
    SocialSignInFailedError, AccountLockedError, AccountDisabledError, RateLimitedError
)
async def complete_social_sign_in(
    info: Info,
    provider: str,
    state: str,
    code: str | None = None,
    error: str | None = None,
    device_token: str | None = None,
) -> AuthPayload | MfaRequired | AccountLinkRequired:
    await limit(info, Operation.LOGIN)
    outcome = await info.context.services.social_sign_in.complete(
        provider=provider,
        code=code,
        state=state,
        error=error,
        actor=actor_of(info),
        device_token=device_token,
    )
    if isinstance(outcome, LinkRequired):
        return AccountLinkRequired(
            link_token=outcome.link_token, provider=outcome.provider, expires_at=outcome.expires_at
        )
    return login_result(info, outcome)


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(SocialSignInFailedError)
async def begin_social_link(info: Info, provider: str, redirect_uri: str) -> SocialAuthorization:
    begun = await info.context.services.social_identities.begin_link(
        _user_id(info), provider=provider, redirect_uri=redirect_uri
    )
    return SocialAuthorization(
        authorization_url=begun.authorization_url, expires_at=begun.expires_at
    )


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(SocialSignInFailedError, SocialIdentityTakenError, NotFoundError)
async def link_social_identity(
    info: Info,
    provider: str,
    state: str,
    code: str | None = None,
    error: str | None = None,
) -> SocialIdentityLinked:
    identity = await info.context.services.social_identities.complete_link(
        _user_id(info), provider=provider, code=code, state=state, error=error, actor=actor_of(info)
    )
    return SocialIdentityLinked(identity=SocialIdentityType.from_document(identity))


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(SocialLinkExpiredError, SocialIdentityTakenError)
async def confirm_social_link(info: Info, link_token: str) -> SocialIdentityLinked:
    identity = await info.context.services.social_links.confirm_signed_in(
        link_token, _user_id(info), actor_of(info)
    )
    return SocialIdentityLinked(identity=SocialIdentityType.from_document(identity))


@maps_domain_errors(SocialLinkExpiredError, RateLimitedError)
async def request_social_link_email(info: Info, link_token: str) -> SocialLinkEmailSent:
    await limit(info, Operation.EMAIL)
    await info.context.services.social_links.send_email(link_token)
    return SocialLinkEmailSent()


@maps_domain_errors(SocialLinkExpiredError, SocialIdentityTakenError, RateLimitedError)
async def confirm_social_link_email(info: Info, token: str) -> SocialIdentityLinked:
    await limit(info, Operation.TOKEN)
    identity = await info.context.services.social_links.confirm_email(token, actor_of(info))
    return SocialIdentityLinked(identity=SocialIdentityType.from_document(identity))


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(NotFoundError, LastSignInMethodError)
async def unlink_social_identity(info: Info, id: strawberry.ID) -> SocialIdentityUnlinked:
    await info.context.services.social_identities.unlink(_user_id(info), str(id), actor_of(info))
    return SocialIdentityUnlinked(id=id)


@maps_domain_errors(NotFoundError)
async def user_identities(info: Info, user_id: strawberry.ID) -> UserIdentities:
    info.context.require_principal()
    found = await info.context.services.social_identities.list_for_admin(
        actor_of(info), str(user_id)
    )
    return UserIdentities(identities=[SocialIdentityType.from_document(i) for i in found])


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(NotFoundError, ForbiddenError)
async def remove_user_identity(
    info: Info, user_id: strawberry.ID, id: strawberry.ID
) -> SocialIdentityUnlinked:
    info.context.require_principal()
    await info.context.services.social_identities.remove_for_admin(
        actor_of(info), str(user_id), str(id)
    )
    return SocialIdentityUnlinked(id=id)
