"""Trusted devices, through GraphQL on the real stores: ``completeMfaLogin(rememberDevice:)``
hands out a token that skips the account's second factor on later sign-ins (password,
emailed code, passkey without user verification), listed and revocable by its owner,
ended by a password or factor change and by ``logoutAll``, expiring on the injected clock,
and audited at every step.
"""

from __future__ import annotations

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
from domain.mfa.documents import TrustedDevice
from tests.api.identity_ops import (
    CHANGE_PASSWORD,
    LOGOUT_ALL,
    NEW_PASSWORD,
    PASSWORD,
    call,
    unique_email,
)
from tests.passkeys.support import (
    BEGIN_LOGIN,
    FINISH_LOGIN,
    REMOVE,
    claims,
    enable_totp,
    register_passkey,
)
from tests.passwordless.support import (
    COMPLETE_MFA,
    LOGIN,
    REVOKE_TRUSTED,
    TRUSTED,
    answer,
    complete,
    emailed,
    request_code,
)
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.support.webauthn_authenticator import SoftwareAuthenticator

CLOCK_START = datetime(2026, 9, 2, 9, 0, tzinfo=UTC)
LAPTOP = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture(scope="module")
async def manager(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LifespanManager]:
    async with app_with(clock=clock) as running:
        yield running


@pytest.fixture(scope="module")
async def client(manager: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(manager) as http:
        yield http


class TwoFactorAccount:
    def __init__(self, email: str, password: str, secret: str, user_id: str) -> None:
        self.email, self.password, self.secret, self.user_id = email, password, secret, user_id


async def two_factor_account(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> TwoFactorAccount:
    email = unique_email("trusted")
    user = await staff_account(manager.state, email, PASSWORD, Role.STUDENT, clock=clock)
    first = answer(await call(client, LOGIN, {"email": email, "password": PASSWORD}))
    secret = await enable_totp(client, first["accessToken"], clock)
    return TwoFactorAccount(email, PASSWORD, secret, str(user.id))


async def password_login(
    client: httpx.AsyncClient, who: TwoFactorAccount, device_token: str | None = None
) -> dict[str, Any]:
    variables = {"email": who.email, "password": who.password, "deviceToken": device_token}
    return answer(await call(client, LOGIN, variables, user_agent=LAPTOP))


async def second_factor(
    client: httpx.AsyncClient,
    who: TwoFactorAccount,
    challenge: str,
    clock: FrozenClock,
    *,
    remember: bool = False,
) -> dict[str, Any]:
    clock.advance(timedelta(seconds=30))  # a fresh TOTP step each time
    code = pyotp.TOTP(who.secret).at(clock.now())
    variables = {"challenge": challenge, "code": code, "remember": remember}
    return answer(await call(client, COMPLETE_MFA, variables, user_agent=LAPTOP))


async def trusted_device(
    client: httpx.AsyncClient, who: TwoFactorAccount, clock: FrozenClock
) -> dict[str, Any]:
    """A full two-factor sign-in that asks to remember the device: its answer."""
    challenged = await password_login(client, who)
    assert challenged["__typename"] == "MfaRequired", challenged
    done = await second_factor(client, who, challenged["challengeToken"], clock, remember=True)
    assert done["__typename"] == "AuthPayload", done
    assert done["deviceToken"], done
    return done


async def audited(event: str, user_id: str) -> list[AuditEvent]:
    """Oldest first (the database promises no order of its own)."""
    found = await AuditEvent.find({"event": event, "target_id": user_id}).to_list()
    return sorted(found, key=lambda e: e.occurred_at)


async def test_a_remembered_device_skips_the_second_factor_on_every_first_step(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    who = await two_factor_account(client, manager, clock)
    # Without rememberDevice nothing is handed out.
    challenged = await password_login(client, who)
    plain = await second_factor(client, who, challenged["challengeToken"], clock)
    assert plain["deviceToken"] is None
    granted = await trusted_device(client, who, clock)
    device_token = granted["deviceToken"]
    assert device_token.startswith("td1.")
    (added,) = await audited("user.trusted_device_added", who.user_id)
    device_id = added.details["trusted_device"]
    document = await TrustedDevice.get(device_id)
    assert document is not None
    assert device_token.split(".")[2] not in document.model_dump_json()  # only a digest

    # The password alone now signs in on this device: a second factor by proxy.
    skipped = await password_login(client, who, device_token)
    assert skipped["__typename"] == "AuthPayload", skipped
    assert claims(skipped["accessToken"])["amr"] == ["pwd", "mfa"]
    assert len(await audited("user.trusted_device_used", who.user_id)) == 1
    # An emailed code too.
    await request_code(client, who.email)
    code, _ = await emailed(manager, who.email)
    emailed_in = await complete(client, email=who.email, code=code, deviceToken=device_token)
    assert emailed_in["__typename"] == "AuthPayload", emailed_in
    assert claims(emailed_in["accessToken"])["amr"] == ["otp", "mfa"]
    # And a passkey without user verification.
    key = SoftwareAuthenticator(user_verification=False)
    added_key = await register_passkey(client, skipped["accessToken"], key)
    assert added_key["__typename"] == "PasskeyAdded", added_key
    begun = answer(await call(client, BEGIN_LOGIN, {"email": who.email}))
    variables = {
        "attemptId": begun["attemptId"],
        "credential": key.get(begun["options"]),
        "deviceToken": device_token,
    }
    document_text = FINISH_LOGIN.replace(
        "$credential: JSON!)", "$credential: JSON!, $deviceToken: String)"
    ).replace("credential: $credential)", "credential: $credential, deviceToken: $deviceToken)")
    by_passkey = answer(await call(client, document_text, variables))
    assert by_passkey["__typename"] == "AuthPayload", by_passkey
    assert claims(by_passkey["accessToken"])["amr"] == ["hwk", "mfa"]

    # The owner sees it, with where and when it was trusted and last used.
    (listed,) = (await call(client, TRUSTED, token=skipped["accessToken"]))["data"][
        "myTrustedDevices"
    ]
    assert listed["id"] == device_id
    assert listed["device"] == "Firefox on Linux"
    assert (
        listed["expiresAt"]
        == (datetime.fromisoformat(listed["createdAt"]) + timedelta(days=30)).isoformat()
    )
    assert listed["lastUsedAt"] is not None


async def test_a_token_is_only_its_own_accounts_and_expires(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    alice = await two_factor_account(client, manager, clock)
    bob = await two_factor_account(client, manager, clock)
    alices_token = (await trusted_device(client, alice, clock))["deviceToken"]
    # Bob's sign-in with Alice's device token: his second factor is still asked.
    assert (await password_login(client, bob, alices_token))["__typename"] == "MfaRequired"
    # A forged or mangled token is no token.
    forged = alices_token[:-4] + "AAAA"
    assert (await password_login(client, alice, forged))["__typename"] == "MfaRequired"
    assert (await password_login(client, alice, "nonsense"))["__typename"] == "MfaRequired"
    # A wrong password is still a wrong password.
    wrong = answer(
        await call(
            client,
            LOGIN,
            {"email": alice.email, "password": "not it at all 1", "deviceToken": alices_token},
        )
    )
    assert wrong["__typename"] == "InvalidCredentials"
    # Thirty days on (the setting's default), the device answers the code again.
    clock.advance(timedelta(days=30))
    assert (await password_login(client, alice, alices_token))["__typename"] == "MfaRequired"


async def test_revoked_one_by_one_or_all_on_a_password_change_or_logout_all(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    who = await two_factor_account(client, manager, clock)
    first = await trusted_device(client, who, clock)
    second = await trusted_device(client, who, clock)
    session = first["accessToken"]
    listed = (await call(client, TRUSTED, token=session))["data"]["myTrustedDevices"]
    assert len(listed) == 2

    revoked = answer(await call(client, REVOKE_TRUSTED, {"id": listed[-1]["id"]}, session))
    assert revoked == {"__typename": "TrustedDeviceRevoked", "id": listed[-1]["id"]}
    assert (await password_login(client, who, first["deviceToken"]))["__typename"] == (
        "MfaRequired"
    )
    again = answer(await call(client, REVOKE_TRUSTED, {"id": listed[-1]["id"]}, session))
    assert again["__typename"] == "NotFound"
    assert len(await audited("user.trusted_device_revoked", who.user_id)) == 1

    # logoutAll ends every trusted device, this one's too.
    assert (await password_login(client, who, second["deviceToken"]))["__typename"] == (
        "AuthPayload"
    )
    current = await trusted_device(client, who, clock)
    ended = await call(client, LOGOUT_ALL, {"keep": True}, current["accessToken"])
    assert ended["data"]["logoutAll"]["sessionsEnded"] >= 1
    for token in (second["deviceToken"], current["deviceToken"]):
        assert (await password_login(client, who, token))["__typename"] == "MfaRequired"
    (all_ended,) = await audited("user.trusted_devices_revoked", who.user_id)
    assert all_ended.details == {"reason": "logout_all", "trusted_devices": 2}

    # A password change ends them too.
    remembered = await trusted_device(client, who, clock)
    changed = answer(
        await call(
            client,
            CHANGE_PASSWORD,
            {"current": PASSWORD, "new": NEW_PASSWORD},
            remembered["accessToken"],
        )
    )
    assert changed["__typename"] == "PasswordChanged", changed
    who.password = NEW_PASSWORD
    assert (await password_login(client, who, remembered["deviceToken"]))["__typename"] == (
        "MfaRequired"
    )
    reasons = [
        e.details["reason"] for e in await audited("user.trusted_devices_revoked", who.user_id)
    ]
    assert reasons == ["logout_all", "password_changed"]


async def test_a_factor_change_ends_them(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    who = await two_factor_account(client, manager, clock)
    remembered = await trusted_device(client, who, clock)
    key = SoftwareAuthenticator()
    passkey = await register_passkey(client, remembered["accessToken"], key)
    assert passkey["__typename"] == "PasskeyAdded", passkey
    # Adding a passkey changes nothing; removing one ends every trusted device.
    assert (await password_login(client, who, remembered["deviceToken"]))["__typename"] == (
        "AuthPayload"
    )
    removed = answer(
        await call(client, REMOVE, {"id": passkey["passkey"]["id"]}, remembered["accessToken"])
    )
    assert removed["__typename"] == "PasskeyRemoved", removed
    assert (await password_login(client, who, remembered["deviceToken"]))["__typename"] == (
        "MfaRequired"
    )

    # Turning TOTP off (the account then has no second factor to skip) ends them as well;
    # an administrator's reset is the same change.
    await trusted_device(client, who, clock)
    user_id = who.user_id
    assert await manager.state.services.mfa.disable(user_id)
    remaining = await manager.state.services.trusted_devices.of_user(PydanticObjectId(user_id))
    assert remaining == []
    reasons = [e.details["reason"] for e in await audited("user.trusted_devices_revoked", user_id)]
    assert reasons == ["passkey_removed", "factor_disabled"]


async def test_remembering_can_be_turned_off(app_with: AppWith, clock: FrozenClock) -> None:
    async with (
        app_with(clock=clock, trusted_device_ttl_seconds=0) as off,
        asgi_client(off) as http,
    ):
        who = await two_factor_account(http, off, clock)
        challenged = await password_login(http, who)
        done = await second_factor(http, who, challenged["challengeToken"], clock, remember=True)
        assert done["__typename"] == "AuthPayload"
        assert done["deviceToken"] is None
