"""Start-up re-keying of TOTP credentials stored before ``_id`` became the user's id.

Sign-in reads a credential by ``_id`` alone (domain/mfa/documents.py), so a credential
under any other ``_id`` would be invisible to it: the second factor silently skipped.
Every process runs this before it serves, and it is safe to run in several at once: the
keyed copy is inserted first (a duplicate means another process made it) and only then
the old document deleted, so at no moment is a user without their credential. The
former unique index on ``user_id`` is dropped first, as the copy and the original share
a ``user_id`` for that moment. The scan is once per start, over this collection alone.

Processes of an older version still running beside a new one (a rolling upgrade) can
store a credential under a random ``_id`` after this ran; README's upgrade notes say to
restart once every process runs the new version.
"""

from __future__ import annotations

from contextlib import suppress

from loguru import logger
from pymongo.errors import DuplicateKeyError, OperationFailure

from domain.mfa.documents import TotpCredential

FORMER_UNIQUE_INDEX = "user_unique"


async def rekey_totp_credentials() -> int:
    """Re-key every credential whose ``_id`` is not its ``user_id``; how many were."""
    collection = TotpCredential.get_pymongo_collection()
    if FORMER_UNIQUE_INDEX in await collection.index_information():
        with suppress(OperationFailure):  # another process dropped it first
            await collection.drop_index(FORMER_UNIQUE_INDEX)
    moved = 0
    async for stored in collection.find({}):
        user_id = stored.get("user_id")
        if user_id is None or stored["_id"] == user_id:
            continue
        with suppress(DuplicateKeyError):  # another process re-keyed it first
            await collection.insert_one({**stored, "_id": user_id})
        await collection.delete_one({"_id": stored["_id"]})
        moved += 1
    if moved:
        logger.info("re-keyed {} TOTP credentials by user id", moved)
    return moved
