"""The OAuth 2.0 exchanges, through authlib: the authorization URL (PKCE S256, state,
nonce) and the code-for-tokens request; GitHub's profile and emails API.

Every call has the deployment's timeout; anything a provider answers that is not a
token (an OAuth error, a 5xx, a timeout, a closed socket) is ``ProviderUnavailableError`` or
``ProviderRefusedError``, which the sign-in turns into a typed failure.
"""

from __future__ import annotations

from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError  # type: ignore[import-untyped]
from authlib.integrations.httpx_client import AsyncOAuth2Client  # type: ignore[import-untyped]

from domain.core.clock import Clock
from domain.social.apple_secret import apple_client_secret
from domain.social.metadata import ProviderUnavailableError, get_json
from domain.social.presets import Provider


class ProviderRefusedError(Exception):
    """The provider answered the token request with an OAuth error (a bad or used code,
    a wrong client secret, a PKCE verifier that does not match)."""


def _client(
    provider: Provider, redirect_uri: str, timeout: float, clock: Clock
) -> AsyncOAuth2Client:
    settings = provider.settings
    secret = settings.client_secret.get_secret_value() if settings.client_secret else None
    if settings.preset == "apple":
        secret = apple_client_secret(provider, clock.now())
    return AsyncOAuth2Client(
        client_id=settings.client_id,
        client_secret=secret,
        # Apple and GitHub read the secret from the body; the others take HTTP Basic.
        token_endpoint_auth_method=(
            "client_secret_post" if settings.preset in {"apple", "github"} else None
        ),
        scope=" ".join(provider.scopes),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=httpx.Timeout(timeout),
    )


async def authorization_url(
    provider: Provider,
    authorization_endpoint: str,
    *,
    redirect_uri: str,
    state: str,
    nonce: str,
    code_verifier: str,
    http_timeout: float,
    clock: Clock,
) -> str:
    extra: dict[str, str] = dict(provider.extra_authorize_params)
    if provider.kind == "oidc":
        extra["nonce"] = nonce
    if provider.response_mode:
        extra["response_mode"] = provider.response_mode
    async with _client(provider, redirect_uri, http_timeout, clock) as client:
        url, _ = client.create_authorization_url(
            authorization_endpoint, state=state, code_verifier=code_verifier, **extra
        )
    return str(url)


async def exchange_code(
    provider: Provider,
    token_endpoint: str,
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str,
    http_timeout: float,
    clock: Clock,
) -> dict[str, Any]:
    """Raises: ProviderRefusedError, ProviderUnavailableError."""
    async with _client(provider, redirect_uri, http_timeout, clock) as client:
        try:
            token = await client.fetch_token(
                token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
                headers={"Accept": "application/json"},
            )
        except OAuthError as error:
            raise ProviderRefusedError(str(error.error)) from error
        except (httpx.HTTPError, ValueError) as error:
            raise ProviderUnavailableError(f"token endpoint: {type(error).__name__}") from error
    if not isinstance(token, dict) or "access_token" not in token:
        raise ProviderRefusedError(
            str(token.get("error", "no_token")) if isinstance(token, dict) else "no_token"
        )
    return dict(token)


async def refresh_tokens(
    provider: Provider,
    token_endpoint: str,
    *,
    refresh_token: str,
    http_timeout: float,
    clock: Clock,
) -> dict[str, Any]:
    """A fresh access token for a kept refresh token (RFC 6749 §6).

    Raises: ProviderRefusedError (the grant ended: revoked, expired, rotated away),
    ProviderUnavailableError."""
    # No redirect happens in a refresh; authlib's client only wants the field set.
    async with _client(provider, "", http_timeout, clock) as client:
        try:
            token = await client.refresh_token(
                token_endpoint,
                refresh_token=refresh_token,
                headers={"Accept": "application/json"},
            )
        except OAuthError as error:
            raise ProviderRefusedError(str(error.error)) from error
        except (httpx.HTTPError, ValueError) as error:
            raise ProviderUnavailableError(f"token endpoint: {type(error).__name__}") from error
    if not isinstance(token, dict) or "access_token" not in token:
        raise ProviderRefusedError("no_token")
    return dict(token)


async def github_profile(
    http: httpx.AsyncClient, provider: Provider, access_token: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """GitHub's ``/user`` and ``/user/emails`` (both needed: the public profile's email
    may be absent or unverified). Raises: ProviderUnavailableError."""
    assert provider.endpoints is not None
    headers = {
        "Authorization": f"Bearer {access_token}",
        "Accept": "application/vnd.github+json",
    }
    user = await get_json(http, provider.endpoints.user, headers=headers)
    emails = await get_json(http, provider.endpoints.emails, headers=headers)
    if not isinstance(user, dict) or not isinstance(emails, list):
        raise ProviderUnavailableError("github answered an unexpected shape")
    return user, [e for e in emails if isinstance(e, dict)]
