"""Queries and mutations of the passkeys slice, with their result unions."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission

from domain.identity.permissions import Permission
from resolvers import passkeys
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
)
from schema.permissions import IsAuthenticated, permission_guard
from schema.user_errors import (
    AccountDisabled,
    AccountLocked,
    EmailNotVerified,
    Forbidden,
    InvalidCredentials,
    InvalidPasskey,
    LastSignInMethod,
    NotFound,
    PasskeyChallengeExpired,
    PasswordChangeRequired,
    RateLimited,
    ReauthenticationRequired,
    ValidationFailed,
)

BeginPasskeyRegistrationResult = Annotated[
    PasskeyRegistrationOptions | InvalidCredentials | ValidationFailed | ReauthenticationRequired,
    strawberry.union("BeginPasskeyRegistrationResult"),
]
FinishPasskeyRegistrationResult = Annotated[
    PasskeyAdded
    | InvalidPasskey
    | PasskeyChallengeExpired
    | ValidationFailed
    | InvalidCredentials
    | ReauthenticationRequired,
    strawberry.union("FinishPasskeyRegistrationResult"),
]
BeginPasskeyLoginResult = Annotated[
    PasskeyLoginOptions | ValidationFailed | PasskeyChallengeExpired | RateLimited,
    strawberry.union("BeginPasskeyLoginResult"),
]
FinishPasskeyLoginResult = Annotated[
    AuthPayload
    | MfaRequired
    | InvalidPasskey
    | PasskeyChallengeExpired
    | AccountLocked
    | AccountDisabled
    | EmailNotVerified
    | RateLimited
    | PasswordChangeRequired,
    strawberry.union("FinishPasskeyLoginResult"),
]
BeginPasskeyReauthenticationResult = Annotated[
    PasskeyReauthenticationOptions | ValidationFailed,
    strawberry.union("BeginPasskeyReauthenticationResult"),
]
RenamePasskeyResult = Annotated[
    PasskeyRenamed | ValidationFailed | NotFound, strawberry.union("RenamePasskeyResult")
]
RemovePasskeyResult = Annotated[
    PasskeyRemoved | NotFound | LastSignInMethod | ReauthenticationRequired,
    strawberry.union("RemovePasskeyResult"),
]
UserPasskeysResult = Annotated[UserPasskeys | NotFound, strawberry.union("UserPasskeysResult")]
RemoveUserPasskeyResult = Annotated[
    PasskeyRemoved | NotFound | Forbidden | ReauthenticationRequired,
    strawberry.union("RemoveUserPasskeyResult"),
]

_AUTH: list[type[BasePermission]] = [IsAuthenticated]
_READ: list[type[BasePermission]] = permission_guard(Permission.USERS_READ)
_WRITE: list[type[BasePermission]] = permission_guard(Permission.USERS_WRITE)


@strawberry.type
class PasskeyQuery:
    my_passkeys: list[PasskeyType] = strawberry.field(
        resolver=passkeys.my_passkeys,
        permission_classes=_AUTH,
        description="Your passkeys, oldest first.",
    )
    user_passkeys = strawberry.field(
        resolver=passkeys.user_passkeys,
        permission_classes=_READ,
        graphql_type=UserPasskeysResult,
        description="A user's passkeys (administrators).",
    )


@strawberry.type
class PasskeyMutation:
    begin_passkey_registration = strawberry.mutation(
        resolver=passkeys.begin_passkey_registration,
        permission_classes=_AUTH,
        graphql_type=BeginPasskeyRegistrationResult,
        description="Start adding a passkey to your account; needs a recent sign-in.",
    )
    finish_passkey_registration = strawberry.mutation(
        resolver=passkeys.finish_passkey_registration,
        permission_classes=_AUTH,
        graphql_type=FinishPasskeyRegistrationResult,
        description="Store the passkey `navigator.credentials.create` returned "
        "(its JSON, as an object or text); the owner is emailed.",
    )
    begin_passkey_login = strawberry.mutation(
        resolver=passkeys.begin_passkey_login,
        graphql_type=BeginPasskeyLoginResult,
        description="Start a passkey sign-in: no argument for any passkey of this site "
        "(autofill), `email` for that account's, or the `challengeToken` of an "
        "`MfaRequired` to answer a password's second factor with a passkey. The same "
        "answer whether or not the email has an account.",
    )
    finish_passkey_login = strawberry.mutation(
        resolver=passkeys.finish_passkey_login,
        graphql_type=FinishPasskeyLoginResult,
        description="Finish a passkey sign-in with what `navigator.credentials.get` "
        "returned; a passkey with user verification is both factors. `deviceToken`: a "
        "trusted device's token, which skips a two-factor account's code after a passkey "
        "without user verification.",
    )
    begin_passkey_reauthentication = strawberry.mutation(
        resolver=passkeys.begin_passkey_reauthentication,
        permission_classes=_AUTH,
        graphql_type=BeginPasskeyReauthenticationResult,
        description="Options to prove it is still you with one of your passkeys: send "
        "what `navigator.credentials.get` returns as `reauthenticate(passkey:)`.",
    )
    rename_passkey = strawberry.mutation(
        resolver=passkeys.rename_passkey,
        permission_classes=_AUTH,
        graphql_type=RenamePasskeyResult,
    )
    remove_passkey = strawberry.mutation(
        resolver=passkeys.remove_passkey,
        permission_classes=_AUTH,
        graphql_type=RemovePasskeyResult,
        description="Remove one of your passkeys (not the last way into an account "
        "without a password); needs a recent sign-in.",
    )
    remove_user_passkey = strawberry.mutation(
        resolver=passkeys.remove_user_passkey,
        permission_classes=_WRITE,
        graphql_type=RemoveUserPasskeyResult,
        description="Remove a user's passkey (a lost or compromised device).",
    )
