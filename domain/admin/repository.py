"""Every query the admin slice makes on users, in one place."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from domain.admin.user_filter import SORTS
from domain.core.roles import Role
from domain.identity.documents import User, UserStatus

# What the users page shows of an account; never its password material.
LISTING_FIELDS = {
    "password_hash": 0,
    "password_history": 0,
    "known_devices": 0,
    "known_countries": 0,
}


async def find_page(query: dict[str, Any], *, sort: str, limit: int) -> list[User]:
    """Up to ``limit`` users matching ``query``, in the order of ``sort``."""
    return await User.find(query).sort(SORTS[sort]).limit(limit).to_list()


async def count(query: dict[str, Any]) -> int:
    return await User.find(query).count()


async def all_listing_rows() -> list[dict[str, Any]]:
    """Every user as the page shows it, raw (validated only when shown): one read of the
    whole collection, in no particular order."""
    rows: list[dict[str, Any]] = await (
        User.get_pymongo_collection().find({}, LISTING_FIELDS).to_list()
    )
    return rows


async def listing_row(user_id: PydanticObjectId) -> dict[str, Any] | None:
    row: dict[str, Any] | None = await User.get_pymongo_collection().find_one(
        {"_id": user_id}, LISTING_FIELDS
    )
    return row


def user_of_row(row: dict[str, Any]) -> User:
    """A listed user as a document (its password fields were never read)."""
    user: User = User.model_validate({**row, "password_hash": ""})
    return user


async def count_other_active_super_admins(user_id: PydanticObjectId | None) -> int:
    return await User.find(
        {
            "role": Role.SUPER_ADMIN.value,
            "status": UserStatus.ACTIVE.value,
            "_id": {"$ne": user_id},
        }
    ).count()
