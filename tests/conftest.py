"""Session-wide real services and per-module isolation.

FerretDB and Redis are started on free ports for the session unless
``MONGODB_URL`` / ``REDIS_URL`` point at running servers (a real MongoDB, say).
``GATEHOUSE_TEST_MONGO=secantusdb`` starts SecantusDB instead of FerretDB: the second
leg of ``make test``, where the plain-MongoDB paths run (domain/core/database_flavour.py).
Each test module gets its own database (dropped afterwards) and a flushed Redis.

Shared fixtures: ``clock`` (a module's FrozenClock, starting at the module's
``CLOCK_START`` if it sets one), ``frozen_clock`` (a factory of more clocks),
``app_with(clock=..., **settings_overrides)`` (an app running on this module's
settings with overrides, as an async context), ``database`` (the documents bound
without an app, for service-level tests) and ``client`` (for the module's ``app``).
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pymongo
import pytest
import redis as sync_redis
from redis.asyncio import Redis
from starlette.applications import Starlette

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import services  # noqa: E402

from domain.core.clock import Clock, FrozenClock  # noqa: E402
from domain.core.settings import Settings  # noqa: E402
from tests.support.asgi import AppWith, LifespanManager  # noqa: E402

# Where a module's ``clock`` starts unless the module sets ``CLOCK_START``.
CLOCK_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class ServiceUrls:
    def __init__(self, mongodb_url: str, redis_url: str) -> None:
        self.mongodb_url = mongodb_url
        self.redis_url = redis_url


@pytest.fixture(scope="session")
def service_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("services")


def _test_mongo() -> str:
    """Which server the session starts: ``ferretdb`` (the default) or ``secantusdb``."""
    if os.environ.get("MONGODB_URL"):
        return "external"
    return os.environ.get("GATEHOUSE_TEST_MONGO", "ferretdb")


@pytest.fixture(scope="session")
def ferretdb_service(service_dir: Path) -> Iterator[services.Service | None]:
    if _test_mongo() != "ferretdb":
        yield None
        return
    service = services.ferretdb(service_dir / "ferretdb").start()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def secantusdb_service(service_dir: Path) -> Iterator[services.Service | None]:
    if _test_mongo() != "secantusdb":
        yield None
        return
    service = services.secantusdb(service_dir / "secantusdb").start()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def redis_service(service_dir: Path) -> Iterator[services.Service | None]:
    if os.environ.get("REDIS_URL"):
        yield None
        return
    service = services.redis_server(service_dir / "redis").start()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def service_urls(
    ferretdb_service: services.Service | None,
    secantusdb_service: services.Service | None,
    redis_service: services.Service | None,
) -> ServiceUrls:
    mongo = ferretdb_service or secantusdb_service
    mongodb_url = os.environ.get("MONGODB_URL") or f"mongodb://127.0.0.1:{mongo.port}"  # type: ignore[union-attr]
    redis_url = os.environ.get("REDIS_URL") or f"redis://127.0.0.1:{redis_service.port}/0"  # type: ignore[union-attr]
    return ServiceUrls(mongodb_url, redis_url)


def _database_name(module: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", module.lower())[-30:]
    return f"gh_{slug}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def database_name(request: pytest.FixtureRequest, service_urls: ServiceUrls) -> Iterator[str]:
    name = _database_name(request.module.__name__)
    yield name
    with pymongo.MongoClient(service_urls.mongodb_url, serverSelectionTimeoutMS=5000) as client:
        client.drop_database(name)


@pytest.fixture(scope="module")
def make_settings(
    service_urls: ServiceUrls, database_name: str, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Settings]:
    var_dir = tmp_path_factory.mktemp("var")

    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "environment": "test",
            "mongodb_url": service_urls.mongodb_url,
            "mongodb_database": database_name,
            "redis_url": service_urls.redis_url,
            "var_dir": var_dir,
            "email_backend": "file",
            "log_level": "DEBUG",
            "cors_origins": ["https://app.example.com"],
            "health_check_timeout_seconds": 1.0,
            "mongodb_server_selection_timeout_ms": 2000,
            # Limits are tested on their own (tests/api/test_protection.py); elsewhere
            # one test client registering many users must not trip them.
            "rate_limits_enabled": False,
            # Each audit event written before the request goes on, so a test reads it
            # straight from the database; the batched writes are tested on their own
            # (tests/audit/test_audit_buffer.py).
            "audit_flush_interval_ms": 0,
            "email_retry_base_ms": 200,
            "lockout_throttle_base_seconds": 0,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return factory


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture(scope="module")
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    """A client of this module's Redis, for tests of a service without the app."""
    from domain.core.redis import create_redis

    client = create_redis(settings)
    yield client
    await client.aclose()


@pytest.fixture(scope="module")
async def database(settings: Settings) -> AsyncIterator[None]:
    """Every document bound to this module's database, for tests of a service without the app."""
    from domain.core.db import create_mongo_client, init_database
    from domain.documents import DOCUMENT_MODELS

    client = create_mongo_client(settings)
    await init_database(
        client[settings.mongodb_database], DOCUMENT_MODELS, settings.database_flavour
    )
    yield
    await client.close()


@pytest.fixture(scope="session")
def frozen_clock() -> Callable[..., FrozenClock]:
    """A factory of clocks that move only when a test advances them."""

    def factory(start: datetime = CLOCK_START) -> FrozenClock:
        return FrozenClock(start)

    return factory


@pytest.fixture(scope="module")
def clock(request: pytest.FixtureRequest, frozen_clock: Callable[..., FrozenClock]) -> FrozenClock:
    """The module's clock, shared by its app and its tests (module scope, like the app)."""
    return frozen_clock(getattr(request.module, "CLOCK_START", CLOCK_START))


@pytest.fixture(scope="module")
def app_with(make_settings: Callable[..., Settings]) -> AppWith:
    """``async with app_with(clock=c, **overrides) as app``: the app on this module's
    settings with ``overrides``, its lifespan run in-process (``app.state`` is its AppState)."""

    @asynccontextmanager
    async def running(
        *, clock: Clock | None = None, **overrides: Any
    ) -> AsyncIterator[LifespanManager]:
        from app import create_app

        async with LifespanManager(create_app(make_settings(**overrides), clock=clock)) as manager:
            yield manager

    return running


@pytest.fixture(scope="module", autouse=True)
def _fresh_redis(service_urls: ServiceUrls) -> None:
    client = sync_redis.Redis.from_url(service_urls.redis_url)
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def email_worker(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A real worker process delivering this module's queued emails (SMTP modules only)."""
    if settings.email_backend != "smtp":
        yield
        return
    from tests.support.processes import running_worker

    with running_worker(settings, tmp_path_factory.mktemp("worker") / "worker.log"):
        yield


@pytest.fixture(scope="module")
async def app(settings: Settings, email_worker: None) -> AsyncIterator[LifespanManager]:
    from app import create_app

    application: Starlette = create_app(settings)
    async with LifespanManager(application) as manager:
        yield manager


@pytest.fixture(scope="module")
async def client(app: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app.app, client=("203.0.113.7", 51000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    path: str = "/graphql",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    return await client.post(path, json=payload, headers=headers)


@pytest.fixture(scope="session")
def mail_inbox() -> Iterator[Any]:
    from tests.support.smtp import MailInbox

    inbox = MailInbox().start()
    yield inbox
    inbox.stop()
