"""Indexes are created one at a time and a restart (re-initialisation) never fails."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from beanie import Document
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from domain.core.db import create_mongo_client, ensure_indexes, init_database
from domain.core.settings import Settings


class Widget(Document):
    code: str
    owner: str
    created: int

    class Settings:
        name = "widgets"
        indexes = [
            IndexModel([("code", ASCENDING)], name="code_unique", unique=True),
            IndexModel([("owner", ASCENDING), ("created", DESCENDING)], name="owner_created"),
            IndexModel([("created", DESCENDING)], name="created"),
        ]


async def test_indexes_created_then_restart_is_a_no_op(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    client = create_mongo_client(settings)
    try:
        database = client[settings.mongodb_database]
        await init_database(database, [Widget])
        names = set((await Widget.get_pymongo_collection().index_information()).keys())
        assert {"code_unique", "owner_created", "created"} <= names

        # A second and third start: nothing to create, nothing re-sent, no crash.
        assert await ensure_indexes([Widget]) == []
        await init_database(database, [Widget])

        await Widget(code="a", owner="o", created=1).insert()
        with pytest.raises(DuplicateKeyError):
            await Widget(code="a", owner="p", created=2).insert()
    finally:
        await client.close()
