"""The built-in sign-in page's social buttons: a provider's sign-in begun for one
pending authorization request, in one browser, and finished only for that request in
that browser.

State, nonce and PKCE stay the social slice's own (domain/social/pending.py); beside
them, under the SHA-256 of the same state (domain/oauth/page_bindings.py), is which
authorization request (the challenge id) began it and the SHA-256 of a random key handed
to the browser as a cookie. The callback takes that record once before the social
sign-in is completed, so a callback cannot finish another request (the challenge is
never read from the URL) nor be replayed into another browser (login CSRF: an
attacker's own provider account signed in in a victim's browser).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from domain.core.actor import Actor
from domain.core.secrets import new_token
from domain.core.settings import Settings
from domain.oauth.headless import InvalidChallengeError
from domain.oauth.page_bindings import PageBindings
from domain.oauth.store import Challenge, OAuthStore
from domain.social.metadata import ProviderUnavailableError
from domain.social.page_callback import page_callback_uri
from domain.social.prove import ProviderGateway
from domain.social.sign_in import SocialOutcome, SocialSignIn


@dataclass(frozen=True, slots=True)
class SocialButton:
    provider: str
    label: str


class SocialPageSignIns:
    def __init__(
        self,
        settings: Settings,
        bindings: PageBindings,
        store: OAuthStore,
        gateway: ProviderGateway,
        social: SocialSignIn,
    ) -> None:
        self._public_url = settings.public_url
        self._bindings = bindings
        self._ttl = settings.social_state_ttl_seconds
        self._store = store
        self._gateway = gateway
        self._social = social

    def buttons(self) -> list[SocialButton]:
        return [SocialButton(p.name, p.display_name) for p in self._social.providers()]

    async def form_origins(self) -> list[str]:
        """Where a button's form post is redirected (the providers' authorization
        endpoints): the page's CSP ``form-action`` must name them. Discovery is cached;
        a provider that cannot be reached falls back to its issuer's origin."""
        origins: set[str] = set()
        for provider in self._social.providers():
            if provider.endpoints is not None:
                url = provider.endpoints.authorization
            else:
                try:
                    url = (await self._gateway.metadata.discovery(provider)).authorization_endpoint
                except ProviderUnavailableError:
                    url = provider.issuer
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") and parts.netloc:
                origins.add(f"{parts.scheme}://{parts.netloc}")
        return sorted(origins)

    async def begin(self, challenge: Challenge, provider: str) -> tuple[str, str]:
        """The provider's authorization URL and the browser key (the cookie's value).

        Raises: SocialSignInFailedError."""
        begun = await self._social.begin(
            provider=provider, redirect_uri=page_callback_uri(self._public_url, provider)
        )
        state = dict(parse_qsl(urlsplit(begun.authorization_url).query)).get("state", "")
        browser = new_token()
        await self._bindings.bind("social", state, challenge.id, browser=browser, ttl=self._ttl)
        return begun.authorization_url, browser

    async def claim(self, *, state: str | None, browser: str | None) -> Challenge:
        """The authorization request the sign-in with this state was begun for, once,
        and only in the browser that began it.

        Raises: InvalidChallengeError (no such begin, another browser's, or the request
        is gone)."""
        challenge_id = await self._bindings.take("social", state, browser=browser)
        if challenge_id is None or browser is None:
            raise InvalidChallengeError
        challenge = await self._store.challenge(challenge_id)
        if challenge is None:
            raise InvalidChallengeError
        return challenge

    async def complete(
        self, *, provider: str, code: str | None, state: str, error: str | None, actor: Actor
    ) -> SocialOutcome:
        """After ``claim``: the social sign-in's outcome (domain/social/sign_in.py, its
        rules, audit and errors). Raises: SocialSignInFailedError, AccountLockedError,
        AccountDisabledError."""
        return await self._social.complete(
            provider=provider, code=code, state=state, error=error, actor=actor
        )

    def label(self, provider: str) -> str:
        return next((b.label for b in self.buttons() if b.provider == provider), provider)
