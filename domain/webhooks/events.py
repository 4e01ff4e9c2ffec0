"""The webhook vocabulary shared by the use cases: event types, ids, the body sent."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import orjson

from domain.webhooks.documents import WebhookEvent

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
        "user.identity_linked",
        "user.identity_unlinked",
        "session.revoked",
        "security.refresh_reuse",
        "security.new_country_sign_in",
        "security.impossible_travel",
        "security.impersonation_started",
        "security.impersonation_ended",
        "oauth_client.created",
        "oauth_client.updated",
        "oauth_client.secret_rotated",
        "oauth_client.disabled",
        "oauth.consent_revoked",
    }
)
# Sent by a test ping only; not subscribable, delivered once, even to inactive endpoints.
TEST_EVENT = "webhook.test"

USER_AGENT = "Gatehouse-Webhooks/1"

# A delivery id to a queued job (Dramatiq's send in production).
Enqueue = Callable[[str], None]


def new_id() -> str:
    return uuid.uuid4().hex


def utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def to_millis(value: datetime) -> datetime:
    """MongoDB keeps milliseconds: truncate first so every delivery sends the same body."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def isoformat(value: datetime) -> str:
    return utc(value).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
