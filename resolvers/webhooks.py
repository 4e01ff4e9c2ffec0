from __future__ import annotations

import strawberry

from domain.core.errors import DomainError, NotFoundError
from schema.context import Info
from schema.pagination import page_size
from schema.user_errors import UserError, map_user_error
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
    endpoints = await info.context.state.webhooks.endpoints.list_all()
    return [WebhookEndpointType.from_document(e) for e in endpoints]


async def webhook_deliveries(
    info: Info,
    endpoint_id: str | None = None,
    status: DeliveryStatusEnum | None = None,  # type: ignore[valid-type]
    first: int | None = 50,
) -> list[WebhookDeliveryType]:
    deliveries = await info.context.state.webhooks.deliveries.recent(
        endpoint_id=endpoint_id, status=status, limit=page_size(first, default=50)
    )
    return [WebhookDeliveryType.from_document(d) for d in deliveries]


async def create_webhook_endpoint(
    info: Info, url: str, events: list[str], description: str = ""
) -> WebhookSecretIssued | UserError:
    try:
        endpoint, secret = await info.context.state.webhooks.endpoints.create(
            url, events, description
        )
    except DomainError as error:
        return map_user_error(error)
    return WebhookSecretIssued(endpoint=WebhookEndpointType.from_document(endpoint), secret=secret)


async def update_webhook_endpoint(
    info: Info,
    id: strawberry.ID,
    url: str | None = None,
    events: list[str] | None = None,
    active: bool | None = None,
    description: str | None = None,
) -> WebhookEndpointSaved | UserError:
    try:
        endpoint = await info.context.state.webhooks.endpoints.update(
            str(id), url=url, events=events, active=active, description=description
        )
    except DomainError as error:
        return map_user_error(error)
    return WebhookEndpointSaved(endpoint=WebhookEndpointType.from_document(endpoint))


async def delete_webhook_endpoint(
    info: Info,
    id: strawberry.ID,
) -> WebhookEndpointDeleted | UserError:
    if not await info.context.state.webhooks.endpoints.delete(str(id)):
        return map_user_error(NotFoundError("No webhook endpoint has that id."))
    return WebhookEndpointDeleted(id=id)


async def rotate_webhook_secret(
    info: Info,
    id: strawberry.ID,
    overlap_seconds: int | None = None,
) -> WebhookSecretIssued | UserError:
    endpoints = info.context.state.webhooks.endpoints
    try:
        secret = await endpoints.rotate_secret(str(id), overlap_seconds)
        endpoint = await endpoints.get(str(id))
        if endpoint is None:
            raise NotFoundError("No webhook endpoint has that id.")
    except DomainError as error:
        return map_user_error(error)
    return WebhookSecretIssued(endpoint=WebhookEndpointType.from_document(endpoint), secret=secret)


async def redeliver_webhook(
    info: Info, delivery_id: strawberry.ID
) -> WebhookDeliveryQueued | UserError:
    try:
        new_id = await info.context.state.webhooks.deliveries.redeliver(str(delivery_id))
    except DomainError as error:
        return map_user_error(error)
    return WebhookDeliveryQueued(delivery_id=strawberry.ID(new_id))


async def test_webhook(info: Info, endpoint_id: strawberry.ID) -> WebhookDeliveryQueued | UserError:
    try:
        new_id = await info.context.state.webhooks.deliveries.ping(str(endpoint_id))
    except DomainError as error:
        return map_user_error(error)
    return WebhookDeliveryQueued(delivery_id=strawberry.ID(new_id))
