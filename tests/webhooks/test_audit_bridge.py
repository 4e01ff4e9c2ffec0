"""Audit records become webhook events through one hook (``publish_audit``)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.audit.documents import AuditAction, AuditEvent
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import FrozenClock
from domain.webhooks.audit_bridge import webhook_from_audit
from domain.webhooks.documents import WebhookDelivery, WebhookEvent
from domain.webhooks.events import EVENT_TYPES
from domain.webhooks.wiring import Webhooks
from tests.webhooks.receiver import Receiver


def audit(event: str, **fields: Any) -> AuditEvent:
    values: dict[str, Any] = {
        "event": event,
        "action": AuditAction.UPDATE,
        "result": "success",
        "target_id": "u1",
        "occurred_at": "2026-01-01T00:00:00Z",
        "day": "2026-01-01",
    }
    values.update(fields)
    return AuditEvent(**values)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            ("user.registered", dict(after={"email": "a@example.com", "role": "USER"})),
            ("user.registered", {"user_id": "u1", "email": "a@example.com"}),
        ),
        (("user.verified", {}), ("user.verified", {"user_id": "u1"})),
        (
            ("user.login_failed", dict(result="failure", details={"reason": "bad_password"})),
            ("user.login_failed", {"user_id": "u1", "reason": "bad_password"}),
        ),
        (("user.login_failed", dict(result="failure", target_id=None)), None),
        (
            ("user.locked", dict(details={"failed_attempts": 10})),
            ("user.locked", {"user_id": "u1", "failed_attempts": 10}),
        ),
        (("user.unlocked", {}), ("user.unlocked", {"user_id": "u1"})),
        (
            ("user.password_changed", {}),
            ("user.password_changed", {"user_id": "u1", "method": "change"}),
        ),
        (
            ("user.password_reset", {}),
            ("user.password_changed", {"user_id": "u1", "method": "reset"}),
        ),
        (
            (
                "admin.user_updated",
                dict(
                    actor_id="admin1",
                    before={"role": "USER", "status": "active"},
                    after={"role": "ADMIN", "status": "active"},
                ),
            ),
            (
                "user.role_changed",
                {"user_id": "u1", "previous_role": "USER", "role": "ADMIN", "actor_id": "admin1"},
            ),
        ),
        (
            (
                "admin.user_updated",
                dict(
                    before={"role": "USER", "status": "active"},
                    after={"role": "USER", "status": "deactivated"},
                ),
            ),
            None,
        ),
        (
            ("admin.user_deleted", dict(actor_id="admin1")),
            ("user.deleted", {"user_id": "u1", "actor_id": "admin1"}),
        ),
        (
            ("session.revoked", dict(details={"session": "s1", "reason": "logout"})),
            (
                "session.revoked",
                {"user_id": "u1", "session_id": "s1", "sessions": 1, "reason": "logout"},
            ),
        ),
        (
            ("session.revoked_all", dict(details={"sessions": 3, "reason": "password_reset"})),
            (
                "session.revoked",
                {"user_id": "u1", "session_id": None, "sessions": 3, "reason": "password_reset"},
            ),
        ),
        (
            ("session.refresh_reuse", dict(result="failure", details={"session": "s1"})),
            ("security.refresh_reuse", {"user_id": "u1", "session_id": "s1"}),
        ),
        (
            ("user.social_linked", dict(details={"provider": "google", "proof": "email"})),
            ("user.identity_linked", {"user_id": "u1", "provider": "google", "proof": "email"}),
        ),
        (
            ("user.social_unlinked", dict(actor_id="u1", details={"provider": "google"})),
            ("user.identity_unlinked", {"user_id": "u1", "provider": "google", "actor_id": "u1"}),
        ),
        (
            ("admin.user_identity_removed", dict(actor_id="a1", details={"provider": "github"})),
            ("user.identity_unlinked", {"user_id": "u1", "provider": "github", "actor_id": "a1"}),
        ),
        (
            ("security.new_country_sign_in", dict(details={"country": "DE", "mfa": False})),
            ("security.new_country_sign_in", {"user_id": "u1", "country": "DE"}),
        ),
        (
            (
                "security.impossible_travel",
                dict(
                    details={
                        "country": "JP",
                        "previous_country": "DE",
                        "distance_km": 8810,
                        "minutes": 60,
                    }
                ),
            ),
            (
                "security.impossible_travel",
                {
                    "user_id": "u1",
                    "country": "JP",
                    "previous_country": "DE",
                    "distance_km": 8810,
                    "minutes": 60,
                },
            ),
        ),
        (
            (
                "impersonation.started",
                dict(
                    actor_id="a1",
                    details={"session": "s9", "reason": "ticket 42", "read_only": True},
                ),
            ),
            (
                "security.impersonation_started",
                {
                    "user_id": "u1",
                    "actor_id": "a1",
                    "session_id": "s9",
                    "read_only": True,
                    "reason": "ticket 42",
                },
            ),
        ),
        (
            (
                "impersonation.ended",
                dict(actor_id="a1", details={"session": "s9", "how": "expired"}),
            ),
            (
                "security.impersonation_ended",
                {"user_id": "u1", "actor_id": "a1", "session_id": "s9", "how": "expired"},
            ),
        ),
        (
            (
                "oauth_client.secret_rotated",
                dict(
                    target_id="gh_1",
                    actor_id="a1",
                    after={"name": "Wiki", "type": "confidential", "disabled": False},
                ),
            ),
            (
                "oauth_client.secret_rotated",
                {
                    "client_id": "gh_1",
                    "name": "Wiki",
                    "client_type": "confidential",
                    "disabled": False,
                    "actor_id": "a1",
                },
            ),
        ),
        (
            (
                "oauth.consent_revoked",
                dict(actor_id="u1", details={"client_id": "gh_1", "grants_revoked": 2}),
            ),
            (
                "oauth.consent_revoked",
                {"user_id": "u1", "client_id": "gh_1", "grants_revoked": 2, "actor_id": "u1"},
            ),
        ),
        (("oauth.grant_issued", dict(details={"client_id": "gh_1"})), None),
        (("impersonation.mutation", {}), None),
        (("user.social_link_required", {}), None),
        (("user.login", {}), None),
        (("admin.user_viewed", {}), None),
    ],
)
def test_mapping(
    database: None,
    source: tuple[str, dict[str, Any]],
    expected: tuple[str, dict[str, Any]] | None,
) -> None:
    event, fields = source
    mapped = webhook_from_audit(audit(event, **fields))
    assert mapped == expected
    if mapped is not None:
        assert mapped[0] in EVENT_TYPES


async def test_publish_audit_records_deliveries(
    service: Webhooks, clock: FrozenClock, receiver: Receiver
) -> None:
    await service.endpoints.create(Actor.system(), receiver.url(), ["user.locked"])
    record = await AuditService(clock).record(
        "user.locked",
        AuditAction.LOCK,
        actor=Actor.system(),
        target_id="u9",
        details={"failed_attempts": 10},
    )
    assert record is not None
    [delivery_id] = await service.publishing.publish_audit(record)
    delivery = await WebhookDelivery.get(delivery_id)
    assert delivery is not None
    event = await WebhookEvent.get(delivery.event_id)
    assert event is not None
    assert (event.type, event.data) == ("user.locked", {"user_id": "u9", "failed_attempts": 10})
    assert await service.publishing.publish_audit(audit("user.login")) == []
