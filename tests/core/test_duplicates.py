"""The one mapping of unique-index violations (domain/core/duplicates.py), for both
databases' spellings, and against the real store the suite runs on."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from beanie import Document
from pymongo import ASCENDING, IndexModel
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, WriteError

from domain.core.db import create_mongo_client, init_database
from domain.core.duplicates import is_unique_violation, unique_violation_as
from domain.core.settings import Settings

FERRETDB_UPDATE = OperationFailure(
    "[msg_update.go:133 handler.(*Handler).updateDocument] constraint failed: UNIQUE "
    "constraint failed: index 'users_1a2b_email_unique' (2067)",
    code=1,
    details={
        "ok": 0.0,
        "errmsg": "constraint failed: UNIQUE constraint failed: index 'x_email_unique' (2067)",
        "code": 1,
        "codeName": "InternalError",
    },
)
MONGODB_DUPLICATE = DuplicateKeyError(
    "E11000 duplicate key error collection: db.users index: email_unique dup key",
    code=11000,
    details={"index": 0, "code": 11000, "errmsg": "E11000 duplicate key error"},
)


class TakenError(Exception):
    pass


def test_both_spellings_are_a_unique_violation() -> None:
    assert is_unique_violation(FERRETDB_UPDATE)
    assert is_unique_violation(MONGODB_DUPLICATE)
    assert is_unique_violation(WriteError("E11000 duplicate key", code=11000))
    bulk = BulkWriteError({"writeErrors": [{"index": 0, "code": 11000, "errmsg": "E11000"}]})
    assert is_unique_violation(bulk)


def test_other_failures_are_not() -> None:
    assert not is_unique_violation(OperationFailure("internal error", code=1, details={}))
    assert not is_unique_violation(OperationFailure("not primary", code=10107))
    mixed = BulkWriteError(
        {"writeErrors": [{"index": 0, "code": 11000}, {"index": 1, "code": 121, "errmsg": "x"}]}
    )
    assert not is_unique_violation(mixed)
    assert not is_unique_violation(ValueError("UNIQUE constraint failed"))


def test_the_context_manager_maps_only_violations() -> None:
    for error in (FERRETDB_UPDATE, MONGODB_DUPLICATE):
        with pytest.raises(TakenError) as raised, unique_violation_as(TakenError):
            raise error
        assert raised.value.__cause__ is error
    other = OperationFailure("disk full", code=14031)
    with pytest.raises(OperationFailure) as kept, unique_violation_as(TakenError):
        raise other
    assert kept.value is other


class Badge(Document):
    code: str

    class Settings:
        name = "badges"
        indexes = [IndexModel([("code", ASCENDING)], name="code_unique", unique=True)]


async def test_real_insert_and_update_collisions_map_to_taken(
    make_settings: Callable[..., Settings],
) -> None:
    """An update that collides is the case FerretDB reports as a generic failure."""
    settings = make_settings()
    client = create_mongo_client(settings)
    try:
        await init_database(client[settings.mongodb_database], [Badge])
        await Badge(code="a").insert()
        second = Badge(code="b")
        await second.insert()
        with pytest.raises(TakenError), unique_violation_as(TakenError):
            await Badge(code="a").insert()
        with pytest.raises(TakenError), unique_violation_as(TakenError):
            await Badge.find_one(Badge.id == second.id).update({"$set": {"code": "a"}})
        assert (await Badge.get(second.id)) is not None
        assert (await Badge.get(second.id)).code == "b"  # type: ignore[union-attr]
    finally:
        await client.close()
