"""From a provider's callback (code and state) to a proven external identity.

The state is taken once (pending.py); the code is exchanged with the PKCE verifier
and the exact redirect URI of the begin; an OpenID Connect provider's ID token is
validated (id_token.py); GitHub's identity is read from its API. Every way this can
go wrong is a ``SocialSignInFailedError`` with a reason, audited by the caller.
"""

from __future__ import annotations

import httpx
from loguru import logger

from domain.core.clock import Clock
from domain.core.settings import Settings
from domain.social.errors import SocialFailure, SocialSignInFailedError
from domain.social.exchange import (
    ProviderRefusedError,
    authorization_url,
    exchange_code,
    github_profile,
    refresh_tokens,
)
from domain.social.id_token import InvalidIdTokenError, validate_id_token
from domain.social.metadata import ProviderMetadata, ProviderUnavailableError
from domain.social.page_callback import page_callback_uris
from domain.social.pending import PendingSignIn, PendingSignIns
from domain.social.presets import Provider, build_providers
from domain.social.profile import ExternalIdentity, from_github, from_oidc_claims
from domain.social.tokens import ProviderTokens, from_token_response

# The error a provider sends back when the person declined (RFC 6749 §4.1.2.1).
_DENIED = frozenset({"access_denied", "consent_required", "login_required", "user_cancelled_login"})


def provider_http_client(settings: Settings) -> httpx.AsyncClient:
    """The client every call to a provider goes through: the deployment's timeout on each
    call, no redirects followed. Its owner closes it (the API lifespan, app.py)."""
    return httpx.AsyncClient(timeout=settings.social_http_timeout_seconds, follow_redirects=False)


class ProviderGateway:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        pending: PendingSignIns,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.providers: dict[str, Provider] = build_providers(settings.social_providers)
        # The built-in sign-in page's own callbacks are allowed without being listed.
        self._redirects = frozenset(settings.social_redirect_uris) | page_callback_uris(
            settings.public_url, self.providers
        )
        self._timeout = settings.social_http_timeout_seconds
        self._clock = clock
        self._http = http or provider_http_client(settings)
        self._pending = pending
        self.metadata = ProviderMetadata(self._http, clock, settings.social_metadata_ttl_seconds)

    def provider(self, name: object) -> Provider:
        provider = self.providers.get(name) if isinstance(name, str) else None
        if provider is None:
            raise SocialSignInFailedError(SocialFailure.UNKNOWN_PROVIDER)
        return provider

    async def begin(
        self, name: object, redirect_uri: object, *, link_user_id: str | None = None
    ) -> tuple[str, PendingSignIn]:
        """The authorization URL and the pending sign-in. Raises: SocialSignInFailedError."""
        provider = self.provider(name)
        # Exact string comparison, no prefix or pattern (RFC 9700 §4.1.3).
        if not isinstance(redirect_uri, str) or redirect_uri not in self._redirects:
            raise SocialSignInFailedError(SocialFailure.REDIRECT_NOT_ALLOWED)
        try:
            endpoint = (
                provider.endpoints.authorization
                if provider.endpoints is not None
                else (await self.metadata.discovery(provider)).authorization_endpoint
            )
        except ProviderUnavailableError as error:
            logger.bind(provider=provider.name).warning(f"social discovery failed: {error}")
            raise SocialSignInFailedError(SocialFailure.PROVIDER_UNAVAILABLE) from error
        state, pending = await self._pending.begin(
            provider.name, redirect_uri, link_user_id=link_user_id
        )
        url = await authorization_url(
            provider,
            endpoint,
            redirect_uri=redirect_uri,
            state=state,
            nonce=pending.nonce,
            code_verifier=pending.code_verifier,
            http_timeout=self._timeout,
            clock=self._clock,
        )
        return url, pending

    async def prove(
        self, name: object, *, code: object, state: object, error: object = None
    ) -> tuple[PendingSignIn, ExternalIdentity, ProviderTokens]:
        """The sign-in, who the provider says it is, and the provider's tokens (kept
        only where the deployment asks: tokens.py). Raises: SocialSignInFailedError."""
        provider = self.provider(name)
        pending = await self._pending.take(state)
        if pending is None or pending.provider != provider.name:
            raise SocialSignInFailedError(SocialFailure.BAD_STATE)
        if error is not None:
            reason = (
                SocialFailure.CONSENT_DENIED if error in _DENIED else SocialFailure.PROVIDER_ERROR
            )
            raise SocialSignInFailedError(reason, detail=str(error)[:100])
        if not isinstance(code, str) or not code or len(code) > 2048:
            raise SocialSignInFailedError(SocialFailure.PROVIDER_ERROR, detail="no code")
        try:
            identity, tokens = await self._identity(provider, pending, code)
        except ProviderRefusedError as refused:
            raise SocialSignInFailedError(
                SocialFailure.PROVIDER_ERROR, detail=str(refused)[:100]
            ) from refused
        except ProviderUnavailableError as down:
            logger.bind(provider=provider.name).warning(f"social provider failed: {down}")
            raise SocialSignInFailedError(
                SocialFailure.PROVIDER_UNAVAILABLE, detail=str(down)[:100]
            ) from down
        except InvalidIdTokenError as invalid:
            raise SocialSignInFailedError(
                SocialFailure.INVALID_ID_TOKEN, detail=str(invalid)
            ) from invalid
        return pending, identity, tokens

    async def refresh(self, name: str, refresh_token: str) -> ProviderTokens:
        """New tokens for a kept refresh token. Raises: ProviderRefusedError,
        ProviderUnavailableError (also when the provider is no longer configured: its
        tokens are kept for when it is back)."""
        provider = self.providers.get(name)
        if provider is None:
            raise ProviderUnavailableError("provider not configured")
        endpoint = (
            provider.endpoints.token
            if provider.endpoints is not None
            else (await self.metadata.discovery(provider)).token_endpoint
        )
        token = await refresh_tokens(
            provider,
            endpoint,
            refresh_token=refresh_token,
            http_timeout=self._timeout,
            clock=self._clock,
        )
        return from_token_response(token, self._clock.now(), refresh_token=refresh_token)

    async def _identity(
        self, provider: Provider, pending: PendingSignIn, code: str
    ) -> tuple[ExternalIdentity, ProviderTokens]:
        if provider.endpoints is not None:  # GitHub: OAuth2 and its API
            token = await exchange_code(
                provider,
                provider.endpoints.token,
                code=code,
                redirect_uri=pending.redirect_uri,
                code_verifier=pending.code_verifier,
                http_timeout=self._timeout,
                clock=self._clock,
            )
            user, emails = await github_profile(self._http, provider, str(token["access_token"]))
            return from_github(provider.name, user, emails), from_token_response(
                token, self._clock.now()
            )
        discovery = await self.metadata.discovery(provider)
        token = await exchange_code(
            provider,
            discovery.token_endpoint,
            code=code,
            redirect_uri=pending.redirect_uri,
            code_verifier=pending.code_verifier,
            http_timeout=self._timeout,
            clock=self._clock,
        )
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise InvalidIdTokenError("missing")
        claims = await validate_id_token(
            id_token, provider, self.metadata, nonce=pending.nonce, now=self._clock.now()
        )
        return from_oidc_claims(provider.name, claims), from_token_response(
            token, self._clock.now()
        )


def check_email(provider: Provider, identity: ExternalIdentity, *, need_verified: bool) -> str:
    """The identity's email if this provider may sign it in here. Raises:
    SocialSignInFailedError (missing, unverified, or outside the allowed domains)."""
    email = identity.email
    allowed = [d.lower().lstrip("@") for d in provider.settings.allowed_domains]
    if allowed:
        domain = email.rsplit("@", 1)[-1] if email else ""
        if not email or not identity.email_verified or domain not in allowed:
            # An unverified address says nothing about the domain it names.
            raise SocialSignInFailedError(SocialFailure.DOMAIN_NOT_ALLOWED)
    if need_verified:
        if not email:
            raise SocialSignInFailedError(SocialFailure.EMAIL_MISSING)
        if not identity.email_verified:
            raise SocialSignInFailedError(SocialFailure.EMAIL_NOT_VERIFIED)
    return email or ""
