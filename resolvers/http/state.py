"""What the application holds for its lifetime, built in the lifespan: the services
(domain/services.py) and what only the HTTP layer needs (clients for the health checks,
the schema digest, the start time), and every client the lifespan closes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from dramatiq.brokers.redis import RedisBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from redis.asyncio import Redis

from domain.core.clock import Clock
from domain.core.settings import Settings
from domain.email.transport import EmailTransport
from domain.identity.passwords import PasswordHasher
from domain.services import Services
from resolvers.http.oauth.catalogue import Catalogues


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    clock: Clock
    services: Services
    mongo: AsyncMongoClient[dict[str, Any]]
    database: AsyncDatabase[dict[str, Any]]
    redis: Redis
    broker: RedisBroker
    email: EmailTransport
    hasher: PasswordHasher
    # The social sign-in providers' connection pool (domain/social/prove.py).
    social_http: httpx.AsyncClient
    started_at: float
    schema_hash: str
    # The built-in OAuth pages' languages (checked when the app is built).
    page_text: Catalogues
