"""Subscriptions: live audit events for admins, session revocations for their owner.

Both end, and close the socket, the moment the subscriber's own session is revoked:
a revoked token must not keep a live feed open.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from starlette.websockets import WebSocket

from domain.audit.documents import AuditEvent
from schema.audit.types import AuditEventType
from schema.context import Info
from schema.identity.types import SessionRevokedEvent

SESSION_REVOKED_CLOSE_CODE = 4401


async def _close(info: Info) -> None:
    socket = info.context.request
    if isinstance(socket, WebSocket):
        await socket.close(code=SESSION_REVOKED_CLOSE_CODE, reason="Session revoked")


async def audit_events(info: Info) -> AsyncGenerator[AuditEventType, None]:
    principal = info.context.require_principal()
    bus = info.context.services.bus
    own = bus.user_channel(principal.user_id)
    async for channel, payload in bus.follow([bus.audit_channel(), own]):
        if channel == own:
            if payload.get("session_id") == principal.session_id:
                await _close(info)
                return
            continue
        yield AuditEventType.from_document(AuditEvent.model_validate(payload))


async def session_revoked(info: Info) -> AsyncGenerator[SessionRevokedEvent, None]:
    principal = info.context.require_principal()
    bus = info.context.services.bus
    async for _, payload in bus.follow([bus.user_channel(principal.user_id)]):
        current = payload.get("session_id") == principal.session_id
        yield SessionRevokedEvent(
            session_id=str(payload.get("session_id", "")),
            reason=str(payload.get("reason", "")),
            current=current,
        )
        if current:
            await _close(info)
            return
