"""Race and abuse against the passkey ceremonies, through GraphQL on the real stores.

Every challenge is single use (two answers: one winner), bound to whom it was issued
for (another account's challenge or credential is refused), short-lived on the
injected clock, and checked against our origins and RP ID only. A counter that does not
move forward refuses the sign-in, is audited and emails the owner. Asking for the
options of an email says nothing about whether it has an account. Malformed answers are
typed refusals, never server errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from beanie import PydanticObjectId

from domain.audit.documents import AuditEvent
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.email.outbox import EmailMessage
from domain.passkeys.documents import Passkey
from tests.api.identity_ops import PASSWORD, call, login, unique_email
from tests.passkeys.support import (
    BEGIN_LOGIN,
    BEGIN_REGISTRATION,
    FINISH_REGISTRATION,
    begin_login,
    finish_login,
    passkey_login,
    register_passkey,
    result,
)
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.support.webauthn_authenticator import SoftwareAuthenticator

CLOCK_START = datetime(2026, 8, 4, 9, 0, tzinfo=UTC)
TTL = 60


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(passkey_challenge_ttl_seconds=TTL)


@pytest.fixture(scope="module")
async def manager(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LifespanManager]:
    async with app_with(clock=clock, passkey_challenge_ttl_seconds=TTL) as running:
        yield running


@pytest.fixture(scope="module")
async def client(manager: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(manager) as http:
        yield http


async def signed_in(manager: LifespanManager, client: httpx.AsyncClient) -> dict[str, Any]:
    email = unique_email("abuse")
    await staff_account(manager.state, email, PASSWORD, Role.STUDENT, clock=manager.state.clock)
    return await login(client, email)


async def with_passkey(
    manager: LifespanManager, client: httpx.AsyncClient, **authenticator: Any
) -> tuple[dict[str, Any], SoftwareAuthenticator]:
    person = await signed_in(manager, client)
    key = SoftwareAuthenticator(**authenticator)
    added = await register_passkey(client, person["accessToken"], key)
    assert added["__typename"] == "PasskeyAdded", added
    return person, key


async def test_a_sign_in_challenge_answered_twice_has_one_winner(
    client: httpx.AsyncClient, manager: LifespanManager
) -> None:
    _, key = await with_passkey(manager, client)
    begun = await begin_login(client)
    answers = [key.get(begun["options"]), key.get(begun["options"])]
    outcomes = await asyncio.gather(*(finish_login(client, begun["attemptId"], a) for a in answers))
    assert sorted(o["__typename"] for o in outcomes) == ["AuthPayload", "PasskeyChallengeExpired"]


async def test_a_registration_challenge_answered_twice_has_one_winner(
    client: httpx.AsyncClient, manager: LifespanManager
) -> None:
    person = await signed_in(manager, client)
    token = person["accessToken"]
    begun = result(await call(client, BEGIN_REGISTRATION, token=token))
    first, second = SoftwareAuthenticator(), SoftwareAuthenticator()
    answers = [first.create(begun["options"]), second.create(begun["options"])]
    outcomes = await asyncio.gather(
        *(call(client, FINISH_REGISTRATION, {"credential": a}, token) for a in answers)
    )
    names = sorted(result(o)["__typename"] for o in outcomes)
    assert names == ["PasskeyAdded", "PasskeyChallengeExpired"]
    owner = PydanticObjectId(person["user"]["id"])
    assert await Passkey.find({"user_id": owner}).count() == 1


async def test_another_accounts_challenge_or_credential_is_refused(
    client: httpx.AsyncClient, manager: LifespanManager
) -> None:
    alice = await signed_in(manager, client)
    bob = await signed_in(manager, client)
    alice_options = result(await call(client, BEGIN_REGISTRATION, token=alice["accessToken"]))
    result(await call(client, BEGIN_REGISTRATION, token=bob["accessToken"]))
    # Bob answers the challenge issued to Alice: his own challenge does not match it.
    stolen = SoftwareAuthenticator().create(alice_options["options"])
    refused = result(
        await call(client, FINISH_REGISTRATION, {"credential": stolen}, bob["accessToken"])
    )
    assert refused["code"] == "INVALID_PASSKEY", refused
    # Alice's own challenge was not spent by Bob's attempt.
    mine = SoftwareAuthenticator().create(alice_options["options"])
    added = result(
        await call(client, FINISH_REGISTRATION, {"credential": mine}, alice["accessToken"])
    )
    assert added["__typename"] == "PasskeyAdded", added

    # An attempt begun for Alice's email does not take Bob's passkey.
    bob_key = SoftwareAuthenticator()
    await register_passkey(client, bob["accessToken"], bob_key)
    begun = await begin_login(client, alice["user"]["email"])
    answer = bob_key.get({**begun["options"], "allowCredentials": []})
    assert (await finish_login(client, begun["attemptId"], answer))["code"] == "INVALID_PASSKEY"
    # Nor does a user handle that is not the credential's owner.
    begun = await begin_login(client)
    forged = bob_key.get(begun["options"])
    forged["response"]["userHandle"] = "AAAAAAAAAAAAAAAA"
    assert (await finish_login(client, begun["attemptId"], forged))["code"] == "INVALID_PASSKEY"


async def test_a_wrong_origin_or_rp_id_is_refused_and_counted(
    client: httpx.AsyncClient, manager: LifespanManager
) -> None:
    person, key = await with_passkey(manager, client)
    token = person["accessToken"]
    for override in ({"origin": "https://evil.example"}, {"rp_id": "evil.example"}):
        begun = result(await call(client, BEGIN_REGISTRATION, token=token))
        phished = SoftwareAuthenticator().create(begun["options"], **override)
        refused = result(await call(client, FINISH_REGISTRATION, {"credential": phished}, token))
        assert refused["code"] == "INVALID_PASSKEY", (override, refused)
        signed = await passkey_login(client, key, **override)
        assert signed["code"] == "INVALID_PASSKEY", (override, signed)
    failures = await AuditEvent.find(
        {"event": "user.login_failed", "target_id": person["user"]["id"]}
    ).to_list()
    assert len(failures) == 2
    assert all(e.details["method"] == "passkey" for e in failures)
    # The honest origin still works (and clears the failures like any sign-in).
    assert (await passkey_login(client, key))["__typename"] == "AuthPayload"


async def test_expired_challenges_are_refused(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    _, key = await with_passkey(manager, client)
    begun = await begin_login(client)
    clock.advance(timedelta(seconds=TTL))
    late = await finish_login(client, begun["attemptId"], key.get(begun["options"]))
    assert late["__typename"] == "PasskeyChallengeExpired", late
    fresh = await signed_in(manager, client)
    registration = result(await call(client, BEGIN_REGISTRATION, token=fresh["accessToken"]))
    clock.advance(timedelta(seconds=TTL))
    answer = SoftwareAuthenticator().create(registration["options"])
    refused = result(
        await call(client, FINISH_REGISTRATION, {"credential": answer}, fresh["accessToken"])
    )
    assert refused["__typename"] == "PasskeyChallengeExpired", refused


async def test_a_cloned_counter_is_refused_audited_and_the_owner_emailed(
    client: httpx.AsyncClient, manager: LifespanManager
) -> None:
    person, key = await with_passkey(manager, client)
    assert (await passkey_login(client, key))["__typename"] == "AuthPayload"
    copy = key.clone()  # both now at counter 1
    assert (await passkey_login(client, key))["__typename"] == "AuthPayload"  # 2
    cloned = await passkey_login(client, copy)  # presents 2 again
    assert cloned["__typename"] == "InvalidPasskey"
    assert cloned["code"] == "PASSKEY_CLONE_SUSPECTED"
    user_id, email = person["user"]["id"], person["user"]["email"]
    (event,) = await AuditEvent.find(
        {"event": "user.passkey_clone_warning", "target_id": user_id}
    ).to_list()
    assert event.details["stored_counter"] == 2
    assert event.details["presented_counter"] == 2
    assert await EmailMessage.find({"to": email, "template": "passkey_clone_warning"}).count() == 1
    stored = await Passkey.get(key.credential_ids[0])
    assert stored is not None
    assert stored.sign_count == 2


async def test_the_options_for_an_email_do_not_say_whether_it_has_an_account(
    client: httpx.AsyncClient, manager: LifespanManager
) -> None:
    without_passkey = (await signed_in(manager, client))["user"]["email"]
    nobody = unique_email("nobody")
    shapes = []
    for email in (without_passkey, nobody, nobody):
        begun = await begin_login(client, email)
        options = begun["options"]
        shapes.append(
            (sorted(options), [sorted(c) for c in options["allowCredentials"]], begun["__typename"])
        )
        assert len(options["allowCredentials"]) == 1
    assert shapes[0] == shapes[1] == shapes[2]
    first = (await begin_login(client, nobody))["options"]["allowCredentials"]
    again = (await begin_login(client, nobody.upper()))["options"]["allowCredentials"]
    assert first == again  # the decoy is stable, as a real credential id is
    begun = await begin_login(client, nobody)
    _, key = await with_passkey(manager, client)
    answer = key.get({**begun["options"], "allowCredentials": []})
    assert (await finish_login(client, begun["attemptId"], answer))["code"] == "INVALID_PASSKEY"


@pytest.mark.parametrize(
    "credential",
    [
        "not json",
        "[1, 2]",
        42,
        [],
        {},
        {"id": "x", "rawId": "x", "type": "public-key", "response": {}},
        {
            "id": "!!",
            "rawId": "!!",
            "type": "public-key",
            "response": {"clientDataJSON": "%%", "authenticatorData": "", "signature": ""},
        },
        {"nested": {"deep": ["x" * 70_000]}},
    ],
)
async def test_malformed_answers_are_refused_not_server_errors(
    client: httpx.AsyncClient, manager: LifespanManager, credential: Any
) -> None:
    begun = await begin_login(client)
    answer = await finish_login(client, begun["attemptId"], credential)
    assert answer["__typename"] == "InvalidPasskey", answer
    person = await signed_in(manager, client)
    result(await call(client, BEGIN_REGISTRATION, token=person["accessToken"]))
    registered = result(
        await call(client, FINISH_REGISTRATION, {"credential": credential}, person["accessToken"])
    )
    assert registered["__typename"] == "InvalidPasskey", registered
    unknown = await finish_login(client, "not-an-attempt", credential)
    assert unknown["__typename"] in ("PasskeyChallengeExpired", "InvalidPasskey")


async def test_options_for_a_bad_email_or_both_arguments_are_validation_failures(
    client: httpx.AsyncClient,
) -> None:
    bad = result(await call(client, BEGIN_LOGIN, {"email": "not an address"}))
    assert bad["__typename"] == "ValidationFailed"
    both = result(
        await call(client, BEGIN_LOGIN, {"email": "a@example.com", "challengeToken": "x"})
    )
    assert both["__typename"] == "ValidationFailed"
    spent = result(await call(client, BEGIN_LOGIN, {"challengeToken": "x" * 43}))
    assert spent["__typename"] == "PasskeyChallengeExpired"


async def test_required_user_verification_refuses_a_passkey_without_it(
    app_with: AppWith, clock: FrozenClock
) -> None:
    async with (
        app_with(clock=clock, passkey_user_verification="required") as strict,
        asgi_client(strict) as http,
    ):
        person = await signed_in(strict, http)
        unverified = SoftwareAuthenticator(user_verification=False)
        refused = await register_passkey(http, person["accessToken"], unverified)
        assert refused["code"] == "INVALID_PASSKEY"
        begun = result(await call(http, BEGIN_REGISTRATION, token=person["accessToken"]))
        assert begun["options"]["authenticatorSelection"]["userVerification"] == "required"


async def test_sign_in_options_count_toward_the_login_rate_limit(
    app_with: AppWith, clock: FrozenClock
) -> None:
    async with (
        app_with(clock=clock, rate_limits_enabled=True, rate_limit_login_ip="3/300") as limited,
        asgi_client(limited) as http,
    ):
        answers = [result(await call(http, BEGIN_LOGIN, {})) for _ in range(4)]
        assert [a["__typename"] for a in answers] == ["PasskeyLoginOptions"] * 3 + ["RateLimited"]


def test_production_refuses_origins_off_the_rp_id(make_settings: Callable[..., Settings]) -> None:
    # pydantic wraps the UnsafeSettingsError (a ValueError) in its own ValidationError.
    with pytest.raises(ValueError, match=r"passkey origin https://evil\.example is not on"):
        make_settings(
            environment="production",
            passkey_rp_id="example.com",
            passkey_origins="https://app.example.com,https://evil.example",
        )
    with pytest.raises(ValueError, match="must be https"):
        make_settings(
            environment="production",
            passkey_rp_id="example.com",
            passkey_origins="http://app.example.com",
        )
    with pytest.raises(ValueError, match="PASSKEY_ORIGINS must be set"):
        make_settings(environment="production", passkey_origins="")
