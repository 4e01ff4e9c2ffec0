"""Linked identities after sign-in, against a real provider (Canaille, pytest-iam):
the emailed confirmation of a link (the proof for a person who cannot sign in to the
account otherwise), the unlinking rules (never the last way in; a recent sign-in), and
an administrator's view and removal of a user's identities.

Emailed sign-in codes are off here, so a social account's identities are its only ways
in (with them on, a verified address is one more: test_ways_in.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from domain.audit.documents import AuditEvent
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.email.outbox import EmailMessage
from domain.social.documents import SocialIdentity
from tests.api.identity_ops import PASSWORD, call, login, unique_email
from tests.passkeys.support import result
from tests.social.support import (
    BEGIN_LINK,
    CONFIRM_LINK_EMAIL,
    LINK,
    MY_IDENTITIES,
    REMOVE_USER_IDENTITY,
    REQUEST_LINK_EMAIL,
    UNLINK,
    USER_IDENTITIES,
    authorize,
    complete,
    link_another,
    provider_user,
    social_sign_in,
)
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager


@pytest.fixture(scope="module")
def social_settings(social_settings: dict[str, Any]) -> dict[str, Any]:
    return {**social_settings, "email_sign_in_enabled": False}


async def emails(to: str, template: str) -> list[EmailMessage]:
    return await EmailMessage.find({"to": to, "template": template}).to_list()


def link_token(manager: LifespanManager, message: EmailMessage) -> str:
    """The token of the link in an email, read from its sealed context."""
    link = manager.state.services.outbox.open_context(message)["link"]
    return str(parse_qs(urlsplit(link).query)["token"][0])


async def identities(client: httpx.AsyncClient, token: str) -> list[str]:
    me = result(await call(client, MY_IDENTITIES, token=token))
    return [i["id"] for i in me["identities"]]


async def social_account(client: httpx.AsyncClient, provider: Any) -> tuple[Any, dict[str, Any]]:
    """A new account made by a social sign-in (no password): the person and the sign-in."""
    person = provider_user(provider, unique_email("social"))
    signed_in = await social_sign_in(client, provider, person)
    assert signed_in["__typename"] == "AuthPayload", signed_in
    return person, signed_in


async def test_a_link_confirmed_by_the_emailed_link(
    client: httpx.AsyncClient, provider: Any, manager: LifespanManager
) -> None:
    email = unique_email("mailbox")
    owner = await staff_account(manager.state, email, PASSWORD, Role.STUDENT)
    person = provider_user(provider, email)
    answer = await social_sign_in(client, provider, person)
    assert answer["__typename"] == "AccountLinkRequired", answer
    # The link token itself links nothing: it only asks for the email.
    refused = result(await call(client, CONFIRM_LINK_EMAIL, {"token": answer["linkToken"]}))
    assert refused["__typename"] == "SocialLinkExpired"
    assert await SocialIdentity.get(f"iam:{person.user_name}") is None

    answer = await social_sign_in(client, provider, person)
    sent = result(await call(client, REQUEST_LINK_EMAIL, {"token": answer["linkToken"]}))
    assert sent["__typename"] == "SocialLinkEmailSent", sent
    again = result(await call(client, REQUEST_LINK_EMAIL, {"token": answer["linkToken"]}))
    assert again["__typename"] == "SocialLinkExpired"  # one email per link token
    (message,) = await emails(email, "social_link_confirm")
    emailed = link_token(manager, message)
    assert await SocialIdentity.get(f"iam:{person.user_name}") is None  # not before the click

    linked = result(await call(client, CONFIRM_LINK_EMAIL, {"token": emailed}))
    assert linked["__typename"] == "SocialIdentityLinked", linked
    assert linked["identity"]["id"] == f"iam:{person.user_name}"
    used = result(await call(client, CONFIRM_LINK_EMAIL, {"token": emailed}))
    assert used["__typename"] == "SocialLinkExpired"
    signed_in = await social_sign_in(client, provider, person)
    assert signed_in["__typename"] == "AuthPayload", signed_in
    assert signed_in["user"]["id"] == str(owner.id)
    assert await emails(email, "social_linked")
    event = await AuditEvent.find_one({"event": "user.social_linked", "target_id": str(owner.id)})
    assert event is not None
    assert event.details == {"provider": "iam", "proof": "email"}


async def test_the_emailed_link_expires(
    client: httpx.AsyncClient, provider: Any, manager: LifespanManager, clock: FrozenClock
) -> None:
    email = unique_email("late")
    await staff_account(manager.state, email, PASSWORD, Role.STUDENT)
    person = provider_user(provider, email)
    answer = await social_sign_in(client, provider, person)
    result(await call(client, REQUEST_LINK_EMAIL, {"token": answer["linkToken"]}))
    (message,) = await emails(email, "social_link_confirm")
    late = timedelta(seconds=manager.state.settings.social_link_ttl_seconds)
    clock.advance(late)
    try:
        expired = result(
            await call(client, CONFIRM_LINK_EMAIL, {"token": link_token(manager, message)})
        )
    finally:
        clock.advance(-late)
    assert expired["__typename"] == "SocialLinkExpired"
    assert await SocialIdentity.get(f"iam:{person.user_name}") is None


async def test_the_last_way_in_is_never_unlinked(client: httpx.AsyncClient, provider: Any) -> None:
    person, signed_in = await social_account(client, provider)
    token, email = signed_in["accessToken"], signed_in["user"]["email"]
    first = f"iam:{person.user_name}"
    only = result(await call(client, UNLINK, {"id": first}, token))
    assert only["__typename"] == "LastSignInMethod", only
    assert await identities(client, token) == [first]

    linked = await link_another(client, provider, token, unique_email("second"))
    assert linked["__typename"] == "SocialIdentityLinked", linked
    second = linked["identity"]["id"]
    # Oldest first, then by id (the frozen clock gives both one creation time).
    assert await identities(client, token) == sorted([first, second])
    unlinked = result(await call(client, UNLINK, {"id": first}, token))
    assert unlinked == {"__typename": "SocialIdentityUnlinked", "id": first}
    assert await identities(client, token) == [second]
    assert await emails(email, "social_unlinked")
    user_id = signed_in["user"]["id"]
    assert await AuditEvent.find_one({"event": "user.social_unlinked", "target_id": user_id})
    last = result(await call(client, UNLINK, {"id": second}, token))
    assert last["__typename"] == "LastSignInMethod"


async def test_an_account_with_a_password_may_unlink_its_only_identity(
    client: httpx.AsyncClient, provider: Any, manager: LifespanManager
) -> None:
    email = unique_email("haspassword")
    await staff_account(manager.state, email, PASSWORD, Role.STUDENT)
    token = (await login(client, email))["accessToken"]
    linked = await link_another(client, provider, token, unique_email("provider"))
    assert linked["__typename"] == "SocialIdentityLinked", linked
    unlinked = result(await call(client, UNLINK, {"id": linked["identity"]["id"]}, token))
    assert unlinked["__typename"] == "SocialIdentityUnlinked", unlinked
    assert await identities(client, token) == []


async def test_another_accounts_identity_is_not_found(
    client: httpx.AsyncClient, provider: Any
) -> None:
    victim, _ = await social_account(client, provider)
    _, attacker = await social_account(client, provider)
    refused = result(
        await call(client, UNLINK, {"id": f"iam:{victim.user_name}"}, attacker["accessToken"])
    )
    assert refused["__typename"] == "NotFound"
    assert await SocialIdentity.get(f"iam:{victim.user_name}") is not None


async def test_unlinking_and_linking_need_a_recent_sign_in(
    client: httpx.AsyncClient, provider: Any, clock: FrozenClock
) -> None:
    person, signed_in = await social_account(client, provider)
    token = signed_in["accessToken"]
    stale = timedelta(minutes=6)  # past the 300 seconds, inside the access token's life
    clock.advance(stale)
    try:
        unlink = result(await call(client, UNLINK, {"id": f"iam:{person.user_name}"}, token))
        variables = {"provider": "iam", "redirectUri": "https://app.example.com/auth/callback"}
        link = result(await call(client, BEGIN_LINK, variables, token))
    finally:
        clock.advance(-stale)
    assert unlink["__typename"] == "ReauthenticationRequired", unlink
    assert unlink["maxAgeSeconds"] == 300
    assert link["__typename"] == "ReauthenticationRequired", link
    assert await SocialIdentity.get(f"iam:{person.user_name}") is not None


async def test_an_administrator_sees_and_removes_a_users_identities(
    client: httpx.AsyncClient, provider: Any, manager: LifespanManager
) -> None:
    person, signed_in = await social_account(client, provider)
    user_id, key = signed_in["user"]["id"], f"iam:{person.user_name}"
    admin_email = unique_email("admin")
    admin = await staff_account(manager.state, admin_email, PASSWORD, Role.ADMIN)
    admin_token = (await login(client, admin_email))["accessToken"]

    seen = result(await call(client, USER_IDENTITIES, {"userId": user_id}, admin_token))
    assert seen == {"__typename": "UserIdentities", "identities": [{"id": key, "provider": "iam"}]}
    viewed = {"event": "admin.user_identities_viewed", "target_id": user_id}
    assert await AuditEvent.find_one(viewed)

    # The user's own token cannot reach the administrators' operations.
    own = await call(client, USER_IDENTITIES, {"userId": user_id}, signed_in["accessToken"])
    assert own["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # An administrator may remove even the last way in (a compromised provider account).
    removed = result(
        await call(client, REMOVE_USER_IDENTITY, {"userId": user_id, "id": key}, admin_token)
    )
    assert removed == {"__typename": "SocialIdentityUnlinked", "id": key}
    assert await SocialIdentity.get(key) is None
    event = await AuditEvent.find_one(
        {"event": "admin.user_identity_removed", "target_id": user_id}
    )
    assert event is not None
    assert event.actor_id == str(admin.id)
    again = result(
        await call(client, REMOVE_USER_IDENTITY, {"userId": user_id, "id": key}, admin_token)
    )
    assert again["__typename"] == "NotFound"
    assert await emails(signed_in["user"]["email"], "social_unlinked")


async def test_an_administrator_cannot_remove_their_own_identity(
    client: httpx.AsyncClient, provider: Any, manager: LifespanManager
) -> None:
    email = unique_email("selfadmin")
    await staff_account(manager.state, email, PASSWORD, Role.ADMIN)
    token = (await login(client, email))["accessToken"]
    linked = await link_another(client, provider, token, unique_email("adminprovider"))
    assert linked["__typename"] == "SocialIdentityLinked", linked
    me = result(await call(client, MY_IDENTITIES, token=token))
    refused = result(
        await call(
            client,
            REMOVE_USER_IDENTITY,
            {"userId": me["id"], "id": linked["identity"]["id"]},
            token,
        )
    )
    assert refused["__typename"] == "Forbidden"
    assert await SocialIdentity.get(linked["identity"]["id"]) is not None


async def test_a_link_finishes_only_for_the_account_that_began_it(
    client: httpx.AsyncClient, provider: Any
) -> None:
    # A callback lured into another session (login CSRF, RFC 9700 §4.7) links nothing:
    # the state is bound to the account that began the link, and a link's state is not
    # a sign-in's.
    _, owner = await social_account(client, provider)
    _, other = await social_account(client, provider)
    variables = {"provider": "iam", "redirectUri": "https://app.example.com/auth/callback"}
    for finisher in ("other", "sign_in"):
        begun = result(await call(client, BEGIN_LINK, variables, owner["accessToken"]))
        person = provider_user(provider, unique_email("lured"))
        callback = authorize(provider, begun["authorizationUrl"], person)
        answer = {"provider": "iam", "code": callback["code"], "state": callback["state"]}
        if finisher == "other":
            failed = result(await call(client, LINK, answer, other["accessToken"]))
        else:
            failed = await complete(client, **answer)
        assert failed["__typename"] == "SocialSignInFailed", failed
        assert failed["reason"] == "BAD_STATE"
        assert await SocialIdentity.get(f"iam:{person.user_name}") is None
