"""How the webhooks slice is put together: the one construction the API and the
workers both use, so a delivery behaves (and is audited) the same wherever it runs."""

from __future__ import annotations

from dataclasses import dataclass

from domain.audit.service import AuditService
from domain.core.clock import Clock
from domain.core.settings import Settings
from domain.webhooks.delivery import WebhookDeliveries
from domain.webhooks.endpoints import WebhookEndpoints
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
            settings, clock, WebhookSender(settings, clock, targets), publishing
        ),
    )
