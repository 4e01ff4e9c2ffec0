"""Resolvers of the passkeys slice: read the context, call one service, shape the result."""

from __future__ import annotations

import strawberry
from beanie import PydanticObjectId
from strawberry.scalars import JSON

from domain.core.errors import ForbiddenError, NotFoundError, RateLimitedError, ValidationError
from domain.identity.errors import (
    AccountDisabledError,
    AccountLockedError,
    EmailNotVerifiedError,
    InvalidCredentialsError,
    PasswordChangeRequiredError,
)
from domain.passkeys.errors import (
    InvalidPasskeyError,
    LastSignInMethodError,
    PasskeyChallengeExpiredError,
)
from domain.ratelimit.policy import Operation
from resolvers.guards import email_key, limit
from resolvers.identity import login_result
from schema.actor import actor_of
from schema.context import Info
from schema.error_mapping import maps_domain_errors
from schema.identity.types import AuthPayload, MfaRequired
from schema.passkeys.types import (
    PasskeyAdded,
    PasskeyLoginOptions,
    PasskeyReauthenticationOptions,
    PasskeyRegistrationOptions,
    PasskeyRemoved,
    PasskeyRenamed,
    PasskeyType,
    UserPasskeys,
    options_object,
)
from schema.recent_authentication import requires_recent_authentication


def _user_id(info: Info) -> PydanticObjectId:
    return PydanticObjectId(info.context.require_principal().user_id)


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(InvalidCredentialsError, ValidationError)
async def begin_passkey_registration(info: Info) -> PasskeyRegistrationOptions:
    created = await info.context.services.passkey_registration.begin(_user_id(info))
    return PasskeyRegistrationOptions(
        options=options_object(created.options_json), expires_at=created.expires_at
    )


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(
    InvalidPasskeyError, PasskeyChallengeExpiredError, ValidationError, InvalidCredentialsError
)
async def finish_passkey_registration(
    info: Info, credential: JSON, name: str | None = None
) -> PasskeyAdded:
    passkey = await info.context.services.passkey_registration.finish(
        _user_id(info), credential=credential, name=name, actor=actor_of(info)
    )
    return PasskeyAdded(passkey=PasskeyType.from_document(passkey))


@maps_domain_errors(ValidationError, PasskeyChallengeExpiredError, RateLimitedError)
async def begin_passkey_login(
    info: Info, email: str | None = None, challenge_token: str | None = None
) -> PasskeyLoginOptions:
    services = info.context.services
    if challenge_token:
        owner = await services.login.challenge_owner(challenge_token)
        await limit(info, Operation.MFA, account=owner or challenge_token[:64])
    else:
        await limit(info, Operation.LOGIN, account=email_key(email) if email else None)
    begun = await services.passkey_sign_in.begin(email=email, challenge_token=challenge_token)
    return PasskeyLoginOptions(
        attempt_id=begun.attempt_id,
        options=options_object(begun.options_json),
        expires_at=begun.expires_at,
    )


@maps_domain_errors(
    InvalidPasskeyError,
    PasskeyChallengeExpiredError,
    AccountLockedError,
    AccountDisabledError,
    EmailNotVerifiedError,
    RateLimitedError,
    # A passkey answering a password's second factor: the password may be a breached one.
    PasswordChangeRequiredError,
)
async def finish_passkey_login(
    info: Info, attempt_id: str, credential: JSON, device_token: str | None = None
) -> AuthPayload | MfaRequired:
    services = info.context.services
    # A second factor after a password is limited like the codes it stands beside.
    owner = await services.login.challenge_owner(attempt_id)
    if owner is not None:
        await limit(info, Operation.MFA, account=owner)
    else:
        await limit(info, Operation.LOGIN)
    outcome = await services.passkey_sign_in.finish(
        attempt_id=attempt_id,
        credential=credential,
        actor=actor_of(info),
        device_token=device_token,
    )
    # A passkey without user verification is one factor: a two-factor account answers
    # MfaRequired (unless the device is trusted).
    return login_result(info, outcome)


@maps_domain_errors(ValidationError)
async def begin_passkey_reauthentication(info: Info) -> PasskeyReauthenticationOptions:
    principal = info.context.require_principal()
    begun = await info.context.services.passkey_reauthentication.begin(
        PydanticObjectId(principal.user_id), principal.session_id
    )
    return PasskeyReauthenticationOptions(
        options=options_object(begun.options_json), expires_at=begun.expires_at
    )


async def my_passkeys(info: Info) -> list[PasskeyType]:
    passkeys = await info.context.services.passkeys.of_user(_user_id(info))
    return [PasskeyType.from_document(p) for p in passkeys]


@maps_domain_errors(ValidationError, NotFoundError)
async def rename_passkey(info: Info, id: strawberry.ID, name: str) -> PasskeyRenamed:
    passkey = await info.context.services.passkeys.rename(
        _user_id(info), str(id), name, actor_of(info)
    )
    return PasskeyRenamed(passkey=PasskeyType.from_document(passkey))


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(NotFoundError, LastSignInMethodError)
async def remove_passkey(info: Info, id: strawberry.ID) -> PasskeyRemoved:
    await info.context.services.passkeys.remove(_user_id(info), str(id), actor_of(info))
    return PasskeyRemoved(id=id)


@maps_domain_errors(NotFoundError)
async def user_passkeys(info: Info, user_id: strawberry.ID) -> UserPasskeys:
    info.context.require_principal()
    passkeys = await info.context.services.passkeys.list_for_admin(actor_of(info), str(user_id))
    return UserPasskeys(passkeys=[PasskeyType.from_document(p) for p in passkeys])


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(NotFoundError, ForbiddenError)
async def remove_user_passkey(
    info: Info, user_id: strawberry.ID, id: strawberry.ID
) -> PasskeyRemoved:
    info.context.require_principal()
    await info.context.services.passkeys.remove_for_admin(actor_of(info), str(user_id), str(id))
    return PasskeyRemoved(id=id)
