from __future__ import annotations

from datetime import datetime

import strawberry

from domain.apikeys.service import ApiKey


@strawberry.type(name="ApiKey", description="A key a service client sends as `X-API-Key`.")
class ApiKeyType:
    id: strawberry.ID
    name: str
    scopes: list[str]
    rate_limit: str | None = strawberry.field(description="`count/seconds`, or the default.")
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_document(cls, key: ApiKey) -> ApiKeyType:
        return cls(
            id=strawberry.ID(key.id),
            name=key.name,
            scopes=list(key.scopes),
            rate_limit=key.rate_limit,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
        )


@strawberry.type
class ApiKeyCreated:
    api_key: ApiKeyType
    key: str = strawberry.field(description="The full key. It is shown this once only.")


@strawberry.type
class ApiKeyRevoked:
    id: strawberry.ID
