from __future__ import annotations

import strawberry

from domain.core.errors import NotFoundError, ValidationError
from schema.actor import actor_of
from schema.context import Info
from schema.error_mapping import maps_domain_errors
from schema.pagination import page_size
from schema.recent_authentication import requires_recent_authentication
from schema.webhooks.types import (
    DeliveryStatusEnum,
    WebhookDeliveryQueued,
    WebhookDeliveryType,
    WebhookEndpointDeleted,
    WebhookEndpointSaved,
    WebhookEndpointType,
    WebhookSecretIssued,
)


async def webhook_endpoints(info: Info) -> list[WebhookEndpointType]:
    endpoints = await info.context.services.webhooks.endpoints.list_all()
    return [WebhookEndpointType.from_document(e) for e in endpoints]


async def webhook_deliveries(
    info: Info,
    endpoint_id: str | None = None,
    status: DeliveryStatusEnum | None = None,  # type: ignore[valid-type]
    first: int | None = 50,
) -> list[WebhookDeliveryType]:
    deliveries = await info.context.services.webhooks.deliveries.recent(
        endpoint_id=endpoint_id, status=status, limit=page_size(first, default=50)
    )
    return [WebhookDeliveryType.from_document(d) for d in deliveries]


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(ValidationError, NotFoundError)
async def create_webhook_endpoint(
    info: Info, url: str, events: list[str], description: str = ""
) -> WebhookSecretIssued:
    endpoint, secret = await info.context.services.webhooks.endpoints.create(
        actor_of(info), url, events, description
    )
    return WebhookSecretIssued(endpoint=WebhookEndpointType.from_document(endpoint), secret=secret)


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(ValidationError, NotFoundError)
async def update_webhook_endpoint(
    info: Info,
    id: strawberry.ID,
    url: str | None = None,
    events: list[str] | None = None,
    active: bool | None = None,
    description: str | None = None,
) -> WebhookEndpointSaved:
    endpoint = await info.context.services.webhooks.endpoints.update(
        actor_of(info), str(id), url=url, events=events, active=active, description=description
    )
    return WebhookEndpointSaved(endpoint=WebhookEndpointType.from_document(endpoint))


@maps_domain_errors(NotFoundError)
async def delete_webhook_endpoint(
    info: Info,
    id: strawberry.ID,
) -> WebhookEndpointDeleted:
    if not await info.context.services.webhooks.endpoints.delete(actor_of(info), str(id)):
        raise NotFoundError("No webhook endpoint has that id.")
    return WebhookEndpointDeleted(id=id)


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(ValidationError, NotFoundError)
async def rotate_webhook_secret(
    info: Info,
    id: strawberry.ID,
    overlap_seconds: int | None = None,
) -> WebhookSecretIssued:
    endpoints = info.context.services.webhooks.endpoints
    secret = await endpoints.rotate_secret(actor_of(info), str(id), overlap_seconds)
    endpoint = await endpoints.get(str(id))
    if endpoint is None:
        raise NotFoundError("No webhook endpoint has that id.")
    return WebhookSecretIssued(endpoint=WebhookEndpointType.from_document(endpoint), secret=secret)


@maps_domain_errors(ValidationError, NotFoundError)
async def redeliver_webhook(info: Info, delivery_id: strawberry.ID) -> WebhookDeliveryQueued:
    new_id = await info.context.services.webhooks.deliveries.redeliver(str(delivery_id))
    return WebhookDeliveryQueued(delivery_id=strawberry.ID(new_id))


@maps_domain_errors(ValidationError, NotFoundError)
async def test_webhook(info: Info, endpoint_id: strawberry.ID) -> WebhookDeliveryQueued:
    new_id = await info.context.services.webhooks.deliveries.ping(str(endpoint_id))
    return WebhookDeliveryQueued(delivery_id=strawberry.ID(new_id))
