"""Login identifiers: each sign-in email, keyed by itself, pointing at its user.

An ``_id`` lookup is the one query every MongoDB-compatible store answers from an
index. FerretDB 1.24's SQLite backend pushes no other filter down: it reads and
matches every user document in Go to find one email (53 ms at 1k users, tens of
seconds at 1M), so login, registration and resets grew with the user base. Looking
the email up here by ``_id`` first keeps those paths flat on both stores (as Ory
Kratos keeps its credential identifiers apart from identities).

The users collection, with its unique email index, stays the authority: an
identifier is written after the user, checked against the user on every read, and
rebuilt from the users collection when it is missing (an imported user, a write
lost to an outage) or stale (an email change that did not finish). Writing one is
therefore best effort and never fails the action that wrote the user.
"""

from __future__ import annotations

from beanie import Document, PydanticObjectId
from loguru import logger
from pydantic import Field
from pymongo.errors import PyMongoError

from domain.identity.documents import User


class LoginIdentifier(Document):
    id: str = Field(alias="_id")  # type: ignore[assignment]  # the normalised email
    user_id: PydanticObjectId

    class Settings:
        name = "login_identifiers"
        use_state_management = False


async def point(email: str, user_id: PydanticObjectId) -> None:
    """Make ``email`` lead to ``user_id``."""
    try:
        await LoginIdentifier.get_pymongo_collection().update_one(
            {"_id": email}, {"$set": {"user_id": user_id}}, upsert=True
        )
    except PyMongoError as error:
        logger.bind(user_id=str(user_id)).warning("login identifier not written: {}", error)


async def release(email: str, user_id: PydanticObjectId) -> None:
    """Forget ``email`` if it still leads to ``user_id`` (its old address, after a change)."""
    try:
        await LoginIdentifier.get_pymongo_collection().delete_one(
            {"_id": email, "user_id": user_id}
        )
    except PyMongoError as error:
        logger.bind(user_id=str(user_id)).warning("login identifier not released: {}", error)


async def find_user(email: str) -> User | None:
    """The user who signs in with ``email`` (already normalised), or None."""
    identifier = await LoginIdentifier.get(email)
    if identifier is not None:
        user = await User.get(identifier.user_id)
        if user is not None and user.email == email:
            return user
    user = await User.find_one(User.email == email)
    if user is not None and user.id is not None:
        await point(email, user.id)
    elif identifier is not None:
        await release(email, identifier.user_id)
    return user
