"""Resolvers of the identity slice: read the context, call one service, shape the result."""

from __future__ import annotations

from beanie import PydanticObjectId
from strawberry.scalars import JSON

from domain.core.errors import NotFoundError, RateLimitedError, ValidationError
from domain.identity.action_tokens import InvalidActionTokenError
from domain.identity.documents import User
from domain.identity.errors import (
    AccountDisabledError,
    AccountLockedError,
    EmailNotVerifiedError,
    EmailTakenError,
    InvalidCredentialsError,
    PasswordChangeRequiredError,
)
from domain.identity.login import LoginOutcome
from domain.mfa.errors import (
    InvalidMfaCodeError,
    NoPendingEnrollmentError,
    TotpAlreadyEnabledError,
    TotpNotEnabledError,
)
from domain.passkeys.errors import InvalidPasskeyError, PasskeyChallengeExpiredError
from domain.ratelimit.policy import Operation
from domain.sessions.errors import (
    InvalidRefreshTokenError,
    RefreshTokenReusedError,
    SessionExpiredError,
)
from resolvers.guards import email_key, limit
from schema.actor import actor_of
from schema.context import Info
from schema.error_mapping import maps_domain_errors
from schema.identity.types import (
    AccountUnlocked,
    AuthPayload,
    BackupCodes,
    EmailChanged,
    EmailRequestAccepted,
    EmailVerified,
    LoggedOut,
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
    UserType,
)
from schema.recent_authentication import requires_recent_authentication

REGISTER_MESSAGE = (
    "Thanks! Check your inbox: we sent a link to confirm the address. "
    "If you already have an account, we sent you a notice instead."
)
EMAIL_REQUEST_MESSAGE = "If an account matches, we have sent an email with the next step."


def _user_id(info: Info) -> PydanticObjectId:
    return PydanticObjectId(info.context.require_principal().user_id)


@maps_domain_errors(ValidationError, RateLimitedError)
async def register(
    info: Info, email: str, password: str, first_name: str, last_name: str
) -> RegistrationAccepted:
    await limit(info, Operation.REGISTER)
    await info.context.services.registration.register(
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        actor=actor_of(info),
    )
    return RegistrationAccepted(message=REGISTER_MESSAGE)


@maps_domain_errors(InvalidActionTokenError, ValidationError, RateLimitedError)
async def verify_email(info: Info, token: str) -> EmailVerified:
    await limit(info, Operation.TOKEN)
    user = await info.context.services.registration.verify_email(token, actor_of(info))
    return EmailVerified(user=UserType.from_document(user))


@maps_domain_errors(ValidationError, RateLimitedError)
async def resend_verification_email(info: Info, email: str) -> EmailRequestAccepted:
    await limit(info, Operation.EMAIL, account=email_key(email))
    await info.context.services.registration.resend_verification(email)
    return EmailRequestAccepted(message=EMAIL_REQUEST_MESSAGE)


def login_result(info: Info, outcome: LoginOutcome) -> AuthPayload | MfaRequired:
    """A sign-in's outcome (any first step) as its GraphQL answer."""
    if outcome.challenge is not None:
        return MfaRequired(
            challenge_token=outcome.challenge.token,
            expires_at=outcome.challenge.expires_at,
            methods=list(outcome.methods) or ["totp", "backup_code"],
        )
    assert outcome.tokens is not None
    now = info.context.clock.now()
    return AuthPayload.build(outcome.tokens, outcome.user, now, outcome.device_token)


@maps_domain_errors(
    ValidationError,
    InvalidCredentialsError,
    EmailNotVerifiedError,
    AccountDisabledError,
    AccountLockedError,
    RateLimitedError,
    PasswordChangeRequiredError,
)
async def login(
    info: Info, email: str, password: str, device_token: str | None = None
) -> AuthPayload | MfaRequired:
    ctx = info.context
    await limit(info, Operation.LOGIN, account=email_key(email))
    outcome = await ctx.services.login.login(
        email=email, password=password, actor=actor_of(info), device_token=device_token
    )
    return login_result(info, outcome)


@maps_domain_errors(
    InvalidMfaCodeError,
    InvalidActionTokenError,
    AccountLockedError,
    AccountDisabledError,
    RateLimitedError,
    PasswordChangeRequiredError,
)
async def complete_mfa_login(
    info: Info,
    challenge_token: str,
    code: str | None = None,
    backup_code: str | None = None,
    remember_device: bool = False,
) -> AuthPayload | MfaRequired:
    ctx = info.context
    owner = await ctx.services.login.challenge_owner(challenge_token)
    await limit(info, Operation.MFA, account=owner or challenge_token[:64])
    outcome = await ctx.services.login.complete_mfa_login(
        challenge=challenge_token,
        code=code,
        backup_code=backup_code,
        actor=actor_of(info),
        remember_device=remember_device,
    )
    return login_result(info, outcome)


@maps_domain_errors(
    InvalidCredentialsError,
    InvalidMfaCodeError,
    InvalidPasskeyError,
    PasskeyChallengeExpiredError,
    AccountLockedError,
    RateLimitedError,
    ValidationError,
)
async def reauthenticate(
    info: Info,
    password: str | None = None,
    code: str | None = None,
    backup_code: str | None = None,
    passkey: JSON | None = None,
) -> Reauthenticated:
    principal = info.context.require_principal()
    # Limited like the sign-in it stands for: a password or passkey like login, a code like 2FA.
    operation = Operation.LOGIN if password or passkey is not None else Operation.MFA
    await limit(info, operation, account=principal.user_id)
    proof = await info.context.services.reauthentication.reauthenticate(
        principal,
        actor=actor_of(info),
        password=password,
        code=code,
        backup_code=backup_code,
        passkey=passkey,
    )
    return Reauthenticated.build(proof, info.context.clock.now())


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(TotpAlreadyEnabledError, InvalidCredentialsError)
async def begin_totp_enrollment(info: Info) -> TotpEnrollment:
    enrollment = await info.context.services.two_factor.begin_totp_enrollment(_user_id(info))
    return TotpEnrollment(
        secret=enrollment.secret,
        otpauth_uri=enrollment.otpauth_uri,
        qr_code_svg_data_uri=enrollment.qr_svg_data_uri,
    )


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(
    InvalidMfaCodeError, NoPendingEnrollmentError, TotpAlreadyEnabledError, RateLimitedError
)
async def confirm_totp_enrollment(info: Info, code: str) -> BackupCodes:
    await limit(info, Operation.MFA, account=info.context.require_principal().user_id)
    codes = await info.context.services.two_factor.confirm_totp_enrollment(
        _user_id(info), code, actor_of(info)
    )
    return BackupCodes(codes=codes)


@requires_recent_authentication(max_age_seconds=900)
@maps_domain_errors(
    InvalidCredentialsError,
    InvalidMfaCodeError,
    TotpNotEnabledError,
    AccountLockedError,
    ValidationError,
    RateLimitedError,
)
async def regenerate_backup_codes(info: Info, password: str, code: str) -> BackupCodes:
    await limit(info, Operation.MFA, account=info.context.require_principal().user_id)
    codes = await info.context.services.two_factor.regenerate_backup_codes(
        _user_id(info), password=password, code=code, actor=actor_of(info)
    )
    return BackupCodes(codes=codes)


@requires_recent_authentication(max_age_seconds=900)
@maps_domain_errors(
    InvalidCredentialsError,
    InvalidMfaCodeError,
    TotpNotEnabledError,
    AccountLockedError,
    ValidationError,
    RateLimitedError,
)
async def disable_totp(info: Info, password: str, code: str) -> TotpDisabled:
    await limit(info, Operation.MFA, account=info.context.require_principal().user_id)
    await info.context.services.two_factor.disable_totp(
        _user_id(info), password=password, code=code, actor=actor_of(info)
    )
    return TotpDisabled(message="Two-factor sign-in is off.")


@maps_domain_errors(
    InvalidRefreshTokenError,
    RefreshTokenReusedError,
    SessionExpiredError,
    NotFoundError,
    RateLimitedError,
)
async def refresh_token(info: Info, token: str) -> AuthPayload:
    services = info.context.services
    await limit(info, Operation.REFRESH)
    tokens = await services.sessions.refresh(token, actor_of(info))
    # The refresh loaded the account to check it is active; no second read.
    user = tokens.owner if isinstance(tokens.owner, User) else None
    user = user or await services.profile.get_user(tokens.user_id)
    if user is None:
        raise NotFoundError
    return AuthPayload.build(tokens, user, info.context.clock.now())


async def logout(info: Info) -> LoggedOut:
    principal = info.context.require_principal()
    ended = await info.context.services.sessions.revoke_by_id(
        PydanticObjectId(principal.user_id),
        principal.session_id,
        reason="logout",
        actor=actor_of(info),
    )
    return LoggedOut(sessions_ended=int(ended))


async def logout_all(info: Info, keep_current: bool = False) -> LoggedOut:
    principal = info.context.require_principal()
    ended = await info.context.services.sessions.revoke_all(
        PydanticObjectId(principal.user_id),
        reason="logout_all",
        actor=actor_of(info),
        keep_session_id=principal.session_id if keep_current else None,
    )
    return LoggedOut(sessions_ended=ended)


@maps_domain_errors(NotFoundError)
async def revoke_session(info: Info, id: str) -> SessionRevoked:
    ended = await info.context.services.sessions.revoke_by_id(
        _user_id(info), id, reason="revoked", actor=actor_of(info)
    )
    if not ended:
        raise NotFoundError("No active session of yours has that id.")
    return SessionRevoked(id=id)  # type: ignore[arg-type]


async def my_sessions(info: Info) -> list[SessionType]:
    principal = info.context.require_principal()
    sessions = await info.context.services.sessions.list_active(PydanticObjectId(principal.user_id))
    return [SessionType.from_document(s, current_session_id=principal.session_id) for s in sessions]


async def me(info: Info) -> UserType:
    user = await info.context.services.profile.get_user(
        _user_id(info), cached=info.context.cached_account
    )
    if user is None:
        raise NotFoundError("The account no longer exists.")
    return UserType.from_document(user)


@requires_recent_authentication(max_age_seconds=900)
@maps_domain_errors(ValidationError, InvalidCredentialsError, AccountLockedError, RateLimitedError)
async def change_password(info: Info, current_password: str, new_password: str) -> PasswordChanged:
    principal = info.context.require_principal()
    await limit(info, Operation.LOGIN, account=principal.user_id)
    ended = await info.context.services.credentials.change_password(
        PydanticObjectId(principal.user_id),
        current_password=current_password,
        new_password=new_password,
        current_session_id=principal.session_id,
        actor=actor_of(info),
    )
    return PasswordChanged(other_sessions_ended=ended)


@maps_domain_errors(ValidationError, RateLimitedError)
async def request_password_reset(info: Info, email: str) -> EmailRequestAccepted:
    await limit(info, Operation.EMAIL, account=email_key(email))
    await info.context.services.credentials.request_password_reset(email)
    return EmailRequestAccepted(message=EMAIL_REQUEST_MESSAGE)


@maps_domain_errors(ValidationError, InvalidActionTokenError, RateLimitedError)
async def reset_password(info: Info, token: str, new_password: str) -> PasswordResetCompleted:
    await limit(info, Operation.TOKEN)
    await info.context.services.credentials.reset_password(
        token=token, new_password=new_password, actor=actor_of(info)
    )
    return PasswordResetCompleted(message="Your password was changed. Sign in with it now.")


@maps_domain_errors(ValidationError, InvalidCredentialsError)
async def update_profile(
    info: Info, first_name: str | None = None, last_name: str | None = None
) -> ProfileUpdated:
    user = await info.context.services.profile.update_profile(
        _user_id(info), actor=actor_of(info), first_name=first_name, last_name=last_name
    )
    return ProfileUpdated(user=UserType.from_document(user))


@requires_recent_authentication(max_age_seconds=900)
@maps_domain_errors(
    ValidationError, InvalidCredentialsError, EmailTakenError, AccountLockedError, RateLimitedError
)
async def request_email_change(
    info: Info, new_email: str, current_password: str
) -> EmailRequestAccepted:
    await limit(info, Operation.EMAIL, account=info.context.require_principal().user_id)
    await info.context.services.credentials.request_email_change(
        _user_id(info),
        new_email=new_email,
        current_password=current_password,
        actor=actor_of(info),
    )
    return EmailRequestAccepted(message="Open the link we sent to the new address to confirm it.")


@maps_domain_errors(InvalidActionTokenError, EmailTakenError, RateLimitedError)
async def confirm_email_change(info: Info, token: str) -> EmailChanged:
    await limit(info, Operation.TOKEN)
    user = await info.context.services.credentials.confirm_email_change(token, actor_of(info))
    return EmailChanged(user=UserType.from_document(user))


@maps_domain_errors(InvalidActionTokenError, RateLimitedError)
async def unlock_account(info: Info, token: str) -> AccountUnlocked:
    await limit(info, Operation.TOKEN)
    await info.context.services.lockout.unlock_with_token(token, actor_of(info))
    return AccountUnlocked(message="Your account is unlocked. You can sign in again.")
