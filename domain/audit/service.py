"""Record audit events, the moment the action happens.

Recorded at the moment of the action (not at the end of the request), so a later
failure of the request cannot lose the record. While the API's flusher runs, the
write itself is batched with others (domain/audit/buffer.py: what that trades);
otherwise (workers, ``audit_flush_interval_ms = 0``) each event is inserted before
``record`` returns. Secrets are redacted from before/after states by field name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId, SortDirection
from loguru import logger
from pymongo.errors import PyMongoError

from domain.audit.buffer import AuditBuffer
from domain.audit.documents import AuditAction, AuditEvent, AuditResult
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.events.bus import EventBus

REDACTED = "[redacted]"
Listener = Callable[[AuditEvent], Awaitable[object]]
_SECRET_MARKERS = ("password", "hash", "secret", "token", "code", "key")


def redact(state: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if state is None:
        return None
    clean: dict[str, Any] = {}
    for key, value in state.items():
        if any(marker in key.lower() for marker in _SECRET_MARKERS):
            clean[key] = REDACTED
        elif isinstance(value, Mapping):
            clean[key] = redact(value)
        elif isinstance(value, datetime | str | int | float | bool) or value is None:
            clean[key] = value
        else:
            clean[key] = str(value)
    return clean


class AuditService:
    def __init__(
        self,
        clock: Clock,
        bus: EventBus | None = None,
        listeners: Sequence[Listener] = (),
        *,
        buffer: AuditBuffer | None = None,
    ) -> None:
        """``listeners`` are called after each event is recorded, in order (webhook
        publishing follows the audit trail); a failing listener is logged and skipped."""
        self._clock = clock
        self._bus = bus
        self._listeners = tuple(listeners)
        self._buffer = buffer or AuditBuffer(interval_seconds=0, max_events=1)

    async def run_flusher(self) -> None:
        """Batch the writes of this process's events until cancelled (the API's lifespan)."""
        await self._buffer.run_flusher()

    async def flush(self) -> None:
        await self._buffer.flush()

    async def record(
        self,
        event: str,
        action: AuditAction,
        *,
        actor: Actor,
        result: AuditResult = AuditResult.SUCCESS,
        actor_type: str | None = None,
        target_id: str | None = None,
        target_type: str | None = "user",
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEvent | None:
        """Write one event: who acted and from where come from ``actor``; ``actor_type``
        names a kind other than the default (a user when signed in, else anonymous)."""
        now = self._clock.now()
        if actor.impersonator_id is not None:
            # Done while impersonated: the administrator is named beside the user.
            details = {**(details or {}), "impersonator_id": actor.impersonator_id}
        record = AuditEvent(
            event=event,
            action=action,
            result=result,
            actor_id=actor.user_id,
            actor_type=actor_type or ("user" if actor.user_id else "anonymous"),
            target_id=target_id,
            target_type=target_type if target_id else None,
            ip=actor.ip,
            user_agent=actor.user_agent,
            request_id=actor.request_id,
            occurred_at=now,
            day=now.strftime("%Y-%m-%d"),
            before=redact(before),
            after=redact(after),
            details=redact(details) or {},
        )
        try:
            if self._buffer.active:
                record.id = PydanticObjectId()
                await self._buffer.add(record)
            else:
                await record.insert()
        except PyMongoError:
            # The action itself happened; losing its record must be loud, not fatal.
            logger.bind(audit_event=event).exception("could not write the audit event")
            return None
        if self._bus is not None:
            await self._bus.publish(
                self._bus.audit_channel(), record.model_dump(mode="json", by_alias=False)
            )
        for listener in self._listeners:
            try:
                await listener(record)
            except Exception:
                logger.bind(audit_event=event).exception("audit listener failed")
        return record

    async def for_user(self, user_id: str, *, limit: int = 50) -> list[AuditEvent]:
        """A user's own security activity: what they did and what was done to them."""
        await self.flush()
        return (
            await AuditEvent.find({"$or": [{"actor_id": user_id}, {"target_id": user_id}]})
            .sort([("occurred_at", SortDirection.DESCENDING), ("_id", SortDirection.DESCENDING)])
            .limit(limit)
            .to_list()
        )

    @staticmethod
    def as_seen_by(event: AuditEvent, user_id: str) -> AuditEvent:
        """The event as the user it is about sees it. When someone else acted (an
        administrator), their IP, user agent, id and request stay in the full trail; the
        user is told only who they were (``mySecurityEvents`` shows the actor's role). What
        was done while an administrator impersonated them says so, without the id, and
        without the network details, which are the administrator's though the event names
        the user as its actor."""
        if "impersonator_id" in event.details:
            details = {k: v for k, v in event.details.items() if k != "impersonator_id"}
            event = event.model_copy(
                update={
                    "details": {**details, "impersonated": True},
                    "ip": "",
                    "user_agent": "",
                    "request_id": None,
                }
            )
        if event.actor_id is None or event.actor_id == user_id:
            return event
        seen: AuditEvent = event.model_copy(
            update={"actor_id": None, "ip": "", "user_agent": "", "request_id": None}
        )
        return seen

    async def search(
        self,
        *,
        actor_id: str | None = None,
        target_id: str | None = None,
        event: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after_id: str | None = None,
        limit: int = 50,
    ) -> list[AuditEvent]:
        """Newest first; ``after_id`` continues after that event (cursor paging)."""
        await self.flush()
        query: dict[str, Any] = {}
        if actor_id:
            query["actor_id"] = actor_id
        if target_id:
            query["target_id"] = target_id
        if event:
            query["event"] = event
        span: dict[str, datetime] = {}
        if since:
            span["$gte"] = since
        if until:
            span["$lt"] = until
        if span:
            query["occurred_at"] = span
        if after_id:
            try:
                query["_id"] = {"$lt": PydanticObjectId(after_id)}
            except Exception:
                return []
        return (
            await AuditEvent.find(query)
            .sort([("_id", SortDirection.DESCENDING)])
            .limit(limit)
            .to_list()
        )

    async def purge_older_than(self, cutoff: datetime) -> int:
        await self.flush()
        result = await AuditEvent.find({"occurred_at": {"$lt": cutoff}}).delete()
        return int(result.deleted_count) if result is not None else 0
