"""How the admin users page reads its users, on whichever database runs.

Two implementations behind one interface:

- ``IndexedListing`` (MongoDB and servers that behave like it): each page is one
  ``find`` on the ``status_role_created`` / ``email_unique`` indexes, and the total one
  count, both as fresh as the database.
- ``SnapshotListing`` (FerretDB 1.24, ``domain/admin/snapshot.py``): any filter or sort
  other than by exactly ``_id`` reads, decodes and sorts every user in Go, about 1.5 s
  for a page and as much again for its count at 10k users. The unfiltered page, the one
  every admin opens, is answered from a snapshot of the users instead; filters and
  search still query (and scan).

The flavour is the one the documents are bound to (``domain/core/database_flavour.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from beanie import PydanticObjectId

from domain.admin import repository
from domain.admin.user_filter import UserFilter, after_clause, filter_query
from domain.identity.documents import User


@dataclass(frozen=True, slots=True)
class UserPage:
    users: list[User]
    has_next: bool


class UserListing(Protocol):
    async def page(
        self, criteria: UserFilter, *, sort: str, after: str | None, limit: int
    ) -> UserPage:
        """Up to ``limit`` users after the cursor. Raises: ValidationError (cursor)."""
        ...

    async def count(self, criteria: UserFilter) -> int:
        """How many users match, whatever the page."""
        ...

    async def changed(self, user_id: PydanticObjectId) -> None:
        """This process changed the user: later pages show the change."""
        ...


class IndexedListing:
    """A query per page and one per count: the indexes make both cheap."""

    async def page(
        self, criteria: UserFilter, *, sort: str, after: str | None, limit: int
    ) -> UserPage:
        query = filter_query(criteria)
        if after:
            query = {"$and": [query, after_clause(sort, after)]}
        users = await repository.find_page(query, sort=sort, limit=limit + 1)
        return UserPage(users=users[:limit], has_next=len(users) > limit)

    async def count(self, criteria: UserFilter) -> int:
        return await repository.count(filter_query(criteria))

    async def changed(self, user_id: PydanticObjectId) -> None:
        return None
