"""Registering and managing OAuth clients (admin use cases), and checking their secrets.

A confidential client's secret (256 random bits) is returned once, by ``create`` and
``rotate_secret``; only its SHA-256 is stored, compared in constant time.
"""

from __future__ import annotations

import hmac
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from loguru import logger
from redis.exceptions import RedisError

from domain.audit.documents import AuditAction
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.core.errors import FieldError, NotFoundError, ValidationError
from domain.core.secrets import token_hash
from domain.oauth.client_cache import CachedClients
from domain.oauth.documents import ClientType, GrantType, OAuthClient

# The scopes OpenID Connect defines; a client may also be given API scopes ("orders:read").
STANDARD_SCOPES = ("openid", "profile", "email", "offline_access")
_SCOPE = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
_LOOPBACK = frozenset({"127.0.0.1", "[::1]", "::1", "localhost"})
MIN_TTL_SECONDS = 60
MAX_REFRESH_TTL_SECONDS = 365 * 24 * 3600
MAX_LISTED = 100  # the admin list (schema/limits.py counts on it)
ORIGINS_FRESH_SECONDS = 5.0  # how long this process trusts its list of public origins


@dataclass(frozen=True, slots=True)
class ClientSpec:
    """What an admin sets on a client; ``None`` leaves a field as it is (on update)."""

    name: str | None = None
    redirect_uris: list[str] | None = None
    post_logout_redirect_uris: list[str] | None = None
    grant_types: list[GrantType] | None = None
    scopes: list[str] | None = None
    first_party: bool | None = None
    audience: str | None = None
    access_token_ttl_seconds: int | None = None
    refresh_token_ttl_seconds: int | None = None
    id_token_signed_response_alg: str | None = None


def redirect_uri_problem(uri: str) -> str | None:
    """Why ``uri`` cannot be registered (RFC 9700 §4.1: absolute, no fragment, https or
    loopback http, or a private-use scheme for native apps), or None."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "is not a URL"
    if not parts.scheme or len(uri) > 2000 or any(c.isspace() for c in uri):
        return "is not an absolute URL"
    if parts.fragment or "#" in uri:
        return "must not have a fragment"
    if "*" in uri:
        return "cannot hold a wildcard: redirect URIs match exactly"
    if parts.scheme == "https":
        return None if parts.hostname else "has no host"
    if parts.scheme == "http":
        return None if parts.hostname in _LOOPBACK else "must be https (http only on loopback)"
    if parts.scheme in ("javascript", "data", "file", "vbscript"):
        return "has a forbidden scheme"
    # RFC 8252 §7.1: a private-use scheme of reverse domain form for native apps.
    return None if "." in parts.scheme else "private-use schemes look like com.example.app"


def origins_of(client: OAuthClient) -> frozenset[str]:
    """The web origins of a client's redirect URIs (scheme, host, port unless default):
    where its browser code runs, so where its cross-origin token requests come from."""
    origins = set()
    for uri in client.redirect_uris:
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            continue
        default = 443 if parts.scheme == "https" else 80
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        port = f":{parts.port}" if parts.port not in (None, default) else ""
        origins.add(f"{parts.scheme}://{host}{port}")
    return frozenset(origins)


class OAuthClients:
    def __init__(
        self,
        clock: Clock,
        audit: AuditService,
        *,
        max_access_ttl: int,
        cache: CachedClients | None = None,
        id_token_algorithms: tuple[str, ...] = ("RS256",),
    ) -> None:
        # The ID-token algorithms this deployment has keys for (domain/oauth/signing.py).
        self._id_token_algorithms = id_token_algorithms
        self._clock = clock
        self._audit = audit
        self._cache = cache
        self._public_origins: tuple[float, frozenset[str]] | None = None
        # Never longer than first-party access tokens: a session's revocation marker
        # (domain/sessions/revocation.py) must outlive every token of that session.
        self._max_access_ttl = max_access_ttl

    async def list(self) -> list[OAuthClient]:
        return await OAuthClient.find_all().sort("created_at").limit(MAX_LISTED).to_list()

    async def get(self, client_id: str) -> OAuthClient | None:
        return await OAuthClient.find_one({"_id": client_id})

    async def active(self, client_id: str) -> OAuthClient | None:
        """The client unless disabled; read through the cache (every OAuth request asks)."""
        client = await (self._cache.get(client_id) if self._cache else self.get(client_id))
        return _unless_disabled(client)

    async def active_many(
        self, client_ids: Sequence[str], *, exists: Sequence[str]
    ) -> tuple[dict[str, OAuthClient | None], bool | None]:
        """``active`` for several clients and, in the same Redis round trip, whether any
        of the keys ``exists`` names exists; None for that when it could not be asked
        with them (no cache, or Redis refused): the caller asks it on its own."""
        if self._cache is not None:
            try:
                clients, any_exists = await self._cache.get_many([*client_ids], exists=[*exists])
            except RedisError as exc:
                logger.warning("OAuth client cache unavailable: {}", exc)
            else:
                return {key: _unless_disabled(client) for key, client in clients.items()}, (
                    any_exists
                )
        return {client_id: await self.active(client_id) for client_id in client_ids}, None

    async def public_origins(self) -> frozenset[str]:
        """Every origin an active public client's redirect URIs name: the CORS preflight
        (which carries no client_id) asks this. A few seconds old at most; this process's
        own changes clear it at once."""
        cached = self._public_origins
        if cached is not None and time.monotonic() - cached[0] < ORIGINS_FRESH_SECONDS:
            return cached[1]
        # A scan on FerretDB (only _id filters use an index): clients are few.
        clients = await OAuthClient.find(
            {"client_type": ClientType.PUBLIC.value, "disabled_at": None}
        ).to_list()
        origins = frozenset().union(*(origins_of(c) for c in clients))
        self._public_origins = (time.monotonic(), origins)
        return origins

    async def create(
        self, *, actor: Actor, client_type: ClientType, spec: ClientSpec
    ) -> tuple[OAuthClient, str | None]:
        """The client and its secret (None for a public client), shown this once.

        Raises: ValidationError.
        """
        now = self._clock.now()
        client = OAuthClient(
            _id=f"gh_{secrets.token_hex(12)}",
            name="",
            client_type=client_type,
            grant_types=[GrantType.AUTHORIZATION_CODE],
            scopes=["openid"],
            access_token_ttl_seconds=min(900, self._max_access_ttl),
            created_at=now,
            updated_at=now,
        )
        self._apply(client, spec, creating=True)
        secret = None
        if client_type is ClientType.CONFIDENTIAL:
            secret = secrets.token_urlsafe(32)
            client.secret_hash = token_hash(secret)
        await client.insert()
        await self._record("oauth_client.created", AuditAction.CREATE, actor, client)
        return client, secret

    async def update(self, client_id: str, spec: ClientSpec, actor: Actor) -> OAuthClient:
        """Raises: NotFoundError, ValidationError."""
        client = await self._existing(client_id)
        self._apply(client, spec, creating=False)
        client.updated_at = self._clock.now()
        await client.replace()
        await self._record("oauth_client.updated", AuditAction.UPDATE, actor, client)
        return client

    async def rotate_secret(self, client_id: str, actor: Actor) -> tuple[OAuthClient, str]:
        """A new secret; the old one stops working at once. Raises: NotFoundError,
        ValidationError (a public client has no secret)."""
        client = await self._existing(client_id)
        if client.is_public:
            raise ValidationError(
                [FieldError("id", "A public client has no secret.", "PUBLIC_CLIENT")]
            )
        secret = secrets.token_urlsafe(32)
        now = self._clock.now()
        client.secret_hash = token_hash(secret)
        client.secret_rotated_at = now
        client.updated_at = now
        await client.replace()
        await self._record("oauth_client.secret_rotated", AuditAction.UPDATE, actor, client)
        return client, secret

    async def disable(self, client_id: str, actor: Actor) -> OAuthClient:
        """The client can no longer authorize, exchange or introspect; its tokens stop
        being active (checked on every introspection and userinfo). Raises: NotFoundError."""
        client = await self._existing(client_id)
        if client.disabled_at is None:
            client.disabled_at = self._clock.now()
            client.updated_at = client.disabled_at
            await client.replace()
            await self._record("oauth_client.disabled", AuditAction.UPDATE, actor, client)
        return client

    @staticmethod
    def check_secret(client: OAuthClient, secret: str) -> bool:
        if client.secret_hash is None or not secret:
            return False
        return hmac.compare_digest(client.secret_hash, token_hash(secret))

    async def _existing(self, client_id: str) -> OAuthClient:
        client = await self.get(client_id)
        if client is None:
            raise NotFoundError("No OAuth client has that id.")
        return client

    def _apply(self, client: OAuthClient, spec: ClientSpec, *, creating: bool) -> None:
        errors: list[FieldError] = []
        if spec.name is not None or creating:
            name = (spec.name or "").strip()
            if not 1 <= len(name) <= 100:
                errors.append(FieldError("name", "Use 1 to 100 characters.", "INVALID"))
            client.name = name
        for field, uris in (
            ("redirectUris", spec.redirect_uris),
            ("postLogoutRedirectUris", spec.post_logout_redirect_uris),
        ):
            if uris is None:
                continue
            if len(uris) > 20:
                errors.append(FieldError(field, "At most 20 URIs.", "TOO_MANY"))
            for uri in uris:
                if (problem := redirect_uri_problem(uri)) is not None:
                    errors.append(FieldError(field, f"{uri[:200]} {problem}.", "INVALID"))
            setattr(client, field_name(field), sorted(set(uris)))
        if spec.grant_types is not None:
            client.grant_types = sorted(set(spec.grant_types))
        if spec.scopes is not None:
            if len(spec.scopes) > 50 or not all(_SCOPE.fullmatch(s) for s in spec.scopes):
                errors.append(
                    FieldError("scopes", "Scopes look like `email` or `orders:read`.", "INVALID")
                )
            client.scopes = sorted(set(spec.scopes))
        if spec.first_party is not None:
            client.first_party = spec.first_party
        if spec.audience is not None:
            client.audience = spec.audience.strip() or None
        if spec.access_token_ttl_seconds is not None:
            if not MIN_TTL_SECONDS <= spec.access_token_ttl_seconds <= self._max_access_ttl:
                errors.append(
                    FieldError(
                        "accessTokenTtlSeconds",
                        f"Between {MIN_TTL_SECONDS} and {self._max_access_ttl} seconds.",
                        "OUT_OF_RANGE",
                    )
                )
            client.access_token_ttl_seconds = spec.access_token_ttl_seconds
        alg = spec.id_token_signed_response_alg
        if alg is not None:
            if alg not in self._id_token_algorithms:
                listed = ", ".join(self._id_token_algorithms)
                errors.append(
                    FieldError(
                        "idTokenSignedResponseAlg", f"This server signs with {listed}.", "INVALID"
                    )
                )
            client.id_token_signed_response_alg = alg
        if spec.refresh_token_ttl_seconds is not None:
            if not 300 <= spec.refresh_token_ttl_seconds <= MAX_REFRESH_TTL_SECONDS:
                errors.append(
                    FieldError(
                        "refreshTokenTtlSeconds", "Between 300 seconds and a year.", "OUT_OF_RANGE"
                    )
                )
            client.refresh_token_ttl_seconds = spec.refresh_token_ttl_seconds
        errors.extend(_consistency_errors(client))
        if errors:
            raise ValidationError(errors)

    async def _record(
        self, event: str, action: AuditAction, actor: Actor, client: OAuthClient
    ) -> None:
        self._public_origins = None
        if self._cache is not None:
            await self._cache.invalidate(client.id)
        await self._audit.record(
            event,
            action,
            actor=actor,
            target_id=client.id,
            target_type="oauth_client",
            after={
                "name": client.name,
                "type": client.client_type.value,
                "grants": ",".join(client.grant_types),
                "scopes": ",".join(client.scopes),
                "redirect_uris": ",".join(client.redirect_uris),
                "first_party": client.first_party,
                "id_token_alg": client.id_token_signed_response_alg,
                "disabled": client.disabled_at is not None,
            },
        )


def field_name(graphql_field: str) -> str:
    return {"redirectUris": "redirect_uris", "postLogoutRedirectUris": "post_logout_redirect_uris"}[
        graphql_field
    ]


def _consistency_errors(client: OAuthClient) -> list[FieldError]:
    errors: list[FieldError] = []
    grants = set(client.grant_types)
    if not grants:
        errors.append(FieldError("grantTypes", "Give the client at least one grant.", "REQUIRED"))
    if client.is_public and GrantType.CLIENT_CREDENTIALS in grants:
        errors.append(
            FieldError(
                "grantTypes", "A public client cannot use client credentials.", "PUBLIC_CLIENT"
            )
        )
    if GrantType.AUTHORIZATION_CODE in grants and not client.redirect_uris:
        errors.append(
            FieldError(
                "redirectUris", "The authorization code grant needs a redirect URI.", "REQUIRED"
            )
        )
    if GrantType.REFRESH_TOKEN in grants and not grants & {
        GrantType.AUTHORIZATION_CODE,
        GrantType.DEVICE_CODE,
    }:
        errors.append(
            FieldError(
                "grantTypes",
                "Refresh tokens come with the authorization code or device code grant.",
                "INVALID",
            )
        )
    return errors


def _unless_disabled(client: OAuthClient | None) -> OAuthClient | None:
    return client if client is not None and client.disabled_at is None else None
