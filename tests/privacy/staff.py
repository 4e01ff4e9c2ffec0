"""Support staff acting on a person's account, from their own address and browser: what
the person's export must not give away (the administrator's IP, user agent and id) and
what erasure must still take the person out of (the impersonation of them)."""

from __future__ import annotations

from datetime import timedelta

import pyotp

from domain.core.clock import FrozenClock
from domain.core.roles import Role
from tests.api.identity_ops import PASSWORD, UPDATE_PROFILE, call, login, unique_email
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager, asgi_client

ADMIN_IP = "203.0.113.250"
ADMIN_AGENT = "AdminConsole/9.9 (support-laptop-17)"

_BEGIN = "mutation { beginTotpEnrollment { ... on TotpEnrollment { secret } } }"
_CONFIRM = "mutation($code: String!) { confirmTotpEnrollment(code: $code) { __typename } }"
_LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { ... on MfaRequired { challengeToken } } }"""
_COMPLETE = """mutation($challenge: String!, $code: String) {
  completeMfaLogin(challengeToken: $challenge, code: $code) {
    __typename ... on AuthPayload { accessToken } } }"""
_REROLE = "mutation($id: ID!) { updateUser(id: $id, role: INSTRUCTOR) { __typename } }"
_IMPERSONATE = """mutation($id: ID!) {
  impersonateUser(id: $id, reason: "Ticket 4711: cannot find the profile page", readOnly: false) {
    __typename ... on ImpersonationStarted { accessToken } } }"""
_END = "mutation { endImpersonation { __typename } }"


async def support_visit(
    manager: LifespanManager, clock: FrozenClock, user_id: str, first_name: str
) -> str:
    """A super-admin (second factor, as impersonation requires) sets the person's role to
    instructor, then impersonates them read-write, sets their first name and ends the visit.
    Returns the administrator's id."""
    admin = await staff_account(
        manager.state, unique_email("privacy.support"), PASSWORD, Role.SUPER_ADMIN
    )
    async with asgi_client(manager, client=(ADMIN_IP, 6100)) as desk:
        token = (await login(desk, admin.email, user_agent=ADMIN_AGENT))["accessToken"]
        begun = await call(desk, _BEGIN, token=token, user_agent=ADMIN_AGENT)
        secret = begun["data"]["beginTotpEnrollment"]["secret"]
        code = pyotp.TOTP(secret).at(clock.now())
        await call(desk, _CONFIRM, {"code": code}, token, ADMIN_AGENT)
        clock.advance(timedelta(seconds=30))  # a fresh TOTP step
        variables = {"email": admin.email, "password": PASSWORD}
        challenge = (await call(desk, _LOGIN, variables, user_agent=ADMIN_AGENT))["data"]
        code = pyotp.TOTP(secret).at(clock.now())
        done = await call(
            desk,
            _COMPLETE,
            {"challenge": challenge["login"]["challengeToken"], "code": code},
            user_agent=ADMIN_AGENT,
        )
        token = done["data"]["completeMfaLogin"]["accessToken"]
        rerolled = await call(desk, _REROLE, {"id": user_id}, token, ADMIN_AGENT)
        assert rerolled["data"]["updateUser"]["__typename"] == "UserUpdated", rerolled
        started = await call(desk, _IMPERSONATE, {"id": user_id}, token, ADMIN_AGENT)
        as_person = started["data"]["impersonateUser"]["accessToken"]
        changed = await call(desk, UPDATE_PROFILE, {"first": first_name}, as_person, ADMIN_AGENT)
        assert changed["data"]["updateProfile"]["__typename"] == "ProfileUpdated", changed
        ended = await call(desk, _END, token=as_person, user_agent=ADMIN_AGENT)
        assert ended["data"]["endImpersonation"]["__typename"] == "ImpersonationEnded", ended
    return str(admin.id)
