"""An account's ways in (``me { signInMethods }``), a passkey as the proof ``reauthenticate``
asks for, and the ``amr`` every access token carries, through GraphQL on the real stores.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from beanie import PydanticObjectId

from domain.audit.documents import AuditEvent
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.sessions.documents import RefreshFamily, Session
from domain.sessions.rotation import family_copy_key
from tests.api.identity_ops import PASSWORD, REFRESH, call, unique_email
from tests.passkeys.support import (
    BEGIN_REGISTRATION,
    claims,
    enable_totp,
    passkey_login,
    register_passkey,
)
from tests.passwordless.support import (
    BEGIN_REAUTH,
    LOGIN,
    METHODS,
    REAUTHENTICATE,
    answer,
)
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.support.webauthn_authenticator import SoftwareAuthenticator

CLOCK_START = datetime(2026, 9, 3, 9, 0, tzinfo=UTC)
STALE = timedelta(seconds=301)
USERS = "query { users(first: 50) { edges { node { email signInMethods } } } }"
STALE_METHODS = """mutation { beginPasskeyRegistration {
  ... on ReauthenticationRequired { methods } } }"""


@pytest.fixture(scope="module")
async def manager(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LifespanManager]:
    async with app_with(clock=clock) as running:
        yield running


@pytest.fixture(scope="module")
async def client(manager: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(manager) as http:
        yield http


async def signed_in(
    client: httpx.AsyncClient, manager: LifespanManager, role: Role = Role.STUDENT
) -> dict[str, Any]:
    email = unique_email("methods")
    await staff_account(manager.state, email, PASSWORD, role)
    return answer(await call(client, LOGIN, {"email": email, "password": PASSWORD}))


async def methods_of(client: httpx.AsyncClient, token: str) -> list[str]:
    return list(answer(await call(client, METHODS, token=token))["signInMethods"])


async def test_sign_in_methods_list_what_the_account_holds(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    person = await signed_in(client, manager)
    token = person["accessToken"]
    assert await methods_of(client, token) == ["PASSWORD", "EMAIL_CODE"]
    await enable_totp(client, token, clock)
    assert await methods_of(client, token) == ["PASSWORD", "EMAIL_CODE", "TOTP"]
    added = await register_passkey(client, token, SoftwareAuthenticator())
    assert added["__typename"] == "PasskeyAdded", added
    assert await methods_of(client, token) == ["PASSWORD", "PASSKEY", "EMAIL_CODE", "TOTP"]

    # A page of users asks once per kind, and each row gets its own.
    admin = await signed_in(client, manager, Role.ADMIN)
    page = answer(await call(client, USERS, token=admin["accessToken"]))
    rows = {edge["node"]["email"]: edge["node"]["signInMethods"] for edge in page["edges"]}
    assert rows[person["user"]["email"]] == ["PASSWORD", "PASSKEY", "EMAIL_CODE", "TOTP"]
    assert rows[admin["user"]["email"]] == ["PASSWORD", "EMAIL_CODE"]


async def test_reauthenticate_with_a_passkey_bound_to_the_session(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    person = await signed_in(client, manager)
    token, user_id = person["accessToken"], person["user"]["id"]
    no_key = answer(await call(client, BEGIN_REAUTH, token=token))
    assert no_key["fieldErrors"] == [{"field": "passkey", "code": "NO_PASSKEY"}]
    key = SoftwareAuthenticator()
    assert (await register_passkey(client, token, key))["__typename"] == "PasskeyAdded"

    clock.advance(STALE)
    stale = answer(await call(client, BEGIN_REGISTRATION, token=token))
    assert stale["__typename"] == "ReauthenticationRequired"
    required = answer(await call(client, STALE_METHODS, token=token))
    assert required["methods"] == ["password", "passkey"]

    begun = answer(await call(client, BEGIN_REAUTH, token=token))
    assert begun["__typename"] == "PasskeyReauthenticationOptions", begun
    assert [c["id"] for c in begun["options"]["allowCredentials"]] == key.credential_ids
    assertion = key.get(begun["options"])
    # Another session of the same account cannot answer this session's challenge.
    credentials = {"email": person["user"]["email"], "password": PASSWORD}
    other = answer(await call(client, LOGIN, credentials))
    stolen = answer(
        await call(client, REAUTHENTICATE, {"passkey": assertion}, other["accessToken"])
    )
    assert stolen["__typename"] == "PasskeyChallengeExpired", stolen

    begun = answer(await call(client, BEGIN_REAUTH, token=token))
    proved = answer(
        await call(client, REAUTHENTICATE, {"passkey": key.get(begun["options"])}, token)
    )
    assert proved["__typename"] == "Reauthenticated", proved
    fresh = proved["accessToken"]
    assert claims(fresh)["auth_time"] == int(clock.now().timestamp())
    assert answer(await call(client, BEGIN_REGISTRATION, token=fresh))["__typename"] == (
        "PasskeyRegistrationOptions"
    )
    (event,) = await AuditEvent.find(
        {"event": "user.reauthenticated", "target_id": user_id}
    ).to_list()
    assert event.details["method"] == "passkey"

    # The same answer again: its challenge is spent.
    replayed = answer(
        await call(client, REAUTHENTICATE, {"passkey": key.get(begun["options"])}, token)
    )
    assert replayed["__typename"] == "PasskeyChallengeExpired"
    # Someone else's passkey is a wrong answer, counted like a wrong password.
    stranger = SoftwareAuthenticator()
    someone = await signed_in(client, manager)
    assert (await register_passkey(client, someone["accessToken"], stranger))["__typename"] == (
        "PasskeyAdded"
    )
    begun = answer(await call(client, BEGIN_REAUTH, token=token))
    options = {**begun["options"], "allowCredentials": []}
    wrong = answer(await call(client, REAUTHENTICATE, {"passkey": stranger.get(options)}, token))
    assert wrong["__typename"] == "InvalidPasskey", wrong
    (failed,) = await AuditEvent.find(
        {"event": "user.reauthentication_failed", "target_id": user_id}
    ).to_list()
    assert failed.details == {"method": "passkey", "reason": "not_this_account"}
    # One proof at a time.
    both = answer(
        await call(client, REAUTHENTICATE, {"passkey": {"id": "x"}, "password": PASSWORD}, token)
    )
    assert both["fieldErrors"] == [{"field": "password", "code": "ONE_ONLY"}]


async def test_access_tokens_say_how_the_session_signed_in_across_refreshes(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    person = await signed_in(client, manager)
    assert claims(person["accessToken"])["amr"] == ["pwd"]
    key = SoftwareAuthenticator()
    assert (await register_passkey(client, person["accessToken"], key))["__typename"] == (
        "PasskeyAdded"
    )
    by_passkey = await passkey_login(client, key)
    assert claims(by_passkey["accessToken"])["amr"] == ["hwk", "user", "mfa"]
    clock.advance(timedelta(minutes=1))
    refreshed = answer(await call(client, REFRESH, {"token": by_passkey["refreshToken"]}))
    assert refreshed["__typename"] == "AuthPayload", refreshed
    assert claims(refreshed["accessToken"])["amr"] == ["hwk", "user", "mfa"]

    # Sessions opened before amr was kept refresh with what their mfa flag says.
    session_id = PydanticObjectId(refreshed["sessionId"])
    for document in (Session, RefreshFamily):
        await document.get_pymongo_collection().update_one(
            {"_id": session_id}, {"$unset": {"amr": ""}}
        )
    # Such a family has no Redis copy (domain/sessions/family_cache.py) either.
    state = manager.state
    await state.redis.delete(family_copy_key(state.settings, str(session_id)))
    older = answer(await call(client, REFRESH, {"token": refreshed["refreshToken"]}))
    assert claims(older["accessToken"])["amr"] == ["pwd", "otp", "mfa"]


async def test_where_emailed_codes_are_off_they_are_not_a_way_in(
    client: httpx.AsyncClient, manager: LifespanManager, app_with: AppWith, clock: FrozenClock
) -> None:
    # Last in this module: the second app rebinds the documents to its own client.
    token = (await signed_in(client, manager))["accessToken"]
    async with (
        app_with(clock=clock, email_sign_in_enabled=False) as off,
        asgi_client(off) as http,
    ):
        assert await methods_of(http, token) == ["PASSWORD"]
