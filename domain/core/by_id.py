"""Guarded writes to one document by ``_id``: the seam for FerretDB's filter pushdown.

FerretDB 1.24 hands a filter to SQLite only when it is exactly ``{_id: <value>}``; a
filter with any other key, even ``{_id: x, generation: 3}``, makes it read and decode
every row of the collection in Go until one matches (a miss reads them all). A guarded
write (apply only if the session is not revoked, only if the generation is still 3)
therefore cost a table scan per call: the refresh rotation's guard scanned every
session family, 5x slower than before it at the benchmark's size.

On MongoDB the guard stays in the filter, where it is atomic. On FerretDB the document
is read by ``_id``, the guard checked here, and the write sent by ``_id`` alone: two
indexed lookups instead of a scan. FerretDB applies a guarded update as a
read-modify-write already, so this is no weaker there; callers whose guard decides a
race decide it elsewhere too (a Redis claim), as they must on FerretDB anyway.

A guard is equality on top-level fields, ``None`` meaning null or missing (as in a
MongoDB filter). Nothing else is needed, and nothing else is emulated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from domain.core.database_flavour import DatabaseFlavour, bound_flavour

Guard = Mapping[str, Any]
MongoDocument = dict[str, Any]


def guard_holds(document: Mapping[str, Any], guard: Guard) -> bool:
    """Whether ``document`` satisfies the equality guard, as a MongoDB filter would."""
    return all(document.get(field) == value for field, value in guard.items())


async def update_by_id(
    collection: AsyncCollection[MongoDocument],
    document_id: Any,
    update: Mapping[str, Any],
    *,
    guard: Guard | None = None,
    as_read: Guard | None = None,
) -> bool:
    """Apply ``update`` to the document ``document_id`` if it satisfies ``guard``;
    True if a document was matched.

    ``as_read``: the guarded fields as this request already read them. On FerretDB the
    guard is then checked against those instead of a second read, for callers where
    something else (a Redis claim) decided the race; on MongoDB it changes nothing.
    """
    if not guard:
        result = await collection.update_one({"_id": document_id}, update)
        return result.matched_count == 1
    if bound_flavour() is DatabaseFlavour.MONGODB:
        result = await collection.update_one({"_id": document_id, **guard}, update)
        return result.matched_count == 1
    current = as_read if as_read is not None else await collection.find_one({"_id": document_id})
    if current is None or not guard_holds(current, guard):
        return False
    result = await collection.update_one({"_id": document_id}, update)
    return result.matched_count == 1


async def delete_by_id(
    collection: AsyncCollection[MongoDocument],
    document_id: Any,
    *,
    guard: Guard | None = None,
) -> bool:
    """Delete the document ``document_id`` if it satisfies ``guard``; True if deleted."""
    if guard and bound_flavour() is not DatabaseFlavour.MONGODB:
        current = await collection.find_one({"_id": document_id})
        if current is None or not guard_holds(current, guard):
            return False
        guard = None
    result = await collection.delete_one({"_id": document_id, **(guard or {})})
    return result.deleted_count == 1
