"""The Starlette application: middleware, routes, lifespan.

Run with ``uvicorn app:create_app --factory`` or ``python app.py`` (reads HOST/PORT).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, TypedDict

import uvicorn
from beanie import PydanticObjectId
from dramatiq.brokers.redis import RedisBroker
from loguru import logger
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from domain.admin.super_admins import SuperAdminChanges
from domain.admin.users import AdminUsers
from domain.analytics.service import AnalyticsService
from domain.apikeys.service import ApiKey, ApiKeyService
from domain.core.clock import Clock, SystemClock
from domain.core.db import create_mongo_client, init_database
from domain.core.error_tracking import init_error_tracking
from domain.core.errors import DomainError
from domain.core.logging import configure_logging
from domain.core.redis import create_redis
from domain.core.sealing import sealing_box
from domain.core.settings import Settings, get_settings
from domain.documents import DOCUMENT_MODELS
from domain.email.notices import AccountNotices
from domain.email.outbox import Outbox
from domain.email.transport import create_transport
from domain.events.bus import EventBus
from domain.identity import email_lookup
from domain.identity import repository as user_repository
from domain.identity.action_tokens import ActionTokens
from domain.identity.cache import CachedUsers
from domain.identity.credentials import CredentialsService
from domain.identity.login import LoginService
from domain.identity.passwords import PasswordHasher, create_password_hasher
from domain.identity.profile import ProfileService
from domain.identity.quiet_mail import QuietMail
from domain.identity.reauthentication import Reauthentication
from domain.identity.registration import RegistrationService
from domain.identity.two_factor import TwoFactorService
from domain.lockout.counter import AttemptCounter
from domain.lockout.service import LockoutService
from domain.mfa.challenges import MfaChallenges
from domain.mfa.service import MfaService
from domain.persisted_queries.store import PersistedQueryStore
from domain.ratelimit.policy import RateLimitService
from domain.sessions.admission import RequestAdmission
from domain.sessions.documents import Session
from domain.sessions.principal import Authenticator
from domain.sessions.revocation import SessionRevocations
from domain.sessions.service import SessionService
from domain.sessions.watch import SessionWatch
from domain.tokens.access import AccessTokenService
from domain.tokens.keys import load_key_set
from domain.webhooks.wiring import build_audit_and_webhooks
from resolvers.http import health
from resolvers.http.client_ip import parse_networks
from resolvers.http.errors import domain_error_handler, http_exception_handler
from resolvers.http.jwks import jwks
from resolvers.http.metrics import metrics
from resolvers.http.middleware import (
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from resolvers.http.openapi import openapi
from resolvers.http.slow_clients import HeaderDeadlineProtocol
from resolvers.http.state import AppState
from schema.graphiql import STATIC_DIR as GRAPHIQL_STATIC_DIR
from schema.schema import build_schema, schema_hash
from schema.view import GatehouseGraphQL
from workers.actors.email import send_email
from workers.actors.webhooks import enqueue_delivery
from workers.broker import setup_broker

GRAPHQL_PATHS = ("/graphql", "/api/v1/graphql")


class LifespanState(TypedDict):
    gatehouse: AppState


def _enqueue_email(message_id: str) -> None:
    send_email.send(message_id)


def build_state(
    settings: Settings,
    mongo: AsyncMongoClient[dict[str, Any]],
    database: AsyncDatabase[dict[str, Any]],
    redis: Redis,
    broker: RedisBroker,
    hasher: PasswordHasher,
    digest: str,
    clock: Clock,
) -> AppState:
    """Build the services once and wire them together (the composition root)."""
    access_tokens = AccessTokenService(load_key_set(settings), settings, clock)
    revocations = SessionRevocations(redis, settings)
    transport = create_transport(settings)
    box = sealing_box(settings)
    mailer = Outbox(settings, clock, box, _enqueue_email)
    bus = EventBus(redis, settings.redis_key_prefix)
    audit, webhooks = build_audit_and_webhooks(settings, clock, bus=bus, enqueue=enqueue_delivery)
    users = CachedUsers(redis, settings)

    async def alert_reuse(session: Session) -> None:
        user = await user_repository.get(session.user_id)
        if user is None:
            return
        await mailer.send(
            "refresh_reuse_alert",
            user.email,
            name=user.first_name,
            device=session.device,
            ip=session.ip,
        )

    sessions = SessionService(
        settings,
        clock,
        access_tokens,
        revocations,
        redis,
        audit,
        bus,
        on_reuse=alert_reuse,
        load_active_owner=users.get_active,
    )
    link_tokens = ActionTokens(clock)
    quiet_mail = QuietMail(settings, redis, link_tokens, mailer)
    lockout = LockoutService(
        settings,
        clock,
        AttemptCounter(settings, redis, clock),
        users,
        link_tokens,
        quiet_mail,
        mailer,
        audit,
    )
    notices = AccountNotices(mailer, user_repository.get)
    mfa = MfaService(
        box,
        clock,
        issuer=settings.totp_issuer or settings.product_name,
        on_change=notices.factor_changed,
    )
    registration = RegistrationService(
        settings, clock, hasher, mailer, link_tokens, quiet_mail, audit, users
    )
    login = LoginService(
        settings,
        clock,
        hasher,
        mailer,
        sessions,
        lockout,
        audit,
        users,
        mfa,
        MfaChallenges(settings, redis, clock),
    )
    credentials = CredentialsService(
        settings, clock, hasher, mailer, link_tokens, quiet_mail, sessions, lockout, audit, users
    )
    two_factor = TwoFactorService(hasher, mailer, quiet_mail, lockout, audit, mfa)

    async def api_key_created(creator: PydanticObjectId, key: ApiKey) -> None:
        await notices.api_key_created(creator, key.name, key.scopes)

    mfa.set_replay_hook(two_factor.notify_code_replayed)
    authenticator = Authenticator(access_tokens, revocations)
    rate_limits = RateLimitService(settings, redis, clock)
    return AppState(
        settings=settings,
        mongo=mongo,
        database=database,
        redis=redis,
        broker=broker,
        email=transport,
        started_at=time.monotonic(),
        schema_hash=digest,
        clock=clock,
        access_tokens=access_tokens,
        authenticator=authenticator,
        admission=RequestAdmission(redis, authenticator, revocations, sessions, rate_limits),
        revocations=revocations,
        session_watch=SessionWatch(bus),
        sessions=sessions,
        registration=registration,
        login=login,
        credentials=credentials,
        profile=ProfileService(clock, audit, users),
        two_factor=two_factor,
        lockout=lockout,
        hasher=hasher,
        rate_limits=rate_limits,
        api_keys=ApiKeyService(
            clock, audit, on_created=api_key_created, max_rate_limit=settings.api_key_max_rate_limit
        ),
        reauthentication=Reauthentication(
            settings, redis, clock, hasher, mfa, audit, lockout.record_failed_attempt
        ),
        audit=audit,
        admin_users=AdminUsers(
            clock,
            audit,
            sessions,
            users,
            mfa,
            SuperAdminChanges(redis, settings.redis_key_prefix),
            lockout,
        ),
        mfa=mfa,
        bus=bus,
        outbox=mailer,
        webhooks=webhooks,
        users=users,
        analytics=AnalyticsService(settings, redis, clock),
        persisted_queries=PersistedQueryStore(redis, settings, clock),
    )


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Starlette:
    """The application; tests pass their own settings and a clock they can move."""
    settings = settings or get_settings()
    app_clock: Clock = clock or SystemClock()
    configure_logging(settings)
    init_error_tracking(settings)
    schema = build_schema(settings)
    digest = schema_hash(schema)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[LifespanState]:
        mongo = create_mongo_client(settings)
        redis = create_redis(settings)
        broker = setup_broker(settings)

        database = mongo[settings.mongodb_database]
        hasher = create_password_hasher(settings)
        try:
            flavour = await init_database(database, DOCUMENT_MODELS, settings.database_flavour)
            await email_lookup.email_lookup_for(flavour).prepare(app_clock.now())
            state = build_state(settings, mongo, database, redis, broker, hasher, digest, app_clock)
            flusher = asyncio.create_task(state.analytics.run_flusher())
            logger.bind(environment=settings.environment.value).info("gatehouse started")
            try:
                yield {"gatehouse": state}
            finally:
                flusher.cancel()
                await _bounded("analytics flush", flusher)
                await _bounded("session watch", state.session_watch.close())
        finally:
            logger.info("gatehouse stopping: closing connection pools")
            await _bounded("redis close", redis.aclose())
            await _bounded("mongo close", mongo.close())
            broker.close()
            hasher.close()

    def graphql_view(endpoint: str) -> GatehouseGraphQL:
        return GatehouseGraphQL(
            schema,
            endpoint=endpoint,
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            # Queries only (never mutations): a bearer token cannot ride a cross-site GET.
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
            # Browsers on the allowed frontend origins may open subscriptions.
            allowed_origins=settings.cors_origins,
        )

    routes: list[BaseRoute] = [
        Route("/livez", health.livez, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/api/health", health.health, methods=["GET"]),
        Route("/api/status", health.status, methods=["GET"]),
        Route("/api/openapi.json", openapi, methods=["GET"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *(Route(path, graphql_view(path), methods=["GET", "POST"]) for path in GRAPHQL_PATHS),
        *(WebSocketRoute(path, graphql_view(path)) for path in GRAPHQL_PATHS),
    ]
    if settings.graphiql_enabled:
        routes.append(
            Mount("/graphiql/static", StaticFiles(directory=GRAPHIQL_STATIC_DIR), name="graphiql")
        )

    middleware = [
        Middleware(
            RequestContextMiddleware,
            trusted_proxies=parse_networks(settings.trusted_proxies),
        ),
        Middleware(
            SecurityHeadersMiddleware,
            hsts=settings.hsts,
            hsts_max_age=settings.hsts_max_age_seconds,
        ),
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=settings.cors_allow_credentials,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=[
                "X-Request-ID",
                "Retry-After",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
            ],
            max_age=settings.cors_max_age_seconds,
        ),
        Middleware(
            BodySizeLimitMiddleware,
            max_bytes=settings.max_body_bytes,
            max_seconds=settings.request_body_timeout_seconds,
        ),
    ]
    return Starlette(
        debug=False,
        routes=routes,
        middleware=middleware,
        exception_handlers={
            HTTPException: http_exception_handler,
            DomainError: domain_error_handler,
        },
        lifespan=lifespan,
    )


SHUTDOWN_STEP_SECONDS = 5.0


async def _bounded(step: str, work: Awaitable[object]) -> None:
    """One shutdown step, bounded: a stuck step is logged and skipped, so the process
    still exits within its grace period."""
    try:
        await asyncio.wait_for(work, SHUTDOWN_STEP_SECONDS)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # we are being cancelled ourselves
        # else: the awaited task was cancelled (the analytics flusher ends this way)
    except TimeoutError:
        logger.bind(step=step).warning("shutdown step did not finish in time; skipped")


def main() -> None:
    """Serve with uvicorn on HOST/PORT (default 127.0.0.1:8000)."""
    settings = get_settings()
    uvicorn.run(
        "app:create_app",
        factory=True,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8000")),
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
        server_header=False,
        # Headers must arrive in time (uvicorn alone waits for them forever).
        http=HeaderDeadlineProtocol,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        log_config=None,
        workers=int(os.environ.get("WEB_CONCURRENCY", "1")),
    )


if __name__ == "__main__":
    main()
