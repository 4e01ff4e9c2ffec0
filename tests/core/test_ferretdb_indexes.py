"""The embedded FerretDB's ``_id`` lookups use an index (scripts/ferretdb_indexes.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pymongo
import pytest
import services
from bson import ObjectId
from ferretdb_indexes import ID_EXPRESSION, add_id_indexes


def plan(sqlite_dir: Path, table_prefix: str) -> str:
    with sqlite3.connect(sqlite_dir / "db.sqlite") as connection:
        (table,) = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if name.startswith(table_prefix)
        ]
        rows = connection.execute(
            f'EXPLAIN QUERY PLAN SELECT 1 FROM "{table}" WHERE {ID_EXPRESSION} = ?', ("x",)
        ).fetchall()
    return " ".join(str(row[-1]) for row in rows)


@pytest.fixture
def ferretdb(tmp_path: Path) -> Iterator[tuple[services.Service, Path]]:
    service = services.ferretdb(tmp_path).start()
    try:
        yield service, tmp_path / "sqlite"
    finally:
        service.stop()


def test_id_lookups_search_an_index_and_ferretdb_keeps_working(
    ferretdb: tuple[services.Service, Path],
) -> None:
    service, sqlite_dir = ferretdb
    with pymongo.MongoClient(f"mongodb://127.0.0.1:{service.port}/") as client:
        things = client["db"]["things"]
        ids = [ObjectId() for _ in range(50)]
        things.insert_many([{"_id": i, "n": n} for n, i in enumerate(ids)])
        assert plan(sqlite_dir, "things").startswith("SCAN")

        assert add_id_indexes(sqlite_dir) == ["db." + things_table(sqlite_dir)]
        assert add_id_indexes(sqlite_dir) == []  # idempotent
        assert "USING INDEX" in plan(sqlite_dir, "things")

        # FerretDB, which did not create the index, reads and writes through it.
        assert things.find_one({"_id": ids[7]}) == {"_id": ids[7], "n": 7}
        things.update_one({"_id": ids[7]}, {"$set": {"n": 700}})
        assert things.find_one({"_id": ids[7]}) == {"_id": ids[7], "n": 700}
        things.insert_one({"_id": "by-string", "n": -1})
        assert things.find_one({"_id": "by-string"}) == {"_id": "by-string", "n": -1}
        things.delete_one({"_id": ids[8]})
        assert things.find_one({"_id": ids[8]}) is None
        assert things.count_documents({}) == 50
        things.drop()
        assert "things" not in client["db"].list_collection_names()


def things_table(sqlite_dir: Path) -> str:
    with sqlite3.connect(sqlite_dir / "db.sqlite") as connection:
        (name,) = connection.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'things%'"
        ).fetchone()
    return str(name)


def test_a_restart_on_existing_data_adds_the_index(tmp_path: Path) -> None:
    first = services.ferretdb(tmp_path).start()
    try:
        with pymongo.MongoClient(f"mongodb://127.0.0.1:{first.port}/") as client:
            client["db"]["things"].insert_one({"_id": "a"})
    finally:
        first.stop()
    second = services.ferretdb(tmp_path).start()
    try:
        assert "USING INDEX" in plan(tmp_path / "sqlite", "things")
        with pymongo.MongoClient(f"mongodb://127.0.0.1:{second.port}/") as client:
            assert client["db"]["things"].find_one({"_id": "a"}) == {"_id": "a"}
    finally:
        second.stop()


def test_make_run_creates_every_collection_with_its_index_before_the_api_writes(
    ferretdb: tuple[services.Service, Path],
) -> None:
    # A collection FerretDB made on its first write would lack the index until a restart.
    from domain.documents import DOCUMENT_MODELS

    service, sqlite_dir = ferretdb
    url = f"mongodb://127.0.0.1:{service.port}/"
    indexed = services.prepare_gatehouse_collections(url, "gh", sqlite_dir.parent)
    names = {str(getattr(m.Settings, "name", m.__name__)) for m in DOCUMENT_MODELS}
    assert len(indexed) == len(names)
    with pymongo.MongoClient(url) as client:
        assert names <= set(client["gh"].list_collection_names())
    with sqlite3.connect(sqlite_dir / "gh.sqlite") as connection:
        (table,) = connection.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'refresh_families%'"
        ).fetchone()
        rows = connection.execute(
            f'EXPLAIN QUERY PLAN SELECT 1 FROM "{table}" WHERE {ID_EXPRESSION} = ?', ("x",)
        ).fetchall()
    assert "USING INDEX" in " ".join(str(row[-1]) for row in rows)
    assert services.prepare_gatehouse_collections(url, "gh", sqlite_dir.parent) == []
