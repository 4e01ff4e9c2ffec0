"""Passkeys through the GraphQL API on real FerretDB (or SecantusDB) and Redis.

A software authenticator (tests/support/webauthn_authenticator.py) plays the browser
and the passkey: it answers the server's options with what a browser sends, and the
server verifies with py_webauthn. Registration needs a recent sign-in and emails the
owner; sign-in is usernameless or with an email, opens the session through the
password sign-in's own path, and a passkey with user verification is both factors
(a two-factor account signs in with one gesture; without it, the TOTP follows). A
passkey also answers a password's second factor. The owner renames and removes their
passkeys, never the last way into an account without a password; administrators list
and remove a user's passkeys under the admin rank rules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest
from beanie import PydanticObjectId

from domain.audit.documents import AuditEvent
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.email.outbox import EmailMessage
from domain.identity.documents import User
from domain.passkeys.documents import Passkey
from tests.api.identity_ops import PASSWORD, call, error_code, login, unique_email
from tests.passkeys.support import (
    BEGIN_LOGIN,
    BEGIN_REGISTRATION,
    COMPLETE_MFA,
    MY_PASSKEYS,
    REMOVE,
    REMOVE_USER_PASSKEY,
    RENAME,
    USER_PASSKEYS,
    begin_login,
    claims,
    enable_totp,
    finish_login,
    passkey_login,
    password_login,
    register_passkey,
    result,
)
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.support.webauthn_authenticator import SoftwareAuthenticator

CLOCK_START = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def manager(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LifespanManager]:
    async with app_with(clock=clock) as running:
        yield running


@pytest.fixture(scope="module")
async def client(manager: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(manager) as http:
        yield http


async def account(manager: LifespanManager, clock: FrozenClock, role: Role = Role.STUDENT) -> str:
    email = unique_email("passkey")
    await staff_account(manager.state, email, PASSWORD, role, clock=clock)
    return email


async def emails(to: str, template: str) -> list[EmailMessage]:
    return await EmailMessage.find({"to": to, "template": template}).to_list()


async def events(name: str, target: str) -> list[AuditEvent]:
    return await AuditEvent.find({"event": name, "target_id": target}).to_list()


async def test_register_then_sign_in_usernameless_and_with_an_email(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    email = await account(manager, clock)
    signed_in = await login(client, email)
    token, user_id = signed_in["accessToken"], signed_in["user"]["id"]
    key = SoftwareAuthenticator()

    added = await register_passkey(client, token, key, name="  Work laptop ")
    assert added["__typename"] == "PasskeyAdded", added
    passkey = added["passkey"]
    assert passkey["name"] == "Work laptop"
    assert passkey["id"] == key.credential_ids[0]
    assert passkey["deviceType"] == "SINGLE_DEVICE"
    assert passkey["transports"] == ["hybrid", "internal"]
    assert passkey["lastUsedAt"] is None
    assert len(await emails(email, "passkey_added")) == 1
    (event,) = await events("user.passkey_added", user_id)
    assert event.details["credential"] == passkey["id"]
    stored = await Passkey.get(passkey["id"])
    assert stored is not None
    assert str(stored.user_id) == user_id

    clock.advance(timedelta(minutes=1))
    usernameless = await passkey_login(client, key)
    assert usernameless["__typename"] == "AuthPayload", usernameless
    assert usernameless["user"]["email"] == email
    # User verification makes it two factors: the session counts as a second-factor one
    # (RFC 8176: a hardware key, its user verified, multi-factor).
    assert claims(usernameless["accessToken"])["amr"] == ["hwk", "user", "mfa"]
    (used,) = await events("user.passkey_used", user_id)
    assert used.details["amr"] == "hwk user"
    logins = await events("user.login", user_id)
    assert any(e.details["session"] == usernameless["sessionId"] for e in logins)

    begun = await begin_login(client, email)
    assert [c["id"] for c in begun["options"]["allowCredentials"]] == key.credential_ids
    assert begun["options"]["rpId"] == "localhost"
    with_email = await finish_login(client, begun["attemptId"], key.get(begun["options"]))
    assert with_email["__typename"] == "AuthPayload", with_email

    mine = (await call(client, MY_PASSKEYS, token=with_email["accessToken"]))["data"]["myPasskeys"]
    assert [p["id"] for p in mine] == key.credential_ids
    assert mine[0]["lastUsedAt"] is not None
    stored = await Passkey.get(passkey["id"])
    assert stored is not None
    assert stored.sign_count == 2


async def test_ed25519_packed_and_a_counterless_synced_passkey(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    email = await account(manager, clock)
    token = (await login(client, email))["accessToken"]
    packed = SoftwareAuthenticator(algorithm="EdDSA", attestation="packed")
    synced = SoftwareAuthenticator(counter_step=0, backup_eligible=True)
    first = await register_passkey(client, token, packed, name="Key")
    assert first["__typename"] == "PasskeyAdded", first
    second = await register_passkey(client, token, synced, name="Phone")
    assert second["__typename"] == "PasskeyAdded", second
    assert second["passkey"]["deviceType"] == "MULTI_DEVICE"
    assert second["passkey"]["backedUp"] is True
    stored = await Passkey.get(first["passkey"]["id"])
    assert stored is not None
    assert stored.attestation_format == "packed"
    for _ in range(2):  # a counter that stays at zero is not a clone
        assert (await passkey_login(client, synced, email))["__typename"] == "AuthPayload"
    assert (await passkey_login(client, packed))["__typename"] == "AuthPayload"
    # The same authenticator is not registered twice to one account.
    begun = result(await call(client, BEGIN_REGISTRATION, token=token))
    assert {c["id"] for c in begun["options"]["excludeCredentials"]} == {
        first["passkey"]["id"],
        second["passkey"]["id"],
    }
    assert begun["options"]["authenticatorSelection"]["residentKey"] == "preferred"
    assert begun["options"]["attestation"] == "none"


async def test_a_two_factor_account_signs_in_with_one_gesture_or_answers_its_code(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    email = await account(manager, clock)
    token = (await login(client, email))["accessToken"]
    secret = await enable_totp(client, token, clock)
    verified = SoftwareAuthenticator()
    unverified = SoftwareAuthenticator(user_verification=False)
    assert (await register_passkey(client, token, verified))["__typename"] == "PasskeyAdded"
    assert (await register_passkey(client, token, unverified))["__typename"] == "PasskeyAdded"

    one_gesture = await passkey_login(client, verified)
    assert one_gesture["__typename"] == "AuthPayload", one_gesture
    assert claims(one_gesture["accessToken"])["amr"] == ["hwk", "user", "mfa"]

    # Without user verification a passkey is one factor: the code still follows (not
    # another passkey: the same factor twice is not two).
    halfway = await passkey_login(client, unverified, email)
    assert halfway["__typename"] == "MfaRequired", halfway
    assert halfway["methods"] == ["totp", "backup_code"]
    same = result(await call(client, BEGIN_LOGIN, {"challengeToken": halfway["challengeToken"]}))
    assert same["__typename"] == "ValidationFailed", same
    code = pyotp.TOTP(secret).at(clock.now())
    done = result(
        await call(client, COMPLETE_MFA, {"challenge": halfway["challengeToken"], "code": code})
    )
    assert done["__typename"] == "AuthPayload", done
    assert claims(done["accessToken"])["amr"] == ["hwk", "otp", "mfa"]

    # A passkey as the second factor after the password: any passkey, one gesture.
    clock.advance(timedelta(seconds=30))
    challenged = await password_login(client, email)
    assert challenged["__typename"] == "MfaRequired", challenged
    assert challenged["methods"] == ["totp", "backup_code", "passkey"]
    begun = await begin_login(client, challenge_token=challenged["challengeToken"])
    assert begun["attemptId"] == challenged["challengeToken"]
    assert len(begun["options"]["allowCredentials"]) == 2
    second = await finish_login(client, begun["attemptId"], unverified.get(begun["options"]))
    assert second["__typename"] == "AuthPayload", second
    assert claims(second["accessToken"])["amr"] == ["pwd", "hwk", "mfa"]
    # The challenge is spent: the TOTP cannot finish the same sign-in again.
    again = result(
        await call(
            client,
            COMPLETE_MFA,
            {"challenge": challenged["challengeToken"], "code": pyotp.TOTP(secret).at(clock.now())},
        )
    )
    assert again["__typename"] == "InvalidToken", again


async def test_rename_remove_and_the_last_way_in(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    email = await account(manager, clock)
    signed_in = await login(client, email)
    token, user_id = signed_in["accessToken"], signed_in["user"]["id"]
    first, second = SoftwareAuthenticator(), SoftwareAuthenticator()
    one = (await register_passkey(client, token, first))["passkey"]["id"]
    two = (await register_passkey(client, token, second))["passkey"]["id"]

    renamed = result(await call(client, RENAME, {"id": one, "name": "Old phone"}, token))
    assert renamed["passkey"] == {"id": one, "name": "Old phone"}
    too_long = result(await call(client, RENAME, {"id": one, "name": "x" * 65}, token))
    assert too_long["fieldErrors"] == [{"field": "name", "code": "TOO_LONG"}]
    assert result(await call(client, RENAME, {"id": "nope", "name": "a"}, token))["code"] == (
        "NOT_FOUND"
    )

    # An account without a password (nor a verified address for emailed codes) keeps
    # its last passkey.
    await User.find_one({"_id": PydanticObjectId(user_id)}).update(
        {"$set": {"password_hash": "", "email_verified": False}}
    )
    assert result(await call(client, REMOVE, {"id": one}, token))["__typename"] == "PasskeyRemoved"
    (removed_mail,) = await emails(email, "passkey_removed")
    assert removed_mail is not None
    last = result(await call(client, REMOVE, {"id": two}, token))
    assert last["__typename"] == "LastSignInMethod", last
    assert last["code"] == "LAST_SIGN_IN_METHOD"
    assert await Passkey.get(two) is not None
    # A removed passkey no longer signs in.
    refused = await passkey_login(client, first)
    assert refused["__typename"] == "InvalidPasskey", refused
    # Only a recent sign-in removes one.
    clock.advance(timedelta(seconds=301))
    stale = result(await call(client, REMOVE, {"id": two}, token))
    assert stale["__typename"] == "ReauthenticationRequired"
    stale_begin = result(await call(client, BEGIN_REGISTRATION, token=token))
    assert stale_begin["__typename"] == "ReauthenticationRequired"


async def test_the_last_passkey_goes_when_another_way_in_remains(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    """The rule unlinking a provider follows too (domain/identity/ways_in.py): a code
    emailed to a verified address is a way in where the deployment offers such codes."""
    email = await account(manager, clock)
    signed_in = await login(client, email)
    token, user_id = signed_in["accessToken"], signed_in["user"]["id"]
    only = (await register_passkey(client, token, SoftwareAuthenticator()))["passkey"]["id"]
    await User.find_one({"_id": PydanticObjectId(user_id)}).update(
        {"$set": {"password_hash": "", "email_verified": True}}
    )
    removed = result(await call(client, REMOVE, {"id": only}, token))
    assert removed == {"__typename": "PasskeyRemoved", "id": only}
    assert await Passkey.get(only) is None


async def test_administrators_list_and_remove_under_the_rank_rules(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    email = await account(manager, clock)
    owner = await login(client, email)
    key = SoftwareAuthenticator()
    passkey = (await register_passkey(client, owner["accessToken"], key))["passkey"]["id"]
    admin_email = await account(manager, clock, Role.ADMIN)
    admin = (await login(client, admin_email))["accessToken"]
    variables = {"userId": owner["user"]["id"]}

    listed = result(await call(client, USER_PASSKEYS, variables, admin))
    assert listed["passkeys"] == [{"id": passkey, "name": "Laptop"}]
    student = await call(client, USER_PASSKEYS, variables, owner["accessToken"])
    assert error_code(student) == "FORBIDDEN"
    unknown = result(await call(client, USER_PASSKEYS, {"userId": "0" * 24}, admin))
    assert unknown["__typename"] == "NotFound"

    super_email = await account(manager, clock, Role.SUPER_ADMIN)
    boss = (await login(client, super_email))["accessToken"]
    boss_id = (await User.find_one(User.email == super_email)).id  # type: ignore[union-attr]
    refused = result(
        await call(client, REMOVE_USER_PASSKEY, {"userId": str(boss_id), "id": "x"}, admin)
    )
    assert refused["code"] == "FORBIDDEN"
    removed = result(await call(client, REMOVE_USER_PASSKEY, {**variables, "id": passkey}, boss))
    assert removed == {"__typename": "PasskeyRemoved", "id": passkey}
    assert await Passkey.get(passkey) is None
    assert len(await emails(email, "passkey_removed")) == 1
    assert len(await events("admin.user_passkey_removed", owner["user"]["id"])) == 1
