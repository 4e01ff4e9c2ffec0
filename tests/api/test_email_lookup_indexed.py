"""The plain-MongoDB email lookup (domain/identity/email_lookup.py) through GraphQL.

Forced with ``GATEHOUSE_DATABASE_FLAVOUR=mongodb`` so it runs on either leg of the
suite (on FerretDB the find by email scans, which a few users do not notice): the
users' unique email index is the only lookup, no login identifier is written, and an
address with an account costs the same database commands as one without.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from domain.core.database_flavour import DatabaseFlavour, bound_flavour
from domain.core.settings import Settings
from domain.identity.documents import User
from domain.identity.identifiers import LoginIdentifier
from tests.api.identity_ops import (
    CONFIRM_EMAIL_CHANGE,
    PASSWORD,
    REQUEST_EMAIL_CHANGE,
    call,
    login,
    register,
    unique_email,
    verified_user,
)
from tests.support.asgi import LifespanManager
from tests.support.commands import COMMANDS
from tests.support.smtp import MailInbox


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(
        email_backend="smtp", smtp_port=mail_inbox.port, database_flavour="mongodb"
    )


@pytest.fixture(scope="module")
async def app(settings: Settings, email_worker: None) -> AsyncIterator[LifespanManager]:
    """Built after the command listener, so its database client reports to it."""
    from app import create_app

    COMMANDS.install()
    async with LifespanManager(create_app(settings)) as manager:
        yield manager


async def test_the_setting_binds_the_indexed_lookup(app: LifespanManager) -> None:
    assert bound_flavour() is DatabaseFlavour.MONGODB


async def test_sign_up_sign_in_and_email_change_without_identifiers(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox)
    session = await login(client, email)
    assert session["__typename"] == "AuthPayload"
    # Signing up again with the same address is answered alike and creates nobody.
    assert (await register(client, email))["__typename"] == "RegistrationAccepted"
    assert await User.find(User.email == email).count() == 1

    new_email = unique_email("moved")
    requested = await call(
        client,
        REQUEST_EMAIL_CHANGE,
        {"email": new_email, "password": PASSWORD},
        session["accessToken"],
    )
    assert requested["data"]["requestEmailChange"]["__typename"] == "EmailRequestAccepted"
    (confirm,) = await mail_inbox.wait_for(new_email, "Confirm your new email")
    done = await call(client, CONFIRM_EMAIL_CHANGE, {"token": confirm.token()})
    assert done["data"]["confirmEmailChange"]["user"]["email"] == new_email
    assert (await login(client, new_email))["__typename"] == "AuthPayload"
    assert (await login(client, email))["__typename"] == "InvalidCredentials"
    # The second copy of every email is FerretDB's alone.
    assert await LoginIdentifier.find_all().count() == 0


async def test_known_and_unknown_addresses_make_the_same_commands(
    app: LifespanManager,
    client: httpx.AsyncClient,
    mail_inbox: MailInbox,
) -> None:
    known = await verified_user(client, mail_inbox)
    seen: dict[bool, list[Counter[tuple[str, str]]]] = {True: [], False: []}
    for i in range(3):
        for is_known, email in ((True, known), (False, unique_email(f"nobody{i}"))):
            with COMMANDS.counting() as sent:
                answer = await login(client, email, password="not the password 1")
            seen[is_known].append(sent.lookups())
            assert answer["__typename"] == "InvalidCredentials"
    with_account, without = seen[True][-1], seen[False][-1]
    print(f"{sorted(with_account.items())} / {sorted(without.items())}")
    # Webhook endpoints included: an address without an account looks them up too.
    assert with_account == without
    assert with_account[("find", "users by email")] == 1
    assert not any(collection.startswith("login_identifiers") for _, collection in with_account)
