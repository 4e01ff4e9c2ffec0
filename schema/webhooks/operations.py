from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission

from domain.identity.permissions import Permission
from resolvers import webhooks
from schema.permissions import permission_guard
from schema.user_errors import NotFound, ReauthenticationRequired, ValidationFailed
from schema.webhooks.types import (
    WebhookDeliveryQueued,
    WebhookDeliveryType,
    WebhookEndpointDeleted,
    WebhookEndpointSaved,
    WebhookEndpointType,
    WebhookSecretIssued,
)

SecretResult = Annotated[
    WebhookSecretIssued | ValidationFailed | NotFound | ReauthenticationRequired,
    strawberry.union("WebhookSecretResult"),
]
SaveResult = Annotated[
    WebhookEndpointSaved | ValidationFailed | NotFound | ReauthenticationRequired,
    strawberry.union("WebhookSaveResult"),
]
DeleteResult = Annotated[WebhookEndpointDeleted | NotFound, strawberry.union("WebhookDeleteResult")]
QueuedResult = Annotated[
    WebhookDeliveryQueued | ValidationFailed | NotFound, strawberry.union("WebhookQueuedResult")
]

# Where account events are sent, and the secret that signs them, are lasting control:
# those resolvers also need a recent sign-in (schema/recent_authentication.py).
_MANAGE: list[type[BasePermission]] = permission_guard(Permission.WEBHOOKS_MANAGE)


@strawberry.type
class WebhookQuery:
    webhook_endpoints: list[WebhookEndpointType] = strawberry.field(
        resolver=webhooks.webhook_endpoints, permission_classes=_MANAGE
    )
    webhook_deliveries: list[WebhookDeliveryType] = strawberry.field(
        resolver=webhooks.webhook_deliveries,
        permission_classes=_MANAGE,
        description="The delivery log, newest first.",
    )


@strawberry.type
class WebhookMutation:
    create_webhook_endpoint = strawberry.mutation(
        resolver=webhooks.create_webhook_endpoint,
        permission_classes=_MANAGE,
        graphql_type=SecretResult,
        description="Register an endpoint; its signing secret is returned once.",
    )
    update_webhook_endpoint = strawberry.mutation(
        resolver=webhooks.update_webhook_endpoint,
        permission_classes=_MANAGE,
        graphql_type=SaveResult,
    )
    delete_webhook_endpoint = strawberry.mutation(
        resolver=webhooks.delete_webhook_endpoint,
        permission_classes=_MANAGE,
        graphql_type=DeleteResult,
    )
    rotate_webhook_secret = strawberry.mutation(
        resolver=webhooks.rotate_webhook_secret,
        permission_classes=_MANAGE,
        graphql_type=SecretResult,
        description="A new secret; the old one keeps signing for `overlapSeconds`.",
    )
    redeliver_webhook = strawberry.mutation(
        resolver=webhooks.redeliver_webhook,
        permission_classes=_MANAGE,
        graphql_type=QueuedResult,
        description="Send the same event (same event id) to its endpoint again.",
    )
    test_webhook = strawberry.mutation(
        resolver=webhooks.test_webhook,
        permission_classes=_MANAGE,
        graphql_type=QueuedResult,
        description="Send a `webhook.test` ping.",
    )
