"""Signing in with an emailed code or link, through GraphQL on the real stores.

A request emails a 6-digit code and a link; either signs in once, within ten minutes on
the injected clock, from any device. Wrong codes count (the fifth ends the code, each
counts toward the account lock), two completions race to one winner, a two-factor
account still answers its second factor, the first use verifies the address (and drops
a password nobody proved), and a deployment can turn it all off.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyotp
import pytest
from beanie import PydanticObjectId

from domain.audit.documents import AuditEvent
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.email.outbox import EmailMessage
from domain.identity.documents import User, UserStatus
from tests.api.identity_ops import (
    NEW_PASSWORD,
    PASSWORD,
    REQUEST_RESET,
    RESET,
    call,
    register,
    unique_email,
)
from tests.passkeys.support import (
    BEGIN_LOGIN,
    claims,
    enable_totp,
    finish_login,
    register_passkey,
)
from tests.passwordless.support import (
    COMPLETE,
    COMPLETE_MFA,
    LOGIN,
    METHODS,
    answer,
    complete,
    emailed,
    request_code,
    sign_in_emails,
)
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.support.webauthn_authenticator import SoftwareAuthenticator

CLOCK_START = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile Safari/604"


@pytest.fixture(scope="module")
async def manager(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LifespanManager]:
    async with app_with(clock=clock) as running:
        yield running


@pytest.fixture(scope="module")
async def client(manager: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(manager) as http:
        yield http


async def account(manager: LifespanManager, clock: FrozenClock) -> str:
    email = unique_email("emailed")
    await staff_account(manager.state, email, PASSWORD, Role.STUDENT, clock=clock)
    return email


async def failures(user_id: str, reason: str) -> int:
    return await AuditEvent.find(
        {"event": "user.login_failed", "target_id": user_id, "details.reason": reason}
    ).count()


async def test_a_code_signs_in_once_and_the_link_works_on_another_device(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    email = await account(manager, clock)
    requested = await request_code(client, email)
    assert requested["__typename"] == "EmailSignInRequested", requested
    assert requested["expiresAt"] == (clock.now() + timedelta(minutes=10)).isoformat()
    code, link = await emailed(manager, email)
    assert len(code) == 6
    assert code.isdigit()

    signed_in = await complete(client, email=email.upper(), code=f"{code[:3]} {code[3:]}")
    assert signed_in["__typename"] == "AuthPayload", signed_in
    assert signed_in["user"]["email"] == email
    # RFC 8176 has no value for email: a one-time code, one factor.
    assert claims(signed_in["accessToken"])["amr"] == ["otp"]
    user_id = signed_in["user"]["id"]
    (login_event,) = await AuditEvent.find(
        {"event": "user.login", "details.session": signed_in["sessionId"]}
    ).to_list()
    assert login_event.details["amr"] == "otp"
    # Single use: the code and its link are spent together.
    again = await complete(client, email=email, code=code)
    assert again["code"] == "EMAIL_CODE_EXPIRED", again
    spent_link = await complete(client, token=link)
    assert spent_link["__typename"] == "InvalidToken", spent_link

    # Asked for on one device, opened on another (another address, another browser).
    await request_code(client, email)
    _, link = await emailed(manager, email)
    async with asgi_client(manager, client=("198.51.100.9", 4000)) as phone:
        on_phone = answer(await call(phone, COMPLETE, {"token": link}, user_agent=PHONE))
    assert on_phone["__typename"] == "AuthPayload", on_phone
    assert on_phone["user"]["id"] == user_id
    assert await complete(client, token=link) == {
        "__typename": "InvalidToken",
        "code": "INVALID_TOKEN",
        "message": "This sign-in link has expired or was already used. Ask for a new one.",
    }

    # A newer request replaces the code: the older one is now a wrong guess.
    await request_code(client, email)
    old, _ = await emailed(manager, email)
    await request_code(client, email)
    new, _ = await emailed(manager, email)
    if old != new:  # one chance in a million that they are the same
        assert (await complete(client, email=email, code=old))["code"] == "INVALID_EMAIL_CODE"
    assert (await complete(client, email=email, code=new))["__typename"] == "AuthPayload"
    assert await sign_in_emails(email) == 4


async def test_five_wrong_codes_end_the_code_and_each_counts_toward_the_lock(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    email = await account(manager, clock)
    user = await User.find_one(User.email == email)
    assert user is not None
    await request_code(client, email)
    code, _ = await emailed(manager, email)
    wrong = [f"{(int(code) + i) % 1_000_000:06d}" for i in range(1, 6)]
    answers = [(await complete(client, email=email, code=w))["code"] for w in wrong]
    assert answers == ["INVALID_EMAIL_CODE"] * 4 + ["EMAIL_CODE_EXPIRED"]
    # The right code comes too late: the fifth wrong one ended it.
    assert (await complete(client, email=email, code=code))["code"] == "EMAIL_CODE_EXPIRED"
    assert await failures(str(user.id), "wrong_email_code") == 5

    # Five more wrong codes on a new one reach the lock (10 failures).
    await request_code(client, email)
    code, _ = await emailed(manager, email)
    for i in range(1, 5):
        guess = f"{(int(code) + i) % 1_000_000:06d}"
        assert (await complete(client, email=email, code=guess))["code"] == "INVALID_EMAIL_CODE"
    last = await complete(client, email=email, code=f"{(int(code) + 5) % 1_000_000:06d}")
    assert last["__typename"] == "AccountLocked", last
    # Locked: even the right code (or a password) does not sign in.
    assert (await complete(client, email=email, code=code))["__typename"] == "AccountLocked"
    password = answer(await call(client, LOGIN, {"email": email, "password": PASSWORD}))
    assert password["__typename"] == "AccountLocked"
    locked = await User.find_one(User.email == email)
    assert locked is not None
    assert locked.locked_at is not None
    # A locked account is sent no new code (the answer is the same).
    before = await sign_in_emails(email)
    assert (await request_code(client, email))["__typename"] == "EmailSignInRequested"
    assert await sign_in_emails(email) == before


async def test_codes_and_links_expire_after_ten_minutes_on_the_injected_clock(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    email = await account(manager, clock)
    await request_code(client, email)
    code, link = await emailed(manager, email)
    clock.advance(timedelta(minutes=10))
    assert (await complete(client, email=email, code=code))["code"] == "EMAIL_CODE_EXPIRED"
    assert (await complete(client, token=link))["__typename"] == "InvalidToken"
    # Just inside the window it works.
    await request_code(client, email)
    code, _ = await emailed(manager, email)
    clock.advance(timedelta(minutes=9, seconds=59))
    assert (await complete(client, email=email, code=code))["__typename"] == "AuthPayload"


async def test_two_completions_at_once_have_one_winner(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    email = await account(manager, clock)
    await request_code(client, email)
    code, link = await emailed(manager, email)
    answers = await asyncio.gather(
        complete(client, email=email, code=code),
        complete(client, email=email, code=code),
        complete(client, token=link),
    )
    kinds = sorted(a["__typename"] for a in answers)
    assert kinds.count("AuthPayload") == 1, answers
    losers = [a.get("code") for a in answers if a["__typename"] != "AuthPayload"]
    assert set(losers) <= {"EMAIL_CODE_EXPIRED", "INVALID_TOKEN"}, answers
    # Losing a race is not a guess: nothing counted toward the lock.
    user = await User.find_one(User.email == email)
    assert user is not None
    assert await failures(str(user.id), "wrong_email_code") == 0


async def test_a_two_factor_account_still_answers_its_second_factor(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    email = await account(manager, clock)
    token = answer(await call(client, LOGIN, {"email": email, "password": PASSWORD}))
    secret = await enable_totp(client, token["accessToken"], clock)

    await request_code(client, email)
    code, _ = await emailed(manager, email)
    halfway = await complete(client, email=email, code=code)
    assert halfway["__typename"] == "MfaRequired", halfway
    assert halfway["methods"] == ["totp", "backup_code"]
    done = answer(
        await call(
            client,
            COMPLETE_MFA,
            {"challenge": halfway["challengeToken"], "code": pyotp.TOTP(secret).at(clock.now())},
        )
    )
    assert done["__typename"] == "AuthPayload", done
    assert claims(done["accessToken"])["amr"] == ["otp", "mfa"]

    # With a passkey on the account it may answer instead of the code.
    key = SoftwareAuthenticator(user_verification=False)
    assert (await register_passkey(client, done["accessToken"], key))["__typename"] == (
        "PasskeyAdded"
    )
    await request_code(client, email)
    code, _ = await emailed(manager, email)
    halfway = await complete(client, email=email, code=code)
    assert halfway["methods"] == ["totp", "backup_code", "passkey"]
    begun = answer(await call(client, BEGIN_LOGIN, {"challengeToken": halfway["challengeToken"]}))
    finished = await finish_login(client, begun["attemptId"], key.get(begun["options"]))
    assert finished["__typename"] == "AuthPayload", finished
    assert claims(finished["accessToken"])["amr"] == ["otp", "hwk", "mfa"]


async def test_the_first_use_verifies_the_address_and_drops_a_password_nobody_proved(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    # Someone registers an address with a password (not yet verified: it cannot sign in).
    email = unique_email("prehijack")
    assert (await register(client, email))["__typename"] == "RegistrationAccepted"
    refused = answer(await call(client, LOGIN, {"email": email, "password": PASSWORD}))
    assert refused["__typename"] == "EmailNotVerified"

    # The address's owner signs in with a code: that proves the mailbox.
    await request_code(client, email)
    code, _ = await emailed(manager, email)
    signed_in = await complete(client, email=email, code=code)
    assert signed_in["__typename"] == "AuthPayload", signed_in
    assert signed_in["user"]["emailVerified"] is True
    user = await User.get(PydanticObjectId(signed_in["user"]["id"]))
    assert user is not None
    assert user.email_verified
    assert user.email_verified_at is not None
    # The password set by whoever registered no longer opens the account.
    assert user.password_hash == ""
    stolen = answer(await call(client, LOGIN, {"email": email, "password": PASSWORD}))
    assert stolen["__typename"] == "InvalidCredentials"
    assert await EmailMessage.find({"to": email, "template": "password_removed"}).count() == 1
    (verified,) = await AuditEvent.find(
        {"event": "user.verified", "target_id": str(user.id)}
    ).to_list()
    assert verified.details == {"method": "email_code", "credential_removed": True}
    token = signed_in["accessToken"]
    methods = answer(await call(client, METHODS, token=token))
    assert methods["signInMethods"] == ["EMAIL_CODE"]
    # ReauthenticationRequired would not offer a password it does not have.
    assert (
        await manager.state.services.reauthentication.methods(
            manager.state.services.authenticator.claimed_principal(token)
        )
        == []
    )

    # A reset gives it a password again.
    assert answer(await call(client, REQUEST_RESET, {"email": email}))["__typename"] == (
        "EmailRequestAccepted"
    )
    message = await EmailMessage.find_one({"to": email, "template": "password_reset"})
    assert message is not None
    link = manager.state.services.outbox.open_context(message)["link"]
    reset_token = link.split("token=", 1)[1]
    reset = answer(await call(client, RESET, {"token": reset_token, "password": NEW_PASSWORD}))
    assert reset["__typename"] == "PasswordResetCompleted", reset
    again = answer(await call(client, LOGIN, {"email": email, "password": NEW_PASSWORD}))
    assert again["__typename"] == "AuthPayload", again
    methods = answer(await call(client, METHODS, token=again["accessToken"]))
    assert methods["signInMethods"] == ["PASSWORD", "EMAIL_CODE"]


async def test_answers_for_bad_input_and_for_accounts_that_cannot_sign_in(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    bad = await request_code(client, "not an address")
    assert bad["__typename"] == "ValidationFailed"
    malformed = await complete(client, email="someone@example.com", code="12ab56")
    assert malformed["fieldErrors"] == [{"field": "code", "code": "INVALID"}]
    both = await complete(client, email="someone@example.com", code="123456", token="x" * 43)
    assert both["fieldErrors"] == [{"field": "token", "code": "ONE_ONLY"}]
    assert (await complete(client, token="short"))["__typename"] == "InvalidToken"
    # Nothing asked for this address: no live code, nothing counted.
    nobody = await complete(client, email=unique_email("nobody"), code="123456")
    assert nobody["code"] == "EMAIL_CODE_EXPIRED"

    # A deactivated account is sent nothing; the answer is the same.
    email = await account(manager, clock)
    await User.find_one(User.email == email).update(
        {"$set": {"status": UserStatus.DEACTIVATED.value}}
    )
    assert (await request_code(client, email))["__typename"] == "EmailSignInRequested"
    assert await sign_in_emails(email) == 0


async def test_a_deployment_can_turn_it_off(app_with: AppWith, clock: FrozenClock) -> None:
    async with (
        app_with(clock=clock, email_sign_in_enabled=False) as off,
        asgi_client(off) as http,
    ):
        refused: dict[str, Any] = await request_code(http, "someone@example.com")
        assert refused["__typename"] == "EmailSignInDisabled"
        assert refused["code"] == "EMAIL_SIGN_IN_DISABLED"
        completed = await complete(http, email="someone@example.com", code="123456")
        assert completed["__typename"] == "EmailSignInDisabled"
        assert (await complete(http, token="x" * 43))["__typename"] == "EmailSignInDisabled"
