"""Resolvers of sign-in with an emailed code or link: limit, call one service, shape."""

from __future__ import annotations

from domain.core.errors import RateLimitedError, ValidationError
from domain.identity.action_tokens import InvalidActionTokenError
from domain.identity.errors import AccountDisabledError, AccountLockedError
from domain.passwordless.errors import EmailSignInDisabledError, InvalidEmailCodeError
from domain.ratelimit.policy import Operation
from resolvers.guards import email_key, limit
from resolvers.identity import EMAIL_REQUEST_MESSAGE, login_result
from schema.actor import actor_of
from schema.context import Info
from schema.error_mapping import maps_domain_errors
from schema.identity.types import AuthPayload, MfaRequired
from schema.passwordless.types import EmailSignInRequested


@maps_domain_errors(ValidationError, EmailSignInDisabledError, RateLimitedError)
async def request_email_sign_in(info: Info, email: str) -> EmailSignInRequested:
    # Each sends an email: limited per address and per IP like a reset request.
    await limit(info, Operation.EMAIL, account=email_key(email))
    expires_at = await info.context.services.email_sign_in.request(email, actor_of(info))
    return EmailSignInRequested(message=EMAIL_REQUEST_MESSAGE, expires_at=expires_at)


@maps_domain_errors(
    InvalidEmailCodeError,
    InvalidActionTokenError,
    AccountLockedError,
    AccountDisabledError,
    EmailSignInDisabledError,
    ValidationError,
    RateLimitedError,
)
async def complete_email_sign_in(
    info: Info,
    email: str | None = None,
    code: str | None = None,
    token: str | None = None,
    device_token: str | None = None,
) -> AuthPayload | MfaRequired:
    if token is not None:
        # A 256-bit link token is not guessed: limited like every emailed link.
        await limit(info, Operation.TOKEN)
    else:
        # A 6-digit code is: limited per address and per IP like a password.
        await limit(info, Operation.LOGIN, account=email_key(email) if email else None)
    outcome = await info.context.services.email_sign_in.complete(
        email=email, code=code, token=token, actor=actor_of(info), device_token=device_token
    )
    return login_result(info, outcome)
