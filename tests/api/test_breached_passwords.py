"""Breached passwords through GraphQL, on FerretDB, Redis, a real SMTP server and a real
range API on 127.0.0.1: refused as new passwords (registration, change, reset), and at
sign-in, after a right password only, flagged and mailed once (``warn``) or held until a
new password is set (``require``, also after a second factor).

The operator's list is compiled with the CLI's own code into a file the app loads at
start-up; the range API knows one more password. Every password here is strong enough
for the zxcvbn policy, so only the breach check can refuse it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from domain.audit.documents import AuditEvent
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.identity.documents import User
from domain.sessions.documents import Session
from scripts.build_breached_filter import compile_list
from tests.api.identity_ops import CHANGE_PASSWORD, REQUEST_RESET, RESET, call, register
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.support.processes import running_worker
from tests.support.range_api import RangeApi
from tests.support.smtp import MailInbox

CLOCK_START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

LISTED = "velvet canyon drifts slowly 92"  # on the operator's list
LISTED_TOO = "marble falcon orbits nightly 37"  # on the operator's list
ONLINE = "amber glacier hums tunes 4461"  # known only to the range API
FRESH = "silent orchard paints rivers 58"
FRESH_TOO = "frosty lantern climbs hills 603"
NOTICE = "appears in a data breach"

LOGIN = """
mutation($email: String!, $password: String!) { login(email: $email, password: $password) {
  __typename
  ... on AuthPayload { accessToken passwordBreached user { passwordBreached } }
  ... on MfaRequired { challengeToken }
  ... on PasswordChangeRequired { token expiresAt }
  ... on UserError { message code }
} }"""
COMPLETE_MFA = """
mutation($challenge: String!, $code: String) {
  completeMfaLogin(challengeToken: $challenge, code: $code) {
    __typename
    ... on AuthPayload { passwordBreached }
    ... on PasswordChangeRequired { token expiresAt }
    ... on UserError { code }
  }
}"""
ME = "query { me { passwordBreached } }"
BEGIN_TOTP = "mutation { beginTotpEnrollment { ... on TotpEnrollment { secret } } }"
CONFIRM_TOTP = """mutation($code: String!) { confirmTotpEnrollment(code: $code) {
  __typename } }"""


@pytest.fixture(scope="module")
def range_api() -> Any:
    api = RangeApi([ONLINE]).start()
    yield api
    api.stop()


@pytest.fixture(scope="module")
def breached_overrides(
    tmp_path_factory: pytest.TempPathFactory, mail_inbox: MailInbox, range_api: RangeApi
) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("breached")
    source = folder / "list.txt"
    source.write_text(f"{LISTED}\n{LISTED_TOO}\n")
    compile_list(source, folder / "list.bloom")
    return {
        "email_backend": "smtp",
        "smtp_port": mail_inbox.port,
        "breached_password_list_path": folder / "list.bloom",
        "breached_password_range_url": range_api.url,
        "breached_password_range_timeout_seconds": 0.3,
    }


@pytest.fixture(scope="module")
def settings(
    make_settings: Callable[..., Settings], breached_overrides: dict[str, Any]
) -> Settings:
    return make_settings(**breached_overrides)


@pytest.fixture(scope="module")
async def app(
    app_with: AppWith,
    clock: FrozenClock,
    settings: Settings,
    breached_overrides: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LifespanManager]:
    """The warn policy (the default) with a worker delivering its email."""
    with running_worker(settings, tmp_path_factory.mktemp("worker") / "worker.log"):
        async with app_with(clock=clock, **breached_overrides) as running:
            yield running


@pytest.fixture(scope="module")
async def client(app: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as http:
        yield http


@pytest.fixture(scope="module")
async def strict(
    app: LifespanManager, app_with: AppWith, clock: FrozenClock, breached_overrides: dict[str, Any]
) -> AsyncIterator[httpx.AsyncClient]:
    """The same deployment under ``require``, refusing new passwords it cannot check."""
    async with (
        app_with(
            clock=clock,
            **breached_overrides,
            breached_password_sign_in="require",
            breached_password_range_fail_closed=True,
        ) as running,
        asgi_client(running) as http,
    ):
        yield http


@pytest.fixture(autouse=True)
def _api_answers(range_api: RangeApi) -> None:
    range_api.delay_seconds = 0
    range_api.status = 200


async def account(app: LifespanManager, email: str, password: str) -> User:
    return await staff_account(app.state, email, password, Role.STUDENT)


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> dict[str, Any]:
    result: dict[str, Any] = (await call(client, LOGIN, {"email": email, "password": password}))[
        "data"
    ]["login"]
    return result


def field_codes(result: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in result["fieldErrors"]]


# ------------------------------------------------------------------ new passwords


@pytest.mark.parametrize("password", [LISTED, ONLINE])
async def test_registration_refuses_a_breached_password(
    client: httpx.AsyncClient, password: str
) -> None:
    email = f"reg.{password.split()[0]}@example.com"
    result = await register(client, email, password)
    assert result["__typename"] == "ValidationFailed"
    assert field_codes(result) == [("password", "BREACHED")]
    assert await User.find_one(User.email == email) is None


async def test_registration_accepts_a_password_no_list_knows(client: httpx.AsyncClient) -> None:
    assert (await register(client, "reg.fresh@example.com", FRESH))["__typename"] == (
        "RegistrationAccepted"
    )


async def test_change_password_refuses_a_breached_password(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    user = await account(app, "change@example.com", FRESH)
    token = (await sign_in(client, user.email, FRESH))["accessToken"]
    for new in (LISTED, ONLINE):
        body = await call(client, CHANGE_PASSWORD, {"current": FRESH, "new": new}, token)
        result = body["data"]["changePassword"]
        assert result["__typename"] == "ValidationFailed"
        assert field_codes(result) == [("newPassword", "BREACHED")]
    stored = await User.get(user.id)
    assert stored is not None
    assert stored.password_hash == user.password_hash


async def test_reset_refuses_a_breached_password_and_keeps_the_link(
    app: LifespanManager, client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    user = await account(app, "reset@example.com", FRESH)
    await call(client, REQUEST_RESET, {"email": user.email})
    (mail,) = await mail_inbox.wait_for(user.email, "Reset")
    refused = (await call(client, RESET, {"token": mail.token(), "password": LISTED}))["data"]
    assert field_codes(refused["resetPassword"]) == [("newPassword", "BREACHED")]
    done = await call(client, RESET, {"token": mail.token(), "password": FRESH_TOO})
    assert done["data"]["resetPassword"]["__typename"] == "PasswordResetCompleted"


async def test_fail_closed_refuses_a_new_password_the_api_could_not_check(
    strict: httpx.AsyncClient, range_api: RangeApi
) -> None:
    range_api.status = 503
    result = await register(strict, "closed@example.com", FRESH)
    assert field_codes(result) == [("password", "BREACH_CHECK_UNAVAILABLE")]
    range_api.delay_seconds = 1.0  # past the 0.3 s timeout
    range_api.status = 200
    result = await register(strict, "closed@example.com", FRESH)
    assert field_codes(result) == [("password", "BREACH_CHECK_UNAVAILABLE")]


async def test_fail_open_accepts_a_new_password_the_api_could_not_check(
    client: httpx.AsyncClient, range_api: RangeApi
) -> None:
    range_api.delay_seconds = 1.0
    result = await register(client, "open@example.com", FRESH)
    assert result["__typename"] == "RegistrationAccepted"


# ------------------------------------------------------------------------ sign-in


async def test_warn_flags_the_account_tells_the_person_and_mails_once(
    app: LifespanManager, client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    user = await account(app, "warn@example.com", LISTED)
    first = await sign_in(client, user.email, LISTED)
    assert first["__typename"] == "AuthPayload"
    assert first["passwordBreached"] is True
    assert first["user"]["passwordBreached"] is True
    second = await sign_in(client, user.email, LISTED)
    assert second["passwordBreached"] is True
    me = await call(client, ME, token=second["accessToken"])
    assert me["data"]["me"]["passwordBreached"] is True
    (notice,) = await mail_inbox.wait_for(user.email, NOTICE)
    assert "change it now" in notice.text
    await asyncio.sleep(0.5)  # the worker's other deliveries have landed by now
    assert len([m for m in mail_inbox.all(user.email) if NOTICE in m.subject]) == 1
    events = await AuditEvent.find(
        AuditEvent.event == "user.password_breached", AuditEvent.target_id == str(user.id)
    ).to_list()
    assert len(events) == 1

    # A new password clears the flag.
    token = second["accessToken"]
    body = await call(client, CHANGE_PASSWORD, {"current": LISTED, "new": FRESH}, token)
    assert body["data"]["changePassword"]["__typename"] == "PasswordChanged"
    assert (await call(client, ME, token=token))["data"]["me"]["passwordBreached"] is False
    assert (await sign_in(client, user.email, FRESH))["passwordBreached"] is False


async def test_the_range_api_is_asked_at_sign_in_and_never_holds_it_up(
    app: LifespanManager, client: httpx.AsyncClient, range_api: RangeApi
) -> None:
    online = await account(app, "online@example.com", ONLINE)
    assert (await sign_in(client, online.email, ONLINE))["passwordBreached"] is True
    fresh = await account(app, "slow@example.com", FRESH_TOO)
    range_api.delay_seconds = 1.0
    answered = await sign_in(client, fresh.email, FRESH_TOO)
    assert answered["__typename"] == "AuthPayload"
    assert answered["passwordBreached"] is False
    # An unknown verdict leaves a raised flag where it was.
    assert (await sign_in(client, online.email, ONLINE))["passwordBreached"] is True


async def test_a_wrong_password_or_unknown_account_looks_nothing_up(
    app: LifespanManager, client: httpx.AsyncClient, range_api: RangeApi, mail_inbox: MailInbox
) -> None:
    user = await account(app, "quiet@example.com", ONLINE)
    asked = len(range_api.seen)
    wrong = await sign_in(client, user.email, FRESH)
    unknown = await sign_in(client, "nobody@example.com", ONLINE)
    assert wrong["__typename"] == unknown["__typename"] == "InvalidCredentials"
    assert wrong["message"] == unknown["message"]
    assert len(range_api.seen) == asked
    stored = await User.get(user.id)
    assert stored is not None
    assert stored.password_breached_at is None
    assert mail_inbox.all("nobody@example.com") == []


async def test_require_holds_the_sign_in_until_a_new_password_is_set(
    app: LifespanManager, strict: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await account(app, "require@example.com", LISTED)
    held = await sign_in(strict, user.email, LISTED)
    assert held["__typename"] == "PasswordChangeRequired"
    assert held["code"] == "PASSWORD_CHANGE_REQUIRED"
    expires = datetime.fromisoformat(held["expiresAt"])
    assert expires == clock.now() + timedelta(seconds=600)
    assert await Session.find(Session.user_id == user.id).count() == 0
    held_events = await AuditEvent.find(
        AuditEvent.event == "user.password_change_required", AuditEvent.target_id == str(user.id)
    ).to_list()
    assert len(held_events) == 1

    token = held["token"]
    refused = (await call(strict, RESET, {"token": token, "password": LISTED_TOO}))["data"]
    assert field_codes(refused["resetPassword"]) == [("newPassword", "BREACHED")]
    # Two requests racing with the one token: only one sets its password.
    answers = await asyncio.gather(
        call(strict, RESET, {"token": token, "password": FRESH}),
        call(strict, RESET, {"token": token, "password": FRESH_TOO}),
    )
    kinds = sorted(a["data"]["resetPassword"]["__typename"] for a in answers)
    assert kinds == ["InvalidToken", "PasswordResetCompleted"]
    signed = [await sign_in(strict, user.email, p) for p in (FRESH, FRESH_TOO)]
    winner = next(s for s in signed if s["__typename"] == "AuthPayload")
    assert winner["passwordBreached"] is False


async def test_require_comes_after_the_second_factor(
    app: LifespanManager,
    client: httpx.AsyncClient,
    strict: httpx.AsyncClient,
    clock: FrozenClock,
) -> None:
    user = await account(app, "mfa@example.com", LISTED_TOO)
    # Enrolled while the deployment only warned.
    token = (await sign_in(client, user.email, LISTED_TOO))["accessToken"]
    secret = (await call(client, BEGIN_TOTP, token=token))["data"]["beginTotpEnrollment"]["secret"]
    code = pyotp.TOTP(secret).at(clock.now())
    confirmed = await call(client, CONFIRM_TOTP, {"code": code}, token)
    assert confirmed["data"]["confirmTotpEnrollment"]["__typename"] == "BackupCodes"
    clock.advance(timedelta(seconds=30))

    first = await sign_in(strict, user.email, LISTED_TOO)
    assert first["__typename"] == "MfaRequired"
    variables = {"challenge": first["challengeToken"], "code": pyotp.TOTP(secret).at(clock.now())}
    second = (await call(strict, COMPLETE_MFA, variables))["data"]["completeMfaLogin"]
    assert second["__typename"] == "PasswordChangeRequired"
    assert second["token"]


# A module's own app, built last (it rebinds Beanie).
async def test_a_configured_filter_that_is_missing_stops_start_up(
    app_with: AppWith, tmp_path: Path
) -> None:
    # The lifespan fails with the loader's error (the test harness reports its message).
    with pytest.raises(RuntimeError, match="cannot read the breached-password filter"):
        async with app_with(breached_password_list_path=tmp_path / "absent.bloom"):
            pass
