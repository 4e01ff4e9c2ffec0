"""Finding the account that signs in with an email, on whichever database runs.

Registration, sign-in, resets and email change find a user by email through here, and
tell it when an email starts or stops leading to a user. Two implementations:

- ``IndexedEmailLookup`` (MongoDB and servers that behave like it): the users
  collection's unique email index answers one ``find`` by email; nothing else to keep.
- ``IdentifierEmailLookup`` (FerretDB 1.24, which indexes only ``_id``): a second copy
  of each email keyed by ``_id`` (``domain/identity/identifiers.py``).

Either way an address with an account and one without cost the same reads (one
indexed ``find`` by email; or an identifier and a user, both by ``_id``), so neither the
time nor the database traffic says whether an account exists. The flavour is chosen at
start-up (``domain/core/database_flavour.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from beanie import PydanticObjectId

from domain.core.database_flavour import DatabaseFlavour, bound_flavour
from domain.identity import identifiers
from domain.identity.documents import User


class EmailLookup(Protocol):
    async def find_user(self, email: str) -> User | None:
        """The user who signs in with ``email`` (already normalised), or None."""
        ...

    async def point(self, email: str, user_id: PydanticObjectId) -> None:
        """``email`` now leads to ``user_id``. Raises PyMongoError, so the caller can
        undo what it wrote (an account its email does not find cannot sign in)."""
        ...

    async def release(self, email: str, user_id: PydanticObjectId) -> None:
        """``email`` no longer leads to ``user_id`` (its old address, after a change)."""
        ...

    async def prepare(self, now: datetime) -> None:
        """Start-up work before the first lookup."""
        ...


class IndexedEmailLookup:
    """The unique email index of the users collection is the lookup."""

    async def find_user(self, email: str) -> User | None:
        return await User.find_one(User.email == email)

    async def point(self, email: str, user_id: PydanticObjectId) -> None:
        return None

    async def release(self, email: str, user_id: PydanticObjectId) -> None:
        return None

    async def prepare(self, now: datetime) -> None:
        return None


class IdentifierEmailLookup:
    """Login identifiers, for a database that indexes nothing but ``_id``."""

    async def find_user(self, email: str) -> User | None:
        return await identifiers.find_user(email)

    async def point(self, email: str, user_id: PydanticObjectId) -> None:
        await identifiers.point(email, user_id)

    async def release(self, email: str, user_id: PydanticObjectId) -> None:
        await identifiers.release(email, user_id)

    async def prepare(self, now: datetime) -> None:
        # Sign-in trusts the identifiers as its index of emails: fill any missing once.
        await identifiers.rebuild_once(now)


_LOOKUPS: dict[DatabaseFlavour, EmailLookup] = {
    DatabaseFlavour.MONGODB: IndexedEmailLookup(),
    DatabaseFlavour.FERRETDB: IdentifierEmailLookup(),
}


def email_lookup_for(flavour: DatabaseFlavour) -> EmailLookup:
    return _LOOKUPS[flavour]


def active() -> EmailLookup:
    """The lookup for the database the documents are bound to."""
    return _LOOKUPS[bound_flavour()]


async def find_user(email: str) -> User | None:
    return await active().find_user(email)


async def point(email: str, user_id: PydanticObjectId) -> None:
    await active().point(email, user_id)


async def release(email: str, user_id: PydanticObjectId) -> None:
    await active().release(email, user_id)
