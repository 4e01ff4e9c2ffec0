"""Every actor, so the broker set-up can bind them all to the broker in use."""

from __future__ import annotations

from typing import Any

from dramatiq import Actor

from workers.actors import email, maintenance, privacy, system, webhooks

ALL_ACTORS: tuple[Actor[Any, Any], ...] = (
    system.ping,
    maintenance.purge_expired_records,
    maintenance.audit_retention,
    maintenance.sweep_impersonations,
    email.send_email,
    email.sweep_outbox,
    webhooks.deliver_webhook,
    webhooks.retry_stale_webhooks,
    webhooks.purge_webhook_deliveries,
    privacy.build_export,
    privacy.privacy_sweep,
)

PERIODIC_ACTORS: tuple[Actor[Any, Any], ...] = (
    maintenance.purge_expired_records,
    maintenance.audit_retention,
    maintenance.sweep_impersonations,
    email.sweep_outbox,
    webhooks.retry_stale_webhooks,
    webhooks.purge_webhook_deliveries,
    privacy.privacy_sweep,
)
