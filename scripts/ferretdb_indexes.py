"""Give FerretDB's SQLite tables an index on the expression FerretDB looks ``_id`` up with.

FerretDB 1.24's SQLite backend pushes a filter of exactly ``{_id: <value>}`` down to
SQLite as ``_ferretdb_sjson->'$._id' = ?`` but builds its own ``_id`` index on
``_ferretdb_sjson->"_id"``. SQLite uses an expression index only for the expression
as written, so every lookup and update by ``_id`` scanned the whole table
(``EXPLAIN QUERY PLAN``: ``SCAN``): 5 ms per read and 20 ms per update at a thousand
documents, seconds at a million. An index on the exact expression makes them a B-tree
search (1.6 ms either way, flat with size).

FerretDB neither knows of nor minds the extra index: SQLite keeps it current on every
write and drops it with its table. It is added to tables that exist when this runs:
before FerretDB starts on a data folder used before, and by the benchmark after it
seeds. A collection FerretDB creates later (on its first write) would go without it until
the next restart, so ``make run`` first creates every collection Gatehouse uses and
indexes them (``prepare_collections``). MongoDB needs none of this: its ``_id`` index
serves these queries.

    uv run python scripts/ferretdb_indexes.py <sqlite folder>
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

INDEX_SUFFIX = "__gatehouse_id_expr"
ID_EXPRESSION = "_ferretdb_sjson->'$._id'"


def _collection_tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_ferretdb%' "
        "ESCAPE '\\' AND sql LIKE '%_ferretdb_sjson%'"
    ).fetchall()
    return [str(name) for (name,) in rows]


def add_id_indexes(sqlite_dir: Path) -> list[str]:
    """Create the missing ``_id`` expression indexes; return the tables that got one."""
    added: list[str] = []
    for database in sorted(sqlite_dir.glob("*.sqlite")):
        connection = sqlite3.connect(database, timeout=60)
        try:
            existing = {
                str(name)
                for (name,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'index'"
                )
            }
            for table in _collection_tables(connection):
                index = f"{table}{INDEX_SUFFIX}"
                if index in existing:
                    continue
                connection.execute(f'CREATE INDEX "{index}" ON "{table}" ({ID_EXPRESSION})')
                added.append(f"{database.stem}.{table}")
            connection.commit()
        finally:
            connection.close()
    return added


def prepare_collections(
    mongodb_url: str, database: str, names: list[str], sqlite_dir: Path
) -> list[str]:
    """Create the named collections on a running FerretDB (those missing), then give every
    table its ``_id`` index; the tables that got one."""
    import pymongo  # only here: the index script itself needs nothing but the standard library

    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        mongodb_url, serverSelectionTimeoutMS=10_000
    )
    with client:
        existing = set(client[database].list_collection_names())
        for name in names:
            if name not in existing:
                client[database].create_collection(name)
    return add_id_indexes(sqlite_dir)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    added = add_id_indexes(Path(argv[0]))
    print(f"_id expression index added to {len(added)} table(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
