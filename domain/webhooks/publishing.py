"""From an account event to delivery records and queued jobs (an outbox).

Publishing records one pending delivery per subscribed endpoint, then the event,
then enqueues a job per delivery: a Redis outage delays webhooks, it does not lose
them (the stale sweep in ``delivery`` finds what was never picked up). The event is
written last because the database has no transaction here: a stored event always
has its deliveries, and deliveries whose event could not be stored (the database
went away in between) fail visibly and audited when the sweep reaches them, instead
of an event that silently never goes out.
Every account event is already in the audit trail, so the audit service calls
``publish_audit`` after each insert (``audit_bridge`` says which become webhooks).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import orjson
from loguru import logger
from pymongo.errors import PyMongoError

from domain.audit.documents import AuditEvent
from domain.core.clock import Clock
from domain.webhooks import repository
from domain.webhooks.audit_bridge import webhook_from_audit
from domain.webhooks.documents import WebhookDelivery, WebhookEvent
from domain.webhooks.events import EVENT_TYPES, Enqueue, new_id, to_millis

# Audit events with no webhook of their own whose twin on the same anonymous path has
# one: the webhook event type the twin looks up.
_SHADOWED = {
    "user.login_failed": "user.login_failed",
    "user.register_existing": "user.registered",
}


class WebhookPublishing:
    def __init__(self, clock: Clock, enqueue: Enqueue | None) -> None:
        """``enqueue`` is called for every new delivery; None records without queueing
        (the stale sweep sends those later)."""
        self._clock = clock
        self._enqueue = enqueue

    async def enqueue(self, delivery_id: str) -> bool:
        """Queue a job for the delivery; a failure is logged (the stale sweep retries)."""
        if self._enqueue is None:
            return False
        try:
            # A blocking Redis call (Dramatiq's send): off the event loop.
            await asyncio.to_thread(self._enqueue, delivery_id)
        except Exception as exc:
            logger.bind(delivery_id=delivery_id).warning("webhook not enqueued yet: {}", exc)
            return False
        return True

    async def record(
        self, event_type: str, data: Mapping[str, Any], endpoint_ids: list[str]
    ) -> list[str]:
        """Store one pending delivery per endpoint and then the event, then queue each
        delivery; the delivery ids."""
        now = to_millis(self._clock.now())
        # A JSON round trip now, so the stored data is plain and every body is identical.
        plain: dict[str, Any] = orjson.loads(orjson.dumps(dict(data), default=str))
        event = WebhookEvent(_id=new_id(), type=event_type, created_at=now, data=plain)
        deliveries = [
            WebhookDelivery(
                _id=new_id(),
                event_id=event.id,
                event_type=event_type,
                endpoint_id=endpoint_id,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            for endpoint_id in endpoint_ids
        ]
        await repository.insert_deliveries(deliveries)
        await repository.insert_event(event)
        ids = [d.id for d in deliveries]
        for delivery_id in ids:
            await self.enqueue(delivery_id)
        return ids

    async def emit(self, event_type: str, data: Mapping[str, Any]) -> list[str]:
        """Record ``event_type`` for every active endpoint subscribed to it; the delivery ids.

        Nothing is stored when no endpoint listens. Raises ValueError for an event type
        outside EVENT_TYPES (a programming error), PyMongoError.
        """
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown webhook event type {event_type!r}")
        endpoints = await repository.subscribed_endpoints(event_type)
        if not endpoints:
            return []
        return await self.record(event_type, data, [e.id for e in endpoints])

    async def publish(self, event_type: str, data: Mapping[str, Any]) -> list[str]:
        """``emit`` for request paths: a database failure is logged loudly, never raised."""
        try:
            return await self.emit(event_type, data)
        except PyMongoError:
            logger.bind(webhook_event=event_type).exception("could not record the webhook event")
            return []

    async def publish_audit(self, record: AuditEvent) -> list[str]:
        """Publish the webhook event an audit record stands for (see audit_bridge)."""
        mapped = webhook_from_audit(record)
        if mapped is not None:
            return await self.publish(*mapped)
        shadowed = _SHADOWED.get(record.event)
        if shadowed is not None and (record.event != "user.login_failed" or not record.target_id):
            # An anonymous path's other branch (an address with no account, an email that
            # is already taken) has no user to tell about, but looks up the endpoints all
            # the same: the same reads either way, so the database's work does not say
            # which addresses have accounts.
            try:
                await repository.subscribed_endpoints(shadowed)
            except PyMongoError:
                logger.warning("could not look up webhook endpoints")
        return []
