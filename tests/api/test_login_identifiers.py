"""Login identifiers (domain/identity/identifiers.py) through GraphQL on the real services.

FerretDB's email lookup, forced with ``GATEHOUSE_DATABASE_FLAVOUR=ferretdb`` so it is
tested on both legs of the suite (on SecantusDB auto-detection would choose the index).

An identifier is an ``_id``-keyed pointer from a sign-in email to its user. It must
follow the user through registration and email change, be rebuilt when it is missing
(a user imported straight into the database) and never lead anyone into an account
whose email is not the one they typed (a stale pointer).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from beanie import PydanticObjectId

from domain.core.clock import utcnow
from domain.core.settings import Settings
from domain.identity import identifiers
from domain.identity.documents import User
from domain.identity.identifiers import LoginIdentifier
from domain.identity.passwords import create_password_hasher
from tests.api.identity_ops import (
    CONFIRM_EMAIL_CHANGE,
    PASSWORD,
    REQUEST_EMAIL_CHANGE,
    call,
    login,
    unique_email,
    verified_user,
)
from tests.support.smtp import MailInbox


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(
        email_backend="smtp", smtp_port=mail_inbox.port, database_flavour="ferretdb"
    )


async def user_of(email: str) -> User:
    user = await User.find_one(User.email == email)
    assert user is not None
    return user


async def pointer(email: str) -> PydanticObjectId | None:
    identifier = await LoginIdentifier.get(email)
    return None if identifier is None else identifier.user_id


async def imported_user(settings: Settings, email: str) -> User:
    """A user written straight into the users collection, as a bulk import does."""
    hasher = create_password_hasher(settings)
    try:
        now = utcnow()
        user = User(
            email=email,
            first_name="Imported",
            last_name="User",
            email_verified=True,
            password_hash=await hasher.hash(PASSWORD),
            password_changed_at=now,
            created_at=now,
            updated_at=now,
        )
        await user.insert()
        return user
    finally:
        hasher.close()


async def test_registration_writes_the_identifier(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox)
    assert await pointer(email) == (await user_of(email)).id
    assert (await login(client, email))["__typename"] == "AuthPayload"


async def test_a_user_without_an_identifier_gets_one_from_the_rebuild(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """Sign-in never scans users for an email (that scan ran only for addresses without
    an account, and its time told them apart); the rebuild fills what is missing."""
    email = unique_email("imported")
    user = await imported_user(settings, email)
    assert await pointer(email) is None
    assert (await login(client, email))["__typename"] == "InvalidCredentials"
    assert await identifiers.rebuild() >= 1
    assert await pointer(email) == user.id
    assert (await login(client, email))["__typename"] == "AuthPayload"


async def test_a_stale_identifier_never_signs_into_the_account_it_points_at(
    client: httpx.AsyncClient, mail_inbox: MailInbox, settings: Settings
) -> None:
    victim = await verified_user(client, mail_inbox)
    victim_id = (await user_of(victim)).id
    # An identifier left behind pointing at the victim, for an address the victim does
    # not have (an email change that stopped halfway). Same password on purpose.
    stray = unique_email("stray")
    await LoginIdentifier(id=stray, user_id=victim_id).insert()
    assert (await login(client, stray))["__typename"] == "InvalidCredentials"
    assert await pointer(stray) is None  # dropped once found stale

    # A real owner of the address appears: the stale pointer is replaced, not followed.
    await LoginIdentifier(id=stray, user_id=victim_id).insert()
    owner = await imported_user(settings, stray)
    await identifiers.rebuild()
    session = await login(client, stray)
    assert session["__typename"] == "AuthPayload"
    assert session["user"]["email"] == stray
    assert await pointer(stray) == owner.id


async def test_email_change_moves_the_identifier(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox)
    user_id = (await user_of(email)).id
    access = (await login(client, email))["accessToken"]
    new_email = unique_email("moved")
    requested = await call(
        client, REQUEST_EMAIL_CHANGE, {"email": new_email, "password": PASSWORD}, access
    )
    assert requested["data"]["requestEmailChange"]["__typename"] == "EmailRequestAccepted"
    (confirm,) = await mail_inbox.wait_for(new_email, "Confirm your new email")
    done = await call(client, CONFIRM_EMAIL_CHANGE, {"token": confirm.token()})
    assert done["data"]["confirmEmailChange"]["user"]["email"] == new_email

    assert await pointer(new_email) == user_id
    assert await pointer(email) is None
    assert (await login(client, new_email))["__typename"] == "AuthPayload"
    assert (await login(client, email))["__typename"] == "InvalidCredentials"
