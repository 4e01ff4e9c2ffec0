"""Which passkeys an account has, without a scan on FerretDB (domain/passkeys/owners.py).

On FerretDB a find by ``user_id`` reads every account's passkeys, so the reads by owner
go through a per-account listing read by ``_id``; on MongoDB the ``user`` index answers.
The listing's own rules: tests/core/test_owner_listing.py. Here, through GraphQL on the
flavour that runs: the upgrade's rebuild, a credential another account holds, and the
options for an email costing the same reads whoever asks.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from beanie import PydanticObjectId

from domain.core.claims import Claim
from domain.core.database_flavour import DatabaseFlavour, bound_flavour
from domain.core.owner_listing import ListedOwners, rebuild_once
from domain.core.roles import Role
from domain.passkeys import repository
from domain.passkeys.documents import Passkey
from domain.passkeys.owners import PASSKEY_OWNERS, REBUILT_MARKER, PasskeyOwner
from tests.api.identity_ops import PASSWORD, call, login, unique_email
from tests.passkeys.support import (
    MY_PASSKEYS,
    begin_login,
    finish_login,
    register_passkey,
    stored_passkey,
)
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager
from tests.support.commands import COMMANDS
from tests.support.webauthn_authenticator import SoftwareAuthenticator

USED_AT = datetime(2026, 8, 10, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def _commands_heard() -> None:
    """Before this module's app (conftest's ``app``) makes its database client."""
    COMMANDS.install()


async def test_credentials_stored_before_the_listing_are_listed_once_at_start(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    """An upgrade: passkeys registered before the listing existed sign in with an email
    and show in the account's list after the start-up rebuild."""
    email = unique_email("owners")
    user = await staff_account(app.state, email, PASSWORD, Role.STUDENT)
    assert user.id is not None
    key = SoftwareAuthenticator()
    token = (await login(client, email))["accessToken"]
    added = await register_passkey(client, token, key)
    assert added["__typename"] == "PasskeyAdded", added
    # As it was before the listing: the credential stored, no listing, no marker.
    await PasskeyOwner.get_pymongo_collection().delete_one({"_id": user.id})
    await Claim.get_pymongo_collection().delete_one({"_id": REBUILT_MARKER})

    assert await rebuild_once(PASSKEY_OWNERS.kind, datetime.now(UTC)) >= 1
    # Once per database: what is stored unlisted after it waits for the next rebuild.
    await stored_passkey(user.id, "after-the-rebuild", []).insert()
    assert await rebuild_once(PASSKEY_OWNERS.kind, datetime.now(UTC)) == 0
    assert "after-the-rebuild" not in [k for k, _ in await repository.keys_of_user(user.id)] or (
        bound_flavour() is DatabaseFlavour.MONGODB  # the index finds it there
    )
    await Passkey.get_pymongo_collection().delete_one({"_id": "after-the-rebuild"})
    assert await ListedOwners(PASSKEY_OWNERS.kind).entries_of(user.id) == [
        (key.credential_ids[0], ["hybrid", "internal"])
    ]

    begun = await begin_login(client, email)
    assert [c["id"] for c in begun["options"]["allowCredentials"]] == key.credential_ids
    signed_in = await finish_login(client, begun["attemptId"], key.get(begun["options"]))
    assert signed_in["__typename"] == "AuthPayload", signed_in
    mine = (await call(client, MY_PASSKEYS, token=signed_in["accessToken"]))["data"]["myPasskeys"]
    assert [p["id"] for p in mine] == key.credential_ids
    assert await repository.count_of_user(user.id) == 1


async def test_a_credential_registered_to_another_account_is_not_listed_for_this_one(
    app: LifespanManager,
) -> None:
    first, second = PydanticObjectId(), PydanticObjectId()
    assert await repository.insert(stored_passkey(first, "taken-1", ["usb"]))
    assert not await repository.insert(stored_passkey(second, "taken-1", ["usb"]))
    assert await repository.keys_of_user(second) == []
    assert await repository.keys_of_user(first) == [("taken-1", ["usb"])]
    # The same account registering it again keeps its own listing.
    assert not await repository.insert(stored_passkey(first, "taken-1", ["usb"]))
    assert await repository.keys_of_user(first) == [("taken-1", ["usb"])]
    assert await repository.delete("taken-1", first)
    assert await repository.keys_of_user(first) == []


async def test_the_options_for_an_email_read_alike_with_or_without_passkeys_or_an_account(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    """The same database commands whether the address has an account with passkeys, an
    account without, or no account (one listing read by _id on FerretDB, one indexed
    find on MongoDB): neither the traffic nor its time says which."""
    with_key, without_key = unique_email("listed"), unique_email("unlisted")
    for address in (with_key, without_key):
        await staff_account(app.state, address, PASSWORD, Role.STUDENT)
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


async def test_a_sign_in_that_read_an_older_counter_does_not_move_it_back(
    app: LifespanManager,
) -> None:
    """Two sign-ins read the counter at 5; the one that finishes first writes 10; the
    other, finishing last with 7, is refused (on FerretDB too: its guard is read just
    before its write, not taken from its earlier read)."""
    owner = PydanticObjectId()
    assert await repository.insert(
        stored_passkey(owner, "counted-1", []).model_copy(update={"sign_count": 5})
    )
    first, second = await repository.get("counted-1"), await repository.get("counted-1")
    assert first is not None
    assert second is not None
    assert await repository.record_use(first, sign_count=10, backed_up=False, at=USED_AT)
    assert not await repository.record_use(second, sign_count=7, backed_up=False, at=USED_AT)
    now = await repository.get("counted-1")
    assert now is not None
    assert now.sign_count == 10
