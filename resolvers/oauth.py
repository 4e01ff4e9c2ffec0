"""Admin operations on OAuth clients: read the context, call the service, shape the result."""

from __future__ import annotations

import strawberry

from domain.core.errors import NotFoundError, ValidationError
from domain.oauth.clients import ClientSpec
from domain.oauth.documents import ClientType, GrantType
from schema.actor import actor_of
from schema.context import Info
from schema.error_mapping import maps_domain_errors
from schema.oauth.types import (
    OAuthClientCreated,
    OAuthClientInput,
    OAuthClientSaved,
    OAuthClientSecretRotated,
    OAuthClientType,
    OAuthClientTypeEnum,
)
from schema.recent_authentication import requires_recent_authentication


def _spec(given: OAuthClientInput) -> ClientSpec:
    return ClientSpec(
        name=given.name,
        redirect_uris=given.redirect_uris,
        post_logout_redirect_uris=given.post_logout_redirect_uris,
        grant_types=None
        if given.grant_types is None
        else [GrantType(g.value) for g in given.grant_types],
        scopes=given.scopes,
        first_party=given.first_party,
        audience=given.audience,
        access_token_ttl_seconds=given.access_token_ttl_seconds,
        refresh_token_ttl_seconds=given.refresh_token_ttl_seconds,
        id_token_signed_response_alg=given.id_token_signed_response_alg,
    )


async def oauth_clients(info: Info) -> list[OAuthClientType]:
    clients = await info.context.services.oauth_clients.list()
    return [OAuthClientType.from_document(c) for c in clients]


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(ValidationError)
async def create_oauth_client(
    info: Info,
    client_type: OAuthClientTypeEnum,
    client: OAuthClientInput,
) -> OAuthClientCreated:
    record, secret = await info.context.services.oauth_clients.create(
        actor=actor_of(info), client_type=ClientType(client_type.value), spec=_spec(client)
    )
    return OAuthClientCreated(client=OAuthClientType.from_document(record), client_secret=secret)


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(ValidationError, NotFoundError)
async def update_oauth_client(
    info: Info, id: strawberry.ID, client: OAuthClientInput
) -> OAuthClientSaved:
    record = await info.context.services.oauth_clients.update(
        str(id), _spec(client), actor_of(info)
    )
    return OAuthClientSaved(client=OAuthClientType.from_document(record))


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(ValidationError, NotFoundError)
async def rotate_oauth_client_secret(info: Info, id: strawberry.ID) -> OAuthClientSecretRotated:
    record, secret = await info.context.services.oauth_clients.rotate_secret(
        str(id), actor_of(info)
    )
    return OAuthClientSecretRotated(
        client=OAuthClientType.from_document(record), client_secret=secret
    )


@maps_domain_errors(NotFoundError)
async def disable_oauth_client(info: Info, id: strawberry.ID) -> OAuthClientSaved:
    record = await info.context.services.oauth_clients.disable(str(id), actor_of(info))
    return OAuthClientSaved(client=OAuthClientType.from_document(record))
