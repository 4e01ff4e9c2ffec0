"""GraphQL types of a person's authorized apps (domain/oauth/consents.py)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.oauth.consents import AuthorizedApp


@strawberry.type(
    name="AuthorizedApp", description="An app you allowed to sign you in (an OAuth consent)."
)
class AuthorizedAppType:
    client_id: strawberry.ID
    client_name: str
    scopes: list[str] = strawberry.field(description="What you allowed it.")
    granted_at: datetime
    last_used_at: datetime | None = strawberry.field(
        description="When it last obtained tokens (null: not since this was recorded)."
    )

    @classmethod
    def from_app(cls, app: AuthorizedApp) -> AuthorizedAppType:
        return cls(
            client_id=strawberry.ID(app.client_id),
            client_name=app.client_name,
            scopes=app.scopes,
            granted_at=app.granted_at,
            last_used_at=app.last_used_at,
        )


@strawberry.type
class AuthorizedAppRevoked:
    client_id: strawberry.ID
