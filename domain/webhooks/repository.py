"""Every database query of the webhooks slice: endpoints, events, deliveries.

The services decide; these functions only read and write. Updates are ``$set`` on
one document by id, so two workers writing different fields do not overwrite each
other's (no read-modify-write of whole documents).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from beanie import SortDirection

from domain.webhooks.documents import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

# --- endpoints ---


async def insert_endpoint(endpoint: WebhookEndpoint) -> None:
    await endpoint.insert()


async def get_endpoint(endpoint_id: str) -> WebhookEndpoint | None:
    return await WebhookEndpoint.get(endpoint_id)


async def set_endpoint_fields(endpoint_id: str, fields: Mapping[str, Any]) -> None:
    await WebhookEndpoint.find_one(WebhookEndpoint.id == endpoint_id).update({"$set": dict(fields)})


async def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    await endpoint.delete()


async def list_endpoints() -> list[WebhookEndpoint]:
    return await WebhookEndpoint.find_all().sort("created_at").to_list()


async def subscribed_endpoints(event_type: str) -> list[WebhookEndpoint]:
    """Active endpoints that listen to ``event_type``."""
    return await WebhookEndpoint.find({"active": True, "events": event_type}).to_list()


# --- events ---


async def insert_event(event: WebhookEvent) -> None:
    await event.insert()


async def get_event(event_id: str) -> WebhookEvent | None:
    return await WebhookEvent.get(event_id)


# --- deliveries ---


async def insert_delivery(delivery: WebhookDelivery) -> None:
    await delivery.insert()


async def insert_deliveries(deliveries: list[WebhookDelivery]) -> None:
    """In one command (ordered: a failure part-way leaves a prefix stored)."""
    if deliveries:
        await WebhookDelivery.insert_many(deliveries)


async def get_delivery(delivery_id: str) -> WebhookDelivery | None:
    return await WebhookDelivery.get(delivery_id)


async def set_delivery_fields(delivery_id: str, fields: Mapping[str, Any]) -> None:
    await WebhookDelivery.find_one(WebhookDelivery.id == delivery_id).update({"$set": dict(fields)})


async def fail_pending_deliveries(endpoint_id: str, error: str, now: datetime) -> None:
    """Mark every pending delivery to the endpoint failed with ``error``."""
    await WebhookDelivery.find(
        {"endpoint_id": endpoint_id, "status": DeliveryStatus.PENDING}
    ).update_many(
        {"$set": {"status": DeliveryStatus.FAILED, "last_error": error, "updated_at": now}}
    )


async def list_deliveries(
    endpoint_id: str | None, status: DeliveryStatus | None, limit: int
) -> list[WebhookDelivery]:
    """Newest first."""
    query: dict[str, Any] = {}
    if endpoint_id is not None:
        query["endpoint_id"] = endpoint_id
    if status is not None:
        query["status"] = status
    return (
        await WebhookDelivery.find(query)
        .sort([("created_at", SortDirection.DESCENDING)])
        .limit(limit)
        .to_list()
    )


async def pending_due_before(cutoff: datetime, limit: int) -> list[str]:
    """Ids of pending deliveries whose next attempt was due before ``cutoff``, oldest first."""
    overdue = (
        await WebhookDelivery.find(
            {"status": DeliveryStatus.PENDING, "next_attempt_at": {"$lt": cutoff}}
        )
        .sort([("next_attempt_at", SortDirection.ASCENDING)])
        .limit(limit)
        .to_list()
    )
    return [d.id for d in overdue]


async def purge_older_than(cutoff: datetime) -> int:
    """Delete finished deliveries created before ``cutoff``, and the events no pending
    delivery still needs; the number of deliveries removed."""
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
