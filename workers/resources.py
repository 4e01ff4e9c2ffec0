"""What the actors share inside one worker process, created on first use per event loop:
the Redis client, the database binding, and the services, built by the same composition
root as the API's (domain/services.py), so a job behaves (and is audited) as a request
would."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from domain.core.clock import SystemClock
from domain.core.db import create_mongo_client, init_database
from domain.core.redis import create_redis
from domain.core.settings import get_settings
from domain.email.transport import create_transport
from domain.identity.passwords import create_password_hasher
from domain.services import Services, build_services

_redis_by_loop: dict[int, Redis] = {}
_services_by_loop: dict[int, Services] = {}
_database_ready: dict[int, asyncio.Lock] = {}
_initialised: set[int] = set()


def get_redis() -> Redis:
    """The async Redis client of the running event loop (actors run on one loop thread)."""
    loop_id = id(asyncio.get_running_loop())
    client = _redis_by_loop.get(loop_id)
    if client is None:
        client = create_redis(get_settings())
        _redis_by_loop[loop_id] = client
    return client


def _enqueue_email(message_id: str) -> None:
    from workers.actors.email import send_email

    send_email.send(message_id)


def _enqueue_delivery(delivery_id: str) -> None:
    from workers.actors.webhooks import enqueue_delivery

    enqueue_delivery(delivery_id)


def _enqueue_export(job_id: str, user_id: str) -> None:
    from workers.actors.privacy import enqueue_export

    enqueue_export(job_id, user_id)


def get_services() -> Services:
    """The services of the running event loop, built once (the worker's composition root).

    Nothing is opened here but what the services hold (Redis is the loop's client; the
    hasher's thread pool starts on first use)."""
    loop_id = id(asyncio.get_running_loop())
    services = _services_by_loop.get(loop_id)
    if services is None:
        settings = get_settings()
        services = build_services(
            settings,
            SystemClock(),
            redis=get_redis(),
            hasher=create_password_hasher(settings),
            transport=create_transport(settings),
            enqueue_email=_enqueue_email,
            enqueue_delivery=_enqueue_delivery,
            enqueue_export=_enqueue_export,
        )
        _services_by_loop[loop_id] = services
    return services


async def ensure_database() -> None:
    """Initialise Beanie once per event loop before an actor touches documents."""
    from domain.documents import DOCUMENT_MODELS

    loop_id = id(asyncio.get_running_loop())
    if loop_id in _initialised:
        return
    lock = _database_ready.setdefault(loop_id, asyncio.Lock())
    async with lock:
        if loop_id in _initialised:
            return
        settings = get_settings()
        client = create_mongo_client(settings)
        await init_database(
            client[settings.mongodb_database], DOCUMENT_MODELS, settings.database_flavour
        )
        _initialised.add(loop_id)
