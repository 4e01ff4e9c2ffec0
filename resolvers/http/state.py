"""What the application holds for its lifetime, built in the lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dramatiq.brokers.redis import RedisBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from redis.asyncio import Redis

from domain.admin.users import AdminUsers
from domain.analytics.service import AnalyticsService
from domain.apikeys.service import ApiKeyService
from domain.audit.service import AuditService
from domain.core.clock import Clock
from domain.core.settings import Settings
from domain.email.outbox import Outbox
from domain.email.transport import EmailTransport
from domain.events.bus import EventBus
from domain.identity.cache import CachedUsers
from domain.identity.credentials import CredentialsService
from domain.identity.login import LoginService
from domain.identity.passwords import PasswordHasher
from domain.identity.profile import ProfileService
from domain.identity.reauthentication import Reauthentication
from domain.identity.registration import RegistrationService
from domain.identity.two_factor import TwoFactorService
from domain.lockout.service import LockoutService
from domain.mfa.service import MfaService
from domain.persisted_queries.store import PersistedQueryStore
from domain.ratelimit.policy import RateLimitService
from domain.sessions.admission import RequestAdmission
from domain.sessions.principal import Authenticator
from domain.sessions.revocation import SessionRevocations
from domain.sessions.service import SessionService
from domain.sessions.watch import SessionWatch
from domain.tokens.access import AccessTokenService
from domain.webhooks.wiring import Webhooks


@dataclass(slots=True)
class AppState:
    settings: Settings
    mongo: AsyncMongoClient[dict[str, Any]]
    database: AsyncDatabase[dict[str, Any]]
    redis: Redis
    broker: RedisBroker
    email: EmailTransport
    started_at: float
    schema_hash: str
    clock: Clock
    access_tokens: AccessTokenService
    authenticator: Authenticator
    admission: RequestAdmission
    revocations: SessionRevocations
    session_watch: SessionWatch
    sessions: SessionService
    registration: RegistrationService
    login: LoginService
    credentials: CredentialsService
    profile: ProfileService
    two_factor: TwoFactorService
    lockout: LockoutService
    hasher: PasswordHasher
    rate_limits: RateLimitService
    api_keys: ApiKeyService
    reauthentication: Reauthentication
    audit: AuditService
    admin_users: AdminUsers
    users: CachedUsers
    analytics: AnalyticsService
    mfa: MfaService
    bus: EventBus
    outbox: Outbox
    webhooks: Webhooks
    persisted_queries: PersistedQueryStore
