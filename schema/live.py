"""The Subscription type (graphql-transport-ws on /graphql)."""

from __future__ import annotations

import strawberry
from strawberry.permission import BasePermission

from domain.identity.permissions import Permission
from resolvers import live
from schema.permissions import IsAuthenticated, permission_guard

_AUDIT: list[type[BasePermission]] = permission_guard(Permission.AUDIT_READ)
_AUTH: list[type[BasePermission]] = [IsAuthenticated]


@strawberry.type
class Subscription:
    audit_events = strawberry.subscription(
        resolver=live.audit_events,
        permission_classes=_AUDIT,
        description="Audit events as they happen, from every API instance.",
    )
    session_revoked = strawberry.subscription(
        resolver=live.session_revoked,
        permission_classes=_AUTH,
        description="Your sessions as they end; the feed closes when this session ends.",
    )
