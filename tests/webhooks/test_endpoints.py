"""Registering endpoints and emitting events."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.audit.documents import AuditEvent
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import FrozenClock
from domain.core.errors import NotFoundError, ValidationError
from domain.core.settings import Settings
from domain.webhooks.documents import DeliveryStatus, WebhookDelivery, WebhookEvent
from domain.webhooks.events import EVENT_TYPES
from domain.webhooks.wiring import Webhooks
from tests.webhooks.conftest import make_webhooks
from tests.webhooks.receiver import Receiver


def test_the_event_catalogue() -> None:
    assert sorted(EVENT_TYPES) == [
        "oauth.consent_revoked",
        "oauth_client.created",
        "oauth_client.disabled",
        "oauth_client.secret_rotated",
        "oauth_client.updated",
        "security.impersonation_ended",
        "security.impersonation_started",
        "security.impossible_travel",
        "security.new_country_sign_in",
        "security.refresh_reuse",
        "session.revoked",
        "user.deleted",
        "user.identity_linked",
        "user.identity_unlinked",
        "user.locked",
        "user.login_failed",
        "user.password_changed",
        "user.registered",
        "user.role_changed",
        "user.unlocked",
        "user.verified",
    ]


async def test_create_returns_the_secret_once(service: Webhooks, receiver: Receiver) -> None:
    endpoint, secret = await service.endpoints.create(
        Actor.system(),
        f"  {receiver.url()}  ",
        ["user.locked", "user.registered", "user.locked"],
        "  CRM  ",
    )
    assert endpoint.url == receiver.url()
    assert endpoint.events == ["user.locked", "user.registered"]
    assert endpoint.description == "CRM"
    assert endpoint.active is True
    assert len(secret) > 40
    assert secret not in repr(endpoint)
    [listed] = await service.endpoints.list_all()
    assert listed.id == endpoint.id
    assert (await service.endpoints.get(endpoint.id)) is not None


@pytest.mark.parametrize(
    ("url", "events", "expected"),
    [
        ("RECEIVER", ["user.hacked"], [("events", "UNKNOWN_EVENT_TYPE")]),
        ("RECEIVER", ["webhook.test"], [("events", "UNKNOWN_EVENT_TYPE")]),
        ("RECEIVER", [], [("events", "REQUIRED")]),
        ("RECEIVER", ["  "], [("events", "REQUIRED")]),
        ("ftp://example.com/x", ["user.registered"], [("url", "INVALID_URL")]),
        ("not a url", ["nope"], [("url", "INVALID_URL"), ("events", "UNKNOWN_EVENT_TYPE")]),
    ],
)
async def test_invalid_input_is_refused_field_by_field(
    service: Webhooks,
    receiver: Receiver,
    url: str,
    events: list[str],
    expected: list[tuple[str, str]],
) -> None:
    with pytest.raises(ValidationError) as caught:
        await service.endpoints.create(
            Actor.system(), receiver.url() if url == "RECEIVER" else url, events
        )
    assert [(e.field, e.code) for e in caught.value.field_errors] == expected
    assert await service.endpoints.list_all() == []


async def test_long_descriptions_are_refused(service: Webhooks, receiver: Receiver) -> None:
    with pytest.raises(ValidationError) as caught:
        await service.endpoints.create(
            Actor.system(), receiver.url(), ["user.registered"], "x" * 501
        )
    assert caught.value.field_errors[0].field == "description"


async def test_update_and_delete(service: Webhooks, receiver: Receiver) -> None:
    endpoint, _ = await service.endpoints.create(
        Actor.system(), receiver.url(), ["user.registered"]
    )
    updated = await service.endpoints.update(
        Actor.system(), endpoint.id, url=receiver.url("/v2"), events=["user.deleted"], active=False
    )
    assert (updated.url, updated.events, updated.active) == (
        receiver.url("/v2"),
        ["user.deleted"],
        False,
    )
    assert updated.secret == endpoint.secret
    with pytest.raises(ValidationError):
        await service.endpoints.update(Actor.system(), endpoint.id, events=["bogus"])
    with pytest.raises(ValidationError):
        await service.endpoints.update(Actor.system(), endpoint.id, url="javascript:alert(1)")
    with pytest.raises(NotFoundError):
        await service.endpoints.update(Actor.system(), "missing", active=True)
    unchanged = await service.endpoints.update(Actor.system(), endpoint.id)
    assert unchanged.events == ["user.deleted"]

    await service.endpoints.update(Actor.system(), endpoint.id, active=True)
    [delivery_id] = await service.publishing.emit("user.deleted", {"user_id": "u1"})
    assert await service.endpoints.delete(Actor.system(), endpoint.id) is True
    assert await service.endpoints.delete(Actor.system(), endpoint.id) is False
    assert await service.endpoints.list_all() == []
    orphan = await WebhookDelivery.get(delivery_id)
    assert orphan is not None
    assert orphan.status is DeliveryStatus.FAILED
    assert orphan.last_error == "endpoint deleted"


async def test_emit_reaches_active_subscribers_only(service: Webhooks, receiver: Receiver) -> None:
    assert await service.publishing.emit("user.registered", {"user_id": "u0"}) == []
    assert await WebhookEvent.count() == 0  # nothing stored when nobody listens

    listening, _ = await service.endpoints.create(
        Actor.system(), receiver.url("/a"), ["user.registered"]
    )
    other, _ = await service.endpoints.create(Actor.system(), receiver.url("/b"), ["user.deleted"])
    paused, _ = await service.endpoints.create(
        Actor.system(), receiver.url("/c"), ["user.registered"]
    )
    await service.endpoints.update(Actor.system(), paused.id, active=False)

    ids = await service.publishing.emit("user.registered", {"user_id": "u1"})
    assert len(ids) == 1
    delivery = await WebhookDelivery.get(ids[0])
    assert delivery is not None
    assert (delivery.endpoint_id, delivery.status, delivery.attempts) == (
        listening.id,
        DeliveryStatus.PENDING,
        0,
    )
    event = await WebhookEvent.get(delivery.event_id)
    assert event is not None
    assert (event.type, event.data) == ("user.registered", {"user_id": "u1"})
    assert other.id != listening.id

    with pytest.raises(ValueError, match="unknown webhook event type"):
        await service.publishing.emit("user.exploded", {})


async def test_emit_enqueues_each_delivery_and_survives_a_queue_outage(
    webhook_settings: Settings, clock: FrozenClock, clean: None, receiver: Receiver
) -> None:
    queued: list[str] = []
    service = make_webhooks(webhook_settings, clock, enqueue=queued.append)
    await service.endpoints.create(Actor.system(), receiver.url("/a"), ["user.verified"])
    await service.endpoints.create(Actor.system(), receiver.url("/b"), ["user.verified"])
    ids = await service.publishing.emit("user.verified", {"user_id": "u1"})
    assert sorted(queued) == sorted(ids)
    assert len(ids) == 2

    def broken(_: str) -> None:
        raise ConnectionError("redis is down")

    offline = make_webhooks(webhook_settings, clock, enqueue=broken)
    ids = await offline.publishing.publish("user.verified", {"user_id": "u2"})
    assert len(ids) == 2  # recorded; the stale sweep will enqueue them later
    for delivery_id in ids:
        assert await WebhookDelivery.get(delivery_id) is not None


async def test_data_is_stored_as_plain_json(service: Webhooks, receiver: Receiver) -> None:
    from datetime import UTC, datetime

    from beanie import PydanticObjectId

    await service.endpoints.create(Actor.system(), receiver.url(), ["user.registered"])
    oid = PydanticObjectId()
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    [delivery_id] = await service.publishing.emit("user.registered", {"user_id": oid, "at": when})
    delivery = await WebhookDelivery.get(delivery_id)
    assert delivery is not None
    event = await WebhookEvent.get(delivery.event_id)
    assert event is not None
    assert event.data == {"user_id": str(oid), "at": "2026-01-02T03:04:05+00:00"}


async def test_admin_changes_are_audited_without_secrets(
    make_settings: Callable[..., Settings], clock: FrozenClock, clean: None, receiver: Receiver
) -> None:
    await AuditEvent.get_pymongo_collection().delete_many({})
    service = make_webhooks(
        make_settings(webhook_allow_private_targets=True), clock, audit=AuditService(clock)
    )
    endpoint, secret = await service.endpoints.create(
        Actor.system(), receiver.url(), ["user.registered"]
    )
    new_secret = await service.endpoints.rotate_secret(
        Actor.system(), endpoint.id, overlap_seconds=60
    )
    await service.endpoints.update(Actor.system(), endpoint.id, active=False)
    await service.endpoints.delete(Actor.system(), endpoint.id)
    # The frozen clock gives every event the same occurred_at, and no MongoDB promises an
    # order among ties: read them in the order auditEvents pages them (by _id, the order
    # they were written).
    events = await AuditEvent.find_all().sort("_id").to_list()
    assert [e.event for e in events] == [
        "webhook.endpoint_created",
        "webhook.secret_rotated",
        "webhook.endpoint_updated",
        "webhook.endpoint_deleted",
    ]
    dumped = str([e.model_dump() for e in events])
    assert secret not in dumped
    assert new_secret not in dumped
