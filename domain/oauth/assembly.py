"""The OpenID provider's parts, built together for the composition root
(domain/services.py): clients as data (read through their Redis copy), RS256 tokens,
codes and grants in Redis, RP-initiated logout, the device grant, headless login and
each person's authorized apps."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from domain.audit.service import AuditService
from domain.core.clock import Clock
from domain.core.derived_keys import derive_key
from domain.core.settings import Settings
from domain.identity.cache import CachedUsers
from domain.identity.reauthentication import Reauthentication
from domain.oauth.client_cache import CachedClients
from domain.oauth.clients import OAuthClients
from domain.oauth.consents import AuthorizedApps
from domain.oauth.device import VERIFICATION_PATH, DeviceFlow
from domain.oauth.device_grant import DeviceGrants
from domain.oauth.grants import GrantLedger
from domain.oauth.headless import HeadlessChallenges
from domain.oauth.logout import EndSession
from domain.oauth.provider import OAuthProvider
from domain.oauth.refresh import AppReuseAlert, RefreshRotations
from domain.oauth.refresh_ledger import RefreshLedger
from domain.oauth.signing import load_oidc_keys
from domain.oauth.store import OAuthStore
from domain.oauth.tokens import OAuthTokens
from domain.sessions.revocation import SessionRevocations
from domain.sessions.service import SessionService


@dataclass(frozen=True, slots=True)
class OAuthParts:
    clients: OAuthClients
    provider: OAuthProvider
    logout: EndSession
    devices: DeviceGrants
    headless: HeadlessChallenges
    authorized_apps: AuthorizedApps


def build_oauth(
    settings: Settings,
    clock: Clock,
    redis: Redis,
    *,
    audit: AuditService,
    users: CachedUsers,
    revocations: SessionRevocations,
    sessions: SessionService,
    reauthentication: Reauthentication,
    on_refresh_reuse: AppReuseAlert | None = None,
) -> OAuthParts:
    issuer = settings.public_url.rstrip("/")
    keys = load_oidc_keys(settings)
    clients = OAuthClients(
        clock,
        audit,
        max_access_ttl=settings.access_token_ttl_seconds,
        cache=CachedClients(redis, settings),
        id_token_algorithms=tuple(keys.algorithms),
    )
    store = OAuthStore(redis, settings)
    tokens = OAuthTokens(keys, clock, issuer)
    grants = GrantLedger(clock, store, audit)
    refreshes = RefreshRotations(
        clock,
        store,
        RefreshLedger(redis, settings),
        audit,
        chain_key=derive_key(settings, b"gatehouse-oauth-refresh-chain"),
        grace_seconds=settings.refresh_token_grace_seconds,
        load_client=clients.get,
        on_reuse=on_refresh_reuse,
    )
    provider = OAuthProvider(clock, clients, store, tokens, users, revocations, grants, refreshes)
    return OAuthParts(
        clients=clients,
        provider=provider,
        logout=EndSession(clients, store, tokens, sessions),
        devices=DeviceGrants(
            provider, DeviceFlow(redis, settings, clock), issuer + VERIFICATION_PATH
        ),
        headless=HeadlessChallenges(clock, provider, users, reauthentication, issuer),
        authorized_apps=AuthorizedApps(clients, grants, audit),
    )
