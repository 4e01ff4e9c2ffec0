from __future__ import annotations

from datetime import datetime

import strawberry

from domain.webhooks.documents import DeliveryStatus, WebhookDelivery, WebhookEndpoint

DeliveryStatusEnum = strawberry.enum(DeliveryStatus, name="WebhookDeliveryStatus")


@strawberry.type(name="WebhookEndpoint", description="A URL that receives signed account events.")
class WebhookEndpointType:
    id: strawberry.ID
    url: str
    description: str
    events: list[str]
    active: bool
    previous_secret_expires_at: datetime | None = strawberry.field(
        description="While set, deliveries are signed with the old secret too."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_document(cls, endpoint: WebhookEndpoint) -> WebhookEndpointType:
        return cls(
            id=strawberry.ID(endpoint.id),
            url=endpoint.url,
            description=endpoint.description,
            events=list(endpoint.events),
            active=endpoint.active,
            previous_secret_expires_at=endpoint.previous_secret_expires_at,
            created_at=endpoint.created_at,
            updated_at=endpoint.updated_at,
        )


@strawberry.type(name="WebhookDelivery", description="One event sent to one endpoint.")
class WebhookDeliveryType:
    id: strawberry.ID
    event_id: str
    event_type: str
    endpoint_id: str
    status: str
    attempts: int
    last_status_code: int | None
    last_duration_ms: int | None
    last_error: str | None
    response_snippet: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None

    @classmethod
    def from_document(cls, delivery: WebhookDelivery) -> WebhookDeliveryType:
        return cls(
            id=strawberry.ID(delivery.id),
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            endpoint_id=delivery.endpoint_id,
            status=delivery.status.value,
            attempts=delivery.attempts,
            last_status_code=delivery.last_status_code,
            last_duration_ms=delivery.last_duration_ms,
            last_error=delivery.last_error,
            response_snippet=delivery.response_snippet,
            created_at=delivery.created_at,
            updated_at=delivery.updated_at,
            delivered_at=delivery.delivered_at,
        )


@strawberry.type
class WebhookEndpointSaved:
    endpoint: WebhookEndpointType


@strawberry.type(description="The signing secret is shown this once only.")
class WebhookSecretIssued:
    endpoint: WebhookEndpointType
    secret: str


@strawberry.type
class WebhookEndpointDeleted:
    id: strawberry.ID


@strawberry.type
class WebhookDeliveryQueued:
    delivery_id: strawberry.ID
