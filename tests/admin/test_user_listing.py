"""The users page's two listings on the real database (both legs run both).

The snapshot (domain/admin/snapshot.py, FerretDB's path) must page exactly as the
indexed queries (MongoDB's path) do, for every sort, cursor and the deleted-users
switch; answer without a database command while fresh; rebuild in the background once
stale and before answering once too old; show this process's admin changes at once; and
leave filters to the queries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from beanie import PydanticObjectId

from domain.admin.listing import IndexedListing, UserListing
from domain.admin.snapshot import SnapshotListing
from domain.admin.user_filter import UserFilter, user_cursor
from domain.core.errors import ValidationError
from domain.core.roles import Role
from domain.identity.documents import User, UserStatus
from tests.support.commands import COMMANDS

BASE = datetime(2025, 3, 1, tzinfo=UTC)
SORTS = ("CREATED_DESC", "CREATED_ASC", "EMAIL_ASC")


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def a_user(name: str, created: datetime, **fields: object) -> User:
    return User(
        email=f"{name}@example.org",
        first_name="List",
        last_name=name,
        password_hash="$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        password_changed_at=BASE,
        created_at=created,
        updated_at=BASE,
        **fields,
    )


@pytest.fixture(scope="module", autouse=True)
def _listener() -> None:
    COMMANDS.install()  # before the database fixture makes its client


@pytest.fixture(scope="module")
async def seeded(database: None) -> list[User]:
    users = [
        a_user(
            f"u{(i * 37) % 64:02d}",  # email order unlike creation order
            BASE + timedelta(minutes=i // 4),  # four users per timestamp: ties
            status=UserStatus.DELETED if i % 9 == 0 else UserStatus.ACTIVE,
            role=Role.INSTRUCTOR if i % 5 == 0 else Role.STUDENT,
        )
        for i in range(64)
    ]
    await User.insert_many(users)
    return users


async def every_page(
    listing: UserListing, criteria: UserFilter, sort: str, size: int
) -> list[tuple[list[str], bool]]:
    pages, after = [], None
    while True:
        page = await listing.page(criteria, sort=sort, after=after, limit=size)
        pages.append(([u.email for u in page.users], page.has_next))
        if not page.has_next:
            return pages
        after = user_cursor(sort, page.users[-1])


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("include_deleted", [False, True])
async def test_the_snapshot_pages_and_counts_as_the_queries_do(
    seeded: list[User], sort: str, include_deleted: bool
) -> None:
    criteria = UserFilter(include_deleted=include_deleted)
    snapshot, queried = SnapshotListing(), IndexedListing()
    for size in (1, 7, 100):
        expected = await every_page(queried, criteria, sort, size)
        assert await every_page(snapshot, criteria, sort, size) == expected
    assert await snapshot.count(criteria) == await queried.count(criteria)
    listed = sum(1 for u in seeded if include_deleted or u.status is not UserStatus.DELETED)
    assert await snapshot.count(criteria) == listed


async def test_a_fresh_snapshot_answers_without_the_database(seeded: list[User]) -> None:
    ticks = Ticks()
    listing = SnapshotListing(fresh_seconds=5, max_age_seconds=30, monotonic=ticks)
    first = await listing.page(UserFilter(), sort="CREATED_DESC", after=None, limit=5)
    with COMMANDS.counting() as sent:
        ticks.now += 4
        again = await listing.page(UserFilter(), sort="CREATED_DESC", after=None, limit=25)
        total = await listing.count(UserFilter())
    assert sent == [], sent.summary()
    assert [u.id for u in again.users[:5]] == [u.id for u in first.users]
    assert total == await IndexedListing().count(UserFilter())


async def test_a_stale_snapshot_answers_while_it_is_rebuilt(seeded: list[User]) -> None:
    ticks = Ticks()
    listing = SnapshotListing(fresh_seconds=5, max_age_seconds=30, monotonic=ticks)
    before = await listing.count(UserFilter())
    newcomer = a_user("newcomer", BASE + timedelta(days=30))
    await newcomer.insert()
    try:
        ticks.now += 10  # stale: the old snapshot answers, a rebuild starts
        page = await listing.page(UserFilter(), sort="CREATED_DESC", after=None, limit=1)
        assert page.users[0].email != newcomer.email
        assert await listing.count(UserFilter()) == before
        await until(lambda: listing.count(UserFilter()), before + 1)
        page = await listing.page(UserFilter(), sort="CREATED_DESC", after=None, limit=1)
        assert page.users[0].email == newcomer.email
    finally:
        await newcomer.delete()


async def test_a_snapshot_too_old_is_rebuilt_before_it_answers(seeded: list[User]) -> None:
    ticks = Ticks()
    listing = SnapshotListing(fresh_seconds=5, max_age_seconds=30, monotonic=ticks)
    before = await listing.count(UserFilter())
    newcomer = a_user("latecomer", BASE + timedelta(days=31))
    await newcomer.insert()
    try:
        ticks.now += 31
        page = await listing.page(UserFilter(), sort="CREATED_DESC", after=None, limit=1)
        assert page.users[0].email == newcomer.email
        assert await listing.count(UserFilter()) == before + 1
    finally:
        await newcomer.delete()


async def test_a_change_made_here_is_shown_at_once(seeded: list[User]) -> None:
    ticks = Ticks()
    listing = SnapshotListing(fresh_seconds=5, max_age_seconds=30, monotonic=ticks)
    top = (await listing.page(UserFilter(), sort="EMAIL_ASC", after=None, limit=1)).users[0]
    assert top.id is not None
    before = await listing.count(UserFilter())
    await set_status(top.id, UserStatus.DELETED)
    try:
        await listing.changed(top.id)
        page = await listing.page(UserFilter(), sort="EMAIL_ASC", after=None, limit=1)
        assert page.users[0].id != top.id
        assert await listing.count(UserFilter()) == before - 1
        shown = await listing.page(
            UserFilter(include_deleted=True), sort="EMAIL_ASC", after=None, limit=50
        )
        assert [u.status for u in shown.users if u.id == top.id] == [UserStatus.DELETED]
    finally:
        await set_status(top.id, UserStatus.ACTIVE)


async def test_filters_are_queries_as_fresh_as_the_database(seeded: list[User]) -> None:
    listing = SnapshotListing()
    instructors = UserFilter(role=Role.INSTRUCTOR)
    before = await listing.count(instructors)
    await listing.count(UserFilter())  # a snapshot exists
    newcomer = a_user("teacher", BASE, role=Role.INSTRUCTOR)
    await newcomer.insert()
    try:
        assert await listing.count(instructors) == before + 1
        page = await listing.page(instructors, sort="EMAIL_ASC", after=None, limit=100)
        assert newcomer.email in [u.email for u in page.users]
    finally:
        await newcomer.delete()


async def test_a_forged_cursor_is_refused(seeded: list[User]) -> None:
    listing = SnapshotListing()
    with pytest.raises(ValidationError):
        await listing.page(UserFilter(), sort="EMAIL_ASC", after="bm90IG91cnM", limit=5)
    cursor = user_cursor("CREATED_DESC", seeded[3])
    with pytest.raises(ValidationError):
        await listing.page(UserFilter(), sort="EMAIL_ASC", after=cursor, limit=5)


async def set_status(user_id: PydanticObjectId, status: UserStatus) -> None:
    await User.get_pymongo_collection().update_one(
        {"_id": user_id}, {"$set": {"status": status.value}}
    )


async def until(read: Callable[[], Awaitable[int]], expected: int) -> None:
    """Wait (up to 10 s) for the background rebuild: ``read()`` returns ``expected``."""
    for _ in range(200):
        if (got := await read()) == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{got} != {expected} after 10 s")
