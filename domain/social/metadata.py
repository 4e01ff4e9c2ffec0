"""Discovery documents and key sets of the providers, fetched with timeouts and cached.

A key set is refetched when an ID token names a key id it does not hold (the provider
rotated its keys); the ID token itself comes from the provider's token endpoint over
the back channel, so an unknown key id is never the caller's to trigger at will.
A provider that does not answer in time or answers nonsense is a
``ProviderUnavailableError``, which the sign-in turns into a typed failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from domain.core.clock import Clock
from domain.social.presets import Provider


class ProviderUnavailableError(Exception):
    """The provider could not be reached, timed out, or answered something unusable."""


@dataclass(frozen=True, slots=True)
class Discovery:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None


@dataclass(slots=True)
class _Cached:
    value: Any
    fetched_at: datetime


async def get_json(client: httpx.AsyncClient, url: str, **kwargs: Any) -> Any:
    """GET a JSON document; any failure is ``ProviderUnavailableError`` (never a 500)."""
    try:
        response = await client.get(url, **kwargs)
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise ProviderUnavailableError(f"{url}: {type(error).__name__}") from error


class ProviderMetadata:
    def __init__(self, http: httpx.AsyncClient, clock: Clock, ttl_seconds: int) -> None:
        self._http = http
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_seconds)
        self._discovery: dict[str, _Cached] = {}
        self._keys: dict[str, _Cached] = {}

    def _fresh(self, cached: _Cached | None) -> bool:
        return cached is not None and self._clock.now() - cached.fetched_at < self._ttl

    async def discovery(self, provider: Provider) -> Discovery:
        cached = self._discovery.get(provider.name)
        if cached is not None and self._fresh(cached):
            found: Discovery = cached.value
            return found
        document = await get_json(self._http, f"{provider.issuer}/.well-known/openid-configuration")
        try:
            parsed = Discovery(
                issuer=str(document["issuer"]),
                authorization_endpoint=str(document["authorization_endpoint"]),
                token_endpoint=str(document["token_endpoint"]),
                jwks_uri=str(document["jwks_uri"]),
                userinfo_endpoint=document.get("userinfo_endpoint"),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ProviderUnavailableError("discovery document incomplete") from error
        # OpenID Connect Discovery §4.3: the document must name the issuer it was read
        # from (Microsoft's shared endpoints publish a {tenantid} template instead).
        if parsed.issuer.rstrip("/") != provider.issuer and "{tenantid}" not in parsed.issuer:
            raise ProviderUnavailableError("discovery issuer mismatch")
        self._discovery[provider.name] = _Cached(parsed, self._clock.now())
        return parsed

    async def keys(self, provider: Provider, kid: str | None) -> KeySet:
        """The provider's key set, refetched when it lacks ``kid`` or is stale."""
        cached = self._keys.get(provider.name)
        if cached is not None and self._fresh(cached):
            keys: KeySet = cached.value
            if kid is None or _has_kid(keys, kid):
                return keys
        discovery = await self.discovery(provider)
        document = await get_json(self._http, discovery.jwks_uri)
        try:
            keys = KeySet.import_key_set(document)
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise ProviderUnavailableError("key set unreadable") from error
        self._keys[provider.name] = _Cached(keys, self._clock.now())
        return keys


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys.keys)
