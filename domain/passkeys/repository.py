"""Every query of the passkeys slice.

A sign-in reads its credential by ``_id``. The reads by owner (the list, the sign-in
with an email, the last-method rule) use the ``user`` index on MongoDB; on FerretDB
they read the collection, which holds a few documents per account.
"""

from __future__ import annotations

from datetime import datetime

from beanie import PydanticObjectId
from pymongo.errors import OperationFailure

from domain.core.by_id import delete_by_id, update_by_id
from domain.core.duplicates import is_unique_violation
from domain.passkeys.documents import Passkey


async def get(credential_id: str) -> Passkey | None:
    return await Passkey.get(credential_id)


async def of_user(user_id: PydanticObjectId) -> list[Passkey]:
    """The account's passkeys, oldest first (ties by id: the database promises no order)."""
    found = await Passkey.find({"user_id": user_id}).to_list()
    return sorted(found, key=lambda p: (p.created_at, p.id))


async def count_of_user(user_id: PydanticObjectId) -> int:
    return await Passkey.find({"user_id": user_id}).count()


async def insert(passkey: Passkey) -> bool:
    """False when the credential id is already registered (to anyone)."""
    try:
        await passkey.insert()
    except OperationFailure as error:
        if not is_unique_violation(error):
            raise
        return False
    return True


async def record_use(passkey: Passkey, *, sign_count: int, backed_up: bool, at: datetime) -> bool:
    """Move the counter forward, only from the value this sign-in checked against, so of
    two uses that read the same counter one lands (on FerretDB the guard is read by _id)."""
    return await update_by_id(
        Passkey.get_pymongo_collection(),
        passkey.id,
        {"$set": {"sign_count": sign_count, "backed_up": backed_up, "last_used_at": at}},
        guard={"sign_count": passkey.sign_count},
    )


async def rename(credential_id: str, user_id: PydanticObjectId, name: str) -> bool:
    return await update_by_id(
        Passkey.get_pymongo_collection(),
        credential_id,
        {"$set": {"name": name}},
        guard={"user_id": user_id},
    )


async def delete(credential_id: str, user_id: PydanticObjectId) -> bool:
    return await delete_by_id(
        Passkey.get_pymongo_collection(), credential_id, guard={"user_id": user_id}
    )


async def owners_among(user_ids: list[PydanticObjectId]) -> set[PydanticObjectId]:
    """Which of these accounts have a passkey: one query for them all."""
    if not user_ids:
        return set()
    cursor = Passkey.get_pymongo_collection().find(
        {"user_id": {"$in": user_ids}}, {"user_id": 1, "_id": 0}
    )
    return {PydanticObjectId(row["user_id"]) async for row in cursor}
