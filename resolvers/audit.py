from __future__ import annotations

from domain.audit.documents import AuditEvent
from domain.audit.service import AuditService
from domain.core.roles import Role
from schema.audit.types import AuditEventConnection, AuditEventFilter, AuditEventType
from schema.context import Info
from schema.pagination import Edge, PageInfo, page_size

_ADMINISTRATORS = frozenset({Role.ADMIN, Role.SUPER_ADMIN})


async def _actor_role(info: Info, event: AuditEvent) -> str:
    """Who acted on the caller's account, as a role (never who exactly, nor from where)."""
    if event.actor_type != "user" or event.actor_id is None:
        return event.actor_type
    actor = await info.context.services.users.get(event.actor_id)
    if actor is None:
        return "another account"
    return "administrator" if actor.role in _ADMINISTRATORS else actor.role.value


async def my_security_events(info: Info, first: int | None = 20) -> list[AuditEventType]:
    principal = info.context.require_principal()
    events = await info.context.services.audit.for_user(principal.user_id, limit=page_size(first))
    shown = []
    roles: dict[str | None, str] = {}
    for event in events:
        if event.actor_id is None or event.actor_id == principal.user_id:
            seen = AuditService.as_seen_by(event, principal.user_id)
            shown.append(AuditEventType.from_document(seen))
            continue
        if event.actor_id not in roles:
            roles[event.actor_id] = await _actor_role(info, event)
        seen = AuditService.as_seen_by(event, principal.user_id)
        shown.append(AuditEventType.from_document(seen, actor_role=roles[event.actor_id]))
    return shown


async def audit_events(
    info: Info,
    filter: AuditEventFilter | None = None,
    first: int | None = 20,
    after: str | None = None,
) -> AuditEventConnection:
    criteria = filter or AuditEventFilter()
    size = page_size(first)
    events = await info.context.services.audit.search(
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
