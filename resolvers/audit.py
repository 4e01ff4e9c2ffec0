from __future__ import annotations

from schema.audit.types import AuditEventConnection, AuditEventFilter, AuditEventType
from schema.context import Info
from schema.pagination import Edge, PageInfo, page_size


async def my_security_events(info: Info, first: int | None = 20) -> list[AuditEventType]:
    principal = info.context.require_principal()
    events = await info.context.state.audit.for_user(principal.user_id, limit=page_size(first))
    return [AuditEventType.from_document(e) for e in events]


async def audit_events(
    info: Info,
    filter: AuditEventFilter | None = None,
    first: int | None = 20,
    after: str | None = None,
) -> AuditEventConnection:
    criteria = filter or AuditEventFilter()
    size = page_size(first)
    events = await info.context.state.audit.search(
        actor_id=criteria.actor_id,
        target_id=criteria.target_id,
        event=criteria.event,
        since=criteria.since,
        until=criteria.until,
        after_id=after,
        limit=size + 1,
    )
    page = events[:size]
    edges = [Edge(cursor=str(e.id), node=AuditEventType.from_document(e)) for e in page]
    return AuditEventConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(events) > size, end_cursor=edges[-1].cursor if edges else None
        ),
    )
