"""The Starlette application: middleware, routes, lifespan.

Run with ``uvicorn app:create_app --factory`` or ``python app.py`` (reads HOST/PORT).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TypedDict

import uvicorn
from loguru import logger
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from domain.core.clock import Clock, SystemClock
from domain.core.db import create_mongo_client, init_database
from domain.core.error_tracking import init_error_tracking
from domain.core.errors import DomainError
from domain.core.logging import configure_logging
from domain.core.redis import create_redis
from domain.core.settings import Settings, get_settings
from domain.documents import DOCUMENT_MODELS
from domain.email.transport import create_transport
from domain.identity import email_lookup
from domain.identity.passwords import create_password_hasher
from domain.mfa.rekey import rekey_totp_credentials
from domain.passkeys.owners import PASSKEY_OWNERS
from domain.services import build_services
from domain.social.owners import SOCIAL_OWNERS
from domain.social.page_callback import CALLBACK_PATH as SOCIAL_CALLBACK_PATH
from domain.social.prove import provider_http_client
from resolvers.http import health, privacy_export
from resolvers.http.client_ip import parse_networks
from resolvers.http.errors import domain_error_handler, http_exception_handler
from resolvers.http.jwks import jwks
from resolvers.http.metrics import metrics
from resolvers.http.middleware import (
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from resolvers.http.oauth import cors as oauth_cors
from resolvers.http.oauth import device as oauth_device
from resolvers.http.oauth import endpoints as oauth
from resolvers.http.oauth import logout as oauth_logout
from resolvers.http.oauth import pages as oauth_pages
from resolvers.http.oauth import passkey_pages as oauth_passkey
from resolvers.http.oauth import social_pages as oauth_social
from resolvers.http.oauth.catalogue import load_catalogues
from resolvers.http.openapi import openapi
from resolvers.http.slow_clients import HeaderDeadlineProtocol
from resolvers.http.state import AppState
from schema.graphiql import STATIC_DIR as GRAPHIQL_STATIC_DIR
from schema.schema import build_schema, schema_hash
from schema.view import GatehouseGraphQL
from workers.actors.email import send_email
from workers.actors.privacy import enqueue_export
from workers.actors.webhooks import enqueue_delivery
from workers.broker import setup_broker

GRAPHQL_PATHS = ("/graphql", "/api/v1/graphql")


class LifespanState(TypedDict):
    gatehouse: AppState


def _enqueue_email(message_id: str) -> None:
    send_email.send(message_id)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Starlette:
    """The application; tests pass their own settings and a clock they can move."""
    settings = settings or get_settings()
    app_clock: Clock = clock or SystemClock()
    configure_logging(settings)
    init_error_tracking(settings)
    schema = build_schema(settings)
    digest = schema_hash(schema)
    # Read and checked here, so a bad translation stops the start (CatalogueError).
    page_text = load_catalogues(settings.oidc_page_translations_dir)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[LifespanState]:
        mongo = create_mongo_client(settings)
        redis = create_redis(settings)
        broker = setup_broker(settings)

        database = mongo[settings.mongodb_database]
        hasher = create_password_hasher(settings)
        # The social sign-in's connections to the providers (kept alive between calls).
        social_http = provider_http_client(settings)
        try:
            flavour = await init_database(database, DOCUMENT_MODELS, settings.database_flavour)
            await email_lookup.email_lookup_for(flavour).prepare(app_clock.now())
            for owned in (PASSKEY_OWNERS, SOCIAL_OWNERS):
                await owned.for_flavour(flavour).prepare(app_clock.now())
            await rekey_totp_credentials()
            transport = create_transport(settings)
            services = build_services(
                settings,
                app_clock,
                redis=redis,
                hasher=hasher,
                transport=transport,
                enqueue_email=_enqueue_email,
                enqueue_delivery=enqueue_delivery,
                enqueue_export=enqueue_export,
                social_http=social_http,
            )
            state = AppState(
                settings=settings,
                clock=app_clock,
                services=services,
                mongo=mongo,
                database=database,
                redis=redis,
                broker=broker,
                email=transport,
                hasher=hasher,
                social_http=social_http,
                started_at=time.monotonic(),
                schema_hash=digest,
                page_text=page_text,
            )
            flusher = asyncio.create_task(services.analytics.run_flusher())
            audit_flusher = asyncio.create_task(services.audit.run_flusher())
            logger.bind(environment=settings.environment.value).info("gatehouse started")
            try:
                yield {"gatehouse": state}
            finally:
                flusher.cancel()
                await _bounded("analytics flush", flusher)
                audit_flusher.cancel()
                await _bounded("audit flush", audit_flusher)
                await _bounded("session watch", services.session_watch.close())
                await _bounded("breached-password range", services.breached_passwords.aclose())
        finally:
            logger.info("gatehouse stopping: closing connection pools")
            await _bounded("redis close", redis.aclose())
            await _bounded("mongo close", mongo.close())
            await _bounded("social providers close", social_http.aclose())
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
        # Gatehouse as an OpenID Connect provider (resolvers/http/oauth/).
        Route(oauth.DISCOVERY_PATH, oauth.discovery, methods=["GET"]),
        Route(oauth.AUTHORIZE_PATH, oauth.authorize, methods=["GET"]),
        Route(oauth.TOKEN_PATH, oauth.token, methods=["POST"]),
        Route(oauth.TOKEN_PATH, oauth_cors.preflight, methods=["OPTIONS"]),
        Route(oauth.USERINFO_PATH, oauth.userinfo, methods=["GET", "POST"]),
        Route(oauth.USERINFO_PATH, oauth_cors.preflight, methods=["OPTIONS"]),
        Route(oauth.REVOKE_PATH, oauth.revoke, methods=["POST"]),
        Route(oauth.REVOKE_PATH, oauth_cors.preflight, methods=["OPTIONS"]),
        Route(oauth.INTROSPECT_PATH, oauth.introspect, methods=["POST"]),
        Route(oauth_pages.LOGIN_PATH, oauth_pages.login, methods=["GET", "POST"]),
        Route(oauth_pages.MFA_PATH, oauth_pages.login_mfa, methods=["POST"]),
        Route(oauth_pages.CONSENT_PATH, oauth_pages.consent, methods=["GET", "POST"]),
        # The sign-in page's social buttons: {provider} is a configured provider's name.
        Route(oauth_pages.SOCIAL_PATH, oauth_social.begin, methods=["POST"]),
        Route(SOCIAL_CALLBACK_PATH, oauth_social.callback, methods=["GET", "POST"]),
        # The sign-in page's passkey button and its script.
        Route(oauth_pages.PASSKEY_BEGIN_PATH, oauth_passkey.begin, methods=["POST"]),
        Route(oauth_pages.PASSKEY_PATH, oauth_passkey.finish, methods=["POST"]),
        Route(oauth_pages.PASSKEY_SCRIPT_PATH, oauth_passkey.script, methods=["GET"]),
        Route(oauth_logout.LOGOUT_PATH, oauth_logout.end_session, methods=["GET", "POST"]),
        Route(oauth_logout.CONFIRM_PATH, oauth_logout.confirm, methods=["POST"]),
        Route(oauth.DEVICE_PATH, oauth.device_authorization, methods=["POST"]),
        Route(oauth_device.ENTER_PATH, oauth_device.enter_code, methods=["GET", "POST"]),
        Route(oauth_device.APPROVE_PATH, oauth_device.approve, methods=["GET", "POST"]),
        Route(settings.export_download_path, privacy_export.download_export, methods=["GET"]),
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
        # The GraphQL API's origins; the OAuth token endpoints allow public clients'
        # own origins instead (resolvers/http/oauth/cors.py).
        Middleware(
            oauth_cors.CorsExceptOAuth,
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
