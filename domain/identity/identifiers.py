"""Login identifiers: each sign-in email, keyed by itself, pointing at its user.

An ``_id`` lookup is the one query every MongoDB-compatible store answers from an
index. FerretDB 1.24's SQLite backend pushes no other filter down: it reads and
matches every user document in Go to find one email (53 ms at 1k users, tens of
seconds at 1M). Looking the email up here by ``_id`` keeps sign-in, registration and
resets flat on both stores (as Ory Kratos keeps its credential identifiers apart from
identities).

This collection is the index of sign-in emails: an absent identifier means no
account. There is deliberately no fallback to a users query by email, because that
query only runs for addresses without an identifier (almost always addresses without
an account) and its cost, growing with the user base, told them apart from accounts
(security review, finding 4). Every path that gives a user an email (registration,
provisioning, email change) writes the identifier and fails if it cannot;
``rebuild`` restores any that are missing (once at start-up, or after writing users
straight into the database). The users collection's unique email index still decides
who owns an address, and every read checks the user's email, so a stale identifier
never leads into an account.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from beanie import Document, PydanticObjectId
from loguru import logger
from pydantic import Field
from pymongo import UpdateOne
from pymongo.errors import PyMongoError

from domain.core.by_id import delete_by_id
from domain.core.claims import claim_once, claimed_at
from domain.core.duplicates import is_unique_violation
from domain.identity.documents import NO_USER, User

REBUILD_BATCH = 1000
# Bump when identifiers must be rebuilt again at the next start.
REBUILT_MARKER = "login-identifiers-rebuilt:v1"


class LoginIdentifier(Document):
    id: str = Field(alias="_id")  # type: ignore[assignment]  # the normalised email
    user_id: PydanticObjectId

    class Settings:
        name = "login_identifiers"
        use_state_management = False


async def point(email: str, user_id: PydanticObjectId) -> None:
    """Make ``email`` lead to ``user_id``.

    Raises: PyMongoError, so the caller can undo what it wrote (an account without an
    identifier cannot sign in).
    """
    await LoginIdentifier.get_pymongo_collection().update_one(
        {"_id": email}, {"$set": {"user_id": user_id}}, upsert=True
    )


async def release(email: str, user_id: PydanticObjectId) -> None:
    """Forget ``email`` if it still leads to ``user_id`` (its old address, after a change)."""
    try:
        await delete_by_id(
            LoginIdentifier.get_pymongo_collection(), email, guard={"user_id": user_id}
        )
    except PyMongoError as error:
        # Harmless if left: every read checks the user's email.
        logger.bind(user_id=str(user_id)).warning("login identifier not released: {}", error)


async def find_user(email: str) -> User | None:
    """The user who signs in with ``email`` (already normalised), or None.

    Always two ``_id`` reads, an identifier and a user, whether or not the address has
    an account, so neither the time nor the database traffic depends on it.
    """
    identifier = await LoginIdentifier.get(email)
    user = await User.get(identifier.user_id if identifier is not None else NO_USER)
    if user is not None and user.email == email:
        return user
    if identifier is not None:
        # Stale (an email change that stopped halfway): it must not stay a dead end.
        await release(email, identifier.user_id)
    return None


async def rebuild() -> int:
    """Give every user's email an identifier pointing at its user; returns how many were
    written (missing or pointing elsewhere).

    Reads every user and every identifier once (two scans) and writes only what is
    missing or stale: for start-up and maintenance, never a request. Upserting every
    identifier instead made FerretDB scan the collection once per user (an upsert's
    filter is not served by an index there), so a first start on 1,000 users outlasted
    the database timeout.
    """
    users = User.get_pymongo_collection()
    identifiers = LoginIdentifier.get_pymongo_collection()
    known: dict[str, Any] = {}
    async for row in identifiers.find({}, {"user_id": 1}):
        known[row["_id"]] = row.get("user_id")
    missing: list[dict[str, Any]] = []
    stale: list[UpdateOne] = []
    async for row in users.find({}, {"email": 1}):
        email, user_id = row.get("email"), row["_id"]
        if not isinstance(email, str):
            continue
        if email not in known:
            missing.append({"_id": email, "user_id": user_id})
        elif known[email] != user_id:
            stale.append(UpdateOne({"_id": email}, {"$set": {"user_id": user_id}}))
    for start in range(0, len(missing), REBUILD_BATCH):
        try:
            await identifiers.insert_many(missing[start : start + REBUILD_BATCH], ordered=False)
        except PyMongoError as error:
            if not is_unique_violation(error):
                raise
            # A sign-up wrote one of them meanwhile: theirs stands.
    for start in range(0, len(stale), REBUILD_BATCH):
        await identifiers.bulk_write(stale[start : start + REBUILD_BATCH], ordered=False)
    return len(missing) + len(stale)


async def rebuild_once(now: datetime) -> int:
    """``rebuild`` unless it has run on this database already (a start-up step: users
    from before identifiers existed, or imported, get theirs once)."""
    if await claimed_at(REBUILT_MARKER) is not None:
        return 0
    visited = await rebuild()
    await claim_once(REBUILT_MARKER, now=now, expires_at=datetime(9999, 1, 1, tzinfo=UTC))
    if visited:
        logger.bind(users=visited).info("login identifiers rebuilt")
    return visited
