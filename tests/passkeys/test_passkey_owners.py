"""Which passkeys an account has, without a scan on FerretDB (domain/passkeys/owners.py).

On FerretDB a find by ``user_id`` reads every account's passkeys, so the reads by owner
go through a per-account listing read by ``_id``; on MongoDB the ``user`` index answers.
The listing's own rules are tested on either database (it uses only ``_id`` reads and
writes); the sign-in with an email, through GraphQL, on the flavour that runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from beanie import PydanticObjectId

from domain.core.claims import Claim
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.passkeys import owners, repository
from domain.passkeys.documents import Passkey
from domain.passkeys.owners import ListedOwners, PasskeyOwner
from tests.api.identity_ops import PASSWORD, call, login, unique_email
from tests.passkeys.support import MY_PASSKEYS, begin_login, finish_login, register_passkey
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.support.commands import COMMANDS
from tests.support.webauthn_authenticator import SoftwareAuthenticator

CLOCK_START = datetime(2026, 8, 10, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def manager(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LifespanManager]:
    COMMANDS.install()  # before the app makes its database client
    async with app_with(clock=clock) as running:
        yield running


@pytest.fixture(scope="module")
async def client(manager: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(manager) as http:
        yield http


def stored(user_id: PydanticObjectId, credential: str, transports: list[str]) -> Passkey:
    return Passkey(
        _id=credential,
        user_id=user_id,
        public_key="pQECAyYgASFYIA",
        transports=transports,
        device_type="single_device",
        backed_up=False,
        aaguid="00000000-0000-0000-0000-000000000000",
        attestation_format="none",
        name="Key",
        created_at=CLOCK_START,
    )


async def test_the_listing_follows_what_is_stored_and_skips_the_rest(
    manager: LifespanManager,
) -> None:
    listing = ListedOwners()
    mine, theirs = PydanticObjectId(), PydanticObjectId()
    kept, gone = stored(mine, "kept-1", ["usb"]), stored(mine, "gone-1", [])
    foreign = stored(theirs, "foreign-1", ["nfc"])
    for passkey in (kept, gone, foreign):
        await listing.listing(passkey)
        await passkey.insert()
    assert sorted(await listing.keys_of(mine)) == [("gone-1", []), ("kept-1", ["usb"])]
    assert await listing.keys_of(PydanticObjectId()) == []  # no account: the same one read

    # A deletion that stopped before unlisting, and an id listed under the wrong account
    # (another account registered it first): neither is the account's passkey.
    await Passkey.get_pymongo_collection().delete_one({"_id": "gone-1"})
    await owners._list(mine, {"foreign-1": ["nfc"]})
    assert [p.id for p in await listing.passkeys_of(mine)] == ["kept-1"]

    await listing.unlisting(mine, "gone-1")
    await listing.unlisting(mine, "foreign-1")
    assert await listing.keys_of(mine) == [("kept-1", ["usb"])]
    assert [p.id for p in await listing.passkeys_of(theirs)] == ["foreign-1"]


async def test_credentials_stored_before_the_listing_are_listed_once_at_start(
    manager: LifespanManager, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """An upgrade: passkeys registered before the listing existed sign in with an email
    and show in the account's list after the start-up rebuild."""
    email = unique_email("owners")
    user = await staff_account(manager.state, email, PASSWORD, Role.STUDENT, clock=clock)
    assert user.id is not None
    key = SoftwareAuthenticator()
    token = (await login(client, email))["accessToken"]
    added = await register_passkey(client, token, key)
    assert added["__typename"] == "PasskeyAdded", added
    # As it was before the listing: the credential stored, no listing, no marker.
    await PasskeyOwner.get_pymongo_collection().delete_one({"_id": user.id})
    await Claim.get_pymongo_collection().delete_one({"_id": owners.REBUILT_MARKER})

    assert await owners.rebuild_once(clock.now()) >= 1
    assert await owners.rebuild_once(clock.now()) == 0  # once per database
    assert await ListedOwners().keys_of(user.id) == [
        (key.credential_ids[0], ["hybrid", "internal"])
    ]

    begun = await begin_login(client, email)
    assert [c["id"] for c in begun["options"]["allowCredentials"]] == key.credential_ids
    clock.advance(timedelta(minutes=1))
    signed_in = await finish_login(client, begun["attemptId"], key.get(begun["options"]))
    assert signed_in["__typename"] == "AuthPayload", signed_in
    mine = (await call(client, MY_PASSKEYS, token=signed_in["accessToken"]))["data"]["myPasskeys"]
    assert [p["id"] for p in mine] == key.credential_ids
    assert await repository.count_of_user(user.id) == 1


async def test_a_credential_registered_to_another_account_is_not_listed_for_this_one(
    manager: LifespanManager,
) -> None:
    first, second = PydanticObjectId(), PydanticObjectId()
    assert await repository.insert(stored(first, "taken-1", ["usb"]))
    assert not await repository.insert(stored(second, "taken-1", ["usb"]))
    assert await repository.keys_of_user(second) == []
    assert await repository.keys_of_user(first) == [("taken-1", ["usb"])]
    # The same account registering it again keeps its own listing.
    assert not await repository.insert(stored(first, "taken-1", ["usb"]))
    assert await repository.keys_of_user(first) == [("taken-1", ["usb"])]
    assert await repository.delete("taken-1", first)
    assert await repository.keys_of_user(first) == []


async def test_the_options_for_an_email_read_alike_with_or_without_passkeys_or_an_account(
    manager: LifespanManager, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """The same database commands whether the address has an account with passkeys, an
    account without, or no account (one listing read by _id on FerretDB, one indexed
    find on MongoDB): neither the traffic nor its time says which."""
    with_key, without_key = unique_email("listed"), unique_email("unlisted")
    for address in (with_key, without_key):
        await staff_account(manager.state, address, PASSWORD, Role.STUDENT, clock=clock)
    key = SoftwareAuthenticator()
    added = await register_passkey(client, (await login(client, with_key))["accessToken"], key)
    assert added["__typename"] == "PasskeyAdded", added
    sent_for = {}
    for address in (with_key, without_key, unique_email("nobody")):
        with COMMANDS.counting() as sent:
            begun = await begin_login(client, address)
        assert len(begun["options"]["allowCredentials"]) == 1  # a decoy without passkeys
        sent_for[address] = sent.lookups()
    assert len(set(map(str, sent_for.values()))) == 1, sent_for
