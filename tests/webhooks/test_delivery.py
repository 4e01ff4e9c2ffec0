"""Delivering to a real HTTP receiver: signatures, retries, give-ups, redirects, races."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import httpx
import orjson
import pytest
from pymongo.errors import AutoReconnect

from domain.audit.documents import AuditEvent, AuditResult
from domain.core.actor import Actor
from domain.core.claims import Claim
from domain.core.clock import FrozenClock
from domain.core.errors import NotFoundError, ValidationError
from domain.core.settings import Settings
from domain.webhooks import repository
from domain.webhooks.delivery import DeliveryOutcome
from domain.webhooks.documents import DeliveryStatus, WebhookDelivery, WebhookEvent
from domain.webhooks.signing import verify_signature
from domain.webhooks.wiring import Webhooks, build_audit_and_webhooks
from tests.webhooks.conftest import make_webhooks
from tests.webhooks.receiver import Received, Receiver


def verified(request: Received, secret: str, clock: FrozenClock) -> bool:
    return verify_signature(
        secret,
        request.headers["gatehouse-signature"],
        request.headers["gatehouse-timestamp"],
        request.body,
        now=clock.now().timestamp(),
    )


async def delivery(delivery_id: str) -> WebhookDelivery:
    found = await WebhookDelivery.get(delivery_id)
    assert found is not None
    return found


async def run_until_done(
    service: Webhooks,
    delivery_id: str,
    http: httpx.AsyncClient,
    clock: FrozenClock,
    limit: int = 20,
) -> list[DeliveryOutcome]:
    """What the actor does, with the clock moved instead of waiting for the queue's delay."""
    outcomes = []
    for _ in range(limit):
        outcome = await service.deliveries.deliver(delivery_id, http, Actor.system())
        outcomes.append(outcome)
        if not outcome.should_retry:
            return outcomes
        clock.advance(timedelta(milliseconds=outcome.retry_in_ms))
    raise AssertionError(f"still retrying: {outcomes}")


async def test_failures_are_retried_until_the_receiver_accepts(
    service: Webhooks, receiver: Receiver, http: httpx.AsyncClient, clock: FrozenClock
) -> None:
    endpoint, secret = await service.endpoints.create(
        Actor.system(), receiver.url(), ["user.registered"], "crm sync"
    )
    assert secret.startswith("whsec_")
    receiver.respond(500, 500, 200)
    [delivery_id] = await service.publishing.emit(
        "user.registered", {"user_id": "u1", "email": "a@b.c"}
    )

    first = await service.deliveries.deliver(delivery_id, http, Actor.system())
    assert (first.status, first.attempt, first.status_code, first.retry_in_ms) == (
        "retry",
        1,
        500,
        100,
    )
    clock.advance(timedelta(milliseconds=first.retry_in_ms))
    second = await service.deliveries.deliver(delivery_id, http, Actor.system())
    assert (second.status, second.retry_in_ms) == ("retry", 200)  # exponential
    clock.advance(timedelta(milliseconds=second.retry_in_ms))
    third = await service.deliveries.deliver(delivery_id, http, Actor.system())
    assert (third.status, third.attempt, third.status_code) == ("succeeded", 3, 200)

    requests = receiver.requests
    assert len(requests) == 3
    event_ids = {r.headers["gatehouse-event-id"] for r in requests}
    assert len(event_ids) == 1
    assert len({r.body for r in requests}) == 1  # the same bytes every time
    for request in requests:
        assert request.method == "POST"
        assert request.path == "/hook"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["gatehouse-delivery-id"] == delivery_id
        assert request.headers["host"] == f"127.0.0.1:{receiver.port}"
        assert request.headers["gatehouse-signature"].count("v1=") == 1
        assert verified(request, secret, clock)
    body = orjson.loads(requests[0].body)
    assert body["id"] == event_ids.pop()
    assert body["type"] == "user.registered"
    assert body["data"] == {"user_id": "u1", "email": "a@b.c"}
    assert body["created_at"].endswith("Z")

    record = await delivery(delivery_id)
    assert record.status is DeliveryStatus.SUCCEEDED
    assert record.attempts == 3
    assert record.last_status_code == 200
    assert record.last_error is None
    assert record.response_snippet == "answer 200"
    assert record.last_duration_ms is not None
    assert record.delivered_at is not None
    assert record.endpoint_id == endpoint.id
    # Done is done: a late duplicate message does not send again.
    assert (await service.deliveries.deliver(delivery_id, http, Actor.system())).status == "skipped"
    assert len(receiver.requests) == 3


async def test_a_duplicate_message_before_the_retry_is_due_does_nothing(
    make_settings: Callable[..., Settings],
    clock: FrozenClock,
    clean: None,
    receiver: Receiver,
    http: httpx.AsyncClient,
) -> None:
    service = make_webhooks(
        make_settings(webhook_allow_private_targets=True, webhook_retry_base_ms=60_000), clock
    )
    await service.endpoints.create(Actor.system(), receiver.url(), ["user.registered"])
    receiver.respond(500)
    [delivery_id] = await service.publishing.emit("user.registered", {"user_id": "u1"})
    assert (
        await service.deliveries.deliver(delivery_id, http, Actor.system())
    ).retry_in_ms == 60_000
    clock.advance(timedelta(seconds=30))
    assert (await service.deliveries.deliver(delivery_id, http, Actor.system())).status == "skipped"
    assert len(receiver.requests) == 1
    clock.advance(timedelta(seconds=30))
    assert (
        await service.deliveries.deliver(delivery_id, http, Actor.system())
    ).status == "succeeded"
    assert len(receiver.requests) == 2


async def test_gives_up_after_the_maximum_age(
    make_settings: Callable[..., Settings],
    clock: FrozenClock,
    clean: None,
    receiver: Receiver,
    http: httpx.AsyncClient,
) -> None:
    service = make_webhooks(
        make_settings(
            webhook_allow_private_targets=True,
            webhook_max_age_seconds=60,
            webhook_retry_base_ms=40_000,
            webhook_retry_max_ms=40_000,
        ),
        clock,
    )
    await service.endpoints.create(Actor.system(), receiver.url(), ["user.deleted"])
    receiver.respond(*[500] * 10)
    [delivery_id] = await service.publishing.emit("user.deleted", {"user_id": "u1"})
    outcomes = await run_until_done(service, delivery_id, http, clock)
    # 40 s, then clamped to the 60 s deadline for a last try, then failed.
    assert [o.status for o in outcomes] == ["retry", "retry", "failed"]
    assert [o.retry_in_ms for o in outcomes[:2]] == [40_000, 20_000]
    record = await delivery(delivery_id)
    assert record.status is DeliveryStatus.FAILED
    assert record.attempts == 3
    assert record.last_status_code == 500
    assert record.last_error == "HTTP 500"
    assert record.response_snippet == "answer 500"
    assert (await service.deliveries.deliver(delivery_id, http, Actor.system())).status == "skipped"
    assert len(receiver.requests) == 3


async def test_gives_up_after_the_maximum_attempts(
    make_settings: Callable[..., Settings],
    clock: FrozenClock,
    clean: None,
    receiver: Receiver,
    http: httpx.AsyncClient,
) -> None:
    service = make_webhooks(
        make_settings(webhook_allow_private_targets=True, webhook_max_attempts=2), clock
    )
    await service.endpoints.create(Actor.system(), receiver.url(), ["user.locked"])
    receiver.respond(503, 503, 503)
    [delivery_id] = await service.publishing.emit("user.locked", {"user_id": "u1"})
    outcomes = await run_until_done(service, delivery_id, http, clock)
    assert [o.status for o in outcomes] == ["retry", "failed"]
    assert (await delivery(delivery_id)).status is DeliveryStatus.FAILED
    assert len(receiver.requests) == 2


async def test_a_delivery_too_old_to_try_fails_without_sending(
    service: Webhooks, receiver: Receiver, http: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """A job lost for longer than the maximum age (plus the stale grace) is not sent late."""
    await service.endpoints.create(Actor.system(), receiver.url(), ["user.verified"])
    [delivery_id] = await service.publishing.emit("user.verified", {"user_id": "u1"})
    clock.advance(timedelta(days=2))
    assert (await service.deliveries.deliver(delivery_id, http, Actor.system())).status == "failed"
    assert receiver.requests == []
    assert (await delivery(delivery_id)).status is DeliveryStatus.FAILED


async def test_a_redirect_is_a_failure_and_is_not_followed(
    service: Webhooks, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    await service.endpoints.create(Actor.system(), receiver.url(), ["session.revoked"])
    receiver.respond(302)
    [delivery_id] = await service.publishing.emit("session.revoked", {"session_id": "s1"})
    outcome = await service.deliveries.deliver(delivery_id, http, Actor.system())
    assert (outcome.status, outcome.status_code) == ("retry", 302)
    assert [r.path for r in receiver.requests] == ["/hook"]  # /elsewhere never called
    record = await delivery(delivery_id)
    assert record.last_status_code == 302
    assert record.last_error is not None
    assert "redirect to '/elsewhere' not followed" in record.last_error


async def test_a_following_client_still_does_not_follow(
    service: Webhooks, receiver: Receiver
) -> None:
    async with httpx.AsyncClient(follow_redirects=True) as following:
        await service.endpoints.create(Actor.system(), receiver.url(), ["session.revoked"])
        receiver.respond(307)
        [delivery_id] = await service.publishing.emit("session.revoked", {"session_id": "s1"})
        assert (
            await service.deliveries.deliver(delivery_id, following, Actor.system())
        ).status_code == 307
    assert [r.path for r in receiver.requests] == ["/hook"]


async def test_network_errors_are_retried(
    service: Webhooks, receiver: Receiver, http: httpx.AsyncClient, clock: FrozenClock
) -> None:
    endpoint, _ = await service.endpoints.create(
        Actor.system(), "http://127.0.0.1:9/closed", ["user.password_changed"]
    )
    [delivery_id] = await service.publishing.emit("user.password_changed", {"user_id": "u1"})
    outcome = await service.deliveries.deliver(delivery_id, http, Actor.system())
    assert outcome.status == "retry"
    record = await delivery(delivery_id)
    assert record.last_status_code is None
    assert record.last_error is not None
    assert record.last_error.startswith("ConnectError")
    # The admin fixes the URL; the next attempt reaches the receiver.
    await service.endpoints.update(Actor.system(), endpoint.id, url=receiver.url())
    clock.advance(timedelta(milliseconds=outcome.retry_in_ms))
    assert (
        await service.deliveries.deliver(delivery_id, http, Actor.system())
    ).status == "succeeded"
    assert len(receiver.requests) == 1


async def test_slow_receivers_time_out(
    make_settings: Callable[..., Settings],
    clock: FrozenClock,
    clean: None,
    receiver: Receiver,
    http: httpx.AsyncClient,
) -> None:
    service = make_webhooks(
        make_settings(webhook_allow_private_targets=True, webhook_timeout_seconds=0.3), clock
    )
    await service.endpoints.create(Actor.system(), receiver.url(), ["user.unlocked"])
    receiver.delay_seconds = 1.0
    [delivery_id] = await service.publishing.emit("user.unlocked", {"user_id": "u1"})
    assert (await service.deliveries.deliver(delivery_id, http, Actor.system())).status == "retry"
    assert (await delivery(delivery_id)).last_error == "timed out after 0.3s"


async def test_rotation_overlap_signs_with_both_secrets(
    service: Webhooks, receiver: Receiver, http: httpx.AsyncClient, clock: FrozenClock
) -> None:
    endpoint, old_secret = await service.endpoints.create(
        Actor.system(), receiver.url(), ["user.role_changed"]
    )
    new_secret = await service.endpoints.rotate_secret(
        Actor.system(), endpoint.id, overlap_seconds=3600
    )
    assert new_secret != old_secret
    [delivery_id] = await service.publishing.emit(
        "user.role_changed", {"user_id": "u1", "role": "ADMIN"}
    )
    assert (
        await service.deliveries.deliver(delivery_id, http, Actor.system())
    ).status == "succeeded"
    [during] = receiver.requests
    assert during.headers["gatehouse-signature"].count("v1=") == 2
    assert ", " in during.headers["gatehouse-signature"]
    assert verified(during, new_secret, clock)
    assert verified(during, old_secret, clock)

    clock.advance(timedelta(seconds=3601))
    [delivery_id] = await service.publishing.emit(
        "user.role_changed", {"user_id": "u1", "role": "USER"}
    )
    assert (
        await service.deliveries.deliver(delivery_id, http, Actor.system())
    ).status == "succeeded"
    after = receiver.requests[-1]
    assert after.headers["gatehouse-signature"].count("v1=") == 1
    assert verified(after, new_secret, clock)
    assert not verified(after, old_secret, clock)


async def test_rotation_without_overlap_drops_the_old_secret_at_once(
    service: Webhooks, receiver: Receiver, http: httpx.AsyncClient, clock: FrozenClock
) -> None:
    endpoint, old_secret = await service.endpoints.create(
        Actor.system(), receiver.url(), ["user.registered"]
    )
    new_secret = await service.endpoints.rotate_secret(
        Actor.system(), endpoint.id, overlap_seconds=0
    )
    delivery_id = await service.deliveries.ping(endpoint.id)
    assert (
        await service.deliveries.deliver(delivery_id, http, Actor.system())
    ).status == "succeeded"
    [request] = receiver.requests
    assert verified(request, new_secret, clock)
    assert not verified(request, old_secret, clock)
    with pytest.raises(ValidationError):
        await service.endpoints.rotate_secret(Actor.system(), endpoint.id, overlap_seconds=-1)
    with pytest.raises(NotFoundError):
        await service.endpoints.rotate_secret(Actor.system(), "missing", overlap_seconds=0)


async def test_redelivery_sends_the_same_event(
    service: Webhooks, receiver: Receiver, http: httpx.AsyncClient, clock: FrozenClock
) -> None:
    _, secret = await service.endpoints.create(
        Actor.system(), receiver.url(), ["security.refresh_reuse"]
    )
    [first_id] = await service.publishing.emit("security.refresh_reuse", {"user_id": "u1"})
    assert (await service.deliveries.deliver(first_id, http, Actor.system())).status == "succeeded"
    second_id = await service.deliveries.redeliver(first_id)
    assert second_id != first_id
    assert (await service.deliveries.deliver(second_id, http, Actor.system())).status == "succeeded"
    first, second = receiver.requests
    assert first.headers["gatehouse-event-id"] == second.headers["gatehouse-event-id"]
    assert first.body == second.body
    assert second.headers["gatehouse-delivery-id"] == second_id
    assert verified(second, secret, clock)
    assert (await delivery(second_id)).event_id == (await delivery(first_id)).event_id
    with pytest.raises(NotFoundError):
        await service.deliveries.redeliver("missing")


async def test_redelivery_to_an_inactive_endpoint_is_refused(
    service: Webhooks, receiver: Receiver
) -> None:
    endpoint, _ = await service.endpoints.create(
        Actor.system(), receiver.url(), ["user.registered"]
    )
    [delivery_id] = await service.publishing.emit("user.registered", {"user_id": "u1"})
    await service.endpoints.update(Actor.system(), endpoint.id, active=False)
    with pytest.raises(ValidationError) as caught:
        await service.deliveries.redeliver(delivery_id)
    assert caught.value.field_errors[0].code == "ENDPOINT_INACTIVE"


async def test_a_deactivated_endpoint_gets_no_pending_delivery(
    service: Webhooks, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    endpoint, _ = await service.endpoints.create(
        Actor.system(), receiver.url(), ["user.registered"]
    )
    [delivery_id] = await service.publishing.emit("user.registered", {"user_id": "u1"})
    await service.endpoints.update(Actor.system(), endpoint.id, active=False)
    assert (await service.deliveries.deliver(delivery_id, http, Actor.system())).status == "failed"
    assert (await delivery(delivery_id)).last_error == "endpoint inactive"
    assert receiver.requests == []


async def test_test_ping(
    service: Webhooks, receiver: Receiver, http: httpx.AsyncClient, clock: FrozenClock
) -> None:
    endpoint, secret = await service.endpoints.create(
        Actor.system(), receiver.url(), ["user.registered"]
    )
    await service.endpoints.update(
        Actor.system(), endpoint.id, active=False
    )  # pings work before activation
    delivery_id = await service.deliveries.ping(endpoint.id)
    assert (
        await service.deliveries.deliver(delivery_id, http, Actor.system())
    ).status == "succeeded"
    [request] = receiver.requests
    body = orjson.loads(request.body)
    assert body["type"] == "webhook.test"
    assert body["data"]["endpoint_id"] == endpoint.id
    assert request.headers["gatehouse-event-type"] == "webhook.test"
    assert verified(request, secret, clock)

    # A ping is tried once: the admin sees the failure now, not after hours of retries.
    receiver.respond(500)
    failing = await service.deliveries.ping(endpoint.id)
    assert (await service.deliveries.deliver(failing, http, Actor.system())).status == "failed"
    with pytest.raises(NotFoundError):
        await service.deliveries.ping("missing")


async def test_concurrent_runs_of_one_attempt_post_once(
    service: Webhooks, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    await service.endpoints.create(Actor.system(), receiver.url(), ["user.login_failed"])
    receiver.delay_seconds = 0.3
    [delivery_id] = await service.publishing.emit("user.login_failed", {"user_id": "u1"})
    outcomes = await asyncio.gather(
        *(service.deliveries.deliver(delivery_id, http, Actor.system()) for _ in range(4))
    )
    assert sorted(o.status for o in outcomes) == ["skipped", "skipped", "skipped", "succeeded"]
    assert len(receiver.requests) == 1
    assert (await delivery(delivery_id)).attempts == 1


async def test_an_attempt_lost_after_its_claim_is_recovered(
    service: Webhooks,
    receiver: Receiver,
    http: httpx.AsyncClient,
    clock: FrozenClock,
    webhook_settings: Settings,
) -> None:
    """A worker claimed attempt 1 and died before recording it: later the delivery moves on."""
    await service.endpoints.create(Actor.system(), receiver.url(), ["user.registered"])
    [delivery_id] = await service.publishing.emit("user.registered", {"user_id": "u1"})
    now = clock.now()
    await Claim(
        _id=f"webhook-attempt:{delivery_id}:1", created_at=now, expires_at=now + timedelta(days=2)
    ).insert()
    # While the claim is young, someone may still be on it (or failed to record it):
    # the job comes back after the lease rather than waiting for the stale sweep.
    young = await service.deliveries.deliver(delivery_id, http, Actor.system())
    assert young.status == "retry"
    assert young.retry_in_ms > 0
    assert receiver.requests == []
    assert await service.deliveries.stale() == []
    clock.advance(timedelta(seconds=webhook_settings.webhook_stale_after_seconds + 1))
    assert await service.deliveries.stale() == [delivery_id]
    recovered = await service.deliveries.deliver(delivery_id, http, Actor.system())
    assert (recovered.status, recovered.retry_in_ms) == ("retry", 0)
    assert receiver.requests == []
    assert (
        await service.deliveries.deliver(delivery_id, http, Actor.system())
    ).status == "succeeded"
    record = await delivery(delivery_id)
    assert record.attempts == 2
    assert len(receiver.requests) == 1
    assert await service.deliveries.stale() == []


async def test_a_worker_dying_mid_attempt_is_retried_after_its_lease(
    service: Webhooks,
    receiver: Receiver,
    http: httpx.AsyncClient,
    clock: FrozenClock,
    webhook_settings: Settings,
) -> None:
    """Attempt 1 was recorded as started but never finished: the lease runs out, the stale
    sweep finds the delivery, and attempt 2 goes out."""
    await service.endpoints.create(Actor.system(), receiver.url(), ["user.registered"])
    [delivery_id] = await service.publishing.emit("user.registered", {"user_id": "u1"})
    now = clock.now()
    await Claim(
        _id=f"webhook-attempt:{delivery_id}:1", created_at=now, expires_at=now + timedelta(days=2)
    ).insert()
    await WebhookDelivery.find_one(WebhookDelivery.id == delivery_id).update(
        {"$set": {"attempts": 1, "next_attempt_at": now + timedelta(seconds=35)}}
    )
    assert (
        await service.deliveries.deliver(delivery_id, http, Actor.system())
    ).status == "skipped"  # leased
    clock.advance(timedelta(seconds=40))
    assert await service.deliveries.stale() == []  # not long enough to call it lost
    clock.advance(timedelta(seconds=webhook_settings.webhook_stale_after_seconds))
    assert await service.deliveries.stale() == [delivery_id]
    outcome = await service.deliveries.deliver(delivery_id, http, Actor.system())
    assert (outcome.status, outcome.attempt) == ("succeeded", 2)


async def test_listing_deliveries(
    service: Webhooks, receiver: Receiver, http: httpx.AsyncClient, clock: FrozenClock
) -> None:
    first, _ = await service.endpoints.create(Actor.system(), receiver.url(), ["user.registered"])
    second, _ = await service.endpoints.create(
        Actor.system(), receiver.url("/other"), ["user.registered"]
    )
    ids = await service.publishing.emit("user.registered", {"user_id": "u1"})
    assert len(ids) == 2
    clock.advance(timedelta(seconds=1))
    later = await service.publishing.emit("user.registered", {"user_id": "u2"})
    for delivery_id in [*ids, *later]:
        await service.deliveries.deliver(delivery_id, http, Actor.system())
    receiver.respond(500)
    clock.advance(timedelta(seconds=1))
    await service.endpoints.update(Actor.system(), second.id, active=False)
    [pending_id] = await service.publishing.emit("user.registered", {"user_id": "u3"})
    await service.deliveries.deliver(pending_id, http, Actor.system())

    everything = await service.deliveries.recent()
    assert len(everything) == 5
    assert everything[-1].created_at <= everything[0].created_at  # newest first
    mine = await service.deliveries.recent(endpoint_id=first.id)
    assert {d.endpoint_id for d in mine} == {first.id}
    assert len(mine) == 3
    pending = await service.deliveries.recent(status="pending")
    assert [d.id for d in pending] == [pending_id]
    assert len(await service.deliveries.recent(status=DeliveryStatus.SUCCEEDED, limit=2)) == 2
    assert second.id in {d.endpoint_id for d in everything}


async def test_retention_keeps_pending_work(
    service: Webhooks, receiver: Receiver, http: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await service.endpoints.create(Actor.system(), receiver.url(), ["user.registered"])
    [done_id] = await service.publishing.emit("user.registered", {"user_id": "u1"})
    await service.deliveries.deliver(done_id, http, Actor.system())
    [pending_id] = await service.publishing.emit("user.registered", {"user_id": "u2"})
    clock.advance(timedelta(days=31))
    removed = await service.deliveries.purge_older_than(clock.now() - timedelta(days=30))
    assert removed == 1
    assert await WebhookDelivery.get(done_id) is None
    pending = await delivery(pending_id)
    assert await WebhookEvent.get(pending.event_id) is not None
    assert await WebhookEvent.count() == 1


async def test_a_delivery_given_up_is_audited_and_a_failed_ping_is_not(
    make_settings: Callable[..., Settings],
    receiver: Receiver,
    http: httpx.AsyncClient,
    clock: FrozenClock,
    clean: None,
) -> None:
    """Built as the API and the worker build it (the audit trail included)."""
    await AuditEvent.get_pymongo_collection().delete_many({})
    settings = make_settings(webhook_allow_private_targets=True, webhook_max_attempts=2)
    _, webhooks = build_audit_and_webhooks(settings, clock, bus=None, enqueue=None)
    endpoint, _ = await webhooks.endpoints.create(Actor.system(), receiver.url(), ["user.locked"])
    receiver.respond(500, 502, 500)
    [given_up] = await webhooks.publishing.emit("user.locked", {"user_id": "u1"})
    outcomes = await run_until_done(webhooks, given_up, http, clock)
    assert [o.status for o in outcomes] == ["retry", "failed"]
    ping = await webhooks.deliveries.ping(endpoint.id)
    assert (await webhooks.deliveries.deliver(ping, http, Actor.system())).status == "failed"

    [failed] = await AuditEvent.find({"event": "webhook.delivery_failed"}).to_list()
    assert (failed.target_id, failed.target_type) == (endpoint.id, "webhook_endpoint")
    assert (failed.actor_type, failed.result) == ("system", AuditResult.FAILURE)
    assert failed.details == {
        "delivery_id": given_up,
        "event_type": "user.locked",
        "attempts": 2,
        "error": "HTTP 502",
        "http_status": 502,
    }


async def test_deliveries_whose_event_was_not_stored_fail_visibly(
    make_settings: Callable[..., Settings],
    receiver: Receiver,
    http: httpx.AsyncClient,
    clock: FrozenClock,
    clean: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database goes away between the deliveries and the event (no transaction on
    FerretDB): no event is left without deliveries, and the orphaned deliveries end
    failed and audited when the stale sweep reaches them, never pending for ever."""
    await AuditEvent.get_pymongo_collection().delete_many({})
    settings = make_settings(webhook_allow_private_targets=True, webhook_stale_after_seconds=60)
    queued: list[str] = []
    _, webhooks = build_audit_and_webhooks(settings, clock, bus=None, enqueue=queued.append)
    endpoint, _ = await webhooks.endpoints.create(Actor.system(), receiver.url(), ["user.locked"])

    async def database_gone(event: WebhookEvent) -> None:
        raise AutoReconnect("connection closed")

    monkeypatch.setattr(repository, "insert_event", database_gone)
    assert await webhooks.publishing.publish("user.locked", {"user_id": "u1"}) == []
    monkeypatch.undo()
    assert queued == []
    assert await WebhookEvent.count() == 0
    [orphan] = await WebhookDelivery.find_all().to_list()
    assert orphan.status is DeliveryStatus.PENDING

    clock.advance(timedelta(seconds=61))
    assert await webhooks.deliveries.requeue_stale() == [orphan.id]
    outcome = await webhooks.deliveries.deliver(orphan.id, http, Actor.system())
    assert outcome.status == "failed"
    assert (await delivery(orphan.id)).last_error == "event not kept"
    assert receiver.requests == []
    [failed] = await AuditEvent.find({"event": "webhook.delivery_failed"}).to_list()
    assert failed.target_id == endpoint.id
