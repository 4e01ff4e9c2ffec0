from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from domain.audit.documents import AuditEvent
from schema.pagination import Edge, PageInfo


def _json(value: dict[str, Any] | None) -> Any:
    # Datetimes inside before/after become ISO strings so the JSON scalar can carry them.
    if value is None:
        return None
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in value.items()}


@strawberry.type(name="AuditEvent", description="One security-relevant action.")
class AuditEventType:
    id: strawberry.ID
    event: str
    action: str
    result: str
    actor_id: str | None
    actor_type: str
    actor_role: str | None = strawberry.field(
        description="In `mySecurityEvents`, when someone else acted on your account: who they "
        "were (`administrator`), in place of their id and network details."
    )
    target_id: str | None
    target_type: str | None
    ip: str
    user_agent: str
    request_id: str | None
    occurred_at: datetime
    before: JSON | None
    after: JSON | None
    details: JSON

    @classmethod
    def from_document(cls, event: AuditEvent, actor_role: str | None = None) -> AuditEventType:
        return cls(
            id=strawberry.ID(str(event.id)),
            event=event.event,
            action=event.action.value,
            result=event.result.value,
            actor_id=event.actor_id,
            actor_type=event.actor_type,
            actor_role=actor_role,
            target_id=event.target_id,
            target_type=event.target_type,
            ip=event.ip,
            user_agent=event.user_agent,
            request_id=event.request_id,
            occurred_at=event.occurred_at,
            before=_json(event.before),
            after=_json(event.after),
            details=_json(event.details or {}),
        )


@strawberry.type
class AuditEventConnection:
    edges: list[Edge[AuditEventType]]
    page_info: PageInfo


@strawberry.input
class AuditEventFilter:
    actor_id: str | None = None
    target_id: str | None = None
    event: str | None = None
    since: datetime | None = None
    until: datetime | None = None
