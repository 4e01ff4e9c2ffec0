from __future__ import annotations

import strawberry
from beanie import PydanticObjectId

from domain.core.errors import NotFoundError, ValidationError
from domain.identity.permissions import ROLE_PERMISSIONS
from schema.actor import actor_of
from schema.apikeys.types import ApiKeyCreated, ApiKeyRevoked, ApiKeyType
from schema.context import Info
from schema.error_mapping import maps_domain_errors
from schema.recent_authentication import requires_recent_authentication


async def api_keys(info: Info) -> list[ApiKeyType]:
    return [ApiKeyType.from_document(k) for k in await info.context.services.api_keys.list()]


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(ValidationError)
async def create_api_key(
    info: Info, name: str, scopes: list[str], rate_limit: str | None = None
) -> ApiKeyCreated:
    principal = info.context.require_principal()
    record, raw = await info.context.services.api_keys.create(
        actor=actor_of(info),
        name=name,
        scopes=scopes,
        rate_limit=rate_limit,
        created_by=PydanticObjectId(principal.user_id),
        grantable=[permission.value for permission in ROLE_PERMISSIONS[principal.role]],
    )
    return ApiKeyCreated(api_key=ApiKeyType.from_document(record), key=raw)


@maps_domain_errors(NotFoundError)
async def revoke_api_key(info: Info, id: strawberry.ID) -> ApiKeyRevoked:
    if not await info.context.services.api_keys.revoke(str(id), actor_of(info)):
        raise NotFoundError("No active API key has that id.")
    return ApiKeyRevoked(id=id)
