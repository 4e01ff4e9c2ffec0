"""GATEHOUSE_MFA_REQUIRED_ROLES: admin powers need a session signed in with a second factor.

Through GraphQL with real TOTP codes (pyotp, on the injected clock): an admin with a
password-only session is refused with ``MFA_REQUIRED`` but can still enroll; only a
sign-in completed with a code (and the sessions refreshed from it) gets the powers.
Roles not listed keep working on a password alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyotp
import pytest

from domain.audit.documents import AuditEvent
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.core.settings import Settings
from tests.api.identity_ops import ME, PASSWORD, REFRESH, call, login
from tests.support.accounts import staff_account
from tests.support.asgi import app_client

CLOCK_START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
USERS = "query { users(first: 1) { edges { node { email } } } }"
BEGIN = "mutation { beginTotpEnrollment { __typename ... on TotpEnrollment { secret } } }"
CONFIRM = """
mutation($code: String!) { confirmTotpEnrollment(code: $code) { __typename } }"""
COMPLETE = """
mutation($challenge: String!, $code: String) {
  completeMfaLogin(challengeToken: $challenge, code: $code) {
    __typename ... on AuthPayload { accessToken refreshToken }
  }
}"""
LOGIN_MFA = """
mutation($email: String!, $password: String!) { login(email: $email, password: $password) {
  __typename ... on MfaRequired { challengeToken } ... on AuthPayload { accessToken }
} }"""


@pytest.fixture(scope="module")
async def client(
    make_settings: Callable[..., Settings], clock: FrozenClock
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(mfa_required_roles="admin,super_admin", rate_limits_enabled=False)
    async with app_client(settings, clock) as http:
        yield http


def code(secret: str, clock: FrozenClock) -> str:
    return str(pyotp.TOTP(secret).at(clock.now()))


def refused_with(body: dict[str, Any]) -> str:
    assert body["data"] is None, body
    return str(body["errors"][0]["extensions"]["code"])


async def test_admin_needs_a_second_factor_for_admin_powers(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    state = client.app_state  # type: ignore[attr-defined]
    admin = await staff_account(state, "admin@example.com", PASSWORD, Role.ADMIN, clock)
    password_only = (await login(client, admin.email))["accessToken"]

    body = await call(client, USERS, token=password_only)
    assert refused_with(body) == "MFA_REQUIRED"
    assert "two-factor" in body["errors"][0]["message"]
    denial = await AuditEvent.find_one({"event": "security.access_denied"})
    assert denial is not None
    assert denial.details["needs"] == "users:read+mfa"
    # Still signed in: the profile and enrollment need no admin power.
    assert (await call(client, ME, token=password_only))["data"]["me"]["email"] == admin.email
    begun = (await call(client, BEGIN, token=password_only))["data"]["beginTotpEnrollment"]
    secret = begun["secret"]
    confirmed = await call(client, CONFIRM, {"code": code(secret, clock)}, password_only)
    assert confirmed["data"]["confirmTotpEnrollment"]["__typename"] == "BackupCodes"
    clock.advance(timedelta(seconds=30))
    # Enrolling does not upgrade a session signed in without the factor.
    assert refused_with(await call(client, USERS, token=password_only)) == "MFA_REQUIRED"

    started = await call(client, LOGIN_MFA, {"email": admin.email, "password": PASSWORD})
    challenge = started["data"]["login"]["challengeToken"]
    done = (await call(client, COMPLETE, {"challenge": challenge, "code": code(secret, clock)}))[
        "data"
    ]["completeMfaLogin"]
    assert done["__typename"] == "AuthPayload"
    page = await call(client, USERS, token=done["accessToken"])
    assert page["data"]["users"]["edges"], page

    # Sessions refreshed from a two-factor sign-in keep it.
    rotated = (await call(client, REFRESH, {"token": done["refreshToken"]}))["data"]
    assert (await call(client, USERS, token=rotated["refreshToken"]["accessToken"]))["data"]


async def test_roles_not_listed_work_on_a_password(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    state = client.app_state  # type: ignore[attr-defined]
    instructor = await staff_account(
        state, "instructor@example.com", PASSWORD, Role.INSTRUCTOR, clock
    )
    token = (await login(client, instructor.email))["accessToken"]
    page = await call(client, USERS, token=token)
    assert page["data"]["users"]["edges"], page


def test_unknown_roles_are_refused_at_start(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValueError, match="unknown roles: root"):
        make_settings(mfa_required_roles="admin,root")
