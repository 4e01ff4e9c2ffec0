"""Location-aware sign-in alerts through GraphQL, on real FerretDB, Redis, a worker process
delivering to a real SMTP server, and a real HTTP webhook receiver.

(Webhooks: test_location_webhooks.py, without a worker.) The client's address comes in
``X-Forwarded-For`` from a trusted proxy (127.0.0.1, the
in-process client's peer), as behind a production load balancer; the clock is the app's
injected one. The addresses are registry allocations that have stayed put for years:
85.214.132.117 Germany, 80.120.0.1 Austria, 90.0.0.1 France, 1.0.16.1 Japan, 8.8.8.8
the United States (tests/location/test_signals.py checks each look-up).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyotp
import pytest

from domain.audit.documents import AuditEvent
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.identity.documents import User
from tests.api.identity_ops import PASSWORD, unique_email
from tests.passkeys.support import enable_totp
from tests.passwordless.support import COMPLETE, COMPLETE_MFA, LOGIN, REQUEST, answer, emailed
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.support.smtp import MailInbox

CLOCK_START = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)
GERMANY, AUSTRIA, FRANCE, JAPAN, USA = (
    "85.214.132.117",
    "80.120.0.1",
    "90.0.0.1",
    "1.0.16.1",
    "8.8.8.8",
)
PRIVATE = "10.20.30.40"
LAPTOP = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Safari/604.1"
MY_EVENTS = "query { mySecurityEvents(first: 50) { event ip details } }"
SIGNALS = ("security.new_country_sign_in", "security.impossible_travel")


def overrides(mail_inbox: MailInbox) -> dict[str, Any]:
    return {
        "email_backend": "smtp",
        "smtp_port": mail_inbox.port,
        "trusted_proxies": ["127.0.0.1"],
        "webhook_allow_private_targets": True,  # the receiver is on 127.0.0.1
    }


@pytest.fixture(scope="module")
def settings(make_settings: Any, mail_inbox: MailInbox) -> Any:
    """What the worker process runs on (it sends the emails)."""
    return make_settings(**overrides(mail_inbox))


@pytest.fixture(scope="module")
async def manager(
    app_with: AppWith, clock: FrozenClock, mail_inbox: MailInbox, email_worker: None
) -> AsyncIterator[LifespanManager]:
    async with app_with(clock=clock, **overrides(mail_inbox)) as running:
        yield running


@pytest.fixture(scope="module")
async def client(manager: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(manager) as http:
        yield http


async def post(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    ip: str,
    token: str | None = None,
    user_agent: str = LAPTOP,
) -> dict[str, Any]:
    headers = {"X-Forwarded-For": ip, "User-Agent": user_agent}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


async def sign_in(
    client: httpx.AsyncClient,
    email: str,
    ip: str,
    *,
    device_token: str | None = None,
    user_agent: str = LAPTOP,
) -> dict[str, Any]:
    variables = {"email": email, "password": PASSWORD, "deviceToken": device_token}
    return answer(await post(client, LOGIN, variables, ip=ip, user_agent=user_agent))


async def account(manager: LifespanManager, prefix: str) -> tuple[str, str]:
    email = unique_email(prefix)
    user = await staff_account(manager.state, email, PASSWORD, Role.STUDENT)
    return email, str(user.id)


async def signals(user_id: str, event: str | None = None) -> list[AuditEvent]:
    """The account's location signals, oldest first."""
    kinds = [event] if event else list(SIGNALS)
    found = await AuditEvent.find({"event": {"$in": kinds}, "target_id": user_id}).to_list()
    return sorted(found, key=lambda e: e.occurred_at)


async def test_the_new_device_email_names_the_country(
    client: httpx.AsyncClient, manager: LifespanManager, mail_inbox: MailInbox
) -> None:
    email, user_id = await account(manager, "device")
    assert (await sign_in(client, email, GERMANY))["__typename"] == "AuthPayload"
    phone = await sign_in(client, email, GERMANY, user_agent=IPHONE)
    assert phone["__typename"] == "AuthPayload"
    (notice,) = await mail_inbox.wait_for(email, "New sign-in")
    assert notice.subject == "New sign-in to your Gatehouse account from Germany (DE)"
    assert f"Safari on iOS in Germany (DE), from {GERMANY}, at " in " ".join(notice.text.split())
    # One country all along: no risk signal.
    assert await signals(user_id) == []


async def test_a_new_country_is_audited_emailed_and_shown_to_the_owner(
    client: httpx.AsyncClient,
    manager: LifespanManager,
    mail_inbox: MailInbox,
    clock: FrozenClock,
) -> None:
    email, user_id = await account(manager, "abroad")
    await sign_in(client, email, GERMANY)  # the first country is learnt, not announced
    clock.advance(timedelta(days=2))
    signed_in = await sign_in(client, email, FRANCE)
    assert signed_in["__typename"] == "AuthPayload"

    (alert,) = await mail_inbox.wait_for(email, "Unusual sign-in")
    assert alert.subject == "Unusual sign-in to your Gatehouse account from France (FR)"
    text = " ".join(alert.text.split())
    assert f"from France (FR): Firefox on Linux, from {FRANCE}" in text
    assert "has not signed in from this country before" in text
    assert "farther than anyone can travel" not in text  # two days is time enough
    (event,) = await signals(user_id)
    assert event.event == "security.new_country_sign_in"
    assert event.actor_id == user_id
    assert event.ip == FRANCE
    assert event.details == {"country": "FR", "country_name": "France", "mfa": False}

    mine = await post(client, MY_EVENTS, ip=FRANCE, token=signed_in["accessToken"])
    shown = [e for e in mine["data"]["mySecurityEvents"] if e["event"] in SIGNALS]
    assert shown == [
        {
            "event": "security.new_country_sign_in",
            "ip": FRANCE,
            "details": {"country": "FR", "country_name": "France", "mfa": False},
        }
    ]
    # France is known now: no second signal, no second email.
    await sign_in(client, email, FRANCE)
    await sign_in(client, email, GERMANY)
    assert len(await signals(user_id)) == 1
    assert [m.subject for m in mail_inbox.all(email)] == [alert.subject]
    user = await User.get(user_id)
    assert user is not None
    assert (user.known_countries, user.last_country) == (["FR", "DE"], "DE")


async def test_impossible_travel_is_audited_and_emailed(
    client: httpx.AsyncClient,
    manager: LifespanManager,
    mail_inbox: MailInbox,
    clock: FrozenClock,
) -> None:
    email, user_id = await account(manager, "traveller")
    await sign_in(client, email, GERMANY)
    clock.advance(timedelta(hours=1))
    await sign_in(client, email, JAPAN)  # ~9,000 km in an hour

    new_country, travel = await signals(user_id)
    assert new_country.event == "security.new_country_sign_in"
    assert travel.event == "security.impossible_travel"
    assert travel.details["country"] == "JP"
    assert travel.details["previous_country"] == "DE"
    assert travel.details["minutes"] == 60
    assert 8500 < travel.details["distance_km"] < 9500
    (alert,) = await mail_inbox.wait_for(email, "Unusual sign-in")
    text = " ".join(alert.text.split())
    assert "from Japan (JP)" in alert.subject
    assert "The sign-in before it came from Germany (DE) at 2026-" in text
    assert f"about {travel.details['distance_km']} km away" in text

    # A day later the United States is a new country, but a journey that can be made.
    clock.advance(timedelta(hours=20))
    await sign_in(client, email, USA)
    assert [e.event for e in await signals(user_id)][2:] == ["security.new_country_sign_in"]


async def test_neighbours_and_private_addresses_never_travel_impossibly(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    email, user_id = await account(manager, "border")
    await sign_in(client, email, GERMANY)
    clock.advance(timedelta(minutes=5))
    await sign_in(client, email, AUSTRIA)  # across the border in minutes: new, not impossible
    assert [e.event for e in await signals(user_id)] == ["security.new_country_sign_in"]
    # An address with no country (the office network) says nothing and changes nothing.
    clock.advance(timedelta(minutes=1))
    before = await User.get(user_id)
    await sign_in(client, email, PRIVATE)
    after = await User.get(user_id)
    assert before is not None
    assert after is not None
    assert (after.known_countries, after.last_country) == (["DE", "AT"], "AT")
    assert after.last_country_at == before.last_country_at
    assert len(await signals(user_id)) == 1


async def test_an_emailed_code_sign_in_carries_the_signals(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    email, user_id = await account(manager, "coded")
    await sign_in(client, email, GERMANY)
    clock.advance(timedelta(minutes=30))
    requested = answer(await post(client, REQUEST, {"email": email}, ip=JAPAN))
    assert requested["__typename"] == "EmailSignInRequested"
    code, _ = await emailed(manager, email)
    done = answer(await post(client, COMPLETE, {"email": email, "code": code}, ip=JAPAN))
    assert done["__typename"] == "AuthPayload", done
    assert [e.event for e in await signals(user_id)] == list(SIGNALS)


# -- an app of its own (last in the module): a new country forces the second factor --


async def test_a_new_country_skips_the_trusted_device_when_the_setting_says_so(
    app_with: AppWith, clock: FrozenClock, mail_inbox: MailInbox
) -> None:
    settings = {**overrides(mail_inbox), "location_new_country_requires_second_factor": True}
    async with app_with(clock=clock, **settings) as strict, asgi_client(strict) as client:
        email, user_id = await account(strict, "strict")
        first = await sign_in(client, email, GERMANY)
        secret = await enable_totp(client, first["accessToken"], clock)

        async def second_factor(challenge: str, ip: str, remember: bool = False) -> Any:
            clock.advance(timedelta(seconds=30))
            code = pyotp.TOTP(secret).at(clock.now())
            variables = {"challenge": challenge, "code": code, "remember": remember}
            return answer(await post(client, COMPLETE_MFA, variables, ip=ip))

        challenged = await sign_in(client, email, GERMANY)
        assert challenged["__typename"] == "MfaRequired"
        granted = await second_factor(challenged["challengeToken"], GERMANY, remember=True)
        device_token = granted["deviceToken"]
        # At home the trusted device skips the factor, as always.
        home = await sign_in(client, email, GERMANY, device_token=device_token)
        assert home["__typename"] == "AuthPayload"

        clock.advance(timedelta(days=1))
        abroad = await sign_in(client, email, FRANCE, device_token=device_token)
        assert abroad["__typename"] == "MfaRequired", abroad
        (forced,) = await AuditEvent.find(
            {"event": "user.mfa_challenged", "target_id": user_id, "details.new_country": True}
        ).to_list()
        assert forced.ip == FRANCE
        assert await signals(user_id) == []  # nothing signed in yet
        done = await second_factor(abroad["challengeToken"], FRANCE)
        assert done["__typename"] == "AuthPayload"
        (event,) = await signals(user_id)
        assert event.details == {"country": "FR", "country_name": "France", "mfa": True}
        await mail_inbox.wait_for(email, "Unusual sign-in")
        # France is known now: the trusted device skips the factor there too.
        again = await sign_in(client, email, FRANCE, device_token=device_token)
        assert again["__typename"] == "AuthPayload"

        # An account without a second factor has nothing to force: alerted only.
        plain, plain_id = await account(strict, "plain")
        await sign_in(client, plain, GERMANY)
        clock.advance(timedelta(days=1))
        assert (await sign_in(client, plain, FRANCE))["__typename"] == "AuthPayload"
        assert [e.event for e in await signals(plain_id)] == ["security.new_country_sign_in"]
