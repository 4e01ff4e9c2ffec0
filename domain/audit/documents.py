from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel


class AuditAction(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    LOGIN = "LOGIN"
    LOGOUT = "LOGOUT"
    VERIFY = "VERIFY"
    LOCK = "LOCK"
    UNLOCK = "UNLOCK"
    REVOKE = "REVOKE"
    VIEW = "VIEW"
    SECURITY = "SECURITY"


class AuditResult(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"


class AuditEvent(Document):
    """Written once, never updated. ``day`` is stored for grouping by day."""

    event: str  # e.g. "user.login", "session.refresh_reuse"
    action: AuditAction
    result: AuditResult
    actor_id: str | None = None
    actor_type: str = "user"  # user | anonymous | system | api_key
    target_id: str | None = None
    target_type: str | None = None
    ip: str = ""
    user_agent: str = ""
    request_id: str | None = None
    occurred_at: datetime
    day: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    class Settings:
        name = "audit_events"
        use_state_management = False
        indexes = [
            IndexModel([("occurred_at", DESCENDING)], name="occurred_at"),
            IndexModel([("actor_id", ASCENDING), ("occurred_at", DESCENDING)], name="actor"),
            IndexModel([("target_id", ASCENDING), ("occurred_at", DESCENDING)], name="target"),
            IndexModel([("event", ASCENDING), ("occurred_at", DESCENDING)], name="event"),
            IndexModel([("day", ASCENDING), ("event", ASCENDING)], name="day_event"),
        ]
