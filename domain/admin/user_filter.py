"""What the admin users page filters and sorts by, and its keyset cursors (pure: the
queries that use them are ``repository.py``)."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId, SortDirection

from domain.core.errors import FieldError, ValidationError
from domain.core.roles import Role
from domain.identity.documents import User, UserStatus


@dataclass(frozen=True, slots=True)
class UserFilter:
    role: Role | None = None
    status: UserStatus | None = None
    email_verified: bool | None = None
    locked: bool | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    search: str | None = None
    include_deleted: bool = False


SORTS = {
    "CREATED_DESC": [("created_at", SortDirection.DESCENDING), ("_id", SortDirection.DESCENDING)],
    "CREATED_ASC": [("created_at", SortDirection.ASCENDING), ("_id", SortDirection.ASCENDING)],
    "EMAIL_ASC": [("email", SortDirection.ASCENDING), ("_id", SortDirection.ASCENDING)],
}


SORT_FIELD = {"CREATED_DESC": "created_at", "CREATED_ASC": "created_at", "EMAIL_ASC": "email"}
# Users the page lists unless asked for deleted ones too.
LISTED_STATUSES = frozenset({UserStatus.ACTIVE.value, UserStatus.DEACTIVATED.value})


def is_unfiltered(criteria: UserFilter) -> bool:
    """Nothing but, perhaps, the deleted users included: the page every admin opens."""
    return criteria == UserFilter(include_deleted=criteria.include_deleted)


def user_cursor(sort: str, user: User) -> str:
    field = SORT_FIELD[sort]
    value = getattr(user, field)
    encoded = value.isoformat() if isinstance(value, datetime) else value
    raw = json.dumps([sort, encoded, str(user.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: str, cursor: str) -> tuple[Any, PydanticObjectId]:
    """The sort value and the id a cursor points after.

    Raises: ValidationError for a cursor that is not ours, or is for another sort.
    """
    invalid = ValidationError([FieldError("after", "This cursor is not valid.", "INVALID")])
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, last_id = json.loads(raw)
        oid = PydanticObjectId(last_id)
        field = SORT_FIELD[sort]
        bound: Any = datetime.fromisoformat(value) if field == "created_at" else value
    except Exception as exc:
        raise invalid from exc
    if cursor_sort != sort or not isinstance(value, str):
        raise ValidationError([FieldError("after", "This cursor is for another sort.", "INVALID")])
    return bound, oid


def after_clause(sort: str, cursor: str) -> dict[str, Any]:
    bound, oid = decode_cursor(sort, cursor)
    field = SORT_FIELD[sort]
    op = "$lt" if sort.endswith("DESC") else "$gt"
    return {"$or": [{field: {op: bound}}, {field: bound, "_id": {op: oid}}]}


def filter_query(criteria: UserFilter) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if criteria.status is not None:
        query["status"] = criteria.status.value
    elif not criteria.include_deleted:
        query["status"] = {"$in": sorted(LISTED_STATUSES)}
    if criteria.role is not None:
        query["role"] = criteria.role.value
    if criteria.email_verified is not None:
        query["email_verified"] = criteria.email_verified
    if criteria.locked is not None:
        query["locked_at"] = {"$ne": None} if criteria.locked else None
    span: dict[str, datetime] = {}
    if criteria.created_after:
        span["$gte"] = criteria.created_after
    if criteria.created_before:
        span["$lt"] = criteria.created_before
    if span:
        query["created_at"] = span
    if criteria.search:
        # A prefix of the email or of a name, literally (never a user-supplied pattern).
        prefix = "^" + re.escape(criteria.search.strip().lower()[:100])
        query["$or"] = [
            {"email": {"$regex": prefix}},
            {"first_name": {"$regex": prefix, "$options": "i"}},
            {"last_name": {"$regex": prefix, "$options": "i"}},
        ]
    return query
