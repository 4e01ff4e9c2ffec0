from __future__ import annotations

import strawberry
from strawberry.permission import BasePermission

from domain.identity.permissions import Permission
from resolvers import audit
from schema.audit.types import AuditEventConnection, AuditEventType
from schema.permissions import IsAuthenticated, permission_guard

_AUTH: list[type[BasePermission]] = [IsAuthenticated]
_AUDIT: list[type[BasePermission]] = permission_guard(Permission.AUDIT_READ)


@strawberry.type
class AuditQuery:
    my_security_events: list[AuditEventType] = strawberry.field(
        resolver=audit.my_security_events,
        permission_classes=_AUTH,
        description="Your own security activity, newest first.",
    )
    audit_events: AuditEventConnection = strawberry.field(
        resolver=audit.audit_events,
        permission_classes=_AUDIT,
        description="The audit trail, newest first, filtered and cursor-paged.",
    )
