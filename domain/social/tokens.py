"""The provider's own tokens: dropped by default, kept sealed where the deployment asks.

A sign-in needs the provider's tokens only to learn who the person is. An app that
also calls the provider's API for them (a calendar, a repository list) sets
``GATEHOUSE_SOCIAL_STORE_PROVIDER_TOKENS``: the access and refresh tokens of each
sign-in or link are then sealed with the key of the TOTP secrets (AES-256-GCM,
domain/core/secret_box.py), bound to the identity's id and to which token it is as
associated data, and kept on the ``SocialIdentity``; they go with it when it is
unlinked. ``provider_access_token`` hands the app a working access token, refreshed
with the provider's refresh token when it is (about to be) expired.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.core.clock import Clock
from domain.core.secret_box import SecretBox
from domain.core.settings import Settings
from domain.social import repository
from domain.social.documents import SealedProviderTokens, SocialIdentity
from domain.social.exchange import ProviderRefusedError

# Refreshed this long before the provider's expiry, so a token handed out still works
# for the call the app makes with it.
REFRESH_MARGIN = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class ProviderTokens:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime | None
    scope: str | None


def from_token_response(
    token: dict[str, Any], now: datetime, *, refresh_token: str | None = None
) -> ProviderTokens:
    """From a token endpoint's answer; ``refresh_token``: the one just used, kept when
    the provider does not rotate it. The expiry is by our clock (``expires_in``), not
    the client library's ``expires_at``, which reads the system time."""
    expires_in = str(token.get("expires_in", ""))
    seconds = int(expires_in) if expires_in.isdigit() else 0
    refreshed = token.get("refresh_token")
    scope = token.get("scope")
    return ProviderTokens(
        access_token=str(token["access_token"]),
        refresh_token=refreshed if isinstance(refreshed, str) and refreshed else refresh_token,
        expires_at=now + timedelta(seconds=seconds) if seconds > 0 else None,
        scope=scope if isinstance(scope, str) else None,
    )


# The gateway's refresh (prove.py): the provider's name and a refresh token to new tokens.
Refresh = Callable[[str, str], Awaitable[ProviderTokens]]


def _context(key: str, which: str) -> bytes:
    # The identity and the token's role: a sealed value copied to another identity, or
    # a refresh token moved into the access token's place, does not open.
    return f"social-token:{key}:{which}".encode()


class ProviderTokenVault:
    def __init__(self, settings: Settings, clock: Clock, box: SecretBox, refresh: Refresh) -> None:
        self.enabled = settings.social_store_provider_tokens
        self._clock = clock
        self._box = box
        self._refresh = refresh

    def seal(self, key: str, tokens: ProviderTokens) -> SealedProviderTokens | None:
        """What to keep on the identity ``key``: nothing unless the setting asks."""
        if not self.enabled:
            return None
        refresh = tokens.refresh_token
        return SealedProviderTokens(
            access_token=self._box.encrypt(tokens.access_token, context=_context(key, "access")),
            refresh_token=(
                self._box.encrypt(refresh, context=_context(key, "refresh")) if refresh else None
            ),
            expires_at=tokens.expires_at,
            scope=tokens.scope,
        )

    async def provider_access_token(self, identity: SocialIdentity | str) -> str | None:
        """A working access token at the provider for this linked identity, or None: the
        setting is off, none was kept (unlinked, or kept before the setting), or it expired
        and the provider refused to refresh it (the dead tokens are dropped; the person
        signs in with the provider again to get new ones).

        Raises: ProviderUnavailableError (the provider did not answer the refresh),
        SecretDecryptionError (the sealing key changed)."""
        if not self.enabled:
            return None
        key = identity if isinstance(identity, str) else identity.id
        current = await repository.get(key)  # fresh: another request may have refreshed
        kept = current.provider_tokens if current is not None else None
        if current is None or kept is None:
            return None
        if kept.expires_at is None or self._clock.now() + REFRESH_MARGIN < _aware(kept.expires_at):
            return self._box.decrypt(kept.access_token, context=_context(key, "access"))
        if kept.refresh_token is None:
            return None
        refresh_token = self._box.decrypt(kept.refresh_token, context=_context(key, "refresh"))
        try:
            tokens = await self._refresh(current.provider, refresh_token)
        except ProviderRefusedError:
            return await self._refused(key, kept)
        if not await repository.set_tokens(key, self.seal(key, tokens)):
            return None  # unlinked meanwhile: the tokens leave with it
        return tokens.access_token

    async def _refused(self, key: str, tried: SealedProviderTokens) -> str | None:
        # A provider that rotates refresh tokens refuses the second of two refreshes that
        # ran at once: the winner's tokens are then on the identity already.
        again = await repository.get(key)
        kept = again.provider_tokens if again is not None else None
        if kept is not None and kept.access_token != tried.access_token:
            return self._box.decrypt(kept.access_token, context=_context(key, "access"))
        await repository.set_tokens(key, None)
        return None


def _aware(moment: datetime) -> datetime:
    # MongoDB returns naive UTC datetimes.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
