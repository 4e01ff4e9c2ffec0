"""Every query of the social slice (see documents.py for what FerretDB reads)."""

from __future__ import annotations

from datetime import datetime

from beanie import PydanticObjectId
from pymongo.errors import OperationFailure

from domain.core.by_id import delete_by_id, update_by_id
from domain.core.duplicates import is_unique_violation
from domain.social.documents import SocialIdentity


async def get(key: str) -> SocialIdentity | None:
    return await SocialIdentity.get(key)


async def of_user(user_id: PydanticObjectId) -> list[SocialIdentity]:
    found = await SocialIdentity.find({"user_id": user_id}).to_list()
    return sorted(found, key=lambda i: (i.created_at, i.id))


async def insert(identity: SocialIdentity) -> bool:
    """False when the identity is already linked (to anyone)."""
    try:
        await identity.insert()
    except OperationFailure as error:
        if not is_unique_violation(error):
            raise
        return False
    return True


async def touch(key: str, at: datetime) -> None:
    await update_by_id(SocialIdentity.get_pymongo_collection(), key, {"$set": {"last_used_at": at}})


async def delete(key: str, user_id: PydanticObjectId) -> bool:
    return await delete_by_id(
        SocialIdentity.get_pymongo_collection(), key, guard={"user_id": user_id}
    )
