"""Every query of the passkeys slice.

A sign-in reads its credential by ``_id``. The reads by owner (the list, the sign-in
with an email, the last-method rule) go through ``owners.py``: the ``user`` index on
MongoDB, a per-account list read by ``_id`` on FerretDB.
"""

from __future__ import annotations

from datetime import datetime

from beanie import PydanticObjectId
from pymongo.errors import OperationFailure

from domain.core.by_id import delete_by_id, update_by_id
from domain.core.duplicates import is_unique_violation
from domain.passkeys import owners
from domain.passkeys.documents import Passkey


async def get(credential_id: str) -> Passkey | None:
    return await Passkey.get(credential_id)


async def of_user(user_id: PydanticObjectId) -> list[Passkey]:
    """The account's passkeys, oldest first (ties by id: the database promises no order)."""
    found = await owners.active().passkeys_of(user_id)
    return sorted(found, key=lambda p: (p.created_at, p.id))


async def keys_of_user(user_id: PydanticObjectId) -> list[owners.ListedKey]:
    """The account's credential ids and transports: what a sign-in's options list."""
    return await owners.active().keys_of(user_id)


async def count_of_user(user_id: PydanticObjectId) -> int:
    return len(await owners.active().passkeys_of(user_id))


async def insert(passkey: Passkey) -> bool:
    """False when the credential id is already registered (to anyone)."""
    await owners.active().listing(passkey)
    try:
        await passkey.insert()
    except OperationFailure as error:
        if not is_unique_violation(error):
            raise
        holder = await get(passkey.id)
        if holder is None or holder.user_id != passkey.user_id:
            await owners.active().unlisting(passkey.user_id, passkey.id)
        return False
    return True


async def record_use(passkey: Passkey, *, sign_count: int, backed_up: bool, at: datetime) -> bool:
    """Move the counter forward, only from the value this sign-in checked against, so of
    two uses that read the same counter one lands on MongoDB (the guard in the filter).

    On FerretDB a guarded write is a read and then a write whatever is done (by_id.py),
    so the guard is checked against the credential as this sign-in read it a moment ago
    rather than read again: the same window, one ``find`` fewer. Each assertion answers
    its own single-use challenge (taken atomically in Redis), so a replayed assertion
    never reaches this write; only two authenticators holding one key (a clone) signing
    in within that window can both pass there, as they could before."""
    guard = {"sign_count": passkey.sign_count}
    return await update_by_id(
        Passkey.get_pymongo_collection(),
        passkey.id,
        {"$set": {"sign_count": sign_count, "backed_up": backed_up, "last_used_at": at}},
        guard=guard,
        as_read=guard,
    )


async def rename(credential_id: str, user_id: PydanticObjectId, name: str) -> bool:
    return await update_by_id(
        Passkey.get_pymongo_collection(),
        credential_id,
        {"$set": {"name": name}},
        guard={"user_id": user_id},
    )


async def delete(credential_id: str, user_id: PydanticObjectId) -> bool:
    deleted = await delete_by_id(
        Passkey.get_pymongo_collection(), credential_id, guard={"user_id": user_id}
    )
    if deleted:
        await owners.active().unlisting(user_id, credential_id)
    return deleted


async def owners_among(user_ids: list[PydanticObjectId]) -> set[PydanticObjectId]:
    """Which of these accounts have a passkey: one query for them all."""
    if not user_ids:
        return set()
    cursor = Passkey.get_pymongo_collection().find(
        {"user_id": {"$in": user_ids}}, {"user_id": 1, "_id": 0}
    )
    return {PydanticObjectId(row["user_id"]) async for row in cursor}
