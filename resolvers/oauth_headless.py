"""Headless login and consent: read the context, call domain/oauth/headless.py, shape
the result."""

from __future__ import annotations

from domain.core.errors import ForbiddenError
from domain.identity.errors import ReauthenticationRequiredError
from domain.oauth.headless import InvalidChallengeError
from schema.context import Info
from schema.error_mapping import maps_domain_errors
from schema.oauth.headless_types import OAuthChallenge, OAuthChallengeAnswered
from schema.recent_authentication import requires_recent_authentication

# A stolen access token alone must not become a client's lasting grant: accepting needs
# a sign-in (or ``reauthenticate``) within five minutes, which a login UI that has just
# signed the person in always has.
ACCEPT_MAX_AGE_SECONDS = 300


@maps_domain_errors(InvalidChallengeError)
async def oauth_challenge(info: Info, challenge: str) -> OAuthChallenge:
    found = await info.context.services.oauth_headless.details(challenge)
    return OAuthChallenge.from_details(found)


@requires_recent_authentication(max_age_seconds=ACCEPT_MAX_AGE_SECONDS)
@maps_domain_errors(InvalidChallengeError, ReauthenticationRequiredError)  # prompt=login, max_age
async def accept_login_challenge(info: Info, challenge: str) -> OAuthChallengeAnswered:
    principal = info.context.require_principal()
    url = await info.context.services.oauth_headless.accept_login(challenge, principal)
    return OAuthChallengeAnswered(redirect_to=url)


@requires_recent_authentication(max_age_seconds=ACCEPT_MAX_AGE_SECONDS)
@maps_domain_errors(InvalidChallengeError, ForbiddenError)
async def accept_consent_challenge(info: Info, challenge: str) -> OAuthChallengeAnswered:
    principal = info.context.require_principal()
    url = await info.context.services.oauth_headless.accept_consent(challenge, principal)
    return OAuthChallengeAnswered(redirect_to=url)


@maps_domain_errors(InvalidChallengeError, ForbiddenError)
async def reject_challenge(info: Info, challenge: str) -> OAuthChallengeAnswered:
    url = await info.context.services.oauth_headless.reject(challenge, info.context.principal)
    return OAuthChallengeAnswered(redirect_to=url)
