"""Which MongoDB-wire server Gatehouse talks to, and the one place its quirks are listed.

Gatehouse runs on MongoDB (or another server whose indexes behave like MongoDB's, such
as SecantusDB) and on FerretDB 1.24 with its SQLite backend, the embedded default. The
flavour is detected at start-up from ``buildInfo`` (FerretDB's reply carries a
``ferretdbVersion`` key; MongoDB's and SecantusDB's do not), or set with
``GATEHOUSE_DATABASE_FLAVOUR=auto|mongodb|ferretdb``.

What differs on FerretDB 1.24, and where it is handled:

- Only ``_id`` lookups use an index; any other filter is matched in Go over every row.
  Sign-in emails are therefore looked up through a second, ``_id``-keyed collection
  (``domain/identity/identifiers.py``), chosen per flavour in
  ``domain/identity/email_lookup.py``. On MongoDB the users' unique email index does it.
  An account's passkeys and linked identities are found the same way: a per-account
  ``_id``-keyed listing on FerretDB, the records' ``user`` index on MongoDB
  (``domain/core/owner_listing.py``). Reads about one account (``me``) use exactly
  ``{_id}``, where a page of accounts may use ``$in``.
- Only a filter of exactly ``{_id: <value>}`` is pushed down to SQLite: a guarded
  write such as ``{_id: x, generation: 3}`` reads every row until one matches. Writes
  guarded by a condition go through ``domain/core/by_id.py`` (the guard checked after
  an ``_id`` read on FerretDB, kept in the filter on MongoDB); reads by ``_id`` check
  any further condition in Python.
- Sorting and paging read every row too (``$natural`` is refused on ordinary
  collections; a limit is pushed down only without filter and sort): the unfiltered
  admin users page is served from a per-process snapshot on FerretDB
  (``domain/admin/listing.py``, ``domain/admin/snapshot.py``).
- Its SQLite tables lack an index on ``_id`` itself; ``scripts/ferretdb_indexes.py``
  adds one before FerretDB starts (``make run``, the tests, the benchmark).
- A unique-index violation on an update comes back as a generic error carrying
  SQLite's "UNIQUE constraint failed": ``domain/core/duplicates.py`` recognises both
  spellings, whatever the flavour (the check costs nothing on MongoDB).
- Re-sending existing indexes in one ``createIndexes`` crashes it: ``domain/core/db.py``
  creates each missing index on its own, on every flavour (harmless on MongoDB).
- No TTL indexes: expired records are deleted by the maintenance job
  (``domain/maintenance/``) on every flavour, so one mechanism serves both.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase


class DatabaseFlavour(StrEnum):
    MONGODB = "mongodb"
    FERRETDB = "ferretdb"


class FlavourSetting(StrEnum):
    AUTO = "auto"
    MONGODB = "mongodb"
    FERRETDB = "ferretdb"


# Beanie binds its document classes to one database for the whole process; the
# flavour is a property of that binding, so it is kept beside it (set by
# ``domain.core.db.init_database``).
_bound = DatabaseFlavour.MONGODB


def flavour_of_build_info(build_info: dict[str, Any]) -> DatabaseFlavour:
    if "ferretdbVersion" in build_info:
        return DatabaseFlavour.FERRETDB
    return DatabaseFlavour.MONGODB


async def resolve_flavour(
    database: AsyncDatabase[dict[str, Any]], setting: FlavourSetting = FlavourSetting.AUTO
) -> DatabaseFlavour:
    """The configured flavour, or (``auto``) the one ``buildInfo`` announces."""
    if setting is not FlavourSetting.AUTO:
        return DatabaseFlavour(setting.value)
    return flavour_of_build_info(await database.command("buildInfo"))


def bind_flavour(flavour: DatabaseFlavour) -> None:
    global _bound
    _bound = flavour


def bound_flavour() -> DatabaseFlavour:
    """The flavour of the database Beanie's documents are bound to."""
    return _bound
