"""Webhook endpoints, the events sent to them, and one delivery per (event, endpoint).

Ids are uuid4 hex strings, so they travel as plain strings in queue messages and
headers. The signing secret is kept as-is (it is needed to sign) but never leaves
the service except once, when it is created or rotated.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel


class WebhookEndpoint(Document):
    id: str = Field(alias="_id")  # type: ignore[assignment]
    url: str
    description: str = ""
    events: list[str] = Field(default_factory=list)
    active: bool = True
    secret: str = Field(repr=False)
    # During a rotation overlap the old secret signs alongside the new one.
    previous_secret: str | None = Field(default=None, repr=False)
    previous_secret_expires_at: datetime | None = None
    created_at: datetime
    updated_at: datetime

    class Settings:
        name = "webhook_endpoints"
        use_state_management = False
        indexes = [IndexModel([("created_at", ASCENDING)], name="created_at")]


class WebhookEvent(Document):
    """What happened, written once; every delivery of it sends the same body."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    type: str
    created_at: datetime
    data: dict[str, Any] = Field(default_factory=dict)

    class Settings:
        name = "webhook_events"
        use_state_management = False
        indexes = [IndexModel([("created_at", DESCENDING)], name="created_at")]


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookDelivery(Document):
    id: str = Field(alias="_id")  # type: ignore[assignment]
    event_id: str
    event_type: str
    endpoint_id: str
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    last_status_code: int | None = None
    last_duration_ms: int | None = None
    last_error: str | None = None
    response_snippet: str | None = None
    # When the next attempt is due; while an attempt runs, the end of its lease.
    next_attempt_at: datetime
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None = None

    class Settings:
        name = "webhook_deliveries"
        use_state_management = False
        indexes = [
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="status_due"),
            IndexModel(
                [("endpoint_id", ASCENDING), ("created_at", DESCENDING)], name="endpoint_created"
            ),
            IndexModel([("created_at", DESCENDING)], name="created_at"),
            IndexModel([("event_id", ASCENDING)], name="event"),
        ]
