"""Queries and mutations of the identity and sessions slices, with their result unions."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission

from resolvers import identity
from schema.identity.types import (
    AccountUnlocked,
    AuthPayload,
    BackupCodes,
    EmailChanged,
    EmailRequestAccepted,
    EmailVerified,
    MfaRequired,
    PasswordChanged,
    PasswordResetCompleted,
    ProfileUpdated,
    Reauthenticated,
    RegistrationAccepted,
    SessionRevoked,
    SessionType,
    TotpDisabled,
    TotpEnrollment,
)
from schema.permissions import IsAuthenticated
from schema.user_errors import (
    AccountDisabled,
    AccountLocked,
    EmailNotVerified,
    EmailTaken,
    InvalidCredentials,
    InvalidMfaCode,
    InvalidPasskey,
    InvalidRefreshToken,
    InvalidToken,
    NoPendingEnrollment,
    NotFound,
    PasskeyChallengeExpired,
    PasswordChangeRequired,
    RateLimited,
    ReauthenticationRequired,
    RefreshTokenReused,
    SessionExpired,
    TotpAlreadyEnabled,
    TotpNotEnabled,
    ValidationFailed,
)

RegisterResult = Annotated[
    RegistrationAccepted | ValidationFailed | RateLimited, strawberry.union("RegisterResult")
]
VerifyEmailResult = Annotated[
    EmailVerified | InvalidToken | ValidationFailed | RateLimited,
    strawberry.union("VerifyEmailResult"),
]
EmailRequestResult = Annotated[
    EmailRequestAccepted | ValidationFailed | RateLimited, strawberry.union("EmailRequestResult")
]
LoginResult = Annotated[
    AuthPayload
    | MfaRequired
    | ValidationFailed
    | InvalidCredentials
    | EmailNotVerified
    | AccountDisabled
    | AccountLocked
    | RateLimited
    | PasswordChangeRequired,
    strawberry.union("LoginResult"),
]
RefreshResult = Annotated[
    AuthPayload
    | InvalidRefreshToken
    | RefreshTokenReused
    | SessionExpired
    | NotFound
    | RateLimited,
    strawberry.union("RefreshResult"),
]
RevokeSessionResult = Annotated[SessionRevoked | NotFound, strawberry.union("RevokeSessionResult")]
ChangePasswordResult = Annotated[
    # AccountLocked: a wrong current password counts toward the lock like a login.
    PasswordChanged
    | ValidationFailed
    | InvalidCredentials
    | AccountLocked
    | RateLimited
    | ReauthenticationRequired,
    strawberry.union("ChangePasswordResult"),
]
ResetPasswordResult = Annotated[
    PasswordResetCompleted | ValidationFailed | InvalidToken | RateLimited,
    strawberry.union("ResetPasswordResult"),
]
UpdateProfileResult = Annotated[
    ProfileUpdated | ValidationFailed | InvalidCredentials,
    strawberry.union("UpdateProfileResult"),
]
RequestEmailChangeResult = Annotated[
    EmailRequestAccepted
    | ValidationFailed
    | InvalidCredentials
    | EmailTaken
    | AccountLocked
    | RateLimited
    | ReauthenticationRequired,
    strawberry.union("RequestEmailChangeResult"),
]
ConfirmEmailChangeResult = Annotated[
    EmailChanged | InvalidToken | EmailTaken | RateLimited,
    strawberry.union("ConfirmEmailChangeResult"),
]

CompleteMfaLoginResult = Annotated[
    AuthPayload
    | InvalidMfaCode
    | InvalidToken
    | AccountLocked
    | AccountDisabled
    | RateLimited
    | PasswordChangeRequired,
    strawberry.union("CompleteMfaLoginResult"),
]
BeginTotpResult = Annotated[
    TotpEnrollment | TotpAlreadyEnabled | InvalidCredentials | ReauthenticationRequired,
    strawberry.union("BeginTotpResult"),
]
ConfirmTotpResult = Annotated[
    BackupCodes
    | InvalidMfaCode
    | NoPendingEnrollment
    | TotpAlreadyEnabled
    | RateLimited
    | ReauthenticationRequired,
    strawberry.union("ConfirmTotpResult"),
]
ManageTotpResult = Annotated[
    BackupCodes
    | InvalidCredentials
    | InvalidMfaCode
    | TotpNotEnabled
    | AccountLocked
    | ValidationFailed
    | RateLimited
    | ReauthenticationRequired,
    strawberry.union("RegenerateBackupCodesResult"),
]
DisableTotpResult = Annotated[
    TotpDisabled
    | InvalidCredentials
    | InvalidMfaCode
    | TotpNotEnabled
    | AccountLocked
    | ValidationFailed
    | RateLimited
    | ReauthenticationRequired,
    strawberry.union("DisableTotpResult"),
]
ReauthenticateResult = Annotated[
    Reauthenticated
    | InvalidCredentials
    | InvalidMfaCode
    | InvalidPasskey
    | PasskeyChallengeExpired
    | AccountLocked
    | RateLimited
    | ValidationFailed,
    strawberry.union("ReauthenticateResult"),
]
UnlockAccountResult = Annotated[
    AccountUnlocked | InvalidToken | RateLimited, strawberry.union("UnlockAccountResult")
]

# Lasting control over the account (a factor, the password, the email) also needs a
# recent sign-in: declared on each resolver (schema/recent_authentication.py).
_AUTH: list[type[BasePermission]] = [IsAuthenticated]


@strawberry.type
class IdentityQuery:
    me = strawberry.field(
        resolver=identity.me, permission_classes=_AUTH, description="The signed-in user."
    )
    my_sessions: list[SessionType] = strawberry.field(
        resolver=identity.my_sessions,
        permission_classes=_AUTH,
        description="Your active sessions, most recently used first.",
    )


@strawberry.type
class IdentityMutation:
    register = strawberry.mutation(
        resolver=identity.register,
        graphql_type=RegisterResult,
        description="Create an account; the same answer whether or not the email is taken.",
    )
    verify_email = strawberry.mutation(
        resolver=identity.verify_email, graphql_type=VerifyEmailResult
    )
    resend_verification_email = strawberry.mutation(
        resolver=identity.resend_verification_email, graphql_type=EmailRequestResult
    )
    login = strawberry.mutation(
        resolver=identity.login,
        graphql_type=LoginResult,
        description="Sign in: opens a session and returns an access and a refresh token. "
        "`deviceToken`: a trusted device's token (from `completeMfaLogin(rememberDevice:)`), "
        "which skips the second factor of its account.",
    )
    refresh_token = strawberry.mutation(
        resolver=identity.refresh_token,
        graphql_type=RefreshResult,
        description="Trade a refresh token for a new pair; the old one stops working.",
    )
    logout = strawberry.mutation(
        resolver=identity.logout, permission_classes=_AUTH, description="End this session."
    )
    logout_all = strawberry.mutation(
        resolver=identity.logout_all,
        permission_classes=_AUTH,
        description="End every session; `keepCurrent: true` keeps this one (other devices).",
    )
    revoke_session = strawberry.mutation(
        resolver=identity.revoke_session, permission_classes=_AUTH, graphql_type=RevokeSessionResult
    )
    change_password = strawberry.mutation(
        resolver=identity.change_password,
        permission_classes=_AUTH,
        graphql_type=ChangePasswordResult,
    )
    request_password_reset = strawberry.mutation(
        resolver=identity.request_password_reset, graphql_type=EmailRequestResult
    )
    reset_password = strawberry.mutation(
        resolver=identity.reset_password, graphql_type=ResetPasswordResult
    )
    update_profile = strawberry.mutation(
        resolver=identity.update_profile,
        permission_classes=_AUTH,
        graphql_type=UpdateProfileResult,
    )
    request_email_change = strawberry.mutation(
        resolver=identity.request_email_change,
        permission_classes=_AUTH,
        graphql_type=RequestEmailChangeResult,
    )
    complete_mfa_login = strawberry.mutation(
        resolver=identity.complete_mfa_login,
        graphql_type=CompleteMfaLoginResult,
        description="Finish a two-factor sign-in with a TOTP `code` or a `backupCode`; "
        "`rememberDevice: true` returns a `deviceToken` that skips the second factor on this "
        "device for a while.",
    )
    reauthenticate = strawberry.mutation(
        resolver=identity.reauthenticate,
        permission_classes=_AUTH,
        graphql_type=ReauthenticateResult,
        description="Prove it is still you (the password, a current code, a backup code, or "
        "`passkey`: the answer to `beginPasskeyReauthentication`'s options) before a change "
        "that gives lasting control; wrong answers count toward the lock.",
    )
    begin_totp_enrollment = strawberry.mutation(
        resolver=identity.begin_totp_enrollment,
        permission_classes=_AUTH,
        graphql_type=BeginTotpResult,
        description="Start adding an authenticator app; needs a recent sign-in.",
    )
    confirm_totp_enrollment = strawberry.mutation(
        resolver=identity.confirm_totp_enrollment,
        permission_classes=_AUTH,
        graphql_type=ConfirmTotpResult,
        description="Turn two-factor on with a first code; returns backup codes once.",
    )
    regenerate_backup_codes = strawberry.mutation(
        resolver=identity.regenerate_backup_codes,
        permission_classes=_AUTH,
        graphql_type=ManageTotpResult,
    )
    disable_totp = strawberry.mutation(
        resolver=identity.disable_totp,
        permission_classes=_AUTH,
        graphql_type=DisableTotpResult,
    )
    unlock_account = strawberry.mutation(
        resolver=identity.unlock_account,
        graphql_type=UnlockAccountResult,
        description="Unlock an account locked after failed sign-ins, with the emailed link.",
    )
    confirm_email_change = strawberry.mutation(
        resolver=identity.confirm_email_change, graphql_type=ConfirmEmailChangeResult
    )
