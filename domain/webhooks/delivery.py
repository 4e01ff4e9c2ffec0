"""Delivering webhooks: attempts, the retry schedule, claims, sweeps, redelivery, pings.

Delivery is at-least-once toward the receiver, and each attempt is decided exactly
once: an attempt is claimed (``webhook-attempt:<delivery>:<n>``) before the POST, so
two workers handling the same message do not both send it, and an attempt in flight
holds a lease (``next_attempt_at`` moves past its timeout) so a duplicate message does
not start the next attempt early. Failed attempts are retried with exponential backoff
until ``webhook_max_attempts`` or ``webhook_max_age_seconds``, then the delivery is
marked failed. Receivers de-duplicate by ``Gatehouse-Event-Id``; a redelivery keeps
the event id. A delivery that fails for good is audited (``webhook.delivery_failed``,
by the system, on the endpoint) so an administrator sees a receiver that stopped
answering; a failed test ping is not (its caller sees the outcome in the log).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx
from loguru import logger

from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.claims import claim_once, claimed_at
from domain.core.clock import Clock
from domain.core.errors import FieldError, NotFoundError, ValidationError
from domain.core.settings import Settings
from domain.webhooks import repository
from domain.webhooks.documents import DeliveryStatus, WebhookDelivery
from domain.webhooks.events import TEST_EVENT, new_id, to_millis, utc
from domain.webhooks.publishing import WebhookPublishing
from domain.webhooks.sending import WebhookSender

MAX_LIST = 200
_LEASE_MARGIN = timedelta(seconds=30)  # past the request timeout
_EARLY_TOLERANCE = timedelta(seconds=5)  # clock skew between workers
_CLAIM_KEEP = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What one ``deliver`` call did; ``retry`` asks the caller to run it again later."""

    status: Literal["succeeded", "retry", "failed", "skipped"]
    attempt: int = 0
    status_code: int | None = None
    retry_in_ms: int = 0

    @property
    def should_retry(self) -> bool:
        return self.status == "retry"


class WebhookDeliveries:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        sender: WebhookSender,
        publishing: WebhookPublishing,
        audit: AuditService,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._sender = sender
        self._publishing = publishing
        self._audit = audit

    # --- the delivery log ---

    async def get(self, delivery_id: str) -> WebhookDelivery | None:
        return await repository.get_delivery(delivery_id)

    async def recent(
        self,
        endpoint_id: str | None = None,
        status: DeliveryStatus | str | None = None,
        limit: int = 50,
    ) -> list[WebhookDelivery]:
        """Newest first."""
        return await repository.list_deliveries(
            endpoint_id,
            None if status is None else DeliveryStatus(status),
            max(1, min(limit, MAX_LIST)),
        )

    # --- new deliveries of a stored or test event ---

    async def ping(self, endpoint_id: str) -> str:
        """Send a ``webhook.test`` event (one attempt, even to an inactive endpoint).

        Raises: NotFoundError.
        """
        endpoint = await repository.get_endpoint(endpoint_id)
        if endpoint is None:
            raise NotFoundError("No such webhook endpoint.")
        ids = await self._publishing.record(
            TEST_EVENT,
            {"endpoint_id": endpoint.id, "message": "Test event from Gatehouse."},
            [endpoint.id],
        )
        return ids[0]

    async def redeliver(self, delivery_id: str) -> str:
        """A fresh delivery of the same event (same event id) to the same endpoint.

        Raises: NotFoundError (delivery, event or endpoint gone), ValidationError
        (the endpoint is inactive).
        """
        original = await repository.get_delivery(delivery_id)
        if original is None:
            raise NotFoundError("No such webhook delivery.")
        event = await repository.get_event(original.event_id)
        if event is None:
            raise NotFoundError("The event of this delivery is no longer kept.")
        endpoint = await repository.get_endpoint(original.endpoint_id)
        if endpoint is None:
            raise NotFoundError("No such webhook endpoint.")
        if not endpoint.active and event.type != TEST_EVENT:
            raise ValidationError(
                [FieldError("id", "Activate the endpoint first.", "ENDPOINT_INACTIVE")]
            )
        now = to_millis(self._clock.now())
        delivery = WebhookDelivery(
            _id=new_id(),
            event_id=event.id,
            event_type=event.type,
            endpoint_id=endpoint.id,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        await repository.insert_delivery(delivery)
        await self._publishing.enqueue(delivery.id)
        return delivery.id

    # --- sweeps ---

    async def stale(self, limit: int = 500) -> list[str]:
        """Pending deliveries overdue by more than ``webhook_stale_after_seconds``: their
        job was lost (Redis or a worker went away). Re-enqueueing them is safe."""
        cutoff = self._clock.now() - timedelta(seconds=self._settings.webhook_stale_after_seconds)
        return await repository.pending_due_before(cutoff, limit)

    async def requeue_stale(self, limit: int = 500) -> list[str]:
        """Enqueue the stale deliveries again; their ids."""
        stale = await self.stale(limit)
        for delivery_id in stale:
            await self._publishing.enqueue(delivery_id)
        return stale

    async def purge_older_than(self, cutoff: datetime) -> int:
        """Delete finished deliveries and their events created before ``cutoff``."""
        return await repository.purge_older_than(cutoff)

    # --- attempts ---

    async def deliver(
        self, delivery_id: str, client: httpx.AsyncClient, actor: Actor
    ) -> DeliveryOutcome:
        """Make the next attempt of a pending delivery, if it is due and nobody else is.

        Safe to call any number of times for the same delivery: a finished delivery,
        one not yet due, and an attempt another caller claimed are all ``skipped``.
        """
        delivery = await repository.get_delivery(delivery_id)
        if delivery is None or delivery.status is not DeliveryStatus.PENDING:
            return DeliveryOutcome("skipped")
        now = self._clock.now()
        if utc(delivery.next_attempt_at) - now > _EARLY_TOLERANCE:
            # Another job holds it (an attempt in flight, or a retry already scheduled).
            return DeliveryOutcome("skipped", delivery.attempts)
        settings = self._settings
        attempt = delivery.attempts + 1
        deadline = utc(delivery.created_at) + timedelta(seconds=settings.webhook_max_age_seconds)
        stale_grace = timedelta(seconds=settings.webhook_stale_after_seconds)
        if attempt > settings.webhook_max_attempts or now > deadline + stale_grace:
            return await self._finish(
                actor,
                delivery,
                delivery.last_error or "expired before it could be delivered",
                delivery.attempts,
            )
        lease = timedelta(seconds=settings.webhook_timeout_seconds) + _LEASE_MARGIN
        key = f"webhook-attempt:{delivery_id}:{attempt}"
        if not await claim_once(key, now=now, expires_at=deadline + stale_grace + _CLAIM_KEEP):
            return await self._recover_lost_attempt(delivery_id, key, attempt, now - lease)
        await repository.set_delivery_fields(
            delivery_id, {"attempts": attempt, "next_attempt_at": now + lease, "updated_at": now}
        )
        log = logger.bind(
            delivery_id=delivery_id,
            endpoint_id=delivery.endpoint_id,
            webhook_event=delivery.event_type,
            attempt=attempt,
        )
        endpoint = await repository.get_endpoint(delivery.endpoint_id)
        event = await repository.get_event(delivery.event_id)
        if endpoint is None:
            return await self._finish(actor, delivery, "endpoint deleted", attempt)
        if event is None:
            # Purged, or never stored: the database went away while it was published.
            return await self._finish(actor, delivery, "event not kept", attempt)
        if not endpoint.active and event.type != TEST_EVENT:
            return await self._finish(actor, delivery, "endpoint inactive", attempt)

        result = await self._sender.attempt(endpoint, event, delivery, client)
        done = self._clock.now()
        recorded: dict[str, Any] = {
            "last_status_code": result.status_code,
            "last_duration_ms": result.duration_ms,
            "last_error": result.error,
            "response_snippet": result.snippet,
            "updated_at": done,
        }
        if result.ok:
            recorded |= {"status": DeliveryStatus.SUCCEEDED, "delivered_at": done}
            await repository.set_delivery_fields(delivery_id, recorded)
            log.bind(status_code=result.status_code, duration_ms=result.duration_ms).info(
                "webhook delivered"
            )
            return DeliveryOutcome("succeeded", attempt, result.status_code)
        give_up = (
            attempt >= settings.webhook_max_attempts or done >= deadline or event.type == TEST_EVENT
        )
        if give_up:
            recorded["status"] = DeliveryStatus.FAILED
            await repository.set_delivery_fields(delivery_id, recorded)
            log.bind(status_code=result.status_code).warning(
                "webhook delivery failed for good: {}", result.error
            )
            await self._audit_failure(actor, delivery, attempt, result.error, result.status_code)
            return DeliveryOutcome("failed", attempt, result.status_code)
        delay_ms = self._retry_delay(attempt, done, deadline)
        recorded["next_attempt_at"] = done + timedelta(milliseconds=delay_ms)
        await repository.set_delivery_fields(delivery_id, recorded)
        log.bind(status_code=result.status_code).warning(
            "webhook attempt failed ({}), retrying in {} ms", result.error, delay_ms
        )
        return DeliveryOutcome("retry", attempt, result.status_code, delay_ms)

    def _retry_delay(self, attempt: int, now: datetime, deadline: datetime) -> int:
        backoff = min(
            self._settings.webhook_retry_base_ms << min(attempt - 1, 40),
            self._settings.webhook_retry_max_ms,
        )
        # The last try lands on the deadline rather than being skipped.
        remaining = int((deadline - now).total_seconds() * 1000)
        return max(0, min(backoff, remaining))

    async def _finish(
        self, actor: Actor, delivery: WebhookDelivery, error: str, attempt: int
    ) -> DeliveryOutcome:
        await repository.set_delivery_fields(
            delivery.id,
            {"status": DeliveryStatus.FAILED, "last_error": error, "updated_at": self._clock.now()},
        )
        logger.bind(delivery_id=delivery.id, attempt=attempt).warning(
            "webhook delivery failed for good: {}", error
        )
        await self._audit_failure(actor, delivery, attempt, error, delivery.last_status_code)
        return DeliveryOutcome("failed", attempt)

    async def _audit_failure(
        self,
        actor: Actor,
        delivery: WebhookDelivery,
        attempts: int,
        error: str | None,
        http_status: int | None,
    ) -> None:
        if delivery.event_type == TEST_EVENT:
            return
        await self._audit.record(
            "webhook.delivery_failed",
            AuditAction.UPDATE,
            actor=actor,
            result=AuditResult.FAILURE,
            actor_type="system",
            target_id=delivery.endpoint_id,
            target_type="webhook_endpoint",
            details={
                "delivery_id": delivery.id,
                "event_type": delivery.event_type,
                "attempts": attempts,
                "error": error,
                "http_status": http_status,
            },
        )

    async def _recover_lost_attempt(
        self, delivery_id: str, key: str, attempt: int, claimed_before: datetime
    ) -> DeliveryOutcome:
        """The attempt is claimed. Usually someone is on it: skip. But if the claim is
        older than a lease and the attempt was never recorded, its worker died between
        the claim and the first write: count the attempt as lost and go on."""
        claimed = await claimed_at(key)
        current = await repository.get_delivery(delivery_id)
        if (
            claimed is None
            or current is None
            or current.status is not DeliveryStatus.PENDING
            or current.attempts != attempt - 1
        ):
            return DeliveryOutcome("skipped", attempt)
        claimed = utc(claimed)
        if claimed >= claimed_before:
            # Claimed within a lease and not yet recorded: in flight elsewhere, or its
            # record failed (the database was away). Come back after the lease to tell;
            # skipping here would leave the delivery to the hourly stale sweep.
            wait = claimed - claimed_before
            return DeliveryOutcome(
                "retry", attempt, None, max(int(wait.total_seconds() * 1000), 100)
            )
        now = self._clock.now()
        await repository.set_delivery_fields(
            delivery_id,
            {
                "attempts": attempt,
                "last_error": "attempt interrupted before it was recorded",
                "next_attempt_at": now,
                "updated_at": now,
            },
        )
        return DeliveryOutcome("retry", attempt)
