"""The Dramatiq broker, configured from settings.

Retries are bounded with exponential backoff, each job has a time limit, and a
message that exhausts its retries lands in the broker's dead-letter set
(``<queue>.XQ``), kept for ``dead_letter_ttl_ms`` and logged when it lands there.
The request id of the code that enqueued a job travels in the message options and
is bound to the job's logs.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import (
    AgeLimit,
    AsyncIO,
    Callbacks,
    CurrentMessage,
    Middleware,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)
from loguru import logger
from redis import Redis as SyncRedis

from domain.core.request_context import request_id_var
from domain.core.settings import Settings

NAMESPACE = "dramatiq"
_REQUEST_ID_OPTION = "request_id"


class RequestIdMiddleware(Middleware):
    """Carry the enqueuing request's id into the job and bind it to the job's logs."""

    def __init__(self) -> None:
        self._tokens: dict[str, Any] = {}

    def before_enqueue(
        self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int
    ) -> None:
        rid = request_id_var.get()
        if rid and _REQUEST_ID_OPTION not in message.options:
            message.options[_REQUEST_ID_OPTION] = rid

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        rid = message.options.get(_REQUEST_ID_OPTION) or f"job-{message.message_id}"
        self._tokens[message.message_id] = request_id_var.set(str(rid))

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        token = self._tokens.pop(message.message_id, None)
        if token is not None:
            request_id_var.reset(token)

    after_skip_message = after_process_message


class DeadLetterLogging(Middleware):
    def after_nack(self, broker: dramatiq.Broker, message: Any) -> None:
        logger.bind(actor=message.actor_name, message_id=message.message_id).error(
            "job moved to the dead-letter queue after {} retries",
            message.options.get("retries", 0),
        )


def build_broker(settings: Settings, client: SyncRedis | None = None) -> RedisBroker:
    redis_client = client or SyncRedis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=max(settings.redis_socket_timeout_seconds, 10.0),
        socket_connect_timeout=settings.redis_connect_timeout_seconds,
    )
    middleware: list[Middleware] = [
        AgeLimit(),
        TimeLimit(time_limit=settings.job_time_limit_ms),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(
            max_retries=settings.job_max_retries,
            min_backoff=settings.job_min_backoff_ms,
            max_backoff=settings.job_max_backoff_ms,
        ),
        CurrentMessage(),
        AsyncIO(),
        RequestIdMiddleware(),
        DeadLetterLogging(),
    ]
    return RedisBroker(  # type: ignore[no-untyped-call]
        client=redis_client,
        namespace=NAMESPACE,
        middleware=middleware,
        dead_message_ttl=settings.dead_letter_ttl_ms,
        heartbeat_timeout=settings.job_heartbeat_timeout_ms,
        maintenance_chance=settings.job_maintenance_chance,
    )


def setup_broker(settings: Settings, client: SyncRedis | None = None) -> RedisBroker:
    """Build the broker, make it the global one, and bind every actor to it.

    Actors bind to the global broker when their module is first imported; a
    process that builds a new broker (tests, a reload) re-binds them here so
    ``send()`` never goes to a broker that was closed.
    """
    broker = build_broker(settings, client)
    dramatiq.set_broker(broker)
    from workers.actors import ALL_ACTORS

    for actor in ALL_ACTORS:
        actor.broker = broker
        broker.declare_actor(actor)
    return broker


def queue_depths(broker: RedisBroker, queue_name: str) -> dict[str, int]:
    """Waiting, delayed and dead-lettered message counts for one queue (one round trip)."""
    client: SyncRedis = broker.client
    prefix = f"{NAMESPACE}:{queue_name}"
    pipe = client.pipeline(transaction=False)
    pipe.llen(prefix)
    pipe.hlen(f"{prefix}.DQ.msgs")
    pipe.zcard(f"{prefix}.XQ")
    waiting, delayed, dead = pipe.execute()
    return {"waiting": int(waiting), "delayed": int(delayed), "dead": int(dead)}
