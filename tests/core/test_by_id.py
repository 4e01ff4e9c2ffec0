"""Guarded writes by ``_id`` (domain/core/by_id.py) against the real server of the leg.

On FerretDB a filter with any key besides ``_id`` makes the server read every row, so
the seam sends ``_id``-only filters there and checks the guard itself; on MongoDB the
guard stays in the filter. Either way the outcome must be what MongoDB's guarded
``update_one`` / ``delete_one`` gives.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from domain.core.by_id import delete_by_id, guard_holds, update_by_id
from domain.core.database_flavour import DatabaseFlavour, bound_flavour
from domain.core.settings import Settings
from tests.support.commands import COMMANDS

Doc = dict[str, Any]


@pytest.fixture
async def collection(settings: Settings, database: None) -> AsyncIterator[AsyncCollection[Doc]]:
    COMMANDS.install()  # before the client below is made
    client: AsyncMongoClient[Doc] = AsyncMongoClient(
        settings.mongodb_url.get_secret_value(), serverSelectionTimeoutMS=5000, tz_aware=True
    )
    coll = client[settings.mongodb_database][f"by_id_{ObjectId()}"]
    # Rows before and after the target: a scan would have to read them.
    await coll.insert_many([{"_id": ObjectId(), "generation": 1} for _ in range(20)])
    yield coll
    await coll.drop()
    await client.close()


def test_a_guard_is_equality_with_none_meaning_null_or_missing() -> None:
    document = {"_id": 1, "generation": 3, "revoked_at": None}
    assert guard_holds(document, {"generation": 3, "revoked_at": None})
    assert guard_holds({"_id": 1}, {"revoked_at": None})
    assert not guard_holds(document, {"generation": 4})
    assert not guard_holds({"_id": 1, "revoked_at": "then"}, {"revoked_at": None})


async def test_a_guarded_update_applies_only_while_the_guard_holds(
    collection: AsyncCollection[Doc],
) -> None:
    target = ObjectId()
    await collection.insert_one({"_id": target, "generation": 3})
    with COMMANDS.counting() as sent:
        landed = await update_by_id(
            collection, target, {"$set": {"generation": 4}}, guard={"generation": 3}
        )
    assert landed
    again = await update_by_id(
        collection, target, {"$set": {"generation": 5}}, guard={"generation": 3}
    )
    assert not again
    assert (await collection.find_one({"_id": target}) or {})["generation"] == 4
    assert not await update_by_id(
        collection, ObjectId(), {"$set": {"generation": 1}}, guard={"generation": 3}
    )
    assert await update_by_id(collection, target, {"$set": {"seen": True}})
    if bound_flavour() is DatabaseFlavour.FERRETDB:
        assert [name for name, _ in sent] == ["find", "update"], sent
    else:
        assert [name for name, _ in sent] == ["update"], sent


async def test_a_missing_field_satisfies_a_none_guard(collection: AsyncCollection[Doc]) -> None:
    target = ObjectId()
    await collection.insert_one({"_id": target})
    assert await update_by_id(
        collection, target, {"$set": {"revoked_at": "now"}}, guard={"revoked_at": None}
    )
    assert not await update_by_id(
        collection, target, {"$set": {"revoked_at": "later"}}, guard={"revoked_at": None}
    )
    assert (await collection.find_one({"_id": target}) or {})["revoked_at"] == "now"


async def test_a_guarded_delete_removes_only_a_matching_document(
    collection: AsyncCollection[Doc],
) -> None:
    owner, other = ObjectId(), ObjectId()
    await collection.insert_one({"_id": "ada@example.com", "user_id": owner})
    assert not await delete_by_id(collection, "ada@example.com", guard={"user_id": other})
    assert await collection.find_one({"_id": "ada@example.com"}) is not None
    assert await delete_by_id(collection, "ada@example.com", guard={"user_id": owner})
    assert await collection.find_one({"_id": "ada@example.com"}) is None
    assert not await delete_by_id(collection, "ada@example.com")
