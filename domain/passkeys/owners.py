"""Which passkeys an account has, on whichever database runs.

The sign-in with an email, a two-factor sign-in (is a passkey one of the second
steps?), re-authentication and the account's own list all ask for an account's
passkeys. Two implementations:

- ``IndexedOwners`` (MongoDB and servers that behave like it): the passkeys
  collection's ``user`` index answers a ``find`` by ``user_id``; nothing else to keep.
- ``ListedOwners`` (FerretDB 1.24, which serves no filter but ``{_id}`` from an index):
  a find by ``user_id`` reads and decodes every account's passkeys in Go, so each of
  those sign-ins grew with the number of passkeys in the deployment. Instead each
  account that has passkeys has a ``passkey_owners`` document keyed by its id, mapping
  its credential ids to their transports: one read by ``_id`` gives what a sign-in's
  options need, the same read for an address with passkeys, one without, or no account
  (no timing says which). The account's list and the last-sign-in-method rule read the
  credentials themselves by ``_id`` from it.

A credential is listed before it is stored and unlisted after it is deleted, so a
stored credential is always listed; a listed id whose credential is gone (a deletion
that stopped halfway) or is another account's is skipped by every read that needs the
credential, and offered in a sign-in's options costs nothing (the browser has no such
key). ``rebuild_once`` lists, once at start-up, the credentials stored before the
listing existed.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, Protocol

from beanie import Document, PydanticObjectId
from loguru import logger
from pydantic import Field
from pymongo.errors import DuplicateKeyError

from domain.core.claims import claim_once, claimed_at
from domain.core.database_flavour import DatabaseFlavour, bound_flavour
from domain.passkeys.documents import Passkey

# Bump when the listing must be rebuilt again at the next start.
REBUILT_MARKER = "passkey-owners-listed:v1"
# A credential id and the transports its browser reported.
ListedKey = tuple[str, list[str]]


class PasskeyOwner(Document):
    id: PydanticObjectId = Field(alias="_id")  # the account
    # Credential id (base64url: no "." or "$") -> its transports.
    credentials: dict[str, list[str]] = Field(default_factory=dict)

    class Settings:
        name = "passkey_owners"
        use_state_management = False


class OwnerIndex(Protocol):
    async def passkeys_of(self, user_id: PydanticObjectId) -> list[Passkey]:
        """The account's stored passkeys, in no particular order."""
        ...

    async def keys_of(self, user_id: PydanticObjectId) -> list[ListedKey]:
        """The account's credential ids and transports, for a sign-in's options."""
        ...

    async def listing(self, passkey: Passkey) -> None:
        """Before ``passkey`` is stored."""
        ...

    async def unlisting(self, user_id: PydanticObjectId, credential_id: str) -> None:
        """After the credential is deleted (or found to be another account's)."""
        ...

    async def prepare(self, now: datetime) -> None:
        """Start-up work before the first read."""
        ...


class IndexedOwners:
    """The ``user`` index of the passkeys collection is the listing."""

    async def passkeys_of(self, user_id: PydanticObjectId) -> list[Passkey]:
        return await Passkey.find({"user_id": user_id}).to_list()

    async def keys_of(self, user_id: PydanticObjectId) -> list[ListedKey]:
        cursor = Passkey.get_pymongo_collection().find({"user_id": user_id}, {"transports": 1})
        return [(row["_id"], list(row.get("transports") or [])) async for row in cursor]

    async def listing(self, passkey: Passkey) -> None:
        return None

    async def unlisting(self, user_id: PydanticObjectId, credential_id: str) -> None:
        return None

    async def prepare(self, now: datetime) -> None:
        return None


class ListedOwners:
    """An ``_id``-keyed list per account, for a database that indexes nothing else."""

    async def passkeys_of(self, user_id: PydanticObjectId) -> list[Passkey]:
        keys = await self.keys_of(user_id)
        found = await asyncio.gather(*(Passkey.get(credential) for credential, _ in keys))
        return [p for p in found if p is not None and p.user_id == user_id]

    async def keys_of(self, user_id: PydanticObjectId) -> list[ListedKey]:
        row = await PasskeyOwner.get_pymongo_collection().find_one({"_id": user_id})
        credentials: dict[str, list[str]] = (row or {}).get("credentials") or {}
        return [(credential, list(transports)) for credential, transports in credentials.items()]

    async def listing(self, passkey: Passkey) -> None:
        await _list(passkey.user_id, {passkey.id: list(passkey.transports)})

    async def unlisting(self, user_id: PydanticObjectId, credential_id: str) -> None:
        await PasskeyOwner.get_pymongo_collection().update_one(
            {"_id": user_id}, {"$unset": {f"credentials.{credential_id}": ""}}
        )

    async def prepare(self, now: datetime) -> None:
        await rebuild_once(now)


async def _list(user_id: PydanticObjectId, credentials: dict[str, list[str]]) -> None:
    """Add ``credentials`` to the account's list, by ``_id`` only (an upsert's filter is
    not served by FerretDB's index when the document is missing)."""
    owners = PasskeyOwner.get_pymongo_collection()
    fields = {f"credentials.{credential}": t for credential, t in credentials.items()}
    for _ in range(2):
        if (await owners.update_one({"_id": user_id}, {"$set": fields})).matched_count:
            return
        try:
            await owners.insert_one({"_id": user_id, "credentials": credentials})
            return
        except DuplicateKeyError:
            continue  # listed its first passkey a moment ago: add to that list
    raise RuntimeError("passkey owner listing kept changing")  # pragma: no cover


async def rebuild() -> int:
    """List every stored credential under its account; returns how many were missing.
    Two scans (credentials, lists) and writes by ``_id``: start-up only, never a request."""
    listed: dict[Any, set[str]] = {}
    async for row in PasskeyOwner.get_pymongo_collection().find({}):
        listed[row["_id"]] = set(row.get("credentials") or {})
    missing: dict[PydanticObjectId, dict[str, list[str]]] = defaultdict(dict)
    async for row in Passkey.get_pymongo_collection().find({}, {"user_id": 1, "transports": 1}):
        user_id = row.get("user_id")
        if user_id is not None and row["_id"] not in listed.get(user_id, set()):
            missing[user_id][row["_id"]] = list(row.get("transports") or [])
    for user_id, credentials in missing.items():
        await _list(user_id, credentials)
    return sum(len(credentials) for credentials in missing.values())


async def rebuild_once(now: datetime) -> int:
    """``rebuild`` unless it has run on this database already."""
    if await claimed_at(REBUILT_MARKER) is not None:
        return 0
    listed = await rebuild()
    await claim_once(REBUILT_MARKER, now=now, expires_at=datetime(9999, 1, 1, tzinfo=UTC))
    if listed:
        logger.bind(passkeys=listed).info("passkey owners listed")
    return listed


_INDEXES: dict[DatabaseFlavour, OwnerIndex] = {
    DatabaseFlavour.MONGODB: IndexedOwners(),
    DatabaseFlavour.FERRETDB: ListedOwners(),
}


def owner_index_for(flavour: DatabaseFlavour) -> OwnerIndex:
    return _INDEXES[flavour]


def active() -> OwnerIndex:
    """The index for the database the documents are bound to."""
    return _INDEXES[bound_flavour()]
