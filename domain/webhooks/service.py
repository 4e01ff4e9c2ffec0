"""Webhook endpoints, events and deliveries: register, emit, deliver, retry.

Emitting records the event and one pending delivery per subscribed endpoint
first, then enqueues a job per delivery (an outbox: a Redis outage delays
webhooks, it does not lose them; ``stale_deliveries`` finds what was never
picked up).

Delivery is at-least-once toward the receiver, and each attempt is decided
exactly once: an attempt is claimed (``webhook-attempt:<delivery>:<n>``) before
the POST, so two workers handling the same message do not both send it, and an
attempt in flight holds a lease (``next_attempt_at`` moves past its timeout) so a
duplicate message does not start the next attempt early. Failed attempts are
retried with exponential backoff until ``webhook_max_attempts`` or
``webhook_max_age_seconds``, then the delivery is marked failed. Receivers
de-duplicate by ``Gatehouse-Event-Id``; a redelivery keeps the event id.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import httpx
import orjson
from beanie import SortDirection
from loguru import logger
from pymongo.errors import PyMongoError

from domain.audit.documents import AuditAction, AuditEvent
from domain.core.claims import Claim, claim_once
from domain.core.clock import Clock
from domain.core.errors import FieldError, NotFoundError, ValidationError
from domain.core.secrets import new_token
from domain.core.settings import Settings
from domain.webhooks.audit_bridge import webhook_from_audit
from domain.webhooks.documents import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from domain.webhooks.signing import signature_header
from domain.webhooks.ssrf import (
    ResolvedTarget,
    WebhookTargetRefusedError,
    check_syntax,
    resolve_target_async,
)

if TYPE_CHECKING:  # the audit service may come to call us: no import cycle at runtime
    from domain.audit.service import AuditService

EVENT_TYPES: frozenset[str] = frozenset(
    {
        "user.registered",
        "user.verified",
        "user.login_failed",
        "user.locked",
        "user.unlocked",
        "user.password_changed",
        "user.role_changed",
        "user.deleted",
        "session.revoked",
        "security.refresh_reuse",
    }
)
# Sent by ``test_endpoint`` only; not subscribable, delivered once, even to inactive endpoints.
TEST_EVENT = "webhook.test"

SECRET_PREFIX = "whsec_"
USER_AGENT = "Gatehouse-Webhooks/1"
SNIPPET_CHARS = 500
MAX_DESCRIPTION = 500
MAX_LIST = 200
_READ_LIMIT = 4096  # bytes of a response body read for the snippet
_LEASE_MARGIN = timedelta(seconds=30)  # past the request timeout
_EARLY_TOLERANCE = timedelta(seconds=5)  # clock skew between workers
_CLAIM_KEEP = timedelta(days=1)

Enqueue = Callable[[str], None]


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


@dataclass(frozen=True, slots=True)
class _AttemptResult:
    status_code: int | None
    duration_ms: int
    error: str | None
    snippet: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _to_millis(value: datetime) -> datetime:
    """MongoDB keeps milliseconds: truncate first so every delivery sends the same body."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def isoformat(value: datetime) -> str:
    return _utc(value).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def envelope(event: WebhookEvent) -> bytes:
    """The exact body every delivery of ``event`` sends."""
    return orjson.dumps(
        {
            "id": event.id,
            "type": event.type,
            "created_at": isoformat(event.created_at),
            "data": event.data,
        }
    )


def new_secret() -> str:
    return SECRET_PREFIX + new_token()


def _new_id() -> str:
    return uuid.uuid4().hex


class WebhookService:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        *,
        enqueue: Enqueue | None = None,
        audit: AuditService | None = None,
    ) -> None:
        """``enqueue`` (a delivery id to a queued job) is called for every new delivery."""
        self._settings = settings
        self._clock = clock
        self._enqueue = enqueue
        self._audit = audit

    # --- policy ---

    @property
    def allow_private(self) -> bool:
        return self._settings.webhook_allow_private_targets

    @property
    def require_https(self) -> bool:
        return self._settings.is_production and not self._settings.webhook_allow_private_targets

    async def _resolve(self, url: str) -> ResolvedTarget:
        return await resolve_target_async(
            url,
            allow_private=self.allow_private,
            require_https=self.require_https,
            lookup_seconds=self._settings.webhook_timeout_seconds,
        )

    # --- validation ---

    async def _url_errors(self, url: str) -> tuple[str, list[FieldError]]:
        clean = url.strip()
        try:
            check_syntax(clean, require_https=self.require_https)
            await self._resolve(clean)
        except WebhookTargetRefusedError as exc:
            return clean, [FieldError("url", exc.message, exc.reason)]
        return clean, []

    @staticmethod
    def _event_errors(events: list[str]) -> tuple[list[str], list[FieldError]]:
        chosen = sorted({e.strip() for e in events if e.strip()})
        if not chosen:
            return chosen, [FieldError("events", "Choose at least one event type.", "REQUIRED")]
        unknown = [e for e in chosen if e not in EVENT_TYPES]
        if unknown:
            return chosen, [
                FieldError(
                    "events",
                    f"Unknown event types: {', '.join(unknown[:10])}.",
                    "UNKNOWN_EVENT_TYPE",
                )
            ]
        return chosen, []

    @staticmethod
    def _description_errors(description: str) -> tuple[str, list[FieldError]]:
        clean = description.strip()
        if len(clean) > MAX_DESCRIPTION:
            return clean, [
                FieldError("description", f"Use at most {MAX_DESCRIPTION} characters.", "INVALID")
            ]
        return clean, []

    async def _audit_record(
        self, event: str, action: AuditAction, endpoint_id: str, **after: Any
    ) -> None:
        if self._audit is not None:
            await self._audit.record(
                event,
                action,
                target_id=endpoint_id,
                target_type="webhook_endpoint",
                after=after or None,
            )

    # --- endpoints ---

    async def create_endpoint(
        self, url: str, events: list[str], description: str = ""
    ) -> tuple[WebhookEndpoint, str]:
        """Returns the endpoint and its signing secret, which is shown this once only.

        Raises: ValidationError (field ``url`` with code INVALID_URL, HTTPS_REQUIRED,
        UNRESOLVABLE or PRIVATE_ADDRESS; ``events``: REQUIRED or UNKNOWN_EVENT_TYPE;
        ``description``).
        """
        clean_url, errors = await self._url_errors(url)
        chosen, event_errors = self._event_errors(events)
        clean_description, description_errors = self._description_errors(description)
        errors += event_errors + description_errors
        if errors:
            raise ValidationError(errors)
        now = self._clock.now()
        secret = new_secret()
        endpoint = WebhookEndpoint(
            _id=_new_id(),
            url=clean_url,
            description=clean_description,
            events=chosen,
            active=True,
            secret=secret,
            created_at=now,
            updated_at=now,
        )
        await endpoint.insert()
        await self._audit_record(
            "webhook.endpoint_created",
            AuditAction.CREATE,
            endpoint.id,
            url=clean_url,
            events=",".join(chosen),
        )
        return endpoint, secret

    async def get_endpoint(self, endpoint_id: str) -> WebhookEndpoint | None:
        return await WebhookEndpoint.get(endpoint_id)

    async def _endpoint(self, endpoint_id: str) -> WebhookEndpoint:
        endpoint = await WebhookEndpoint.get(endpoint_id)
        if endpoint is None:
            raise NotFoundError("No such webhook endpoint.")
        return endpoint

    async def update_endpoint(
        self,
        endpoint_id: str,
        *,
        url: str | None = None,
        events: list[str] | None = None,
        active: bool | None = None,
        description: str | None = None,
    ) -> WebhookEndpoint:
        """Change what is given. Raises: NotFoundError, ValidationError."""
        endpoint = await self._endpoint(endpoint_id)
        changes: dict[str, Any] = {}
        errors: list[FieldError] = []
        if url is not None:
            clean_url, url_errors = await self._url_errors(url)
            errors += url_errors
            changes["url"] = clean_url
        if events is not None:
            chosen, event_errors = self._event_errors(events)
            errors += event_errors
            changes["events"] = chosen
        if description is not None:
            clean_description, description_errors = self._description_errors(description)
            errors += description_errors
            changes["description"] = clean_description
        if active is not None:
            changes["active"] = active
        if errors:
            raise ValidationError(errors)
        if not changes:
            return endpoint
        changes["updated_at"] = self._clock.now()
        await WebhookEndpoint.find_one(WebhookEndpoint.id == endpoint_id).update({"$set": changes})
        await self._audit_record(
            "webhook.endpoint_updated",
            AuditAction.UPDATE,
            endpoint_id,
            **{k: ",".join(v) if isinstance(v, list) else v for k, v in changes.items()},
        )
        return await self._endpoint(endpoint_id)

    async def delete_endpoint(self, endpoint_id: str) -> bool:
        """Remove the endpoint; its pending deliveries are marked failed. False if unknown."""
        endpoint = await WebhookEndpoint.get(endpoint_id)
        if endpoint is None:
            return False
        await endpoint.delete()
        now = self._clock.now()
        await WebhookDelivery.find(
            {"endpoint_id": endpoint_id, "status": DeliveryStatus.PENDING}
        ).update_many(
            {
                "$set": {
                    "status": DeliveryStatus.FAILED,
                    "last_error": "endpoint deleted",
                    "updated_at": now,
                }
            }
        )
        await self._audit_record("webhook.endpoint_deleted", AuditAction.DELETE, endpoint_id)
        return True

    async def rotate_secret(self, endpoint_id: str, overlap_seconds: int | None = None) -> str:
        """A new signing secret, shown this once. The old one keeps signing alongside it for
        ``overlap_seconds`` (default ``webhook_secret_overlap_seconds``; 0 ends it now).

        Raises: NotFoundError, ValidationError.
        """
        overlap = (
            self._settings.webhook_secret_overlap_seconds
            if overlap_seconds is None
            else overlap_seconds
        )
        if not 0 <= overlap <= 30 * 24 * 3600:
            raise ValidationError(
                [FieldError("overlapSeconds", "Use 0 to 2592000 seconds (30 days).", "INVALID")]
            )
        endpoint = await self._endpoint(endpoint_id)
        now = self._clock.now()
        secret = new_secret()
        await WebhookEndpoint.find_one(WebhookEndpoint.id == endpoint_id).update(
            {
                "$set": {
                    "secret": secret,
                    "previous_secret": endpoint.secret if overlap else None,
                    "previous_secret_expires_at": now + timedelta(seconds=overlap)
                    if overlap
                    else None,
                    "updated_at": now,
                }
            }
        )
        await self._audit_record(
            "webhook.secret_rotated", AuditAction.UPDATE, endpoint_id, overlap_seconds=overlap
        )
        return secret

    async def list_endpoints(self) -> list[WebhookEndpoint]:
        return await WebhookEndpoint.find_all().sort("created_at").to_list()

    def signing_secrets(self, endpoint: WebhookEndpoint) -> list[str]:
        """The current secret, then the previous one while its overlap lasts."""
        secrets = [endpoint.secret]
        expires = endpoint.previous_secret_expires_at
        if endpoint.previous_secret and expires is not None and _utc(expires) > self._clock.now():
            secrets.append(endpoint.previous_secret)
        return secrets

    # --- events ---

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

    async def _record(
        self, event_type: str, data: Mapping[str, Any], endpoint_ids: list[str]
    ) -> list[str]:
        now = _to_millis(self._clock.now())
        # A JSON round trip now, so the stored data is plain and every body is identical.
        plain: dict[str, Any] = orjson.loads(orjson.dumps(dict(data), default=str))
        event = WebhookEvent(_id=_new_id(), type=event_type, created_at=now, data=plain)
        await event.insert()
        deliveries = [
            WebhookDelivery(
                _id=_new_id(),
                event_id=event.id,
                event_type=event_type,
                endpoint_id=endpoint_id,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            for endpoint_id in endpoint_ids
        ]
        for delivery in deliveries:
            await delivery.insert()
        ids = [d.id for d in deliveries]
        for delivery_id in ids:
            await self.enqueue(delivery_id)
        return ids

    async def emit(self, event_type: str, data: Mapping[str, Any]) -> list[str]:
        """Record ``event_type`` for every active endpoint subscribed to it; the delivery ids.

        Nothing is stored when no endpoint listens. With an ``enqueue`` port each
        delivery is queued right after it is recorded. Raises ValueError for an
        event type outside EVENT_TYPES (a programming error), PyMongoError.
        """
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown webhook event type {event_type!r}")
        endpoints = await WebhookEndpoint.find({"active": True, "events": event_type}).to_list()
        if not endpoints:
            return []
        return await self._record(event_type, data, [e.id for e in endpoints])

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
        if mapped is None:
            return []
        return await self.publish(*mapped)

    async def test_endpoint(self, endpoint_id: str) -> str:
        """Send a ``webhook.test`` ping (one attempt, even to an inactive endpoint).

        Raises: NotFoundError.
        """
        endpoint = await self._endpoint(endpoint_id)
        ids = await self._record(
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
        original = await WebhookDelivery.get(delivery_id)
        if original is None:
            raise NotFoundError("No such webhook delivery.")
        event = await WebhookEvent.get(original.event_id)
        if event is None:
            raise NotFoundError("The event of this delivery is no longer kept.")
        endpoint = await self._endpoint(original.endpoint_id)
        if not endpoint.active and event.type != TEST_EVENT:
            raise ValidationError(
                [FieldError("id", "Activate the endpoint first.", "ENDPOINT_INACTIVE")]
            )
        now = _to_millis(self._clock.now())
        delivery = WebhookDelivery(
            _id=_new_id(),
            event_id=event.id,
            event_type=event.type,
            endpoint_id=endpoint.id,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        await delivery.insert()
        await self.enqueue(delivery.id)
        return delivery.id

    # --- deliveries ---

    async def get_delivery(self, delivery_id: str) -> WebhookDelivery | None:
        return await WebhookDelivery.get(delivery_id)

    async def list_deliveries(
        self,
        endpoint_id: str | None = None,
        status: DeliveryStatus | str | None = None,
        limit: int = 50,
    ) -> list[WebhookDelivery]:
        """Newest first."""
        query: dict[str, Any] = {}
        if endpoint_id is not None:
            query["endpoint_id"] = endpoint_id
        if status is not None:
            query["status"] = DeliveryStatus(status)
        return (
            await WebhookDelivery.find(query)
            .sort([("created_at", SortDirection.DESCENDING)])
            .limit(max(1, min(limit, MAX_LIST)))
            .to_list()
        )

    async def stale_deliveries(self, limit: int = 500) -> list[str]:
        """Pending deliveries overdue by more than ``webhook_stale_after_seconds``: their
        job was lost (Redis or a worker went away). Re-enqueueing them is safe."""
        cutoff = self._clock.now() - timedelta(seconds=self._settings.webhook_stale_after_seconds)
        stale = (
            await WebhookDelivery.find(
                {"status": DeliveryStatus.PENDING, "next_attempt_at": {"$lt": cutoff}}
            )
            .sort([("next_attempt_at", SortDirection.ASCENDING)])
            .limit(limit)
            .to_list()
        )
        return [d.id for d in stale]

    async def purge_older_than(self, cutoff: datetime) -> int:
        """Delete finished deliveries and their events created before ``cutoff``."""
        result = await WebhookDelivery.find(
            {"created_at": {"$lt": cutoff}, "status": {"$ne": DeliveryStatus.PENDING}}
        ).delete()
        removed = int(getattr(result, "deleted_count", 0) or 0)
        still_pending = {
            d.event_id
            for d in await WebhookDelivery.find(
                {"created_at": {"$lt": cutoff}, "status": DeliveryStatus.PENDING}
            ).to_list()
        }
        query: dict[str, Any] = {"created_at": {"$lt": cutoff}}
        if still_pending:
            query["_id"] = {"$nin": sorted(still_pending)}
        await WebhookEvent.find(query).delete()
        return removed

    def _retry_delay(self, attempt: int, now: datetime, deadline: datetime) -> int:
        backoff = min(
            self._settings.webhook_retry_base_ms << min(attempt - 1, 40),
            self._settings.webhook_retry_max_ms,
        )
        # The last try lands on the deadline rather than being skipped.
        remaining = int((deadline - now).total_seconds() * 1000)
        return max(0, min(backoff, remaining))

    async def _finish(
        self, delivery: WebhookDelivery, status: DeliveryStatus, error: str, attempt: int
    ) -> DeliveryOutcome:
        await WebhookDelivery.find_one(WebhookDelivery.id == delivery.id).update(
            {"$set": {"status": status, "last_error": error, "updated_at": self._clock.now()}}
        )
        logger.bind(delivery_id=delivery.id, attempt=attempt).warning(
            "webhook delivery failed for good: {}", error
        )
        return DeliveryOutcome("failed", attempt)

    async def deliver(self, delivery_id: str, client: httpx.AsyncClient) -> DeliveryOutcome:
        """Make the next attempt of a pending delivery, if it is due and nobody else is.

        Safe to call any number of times for the same delivery: a finished delivery,
        one not yet due, and an attempt another caller claimed are all ``skipped``.
        """
        delivery = await WebhookDelivery.get(delivery_id)
        if delivery is None or delivery.status is not DeliveryStatus.PENDING:
            return DeliveryOutcome("skipped")
        now = self._clock.now()
        if _utc(delivery.next_attempt_at) - now > _EARLY_TOLERANCE:
            # Another job holds it (an attempt in flight, or a retry already scheduled).
            return DeliveryOutcome("skipped", delivery.attempts)
        settings = self._settings
        attempt = delivery.attempts + 1
        deadline = _utc(delivery.created_at) + timedelta(seconds=settings.webhook_max_age_seconds)
        stale_grace = timedelta(seconds=settings.webhook_stale_after_seconds)
        if attempt > settings.webhook_max_attempts or now > deadline + stale_grace:
            return await self._finish(
                delivery,
                DeliveryStatus.FAILED,
                delivery.last_error or "expired before it could be delivered",
                delivery.attempts,
            )
        lease = timedelta(seconds=settings.webhook_timeout_seconds) + _LEASE_MARGIN
        key = f"webhook-attempt:{delivery_id}:{attempt}"
        if not await claim_once(key, now=now, expires_at=deadline + stale_grace + _CLAIM_KEEP):
            return await self._recover_lost_attempt(delivery_id, key, attempt, now - lease)
        await WebhookDelivery.find_one(WebhookDelivery.id == delivery_id).update(
            {"$set": {"attempts": attempt, "next_attempt_at": now + lease, "updated_at": now}}
        )
        log = logger.bind(
            delivery_id=delivery_id,
            endpoint_id=delivery.endpoint_id,
            webhook_event=delivery.event_type,
            attempt=attempt,
        )
        endpoint = await WebhookEndpoint.get(delivery.endpoint_id)
        event = await WebhookEvent.get(delivery.event_id)
        if endpoint is None:
            return await self._finish(delivery, DeliveryStatus.FAILED, "endpoint deleted", attempt)
        if event is None:
            return await self._finish(delivery, DeliveryStatus.FAILED, "event purged", attempt)
        if not endpoint.active and event.type != TEST_EVENT:
            return await self._finish(delivery, DeliveryStatus.FAILED, "endpoint inactive", attempt)

        result = await self._attempt(endpoint, event, delivery, client)
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
            await WebhookDelivery.find_one(WebhookDelivery.id == delivery_id).update(
                {"$set": recorded}
            )
            log.bind(status_code=result.status_code, duration_ms=result.duration_ms).info(
                "webhook delivered"
            )
            return DeliveryOutcome("succeeded", attempt, result.status_code)
        give_up = (
            attempt >= settings.webhook_max_attempts or done >= deadline or event.type == TEST_EVENT
        )
        if give_up:
            recorded["status"] = DeliveryStatus.FAILED
            await WebhookDelivery.find_one(WebhookDelivery.id == delivery_id).update(
                {"$set": recorded}
            )
            log.bind(status_code=result.status_code).warning(
                "webhook delivery failed for good: {}", result.error
            )
            return DeliveryOutcome("failed", attempt, result.status_code)
        delay_ms = self._retry_delay(attempt, done, deadline)
        recorded["next_attempt_at"] = done + timedelta(milliseconds=delay_ms)
        await WebhookDelivery.find_one(WebhookDelivery.id == delivery_id).update({"$set": recorded})
        log.bind(status_code=result.status_code).warning(
            "webhook attempt failed ({}), retrying in {} ms", result.error, delay_ms
        )
        return DeliveryOutcome("retry", attempt, result.status_code, delay_ms)

    async def _recover_lost_attempt(
        self, delivery_id: str, key: str, attempt: int, claimed_before: datetime
    ) -> DeliveryOutcome:
        """The attempt is claimed. Usually someone is on it: skip. But if the claim is
        older than a lease and the attempt was never recorded, its worker died between
        the claim and the first write: count the attempt as lost and go on."""
        claim = await Claim.get(key)
        current = await WebhookDelivery.get(delivery_id)
        if (
            claim is None
            or current is None
            or current.status is not DeliveryStatus.PENDING
            or current.attempts != attempt - 1
        ):
            return DeliveryOutcome("skipped", attempt)
        claimed_at = _utc(claim.created_at)
        if claimed_at >= claimed_before:
            # Claimed within a lease and not yet recorded: in flight elsewhere, or its
            # record failed (the database was away). Come back after the lease to tell;
            # skipping here would leave the delivery to the hourly stale sweep.
            wait = claimed_at - claimed_before
            return DeliveryOutcome(
                "retry", attempt, None, max(int(wait.total_seconds() * 1000), 100)
            )
        now = self._clock.now()
        await WebhookDelivery.find_one(WebhookDelivery.id == delivery_id).update(
            {
                "$set": {
                    "attempts": attempt,
                    "last_error": "attempt interrupted before it was recorded",
                    "next_attempt_at": now,
                    "updated_at": now,
                }
            }
        )
        return DeliveryOutcome("retry", attempt)

    async def _attempt(
        self,
        endpoint: WebhookEndpoint,
        event: WebhookEvent,
        delivery: WebhookDelivery,
        client: httpx.AsyncClient,
    ) -> _AttemptResult:
        body = envelope(event)
        timestamp = int(self._clock.now().timestamp())
        started = time.perf_counter()

        def elapsed_ms() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            target = await self._resolve(endpoint.url)
        except WebhookTargetRefusedError as exc:
            return _AttemptResult(None, elapsed_ms(), f"refused: {exc.message}", None)
        url = httpx.URL(endpoint.url)
        headers = {
            # The checked address is dialled; Host and TLS (SNI, certificate) keep the name.
            "Host": url.netloc.decode("ascii"),
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Gatehouse-Event-Id": event.id,
            "Gatehouse-Event-Type": event.type,
            "Gatehouse-Delivery-Id": delivery.id,
            "Gatehouse-Timestamp": str(timestamp),
            "Gatehouse-Signature": signature_header(
                self.signing_secrets(endpoint), timestamp, body
            ),
        }
        extensions: dict[str, Any] = {}
        if target.scheme == "https" and not target.host_is_ip:
            extensions["sni_hostname"] = url.raw_host.decode("ascii")
        timeout = self._settings.webhook_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                response, raw = await _post(client, url, target, body, headers, extensions)
        except TimeoutError:
            return _AttemptResult(None, elapsed_ms(), f"timed out after {timeout:g}s", None)
        except httpx.HTTPError as exc:
            return _AttemptResult(None, elapsed_ms(), f"{type(exc).__name__}: {exc}"[:500], None)
        code = response.status_code
        snippet = raw.decode("utf-8", errors="replace")[:SNIPPET_CHARS] or None
        error: str | None = None
        if response.is_redirect:
            location = response.headers.get("location", "")[:200]
            error = f"HTTP {code}: redirect to {location!r} not followed"
        elif not 200 <= code < 300:
            error = f"HTTP {code}"
        return _AttemptResult(code, elapsed_ms(), error, snippet)


_MAX_ADDRESSES = 4


async def _post(
    client: httpx.AsyncClient,
    url: httpx.URL,
    target: ResolvedTarget,
    body: bytes,
    headers: dict[str, str],
    extensions: dict[str, Any],
) -> tuple[httpx.Response, bytes]:
    """POST to the checked addresses in turn until one accepts the connection (nothing
    was sent to one that refused it). Redirects are never followed."""
    addresses = target.addresses[:_MAX_ADDRESSES]
    for index, address in enumerate(addresses):
        request = client.build_request(
            "POST",
            url.copy_with(host=address),
            content=body,
            headers=headers,
            extensions=extensions,
        )
        try:
            response = await client.send(request, stream=True, follow_redirects=False)
        except httpx.ConnectError:
            if index == len(addresses) - 1:
                raise
            continue
        try:
            return response, await _read_prefix(response, _READ_LIMIT)
        finally:
            await response.aclose()
    raise httpx.ConnectError("no address to connect to")


async def _read_prefix(response: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]
