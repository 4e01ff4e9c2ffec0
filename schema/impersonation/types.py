"""GraphQL types of impersonation (domain/impersonation/)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.identity.types import UserType


@strawberry.type(
    description="An impersonation session as the user: send the access token as "
    "`Authorization: Bearer`. It cannot be refreshed and ends at `accessTokenExpiresAt`, "
    "with `endImpersonation`, or when your own session ends."
)
class ImpersonationStarted:
    access_token: str
    token_type: str
    expires_in: int = strawberry.field(description="Seconds until the session ends.")
    access_token_expires_at: datetime
    session_id: strawberry.ID
    read_only: bool = strawberry.field(
        description="True: every mutation but `logout` and `endImpersonation` is refused."
    )
    user: UserType


@strawberry.type(description="The impersonation session has ended; its token is refused.")
class ImpersonationEnded:
    session_id: strawberry.ID
