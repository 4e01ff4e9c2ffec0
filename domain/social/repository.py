"""Every query of the social slice (see documents.py for what FerretDB reads)."""

from __future__ import annotations

from datetime import datetime

from beanie import PydanticObjectId
from pymongo.errors import OperationFailure

from domain.core.by_id import delete_by_id, update_by_id
from domain.core.duplicates import is_unique_violation
from domain.social.documents import SealedProviderTokens, SocialIdentity


async def get(key: str) -> SocialIdentity | None:
    return await SocialIdentity.get(key)


async def of_user(user_id: PydanticObjectId) -> list[SocialIdentity]:
    found = await SocialIdentity.find({"user_id": user_id}).to_list()
    return sorted(found, key=lambda i: (i.created_at, i.id))


async def count_of_user(user_id: PydanticObjectId) -> int:
    return await SocialIdentity.find({"user_id": user_id}).count()


async def insert(identity: SocialIdentity) -> bool:
    """False when the identity is already linked (to anyone)."""
    try:
        await identity.insert()
    except OperationFailure as error:
        if not is_unique_violation(error):
            raise
        return False
    return True


async def owners_among(user_ids: list[PydanticObjectId]) -> set[PydanticObjectId]:
    """Which of these accounts have a linked identity: one query for them all."""
    if not user_ids:
        return set()
    cursor = SocialIdentity.get_pymongo_collection().find(
        {"user_id": {"$in": user_ids}}, {"user_id": 1, "_id": 0}
    )
    return {PydanticObjectId(row["user_id"]) async for row in cursor}


async def touch(key: str, at: datetime, tokens: SealedProviderTokens | None) -> None:
    """A sign-in used the identity: its time, and the provider's tokens it brought
    (``None`` removes any kept before, as when the setting was turned off)."""
    update: dict[str, object] = {"$set": {"last_used_at": at}}
    if tokens is not None:
        update["$set"] = {"last_used_at": at, "provider_tokens": tokens.model_dump()}
    else:
        update["$unset"] = {"provider_tokens": ""}
    await update_by_id(SocialIdentity.get_pymongo_collection(), key, update)


async def set_tokens(key: str, tokens: SealedProviderTokens | None) -> bool:
    """Replace (or with ``None`` drop) the kept tokens; False if the identity is gone."""
    update = (
        {"$set": {"provider_tokens": tokens.model_dump()}}
        if tokens is not None
        else {"$unset": {"provider_tokens": ""}}
    )
    return await update_by_id(SocialIdentity.get_pymongo_collection(), key, update)


async def delete(key: str, user_id: PydanticObjectId) -> bool:
    return await delete_by_id(
        SocialIdentity.get_pymongo_collection(), key, guard={"user_id": user_id}
    )
