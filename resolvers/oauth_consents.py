"""A person's authorized apps: read the context, call domain/oauth/consents.py, shape
the result."""

from __future__ import annotations

import strawberry

from domain.core.errors import NotFoundError
from schema.actor import actor_of
from schema.context import Info
from schema.error_mapping import maps_domain_errors
from schema.oauth.consent_types import AuthorizedAppRevoked, AuthorizedAppType


async def my_authorized_apps(info: Info) -> list[AuthorizedAppType]:
    principal = info.context.require_principal()
    apps = await info.context.services.oauth_authorized_apps.list(principal.user_id)
    return [AuthorizedAppType.from_app(app) for app in apps]


@maps_domain_errors(NotFoundError)
async def revoke_authorized_app(info: Info, client_id: strawberry.ID) -> AuthorizedAppRevoked:
    principal = info.context.require_principal()
    await info.context.services.oauth_authorized_apps.revoke(
        principal.user_id, str(client_id), actor_of(info)
    )
    return AuthorizedAppRevoked(client_id=client_id)
