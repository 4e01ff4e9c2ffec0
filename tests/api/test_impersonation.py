"""Impersonation done safely (issue 21, part 5), through GraphQL on the real services.

FerretDB (or SecantusDB), Redis, a real SMTP server and a worker process delivering the
outbox; the app in-process with a clock the tests move. A super-admin signed in with a
second factor opens a short session as a lower-ranked user: its token names them in
``act``, is read-only unless asked otherwise, never gets lasting control, ends with the
administrator's session, and is visible to the user (email, ``mySessions``,
``mySecurityEvents``); every step is audited with both ids.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pyotp
import pytest
from beanie import PydanticObjectId

from domain.audit.documents import AuditEvent
from domain.core.actor import Actor
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.identity.documents import User, UserStatus
from domain.impersonation.documents import ImpersonationRecord
from domain.sessions.documents import Session
from domain.webhooks.documents import WebhookEvent
from tests.api.identity_ops import (
    LOGOUT,
    ME,
    PASSWORD,
    UPDATE_PROFILE,
    call,
    error_code,
    login,
    unique_email,
)
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager
from tests.support.asgi_ws import AsgiWebSocket, SocketClosedError
from tests.support.processes import running_worker
from tests.support.smtp import MailInbox

START = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)
REASON = "Ticket 4711: the user cannot find their sessions page"

IMPERSONATE = """
mutation($id: ID!, $reason: String!, $readOnly: Boolean! = true) {
  impersonateUser(id: $id, reason: $reason, readOnly: $readOnly) {
    __typename
    ... on ImpersonationStarted {
      accessToken tokenType expiresIn accessTokenExpiresAt sessionId readOnly user { id email }
    }
    ... on ValidationFailed { fieldErrors { field code } }
    ... on UserError { code message }
  }
}"""
END = """mutation { endImpersonation {
  __typename ... on ImpersonationEnded { sessionId } ... on UserError { code } } }"""
MY_SESSIONS = """query { mySessions {
  id current device ip userAgent impersonation { administrator reason readOnly } } }"""
MY_EVENTS = """query { mySecurityEvents(first: 50) {
  event actorRole actorId details ip userAgent } }"""
BEGIN = "mutation { beginTotpEnrollment { __typename ... on TotpEnrollment { secret } } }"
CONFIRM = """mutation($code: String!) { confirmTotpEnrollment(code: $code) { __typename } }"""
LOGIN_MFA = """mutation($email: String!, $password: String!) { login(email: $email, password:
  $password) { __typename ... on MfaRequired { challengeToken } ... on AuthPayload {
  accessToken sessionId } } }"""
COMPLETE = """mutation($challenge: String!, $code: String) {
  completeMfaLogin(challengeToken: $challenge, code: $code) {
    __typename ... on AuthPayload { accessToken sessionId } ... on UserError { code } } }"""
CHANGE_PASSWORD = """mutation { changePassword(currentPassword: "x", newPassword: "y") {
  __typename } }"""
CREATE_KEY = 'mutation { createApiKey(name: "k", scopes: []) { __typename } }'
REAUTH = f'mutation {{ reauthenticate(password: "{PASSWORD}") {{ __typename }} }}'
LOGOUT_ALL = "mutation { logoutAll { sessionsEnded } }"
REVOKE_ALL_OF = "mutation($id: ID!) { revokeUserSessions(id: $id) { __typename } }"
SESSION_FEED = "subscription { sessionRevoked { sessionId reason current } }"


@pytest.fixture(scope="module")
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(
        email_backend="smtp",
        smtp_port=mail_inbox.port,
        websocket_recheck_seconds=0.2,
        webhook_allow_private_targets=True,
    )


@pytest.fixture(scope="module")
async def manager(
    settings: Settings, clock: FrozenClock, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LifespanManager]:
    from app import create_app

    with running_worker(settings, tmp_path_factory.mktemp("worker") / "worker.log"):
        async with LifespanManager(create_app(settings, clock=clock)) as running:
            yield running


@pytest.fixture(scope="module")
async def client(manager: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=manager.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


class Staff:
    """A staff account signed in with a second factor whenever asked."""

    def __init__(self, user: User, secret: str) -> None:
        self.user = user
        self.secret = secret

    @property
    def id(self) -> str:
        return str(self.user.id)


async def account(manager: LifespanManager, role: Role = Role.STUDENT) -> User:
    return await staff_account(manager.state, unique_email(role.value), PASSWORD, role)


async def with_second_factor(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock, role: Role
) -> Staff:
    user = await account(manager, role)
    token = (await login(client, user.email))["accessToken"]
    secret = (await call(client, BEGIN, token=token))["data"]["beginTotpEnrollment"]["secret"]
    code = pyotp.TOTP(secret).at(clock.now())
    confirmed = await call(client, CONFIRM, {"code": code}, token)
    assert confirmed["data"]["confirmTotpEnrollment"]["__typename"] == "BackupCodes"
    return Staff(user, secret)


async def mfa_session(client: httpx.AsyncClient, staff: Staff, clock: FrozenClock) -> Any:
    clock.advance(timedelta(seconds=30))  # a fresh TOTP step (a used one is refused)
    first = await call(client, LOGIN_MFA, {"email": staff.user.email, "password": PASSWORD})
    challenge = first["data"]["login"]["challengeToken"]
    code = pyotp.TOTP(staff.secret).at(clock.now())
    body = await call(client, COMPLETE, {"challenge": challenge, "code": code})
    signed_in = body["data"]["completeMfaLogin"]
    assert signed_in["__typename"] == "AuthPayload", signed_in
    return signed_in


@pytest.fixture(scope="module")
async def boss(client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock) -> Staff:
    return await with_second_factor(client, manager, clock, Role.SUPER_ADMIN)


async def impersonate(
    client: httpx.AsyncClient, token: str, user_id: str, **extra: Any
) -> dict[str, Any]:
    body = await call(client, IMPERSONATE, {"id": user_id, "reason": REASON, **extra}, token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["impersonateUser"]
    return result


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


async def events(**query: Any) -> list[AuditEvent]:
    await AuditEvent.find_all().to_list()  # nothing buffered is missed below
    return await AuditEvent.find(query).to_list()


async def sweep(manager: LifespanManager) -> int:
    recorded: int = await manager.state.services.impersonation.sweep()
    return recorded


async def test_only_a_super_admin_with_a_second_factor_and_a_recent_sign_in(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock, boss: Staff
) -> None:
    student = await account(manager)
    admin = await account(manager, Role.ADMIN)
    admin_token = (await login(client, admin.email))["accessToken"]
    refused = await call(
        client, IMPERSONATE, {"id": str(student.id), "reason": REASON}, admin_token
    )
    assert error_code(refused) == "FORBIDDEN"

    # The boss signed in with a password alone: no impersonation, whatever the settings.
    password_only = await call(client, LOGIN_MFA, {"email": boss.user.email, "password": PASSWORD})
    assert password_only["data"]["login"]["__typename"] == "MfaRequired"
    boss_no_mfa = await staff_account(
        manager.state, unique_email("nomfa"), PASSWORD, Role.SUPER_ADMIN
    )
    plain = (await login(client, boss_no_mfa.email))["accessToken"]
    body = await call(client, IMPERSONATE, {"id": str(student.id), "reason": REASON}, plain)
    assert error_code(body) == "MFA_REQUIRED"

    signed_in = await mfa_session(client, boss, clock)
    clock.advance(timedelta(seconds=301))  # the token works; the sign-in is too old
    stale = await impersonate(client, signed_in["accessToken"], str(student.id))
    assert stale["__typename"] == "ReauthenticationRequired"
    assert await ImpersonationRecord.find_all().count() == 0


async def test_rank_self_inactive_unknown_and_reason_rules(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock, boss: Staff
) -> None:
    token = (await mfa_session(client, boss, clock))["accessToken"]
    peer = await account(manager, Role.SUPER_ADMIN)
    disabled = await account(manager)
    await User.find_one(User.id == disabled.id).update({"$set": {"status": UserStatus.DEACTIVATED}})
    await manager.state.services.users.invalidate(disabled.id)
    for target, rule in ((peer.id, "rank"), (boss.user.id, "self"), (disabled.id, "inactive")):
        result = await impersonate(client, token, str(target))
        assert result["__typename"] == "Forbidden", result
        assert result["code"] == "IMPERSONATION_NOT_ALLOWED"
        (refusal,) = await events(event="impersonation.refused", target_id=str(target))
        assert refusal.details["rule"] == rule
        assert refusal.actor_id == boss.id
    missing = await impersonate(client, token, str(PydanticObjectId()))
    assert missing["__typename"] == "NotFound"
    student = await account(manager)
    short = await call(client, IMPERSONATE, {"id": str(student.id), "reason": " no "}, token)
    assert short["data"]["impersonateUser"]["fieldErrors"][0]["field"] == "reason"
    assert await ImpersonationRecord.find_all().count() == 0


async def test_read_only_session_sees_what_the_user_sees_and_changes_nothing(
    client: httpx.AsyncClient,
    manager: LifespanManager,
    clock: FrozenClock,
    boss: Staff,
    mail_inbox: MailInbox,
) -> None:
    student = await account(manager)
    own = (await login(client, student.email))["accessToken"]
    boss_session = await mfa_session(client, boss, clock)
    started = await impersonate(client, boss_session["accessToken"], str(student.id))
    assert started["__typename"] == "ImpersonationStarted", started
    assert started["readOnly"] is True
    assert started["expiresIn"] == 900
    token = started["accessToken"]
    claims = claims_of(token)
    assert claims["sub"] == str(student.id)
    assert claims["act"] == {"sub": boss.id, "sid": boss_session["sessionId"]}
    assert claims["impersonation"] == {"read_only": True}
    assert claims["exp"] - claims["iat"] == 900

    me = await call(client, ME, token=token)
    assert me["data"]["me"]["email"] == student.email

    # Refused in one place, whatever the mutation and however it is spelled.
    spelled = (
        (UPDATE_PROFILE, {"first": "Mallory"}),
        (
            'mutation { ...F } fragment F on Mutation { updateProfile(firstName: "M") '
            "{ __typename } }",
            {},
        ),
        (
            'mutation { me: updateProfile(firstName: "M") { __typename } '
            "logout { sessionsEnded } }",
            {},
        ),
        (LOGOUT_ALL, {}),
    )
    for document, variables in spelled:
        refused = await call(client, document, variables, token)
        assert refused["data"] is None, refused
        assert error_code(refused) == "IMPERSONATION_READ_ONLY", refused
    fresh = await User.get(student.id)
    assert fresh is not None
    assert fresh.first_name == "Staff"

    (mail,) = await mail_inbox.wait_for(student.email, "An administrator is viewing")
    text = " ".join(mail.text.split())
    assert f"Staff {Role.SUPER_ADMIN.value}" in text
    assert REASON in text
    assert "look only" in text

    sessions = (await call(client, MY_SESSIONS, token=own))["data"]["mySessions"]
    (shown,) = [s for s in sessions if s["impersonation"] is not None]
    assert shown["id"] == started["sessionId"]
    assert (shown["ip"], shown["userAgent"]) == ("", "")  # the admin's stay in the trail
    assert shown["impersonation"] == {
        "administrator": f"Staff {Role.SUPER_ADMIN.value}",
        "reason": REASON,
        "readOnly": True,
    }

    ended = (await call(client, END, token=token))["data"]["endImpersonation"]
    assert ended == {"__typename": "ImpersonationEnded", "sessionId": started["sessionId"]}
    assert error_code(await call(client, ME, token=token)) == "UNAUTHENTICATED"
    # The boss's own session goes on.
    assert (await call(client, ME, token=boss_session["accessToken"]))["data"]["me"]

    seen = (await call(client, MY_EVENTS, token=own))["data"]["mySecurityEvents"]
    names = [e["event"] for e in seen]
    assert {"impersonation.started", "impersonation.ended"} <= set(names)
    assert names.count("impersonation.mutation") == len(spelled) + 1  # + endImpersonation
    started_event = next(e for e in seen if e["event"] == "impersonation.started")
    assert started_event["actorRole"] == "administrator"
    assert started_event["actorId"] is None  # the user sees the role, not who exactly
    assert started_event["details"]["reason"] == REASON
    (trail,) = await events(event="impersonation.ended", target_id=str(student.id))
    assert trail.actor_id == boss.id
    assert trail.details["how"] == "ended"
    mutations = await events(event="impersonation.mutation", target_id=str(student.id))
    assert {e.actor_id for e in mutations} == {boss.id}
    assert sorted(e.details["refused"] for e in mutations) == [
        "",  # endImpersonation, which ran
        "logoutAll",
        "updateProfile",
        "updateProfile",
        "updateProfile",
    ]
    assert await sweep(manager) == 0  # already recorded, once


async def test_read_write_session_never_gets_lasting_control(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock, boss: Staff
) -> None:
    admin = await account(manager, Role.ADMIN)  # a super-admin may impersonate an admin
    student = await account(manager)
    boss_token = (await mfa_session(client, boss, clock))["accessToken"]
    started = await impersonate(client, boss_token, str(admin.id), readOnly=False)
    assert started["__typename"] == "ImpersonationStarted", started
    token = started["accessToken"]
    assert claims_of(token)["impersonation"] == {"read_only": False}

    changed = await call(client, UPDATE_PROFILE, {"first": "Helped"}, token)
    assert changed["data"]["updateProfile"]["__typename"] == "ProfileUpdated", changed
    (profile_event,) = await events(event="user.profile_updated", target_id=str(admin.id))
    assert profile_event.details["impersonator_id"] == boss.id
    own = (await login(client, admin.email))["accessToken"]
    seen = (await call(client, MY_EVENTS, token=own))["data"]["mySecurityEvents"]
    (shown,) = [e for e in seen if e["event"] == "user.profile_updated"]
    assert shown["details"] == {"impersonated": True}  # said, without the admin's id
    assert (shown["ip"], shown["userAgent"]) == ("", "")  # the administrator's, not theirs

    nested = {"id": str(student.id), "reason": REASON}
    for document, variables in (
        (CHANGE_PASSWORD, {}),
        (CREATE_KEY, {}),
        (REAUTH, {}),
        (IMPERSONATE, nested),
    ):
        refused = await call(client, document, variables, token)
        assert error_code(refused) == "IMPERSONATION_READ_ONLY", (document, refused)
    assert await ImpersonationRecord.find({"user_id": str(student.id)}).count() == 0
    allowed = await events(event="impersonation.mutation", target_id=str(admin.id))
    assert sorted(e.result.value for e in allowed) == ["failure"] * 4 + ["success"]
    assert (await call(client, LOGOUT, token=token))["data"]["logout"]["sessionsEnded"] == 1
    assert await sweep(manager) == 1
    (ended,) = await events(event="impersonation.ended", target_id=str(admin.id))
    assert ended.details["how"] == "logout"


async def test_ends_the_moment_the_admin_logs_out_or_is_revoked(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock, boss: Staff
) -> None:
    student = await account(manager)
    own = (await login(client, student.email))["accessToken"]
    boss_session = await mfa_session(client, boss, clock)
    token = (await impersonate(client, boss_session["accessToken"], str(student.id)))["accessToken"]
    assert (await call(client, ME, token=token))["data"]["me"]["email"] == student.email
    await call(client, LOGOUT, token=boss_session["accessToken"])
    assert error_code(await call(client, ME, token=token)) == "UNAUTHENTICATED"
    assert await sweep(manager) == 1
    (ended,) = await events(event="impersonation.ended", target_id=str(student.id))
    assert ended.details["how"] == "parent_ended"
    sessions = (await call(client, MY_SESSIONS, token=own))["data"]["mySessions"]
    assert all(s["impersonation"] is None for s in sessions)

    # Another super-admin ends all of the boss's sessions: the same, at once.
    other = await account(manager, Role.SUPER_ADMIN)
    other_token = (await login(client, other.email))["accessToken"]
    again = await mfa_session(client, boss, clock)
    token = (await impersonate(client, again["accessToken"], str(student.id)))["accessToken"]
    revoked = await call(client, REVOKE_ALL_OF, {"id": boss.id}, other_token)
    assert revoked["data"]["revokeUserSessions"]["__typename"] == "UserSessionsRevoked"
    assert error_code(await call(client, ME, token=token)) == "UNAUTHENTICATED"
    assert await sweep(manager) == 1
    ends = await events(event="impersonation.ended", target_id=str(student.id))
    assert [e.details["how"] for e in ends] == ["parent_ended", "parent_ended"]


async def test_expires_after_fifteen_minutes_and_cannot_be_refreshed(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock, boss: Staff
) -> None:
    student = await account(manager)
    boss_session = await mfa_session(client, boss, clock)
    started = await impersonate(client, boss_session["accessToken"], str(student.id))
    session = await Session.get(PydanticObjectId(started["sessionId"]))
    assert session is not None
    assert session.impersonation is not None
    assert session.expires_at.replace(tzinfo=UTC) == clock.now() + timedelta(minutes=15)
    clock.advance(timedelta(minutes=15) - timedelta(seconds=31))
    assert (await call(client, ME, token=started["accessToken"]))["data"]["me"]
    clock.advance(timedelta(seconds=31 + 30))  # past the end and the verification leeway
    assert error_code(await call(client, ME, token=started["accessToken"])) == "UNAUTHENTICATED"
    assert await sweep(manager) == 1
    (ended,) = await events(event="impersonation.ended", target_id=str(student.id))
    assert ended.details["how"] == "expired"
    assert ended.actor_id == boss.id


async def expect_close(socket: AsgiWebSocket, wait: float = 5) -> SocketClosedError:
    try:
        while True:
            await socket.receive(wait)
    except SocketClosedError as closed:
        return closed


async def test_websocket_refuses_its_mutations_and_closes_with_the_admins_session(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock, boss: Staff
) -> None:
    student = await account(manager)
    boss_session = await mfa_session(client, boss, clock)
    token = (await impersonate(client, boss_session["accessToken"], str(student.id)))["accessToken"]
    async with AsgiWebSocket(manager.app) as socket:
        assert (await socket.init(token))["type"] == "connection_ack"
        await socket.subscribe("m", 'mutation { updateProfile(firstName: "M") { __typename } }')
        refused = await socket.receive()
        assert refused["type"] == "error"
        assert refused["id"] == "m"
        await socket.subscribe("s", SESSION_FEED)
        await asyncio.sleep(0.2)  # the process-wide watch has subscribed
        await call(client, LOGOUT, token=boss_session["accessToken"])
        closed = await expect_close(socket)
    assert closed.code == 4401
    fresh = await User.get(student.id)
    assert fresh is not None
    assert fresh.first_name == "Staff"


async def test_start_and_end_are_webhook_events(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock, boss: Staff
) -> None:
    """Recorded for the subscribed endpoint with both ids. (Delivery is the worker's, on
    the real clock, which this module's frozen one would make too old to send: the
    delivery itself is tested in tests/webhooks/.)"""
    kinds = ["security.impersonation_ended", "security.impersonation_started"]
    await manager.state.services.webhooks.endpoints.create(
        Actor.system(), "http://127.0.0.1:9/hook", kinds
    )
    student = await account(manager)
    boss_session = await mfa_session(client, boss, clock)
    started = await impersonate(client, boss_session["accessToken"], str(student.id))
    ended = await call(client, END, token=started["accessToken"])
    assert ended["data"]["endImpersonation"]["__typename"] == "ImpersonationEnded"
    recorded = await WebhookEvent.find({"type": {"$in": kinds}}).sort("type").to_list()
    assert [e.type for e in recorded] == kinds
    end, start = (e.data for e in recorded)
    assert start == {
        "user_id": str(student.id),
        "actor_id": boss.id,
        "session_id": started["sessionId"],
        "read_only": True,
        "reason": REASON,
    }
    assert end == {
        "user_id": str(student.id),
        "actor_id": boss.id,
        "session_id": started["sessionId"],
        "how": "ended",
    }
