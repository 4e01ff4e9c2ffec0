"""One place that recognises a unique-index violation, from either database.

MongoDB reports one as a duplicate-key error (code 11000, also inside a bulk write's
``writeErrors``). FerretDB 1.24 does the same for an insert, but an update, a
replacement or a findAndModify that collides comes back as a generic failure (code 1,
``InternalError``) whose message carries SQLite's "UNIQUE constraint failed". Every
write that can hit a unique index maps its error through here, so a collision is the
domain's "taken" answer on both stores, never an internal error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

# 11000 is the duplicate-key code; 11001 and 12582 are older spellings MongoDB still
# documents for the same thing.
DUPLICATE_KEY_CODES = frozenset({11000, 11001, 12582})
_FERRETDB_UNIQUE = "UNIQUE constraint failed"


def _message(details: object) -> str:
    if isinstance(details, dict):
        return str(details.get("errmsg", ""))
    return ""


def is_unique_violation(error: BaseException) -> bool:
    """Whether ``error`` says a write broke a unique index (and nothing else)."""
    if isinstance(error, DuplicateKeyError):
        return True
    if isinstance(error, BulkWriteError):
        write_errors = (error.details or {}).get("writeErrors") or []
        return bool(write_errors) and all(
            e.get("code") in DUPLICATE_KEY_CODES or _FERRETDB_UNIQUE in str(e.get("errmsg", ""))
            for e in write_errors
        )
    if isinstance(error, OperationFailure):
        if error.code in DUPLICATE_KEY_CODES:
            return True
        return _FERRETDB_UNIQUE in _message(error.details) or _FERRETDB_UNIQUE in str(error)
    return False


@contextmanager
def unique_violation_as(make_error: Callable[[], Exception]) -> Iterator[None]:
    """Raise ``make_error()`` (chained) when the block breaks a unique index; any other
    database error goes through untouched."""
    try:
        yield
    except OperationFailure as error:
        if is_unique_violation(error):
            raise make_error() from error
        raise
