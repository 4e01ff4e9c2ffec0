"""Every query on users, in one place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import OperationFailure

from domain.core.duplicates import is_unique_violation
from domain.identity import email_lookup
from domain.identity.documents import NO_USER, User


async def find_by_email(email: str) -> User | None:
    return await email_lookup.find_user(email)


async def insert_new(user: User) -> bool:
    """Insert a new user; False when the email is taken (the unique index said so)."""
    try:
        await user.insert()
    except OperationFailure as error:
        if not is_unique_violation(error):
            raise
        return False
    return True


async def get(user_id: PydanticObjectId | str) -> User | None:
    try:
        oid = PydanticObjectId(user_id)
    except Exception:
        return None
    return await User.get(oid)


async def without_password(user_ids: list[PydanticObjectId]) -> set[PydanticObjectId]:
    """Which of these accounts have no password (``me`` asks about one: a filter of exactly
    ``{_id}``, the one FerretDB serves from an index)."""
    if len(user_ids) == 1:
        found = await User.get_pymongo_collection().find_one(
            {"_id": user_ids[0]}, {"password_hash": 1}
        )
        return {user_ids[0]} if found is not None and not found.get("password_hash") else set()
    cursor = User.get_pymongo_collection().find(
        {"_id": {"$in": user_ids}, "password_hash": ""}, {"_id": 1}
    )
    return {PydanticObjectId(row["_id"]) async for row in cursor}


async def update(user: User, now: datetime, **changes: Any) -> None:
    """Apply changes, bump the version and the update time, and mirror them in memory."""
    assert user.id is not None
    await User.find_one(User.id == user.id).update(
        {"$set": {**changes, "updated_at": now}, "$inc": {"version": 1}}
    )
    for key, value in changes.items():
        setattr(user, key, value)
    user.updated_at = now
    user.version += 1


async def delete(user: User) -> None:
    """Remove a user document (undoing a registration that could not finish)."""
    await User.find_one(User.id == user.id).delete()


async def update_nobody(now: datetime) -> None:
    """The write ``update`` makes, matching no user: the same work for an address
    without an account (see ``NO_USER``)."""
    await User.find_one(User.id == NO_USER).update(
        {"$set": {"updated_at": now}, "$inc": {"version": 1}}
    )
