"""Every query the admin slice makes on users, in one place."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from domain.admin.user_filter import SORTS
from domain.core.roles import Role
from domain.identity.documents import User, UserStatus


async def find_page(query: dict[str, Any], *, sort: str, limit: int) -> list[User]:
    """Up to ``limit`` users matching ``query``, in the order of ``sort``."""
    return await User.find(query).sort(SORTS[sort]).limit(limit).to_list()


async def count(query: dict[str, Any]) -> int:
    return await User.find(query).count()


async def count_other_active_super_admins(user_id: PydanticObjectId | None) -> int:
    return await User.find(
        {
            "role": Role.SUPER_ADMIN.value,
            "status": UserStatus.ACTIVE.value,
            "_id": {"$ne": user_id},
        }
    ).count()
