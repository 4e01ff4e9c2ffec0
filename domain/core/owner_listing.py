"""What an account owns of a kind of record (its passkeys, its linked provider
identities), found without a scan on whichever database runs.

Such records are keyed by their own ids, so a sign-in finds one by ``_id``; the account's
list of them is read by ``user_id``. Two implementations of that read:

- ``IndexedOwners`` (MongoDB and servers that behave like it): the records' ``user``
  index answers a ``find`` by ``user_id``; nothing else to keep.
- ``ListedOwners`` (FerretDB 1.24, which serves no filter but ``{_id}`` from an index):
  a find by ``user_id`` reads and decodes every account's records in Go, so each read
  grew with the deployment. Instead each account that owns some has a listing document
  keyed by its id, mapping each record's id to one list field of it (a passkey's
  transports): one read by ``_id`` answers "which ids, and what to offer", the same
  read for an account with records, one without, or no account (no timing says which);
  the records themselves are then read by ``_id``.

A record is listed before it is stored (and again after: a removal of the same id may
have run meanwhile) and unlisted after it is deleted, unless it is stored again for the
account by then, so a stored record is always listed. Writes to one account's listing
take a lease first (FerretDB's updates are a read and a write back, and two at once can
lose one's change). A listed id whose record is gone (a deletion that stopped
halfway) or is another account's is skipped by every read of the records, and only the
"which ids" read (a sign-in's options, whether a method is offered) can still name it.
``rebuild_once`` lists, once per database at start-up, the records stored before the
listing existed (marked in ``claims``).
"""

from __future__ import annotations

import asyncio
import base64
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from beanie import Document, PydanticObjectId
from loguru import logger
from pydantic import Field
from pymongo.errors import OperationFailure

from domain.core.by_id import delete_by_id
from domain.core.claims import Claim, claim_once, claimed_at
from domain.core.database_flavour import DatabaseFlavour, bound_flavour
from domain.core.duplicates import is_unique_violation

Item = TypeVar("Item", bound=Document)
# How long a listing's writer may hold it before another takes it over (a crashed one).
LEASE = timedelta(seconds=10)
LEASE_WAIT_SECONDS = 0.01
# A record's id and the values of its listed field.
Entry = tuple[str, list[str]]
FIELD = "entries"


class OwnerListingDocument(Document):
    """An account's listing: each record's id (in base64url, a field name) -> the values
    of its listed field. Each kind has its own collection (a subclass naming it)."""

    id: PydanticObjectId = Field(alias="_id")  # the account
    entries: dict[str, list[str]] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OwnedKind(Generic[Item]):
    """A kind of record an account owns."""

    # The records, each with a ``user_id`` and a ``created_at``, keyed by their own string ids.
    items: type[Item]
    # The listing documents (FerretDB), keyed by the account: ``{_id, entries: {id: [...]}}``.
    owners: type[OwnerListingDocument]
    # A list-of-strings field of each record kept in its entry ("" for none).
    listed_field: str
    # The claims key that says the listing was rebuilt on this database.
    marker: str


class OwnerIndex(Protocol[Item]):
    @property
    def kind(self) -> OwnedKind[Item]: ...

    async def items_of(self, user_id: PydanticObjectId) -> list[Item]:
        """The account's stored records, in no particular order."""
        ...

    async def entries_of(self, user_id: PydanticObjectId) -> list[Entry]:
        """The account's record ids, each with its listed field's values."""
        ...

    async def owners_among(self, user_ids: list[PydanticObjectId]) -> set[PydanticObjectId]:
        """Which of these accounts own one: one read for them all."""
        ...

    async def listing(self, user_id: PydanticObjectId, item_id: str, values: list[str]) -> None:
        """Before the record is stored."""
        ...

    async def unlisting(self, user_id: PydanticObjectId, item_id: str) -> None:
        """After the record is deleted (or found to be another account's)."""
        ...

    async def prepare(self, now: datetime) -> None:
        """Start-up work before the first read."""
        ...


class _OwnerIndexBase(Generic[Item]):
    def __init__(self, kind: OwnedKind[Item]) -> None:
        self._kind = kind

    @property
    def kind(self) -> OwnedKind[Item]:
        return self._kind


class IndexedOwners(_OwnerIndexBase[Item]):
    """The records' ``user`` index is the listing."""

    async def items_of(self, user_id: PydanticObjectId) -> list[Item]:
        return await self._kind.items.find({"user_id": user_id}).to_list()

    async def entries_of(self, user_id: PydanticObjectId) -> list[Entry]:
        field = self._kind.listed_field
        projection = {field: 1} if field else {"_id": 1}
        cursor = self._kind.items.get_pymongo_collection().find({"user_id": user_id}, projection)
        return [(row["_id"], _values(row, field)) async for row in cursor]

    async def owners_among(self, user_ids: list[PydanticObjectId]) -> set[PydanticObjectId]:
        if not user_ids:
            return set()
        cursor = self._kind.items.get_pymongo_collection().find(
            {"user_id": {"$in": user_ids}}, {"user_id": 1, "_id": 0}
        )
        return {PydanticObjectId(row["user_id"]) async for row in cursor}

    async def listing(self, user_id: PydanticObjectId, item_id: str, values: list[str]) -> None:
        return None

    async def unlisting(self, user_id: PydanticObjectId, item_id: str) -> None:
        return None

    async def prepare(self, now: datetime) -> None:
        return None


class ListedOwners(_OwnerIndexBase[Item]):
    """An ``_id``-keyed listing per account, for a database that indexes nothing else."""

    async def items_of(self, user_id: PydanticObjectId) -> list[Item]:
        entries = await self.entries_of(user_id)
        found = await asyncio.gather(*(self._kind.items.get(item_id) for item_id, _ in entries))
        return [item for item in found if item is not None and _owner(item) == user_id]

    async def entries_of(self, user_id: PydanticObjectId) -> list[Entry]:
        row = await self._kind.owners.get_pymongo_collection().find_one({"_id": user_id})
        entries: dict[str, list[str]] = (row or {}).get(FIELD) or {}
        return [(_item_id(key), list(values)) for key, values in entries.items()]

    async def owners_among(self, user_ids: list[PydanticObjectId]) -> set[PydanticObjectId]:
        if not user_ids:
            return set()
        owners = self._kind.owners.get_pymongo_collection()
        if len(user_ids) == 1:  # ``me``: exactly {_id}, the one filter FerretDB indexes
            rows = [row] if (row := await owners.find_one({"_id": user_ids[0]})) else []
        else:  # a page of accounts: one read of the listings (smaller than the records)
            rows = await owners.find({"_id": {"$in": user_ids}}).to_list()
        return {PydanticObjectId(row["_id"]) for row in rows if row.get(FIELD)}

    async def listing(self, user_id: PydanticObjectId, item_id: str, values: list[str]) -> None:
        await _list(self._kind, user_id, {item_id: values})

    async def unlisting(self, user_id: PydanticObjectId, item_id: str) -> None:
        async with _leased(self._kind, user_id):
            # The same id stored again for this account meanwhile (a removal racing a
            # re-registration) stays listed: only what is not stored leaves.
            if _owner(await self._kind.items.get(item_id)) == user_id:
                return
            await self._kind.owners.get_pymongo_collection().update_one(
                {"_id": user_id}, {"$unset": {f"{FIELD}.{_field(item_id)}": ""}}
            )

    async def prepare(self, now: datetime) -> None:
        await rebuild_once(self._kind, now)


async def store_listed(
    index: OwnerIndex[Item], item: Item, user_id: PydanticObjectId, item_id: str, values: list[str]
) -> bool:
    """Store ``item`` listed under its account; False when its id is already stored (for
    this account or another: the listing then keeps only what it stands behind)."""
    await index.listing(user_id, item_id, values)
    try:
        await item.insert()
    except OperationFailure as error:
        if not is_unique_violation(error):
            raise
        await index.unlisting(user_id, item_id)  # kept if it is this account's already
        return False
    # Again: a removal of this id that ran meanwhile may have unlisted it.
    await index.listing(user_id, item_id, values)
    return True


async def delete_listed(index: OwnerIndex[Item], item_id: str, user_id: PydanticObjectId) -> bool:
    """Delete the account's record ``item_id`` and unlist it; False if it was not theirs."""
    items = index.kind.items.get_pymongo_collection()
    if not await delete_by_id(items, item_id, guard={"user_id": user_id}):
        return False
    await index.unlisting(user_id, item_id)
    return True


def _field(item_id: str) -> str:
    """The entry's key: the id in base64url, so no "." or "$" a provider's subject may
    hold can make a path of it."""
    return base64.urlsafe_b64encode(item_id.encode()).rstrip(b"=").decode()


def _item_id(field: str) -> str:
    return base64.urlsafe_b64decode(field + "=" * (-len(field) % 4)).decode()


def _values(row: dict[str, Any], field: str) -> list[str]:
    return [str(value) for value in (row.get(field) or [])] if field else []


def _owner(item: Document | None) -> object:
    return getattr(item, "user_id", None)


@asynccontextmanager
async def _leased(kind: OwnedKind[Any], user_id: PydanticObjectId) -> AsyncIterator[None]:
    """One writer of an account's listing at a time. FerretDB applies an update as a read
    of the whole document and a write of it back, so two updates of one listing at once
    (a passkey added in one tab and another removed in a second, a rebuild beside them)
    can each write back a document without the other's change. The lease is a claim by
    ``_id``, which both flavours grant to one inserter; a holder that died is taken over
    once its lease has run out. Wall-clock time: a lease outlives any injected clock."""
    key = f"lease:{kind.owners.get_collection_name()}:{user_id}"
    while True:
        now = datetime.now(UTC)
        if await claim_once(key, now=now, expires_at=now + LEASE):
            break
        held_since = await claimed_at(key)
        if held_since is not None and held_since + LEASE < now:
            await delete_by_id(
                Claim.get_pymongo_collection(), key, guard={"created_at": held_since}
            )
            continue
        await asyncio.sleep(LEASE_WAIT_SECONDS)
    try:
        yield
    finally:
        await Claim.get_pymongo_collection().delete_one({"_id": key})


async def _list(
    kind: OwnedKind[Any], user_id: PydanticObjectId, entries: dict[str, list[str]]
) -> None:
    """Add ``entries`` to the account's listing (made by this write if it has none)."""
    fields = {f"{FIELD}.{_field(item_id)}": values for item_id, values in entries.items()}
    async with _leased(kind, user_id):
        await kind.owners.get_pymongo_collection().update_one(
            {"_id": user_id}, {"$set": fields}, upsert=True
        )


async def rebuild(kind: OwnedKind[Any]) -> int:
    """List every stored record under its account; returns how many were missing. Two
    scans (records, listings) and writes by ``_id``: start-up only, never a request."""
    listed: dict[Any, set[str]] = {}
    async for row in kind.owners.get_pymongo_collection().find({}):
        listed[row["_id"]] = {_item_id(key) for key in row.get(FIELD) or {}}
    missing: dict[PydanticObjectId, dict[str, list[str]]] = defaultdict(dict)
    projection = {"user_id": 1, **({kind.listed_field: 1} if kind.listed_field else {})}
    async for row in kind.items.get_pymongo_collection().find({}, projection):
        user_id = row.get("user_id")
        if user_id is not None and row["_id"] not in listed.get(user_id, set()):
            missing[user_id][row["_id"]] = _values(row, kind.listed_field)
    for user_id, entries in missing.items():
        await _list(kind, user_id, entries)
    return sum(len(entries) for entries in missing.values())


async def rebuild_once(kind: OwnedKind[Any], now: datetime) -> int:
    """``rebuild`` unless it has run on this database already."""
    if await claimed_at(kind.marker) is not None:
        return 0
    listed = await rebuild(kind)
    await claim_once(kind.marker, now=now, expires_at=datetime(9999, 1, 1, tzinfo=UTC))
    if listed:
        logger.bind(records=listed, listing=kind.owners.get_collection_name()).info(
            "owner listing rebuilt"
        )
    return listed


class OwnerIndexes(Generic[Item]):
    """Both implementations for one kind; ``active()`` is the bound database's."""

    def __init__(self, kind: OwnedKind[Item]) -> None:
        self.kind = kind
        self._by_flavour: dict[DatabaseFlavour, OwnerIndex[Item]] = {
            DatabaseFlavour.MONGODB: IndexedOwners(kind),
            DatabaseFlavour.FERRETDB: ListedOwners(kind),
        }

    def for_flavour(self, flavour: DatabaseFlavour) -> OwnerIndex[Item]:
        return self._by_flavour[flavour]

    def active(self) -> OwnerIndex[Item]:
        return self._by_flavour[bound_flavour()]

    async def of_user(self, user_id: PydanticObjectId) -> list[Item]:
        """The account's records, oldest first (ties by id: the database promises no order)."""
        found = await self.active().items_of(user_id)
        return sorted(found, key=lambda item: (getattr(item, "created_at", None), str(item.id)))

    async def count_of_user(self, user_id: PydanticObjectId) -> int:
        return len(await self.active().items_of(user_id))
