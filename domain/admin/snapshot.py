"""The users page on FerretDB: the unfiltered listing answered from a snapshot.

FerretDB 1.24 hands SQLite nothing but a filter of exactly ``{_id: value}``, and a
limit only when there is neither filter nor sort (``$natural`` order only on capped
collections): the page's status filter and created-time sort read, decode and sort
every user in Go, and its count reads them all again, about 3 s at 10k users. No
query shape avoids that, so the page every admin opens (no filter but, perhaps,
deleted users included) reads every user once into process memory, without password
material, sorted in each order on first use; a page is then a bisect and a short walk,
and the count a number, with no database command at all.

The price is freshness, bounded:

- a snapshot younger than ``fresh_seconds`` answers as it is;
- up to ``max_age_seconds`` it still answers, while one rebuild runs in the background;
- older, or none yet: the request waits for the rebuild (concurrent requests share it).

Under steady use the page lags the database by at most ``fresh_seconds`` plus one
rebuild (~1.5 s at 10k users), and never by more than ``max_age_seconds``: a user
who just signed up may take that long to appear, as in the eventually consistent user
search of Auth0 or Okta. What this process's admin operations change is shown at once
(``changed``: one read by ``_id``). Filters and search bypass the snapshot and query,
as fresh as the database; on MongoDB the indexes serve every page
(``domain/admin/listing.py``).
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import time
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from loguru import logger

from domain.admin import repository
from domain.admin.listing import IndexedListing, UserPage
from domain.admin.user_filter import (
    LISTED_STATUSES,
    SORT_FIELD,
    UserFilter,
    decode_cursor,
    is_unfiltered,
)

FRESH_SECONDS = 5.0
MAX_AGE_SECONDS = 30.0

Row = dict[str, Any]
Key = tuple[Any, ObjectId]


def _listed(row: Row) -> bool:
    return row.get("status") in LISTED_STATUSES


@dataclass(slots=True)
class _Snapshot:
    """Every user as read at ``taken_at`` (monotonic), with later patches applied."""

    taken_at: float
    rows: dict[ObjectId, Row]
    listed: int
    # Per sort field, every user's (value, _id) in ascending order, made on first use.
    orders: dict[str, list[Key]] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: list[Row], taken_at: float) -> _Snapshot:
        by_id = {row["_id"]: row for row in rows}
        return cls(taken_at, by_id, sum(1 for row in by_id.values() if _listed(row)))

    def order(self, name: str) -> list[Key]:
        if name not in self.orders:
            self.orders[name] = sorted((row[name], oid) for oid, row in self.rows.items())
        return self.orders[name]

    def put(self, user_id: ObjectId, row: Row | None) -> None:
        """Replace (or, with None, remove) one user, keeping the counts and orders."""
        old = self.rows.pop(user_id, None)
        if old is not None:
            self.listed -= _listed(old)
            for name, keys in self.orders.items():
                index = bisect_left(keys, (old[name], user_id))
                if index < len(keys) and keys[index] == (old[name], user_id):
                    del keys[index]
        if row is not None:
            self.rows[user_id] = row
            self.listed += _listed(row)
            for name, keys in self.orders.items():
                insort(keys, (row[name], user_id))

    def page(self, criteria: UserFilter, *, sort: str, after: str | None, limit: int) -> UserPage:
        name = SORT_FIELD[sort]
        keys = self.order(name)
        step = -1 if sort.endswith("DESC") else 1
        if after:
            bound = decode_cursor(sort, after)
            index = bisect_left(keys, bound) - 1 if step < 0 else bisect_right(keys, bound)
        else:
            index = len(keys) - 1 if step < 0 else 0
        found: list[Row] = []
        while 0 <= index < len(keys) and len(found) <= limit:
            row = self.rows[keys[index][1]]
            if criteria.include_deleted or _listed(row):
                found.append(row)
            index += step
        users = [repository.user_of_row(row) for row in found[:limit]]
        return UserPage(users=users, has_next=len(found) > limit)

    def count(self, criteria: UserFilter) -> int:
        return len(self.rows) if criteria.include_deleted else self.listed


class SnapshotListing:
    """The unfiltered page from a snapshot; anything else through ``IndexedListing``."""

    def __init__(
        self,
        *,
        fresh_seconds: float = FRESH_SECONDS,
        max_age_seconds: float = MAX_AGE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fresh = fresh_seconds
        self._max_age = max_age_seconds
        self._monotonic = monotonic
        self._queried = IndexedListing()
        self._snapshot: _Snapshot | None = None
        self._building: asyncio.Task[_Snapshot] | None = None
        # Users this process changed, with when: a rebuild that started before a change
        # may have read the user before it, so the change is applied again on top.
        self._changes: list[tuple[float, ObjectId, Row | None]] = []

    async def page(
        self, criteria: UserFilter, *, sort: str, after: str | None, limit: int
    ) -> UserPage:
        if not is_unfiltered(criteria):
            return await self._queried.page(criteria, sort=sort, after=after, limit=limit)
        if after:
            decode_cursor(sort, after)  # a forged cursor is refused before any wait
        snapshot = await self._current()
        return snapshot.page(criteria, sort=sort, after=after, limit=limit)

    async def count(self, criteria: UserFilter) -> int:
        if not is_unfiltered(criteria):
            return await self._queried.count(criteria)
        return (await self._current()).count(criteria)

    async def changed(self, user_id: PydanticObjectId) -> None:
        if self._snapshot is None and self._building is None:
            return  # the first snapshot will read the user as it is now
        row = await repository.listing_row(user_id)
        self._changes.append((self._monotonic(), user_id, row))
        if self._snapshot is not None:
            self._snapshot.put(user_id, row)

    async def _current(self) -> _Snapshot:
        snapshot = self._snapshot
        age = math.inf if snapshot is None else self._monotonic() - snapshot.taken_at
        if snapshot is not None and age <= self._max_age:
            if age > self._fresh and self._building is None:
                # Not this request's work: no request id, not in its round trips.
                self._building = self._start(contextvars.Context())
            return snapshot
        if self._building is None:
            self._building = self._start(contextvars.copy_context())
        # Shielded: a client that goes away does not cancel the rebuild others await.
        return await asyncio.shield(self._building)

    def _start(self, context: contextvars.Context) -> asyncio.Task[_Snapshot]:
        task = asyncio.get_running_loop().create_task(self._build(), context=context)
        task.add_done_callback(_log_failure)
        return task

    async def _build(self) -> _Snapshot:
        started = self._monotonic()
        try:
            snapshot = _Snapshot.of(await repository.all_listing_rows(), started)
            self._changes = [c for c in self._changes if c[0] >= started]
            for _, user_id, row in self._changes:
                snapshot.put(user_id, row)
            self._snapshot = snapshot
            return snapshot
        finally:
            self._building = None


def _log_failure(task: asyncio.Task[_Snapshot]) -> None:
    """A failed rebuild keeps the snapshot there was (the next request tries again);
    awaiting requests get the error, and it is logged even when none was waiting."""
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.warning("users page snapshot not rebuilt: {!r}", error)
