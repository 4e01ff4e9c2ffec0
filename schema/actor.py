"""The audit actor of a GraphQL request, built once from its context."""

from __future__ import annotations

from domain.core.actor import Actor
from schema.context import Context, Info


def actor_of(info: Info) -> Actor:
    """Who is calling (the signed-in user, or nobody) and from where: the IP the
    middleware resolved behind trusted proxies, the user agent and the request id."""
    return actor_of_context(info.context)


def actor_of_context(context: Context) -> Actor:
    """``actor_of`` where there is a context but no field (schema extensions)."""
    principal = context.principal
    meta = context.meta
    return Actor(
        user_id=principal.user_id if principal is not None else None,
        role=principal.role if principal is not None else None,
        ip=meta.ip,
        user_agent=meta.user_agent,
        request_id=meta.request_id or None,
        impersonator_id=principal.impersonation.actor_id
        if principal is not None and principal.impersonation is not None
        else None,
    )
