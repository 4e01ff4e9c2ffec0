"""Every query of the passkeys slice.

A sign-in reads its credential by ``_id``. The reads by owner (the list, the sign-in
with an email, the last-method rule) go through ``owners.py``: the ``user`` index on
MongoDB, a per-account list read by ``_id`` on FerretDB.
"""

from __future__ import annotations

from datetime import datetime

from beanie import PydanticObjectId

from domain.core.by_id import update_by_id
from domain.core.owner_listing import delete_listed, store_listed
from domain.passkeys.documents import Passkey
from domain.passkeys.owners import PASSKEY_OWNERS, ListedKey


async def get(credential_id: str) -> Passkey | None:
    return await Passkey.get(credential_id)


async def of_user(user_id: PydanticObjectId) -> list[Passkey]:
    """The account's passkeys, oldest first."""
    return await PASSKEY_OWNERS.of_user(user_id)


async def keys_of_user(user_id: PydanticObjectId) -> list[ListedKey]:
    """The account's credential ids and transports: what a sign-in's options list."""
    return await PASSKEY_OWNERS.active().entries_of(user_id)


async def count_of_user(user_id: PydanticObjectId) -> int:
    return await PASSKEY_OWNERS.count_of_user(user_id)


async def insert(passkey: Passkey) -> bool:
    """False when the credential id is already registered (to anyone)."""
    transports = list(passkey.transports)
    return await store_listed(
        PASSKEY_OWNERS.active(), passkey, passkey.user_id, passkey.id, transports
    )


async def record_use(passkey: Passkey, *, sign_count: int, backed_up: bool, at: datetime) -> bool:
    """Move the counter forward, only from the value this sign-in checked against, so of
    two uses that read the same counter one lands (on FerretDB the guard is read by _id,
    just before the write: not from this sign-in's earlier read, which would let a use
    that started first but finished last write its older counter over a newer one)."""
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
    return await delete_listed(PASSKEY_OWNERS.active(), credential_id, user_id)


async def owners_among(user_ids: list[PydanticObjectId]) -> set[PydanticObjectId]:
    """Which of these accounts have a passkey: one read for them all."""
    return await PASSKEY_OWNERS.active().owners_among(user_ids)
