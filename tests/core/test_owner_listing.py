"""What an account owns, listed by ``_id`` (domain/core/owner_listing.py), against the real
server of the leg.

The FerretDB listing uses nothing but ``_id`` reads and writes, so its rules are tested
on either server: it follows what is stored, skips what it cannot stand behind (a record
gone, another account's), survives ids a path cannot hold, and the start-up rebuild lists
records stored before it. The MongoDB implementation answers from the ``user`` index.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from beanie import PydanticObjectId

from domain.core.claims import Claim
from domain.core.owner_listing import (
    LEASE,
    IndexedOwners,
    ListedOwners,
    _list,
    delete_listed,
    rebuild,
    store_listed,
)
from domain.passkeys.documents import Passkey
from domain.passkeys.owners import PASSKEY_OWNERS
from domain.social.documents import SocialIdentity
from domain.social.owners import SOCIAL_OWNERS
from tests.passkeys.support import stored_passkey

AT = datetime(2026, 8, 10, 9, 0, tzinfo=UTC)


def identity(user_id: PydanticObjectId, subject: str) -> SocialIdentity:
    return SocialIdentity(
        _id=f"oidc:{subject}", user_id=user_id, provider="oidc", subject=subject, created_at=AT
    )


async def test_the_listing_follows_what_is_stored_and_skips_the_rest(database: None) -> None:
    listing = ListedOwners(PASSKEY_OWNERS.kind)
    mine, theirs = PydanticObjectId(), PydanticObjectId()
    kept, gone = stored_passkey(mine, "kept-1", ["usb"]), stored_passkey(mine, "gone-1", [])
    foreign = stored_passkey(theirs, "foreign-1", ["nfc"])
    for stored in (kept, gone, foreign):
        await listing.listing(stored.user_id, stored.id, stored.transports)
        await stored.insert()
    assert sorted(await listing.entries_of(mine)) == [("gone-1", []), ("kept-1", ["usb"])]
    assert await listing.entries_of(PydanticObjectId()) == []  # nobody: the same one read
    assert await listing.owners_among([mine]) == {mine}
    assert await listing.owners_among([mine, theirs, PydanticObjectId()]) == {mine, theirs}

    # A deletion that stopped before unlisting, and an id listed under the wrong account:
    # neither is the account's record.
    await Passkey.get_pymongo_collection().delete_one({"_id": "gone-1"})
    await _list(PASSKEY_OWNERS.kind, mine, {"foreign-1": ["nfc"]})
    assert [p.id for p in await listing.items_of(mine)] == ["kept-1"]

    await listing.unlisting(mine, "kept-1")  # still stored for the account: kept
    assert ("kept-1", ["usb"]) in await listing.entries_of(mine)
    for credential in ("gone-1", "foreign-1"):
        await listing.unlisting(mine, credential)
    assert await delete_listed(listing, "kept-1", mine)
    assert not await delete_listed(listing, "foreign-1", mine)  # not the account's
    assert await listing.entries_of(mine) == []
    assert await listing.owners_among([mine]) == set()  # an emptied listing owns nothing
    assert [p.id for p in await listing.items_of(theirs)] == ["foreign-1"]


async def test_ids_that_no_path_could_hold_are_listed_as_they_are(database: None) -> None:
    """A provider's subject is its own: dots, dollars, spaces and non-ASCII stay one key."""
    listing = ListedOwners(SOCIAL_OWNERS.kind)
    owner = PydanticObjectId()
    subjects = ["a.b.c", "$where", "x y", "ü$.", "1"]
    for subject in subjects:
        linked = identity(owner, subject)
        await listing.listing(owner, linked.id, [])
        await linked.insert()
    assert sorted(i for i, _ in await listing.entries_of(owner)) == sorted(
        f"oidc:{s}" for s in subjects
    )
    assert len(await listing.items_of(owner)) == len(subjects)
    assert await delete_listed(listing, "oidc:a.b.c", owner)
    assert "oidc:a.b.c" not in [i for i, _ in await listing.entries_of(owner)]


async def test_the_rebuild_lists_what_was_stored_before_it(database: None) -> None:
    owner = PydanticObjectId()
    await stored_passkey(
        owner, "before-1", ["internal"]
    ).insert()  # as a previous version stored it
    await stored_passkey(owner, "before-2", []).insert()
    listing = ListedOwners(PASSKEY_OWNERS.kind)
    assert await listing.entries_of(owner) == []
    assert await rebuild(PASSKEY_OWNERS.kind) >= 2
    assert sorted(await listing.entries_of(owner)) == [("before-1", ["internal"]), ("before-2", [])]
    assert await rebuild(PASSKEY_OWNERS.kind) == 0  # nothing missing any more


async def test_the_index_answers_the_same_on_mongodb(database: None) -> None:
    """The plain-MongoDB implementation keeps nothing and reads the ``user`` index."""
    indexed = IndexedOwners(PASSKEY_OWNERS.kind)
    owner = PydanticObjectId()
    await indexed.listing(owner, "indexed-1", ["usb"])  # nothing to keep
    await stored_passkey(owner, "indexed-1", ["usb"]).insert()
    assert await indexed.entries_of(owner) == [("indexed-1", ["usb"])]
    assert [p.id for p in await indexed.items_of(owner)] == ["indexed-1"]
    assert await indexed.owners_among([owner, PydanticObjectId()]) == {owner}
    assert await ListedOwners(PASSKEY_OWNERS.kind).entries_of(owner) == []


async def test_two_first_listings_of_one_account_both_land(database: None) -> None:
    """Two records of an account listed at once, before it had a listing: both stay."""
    listing = ListedOwners(PASSKEY_OWNERS.kind)
    for _ in range(5):
        owner = PydanticObjectId()
        await asyncio.gather(
            listing.listing(owner, "first", ["usb"]), listing.listing(owner, "second", [])
        )
        assert sorted(await listing.entries_of(owner)) == [("first", ["usb"]), ("second", [])]


async def test_writes_to_one_listing_at_once_all_land(database: None) -> None:
    """FerretDB writes an update back whole: without the listing's lease, four additions
    at once lost some of each other's entries, and an addition beside a removal lost the
    addition about one time in twenty (review)."""
    listing = ListedOwners(PASSKEY_OWNERS.kind)
    owner = PydanticObjectId()
    await listing.listing(owner, "old-0", [])
    for i in range(1, 21):
        await asyncio.gather(
            *(listing.listing(owner, f"{name}-{i}", []) for name in "abcd"),
            listing.unlisting(owner, f"old-{i - 1}"),
            listing.listing(owner, f"old-{i}", []),
        )
    expected = sorted([(f"{name}-{i}", []) for name in "abcd" for i in range(1, 21)])
    assert sorted(await listing.entries_of(owner)) == sorted([*expected, ("old-20", [])])


async def test_a_removal_racing_the_same_ids_registration_leaves_it_listed(
    database: None,
) -> None:
    """The id removed and stored again for the account: whichever way the removal's
    unlisting falls around the new registration, the stored record stays listed."""
    index = ListedOwners(PASSKEY_OWNERS.kind)
    owner = PydanticObjectId()
    assert await store_listed(index, stored_passkey(owner, "again-1", []), owner, "again-1", [])
    # The removal's delete, then the registration stores it again, then the unlisting.
    assert await Passkey.get_pymongo_collection().delete_one({"_id": "again-1"})
    assert await store_listed(index, stored_passkey(owner, "again-1", []), owner, "again-1", [])
    await index.unlisting(owner, "again-1")
    assert [p.id for p in await index.items_of(owner)] == ["again-1"]
    # The unlisting between the registration's listing and its insert (store_listed's
    # steps, with the removal's unlisting between them): listed again after the insert.
    assert await delete_listed(index, "again-1", owner)
    await index.listing(owner, "again-1", [])
    await index.unlisting(owner, "again-1")
    await stored_passkey(owner, "again-1", []).insert()
    await index.listing(owner, "again-1", [])
    assert [p.id for p in await index.items_of(owner)] == ["again-1"]


async def test_a_lease_left_by_a_writer_that_died_is_taken_over(database: None) -> None:
    listing = ListedOwners(PASSKEY_OWNERS.kind)
    owner = PydanticObjectId()
    held = datetime.now(UTC) - LEASE - timedelta(seconds=1)
    key = f"lease:{PASSKEY_OWNERS.kind.owners.get_collection_name()}:{owner}"
    await Claim(_id=key, created_at=held, expires_at=held + LEASE).insert()
    await asyncio.wait_for(listing.listing(owner, "after-1", []), timeout=5)
    assert await listing.entries_of(owner) == [("after-1", [])]
    assert await Claim.get(key) is None  # released
