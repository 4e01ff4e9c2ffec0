"""Impersonation resolvers: read the context, call the service, shape the result."""

from __future__ import annotations

import strawberry

from domain.core.errors import ForbiddenError, NotFoundError, ValidationError
from schema.actor import actor_of
from schema.context import Info
from schema.error_mapping import maps_domain_errors
from schema.identity.types import UserType
from schema.impersonation.types import ImpersonationEnded, ImpersonationStarted
from schema.recent_authentication import requires_recent_authentication


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(ValidationError, NotFoundError, ForbiddenError)
async def impersonate_user(
    info: Info, id: strawberry.ID, reason: str, read_only: bool = True
) -> ImpersonationStarted:
    context = info.context
    started = await context.services.impersonation.start(
        context.require_principal(),
        user_id=str(id),
        reason=reason,
        read_only=read_only,
        actor=actor_of(info),
    )
    return ImpersonationStarted(
        access_token=started.access_token,
        token_type="Bearer",
        expires_in=max(0, int((started.expires_at - context.clock.now()).total_seconds())),
        access_token_expires_at=started.expires_at,
        session_id=strawberry.ID(started.session_id),
        read_only=started.read_only,
        user=UserType.from_document(started.user),
    )


@maps_domain_errors(ForbiddenError)
async def end_impersonation(info: Info) -> ImpersonationEnded:
    principal = info.context.require_principal()
    await info.context.services.impersonation.end(principal, actor_of(info))
    return ImpersonationEnded(session_id=strawberry.ID(principal.session_id))
