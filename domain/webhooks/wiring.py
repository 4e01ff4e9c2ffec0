"""How the webhooks slice is put together: the one construction the API and the
workers both use, so a delivery behaves (and is audited) the same wherever it runs.

Publishing is built first because the audit trail feeds it: the audit service gets it
as a listener at construction, then the use cases that record audit events get the
audit service. No hook is attached after construction."""

from __future__ import annotations

from dataclasses import dataclass

from domain.audit.buffer import AuditBuffer
from domain.audit.service import AuditService
from domain.core.clock import Clock
from domain.core.settings import Settings
from domain.events.bus import EventBus
from domain.webhooks.delivery import WebhookDeliveries
from domain.webhooks.endpoints import WebhookEndpoints
from domain.webhooks.events import Enqueue
from domain.webhooks.publishing import WebhookPublishing
from domain.webhooks.sending import WebhookSender
from domain.webhooks.targets import TargetPolicy


@dataclass(frozen=True, slots=True)
class Webhooks:
    endpoints: WebhookEndpoints
    publishing: WebhookPublishing
    deliveries: WebhookDeliveries


def build_webhooks(
    settings: Settings, clock: Clock, audit: AuditService, publishing: WebhookPublishing
) -> Webhooks:
    targets = TargetPolicy(settings)
    return Webhooks(
        endpoints=WebhookEndpoints(settings, clock, targets, audit),
        publishing=publishing,
        deliveries=WebhookDeliveries(
            settings, clock, WebhookSender(settings, clock, targets), publishing, audit
        ),
    )


def build_audit_and_webhooks(
    settings: Settings, clock: Clock, *, bus: EventBus | None, enqueue: Enqueue | None
) -> tuple[AuditService, Webhooks]:
    """The audit trail with webhook publishing listening to it, and the webhooks slice
    recording its own audit events there."""
    publishing = WebhookPublishing(clock, enqueue)
    buffer = AuditBuffer(
        interval_seconds=settings.audit_flush_interval_ms / 1000,
        max_events=settings.audit_buffer_max_events,
    )
    audit = AuditService(clock, bus, listeners=(publishing.publish_audit,), buffer=buffer)
    return audit, build_webhooks(settings, clock, audit, publishing)
