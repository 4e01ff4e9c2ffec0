"""GraphQL types of OAuth client management (the OpenID provider's relying parties)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from domain.identity.permissions import Permission
from domain.oauth.documents import ClientType, GrantType, OAuthClient
from schema.context import Info
from schema.oauth.sign_ins import OAuthClientSignIns, sign_ins
from schema.permissions import permission_guard


@strawberry.enum(name="OAuthClientType")
class OAuthClientTypeEnum(Enum):
    CONFIDENTIAL = ClientType.CONFIDENTIAL.value
    PUBLIC = ClientType.PUBLIC.value


@strawberry.enum(name="OAuthGrantType")
class OAuthGrantTypeEnum(Enum):
    AUTHORIZATION_CODE = GrantType.AUTHORIZATION_CODE.value
    REFRESH_TOKEN = GrantType.REFRESH_TOKEN.value
    CLIENT_CREDENTIALS = GrantType.CLIENT_CREDENTIALS.value
    DEVICE_CODE = GrantType.DEVICE_CODE.value


async def _sign_in_count(root: OAuthClientType, info: Info, days: int = 30) -> OAuthClientSignIns:
    return await sign_ins(info, str(root.id), days)


@strawberry.type(name="OAuthClient", description="An app that signs people in with Gatehouse.")
class OAuthClientType:
    id: strawberry.ID = strawberry.field(description="The `client_id`.")
    name: str
    client_type: OAuthClientTypeEnum
    redirect_uris: list[str] = strawberry.field(description="Matched exactly.")
    post_logout_redirect_uris: list[str]
    grant_types: list[OAuthGrantTypeEnum]
    scopes: list[str]
    first_party: bool = strawberry.field(description="Skips the consent screen.")
    audience: str | None = strawberry.field(description="`aud` of its access tokens.")
    access_token_ttl_seconds: int
    refresh_token_ttl_seconds: int
    id_token_signed_response_alg: str = strawberry.field(
        description="How its ID tokens are signed: `RS256` (the default), `ES256` or `EdDSA`."
    )
    created_at: datetime
    secret_rotated_at: datetime | None
    disabled_at: datetime | None

    sign_in_count: OAuthClientSignIns = strawberry.field(
        resolver=_sign_in_count,
        description="Its sign-ins over the last `days` days (1 to 400; today included).",
        permission_classes=permission_guard(Permission.ANALYTICS_READ),
    )

    @classmethod
    def from_document(cls, client: OAuthClient) -> OAuthClientType:
        return cls(
            id=strawberry.ID(client.id),
            name=client.name,
            client_type=OAuthClientTypeEnum(client.client_type.value),
            redirect_uris=list(client.redirect_uris),
            post_logout_redirect_uris=list(client.post_logout_redirect_uris),
            grant_types=[OAuthGrantTypeEnum(g.value) for g in client.grant_types],
            scopes=list(client.scopes),
            first_party=client.first_party,
            audience=client.audience,
            access_token_ttl_seconds=client.access_token_ttl_seconds,
            refresh_token_ttl_seconds=client.refresh_token_ttl_seconds,
            id_token_signed_response_alg=client.id_token_signed_response_alg,
            created_at=client.created_at,
            secret_rotated_at=client.secret_rotated_at,
            disabled_at=client.disabled_at,
        )


@strawberry.input(description="A client's settings; on update, a missing field is left as it is.")
class OAuthClientInput:
    name: str | None = None
    redirect_uris: list[str] | None = None
    post_logout_redirect_uris: list[str] | None = None
    grant_types: list[OAuthGrantTypeEnum] | None = None
    scopes: list[str] | None = None
    first_party: bool | None = None
    audience: str | None = None
    access_token_ttl_seconds: int | None = None
    refresh_token_ttl_seconds: int | None = None
    id_token_signed_response_alg: str | None = strawberry.field(
        default=None,
        description="`RS256`, `ES256` or `EdDSA` (those this server has keys for; "
        "discovery's `id_token_signing_alg_values_supported`).",
    )


@strawberry.type
class OAuthClientCreated:
    client: OAuthClientType
    client_secret: str | None = strawberry.field(
        description="The secret of a confidential client. It is shown this once only."
    )


@strawberry.type
class OAuthClientSaved:
    client: OAuthClientType


@strawberry.type
class OAuthClientSecretRotated:
    client: OAuthClientType
    client_secret: str = strawberry.field(description="Shown this once; the old one stops now.")
