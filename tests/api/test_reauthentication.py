"""A stolen access token alone never buys lasting control (review finding 6).

Through the real GraphQL API on FerretDB and Redis, with a clock the tests move: a
session signed in more than GATEHOUSE_REAUTHENTICATION_MAX_AGE_SECONDS ago must
``reauthenticate`` before any change that gives lasting control; the owner is emailed
(read from a real SMTP server) whenever a second factor is added or removed; a replay
of a used TOTP code is refused without counting toward the lock.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyotp
import pytest
import services
from beanie import PydanticObjectId
from redis.asyncio import Redis

from domain.apikeys.service import ApiKey
from domain.audit.documents import AuditEvent
from domain.core.actor import Actor
from domain.core.clock import FrozenClock
from domain.core.errors import DependencyUnavailableError
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.identity.documents import User
from domain.identity.reauthentication import Reauthentication
from domain.mfa.documents import TotpCredential
from domain.sessions.principal import Principal
from domain.webhooks.documents import WebhookEndpoint
from schema.schema import build_schema
from tests.api.identity_ops import (
    PASSWORD,
    REFRESH,
    call,
    error_code,
    login,
    unique_email,
    verified_user,
)
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager
from tests.support.processes import running_worker
from tests.support.smtp import MailInbox

START = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
MAX_AGE = timedelta(seconds=300)
STALE = MAX_AGE + timedelta(seconds=1)

REAUTH = """
mutation($password: String, $code: String, $backup: String) {
  reauthenticate(password: $password, code: $code, backupCode: $backup) {
    __typename ... on Reauthenticated { validUntil } ... on UserError { code message }
  }
}"""
BEGIN = """mutation { beginTotpEnrollment {
  __typename ... on TotpEnrollment { secret } ... on UserError { code } } }"""
CONFIRM = """mutation($code: String!) { confirmTotpEnrollment(code: $code) {
  __typename ... on BackupCodes { codes } ... on UserError { code } } }"""
LOGIN_MFA = """
mutation($email: String!, $password: String!) { login(email: $email, password: $password) {
  __typename ... on MfaRequired { challengeToken } ... on UserError { code } } }"""
COMPLETE = """
mutation($challenge: String!, $code: String) {
  completeMfaLogin(challengeToken: $challenge, code: $code) {
    __typename ... on AuthPayload { accessToken sessionId } ... on UserError { code message }
  }
}"""
DISABLE = """mutation($password: String!, $code: String!) {
  disableTotp(password: $password, code: $code) { __typename ... on UserError { code } } }"""
REGENERATE = """mutation($password: String!, $code: String!) {
  regenerateBackupCodes(password: $password, code: $code) {
    __typename ... on UserError { code } } }"""
RESET_2FA = "mutation($id: ID!) { resetUserTwoFactor(id: $id) { __typename } }"
CREATE_KEY = """mutation { createApiKey(name: "ci deploys", scopes: ["users:read"]) {
  __typename ... on ApiKeyCreated { key } } }"""

# Every mutation that gives lasting control, written out by hand and reviewed by a
# person (SECURITY.md, "Mutations that change credentials, factors or recovery"): the
# schema is checked against this list, never the other way round.
LASTING_CONTROL: dict[str, str] = {
    "beginTotpEnrollment": "mutation { beginTotpEnrollment { __typename } }",
    "confirmTotpEnrollment": 'mutation { confirmTotpEnrollment(code: "123456") { __typename } }',
    "createApiKey": 'mutation { createApiKey(name: "k", scopes: []) { __typename } }',
    "createWebhookEndpoint": (
        "mutation { createWebhookEndpoint("
        'url: "http://127.0.0.1:9/new", events: ["user.registered"]) { __typename } }'
    ),
    "updateWebhookEndpoint": (
        'mutation($id: ID!) { updateWebhookEndpoint(id: $id, url: "http://127.0.0.1:9/evil") '
        "{ __typename } }"
    ),
    "rotateWebhookSecret": "mutation($id: ID!) { rotateWebhookSecret(id: $id) { __typename } }",
    "updateUser": "mutation($id: ID!) { updateUser(id: $id, role: ADMIN) { __typename } }",
    "restoreUser": "mutation($id: ID!) { restoreUser(id: $id) { __typename } }",
    "resetUserTwoFactor": "mutation($id: ID!) { resetUserTwoFactor(id: $id) { __typename } }",
}
# updateUser needs it only to give: a role, or the account back (active: true).
REACTIVATE = "mutation($id: ID!) { updateUser(id: $id, active: true) { __typename } }"
DEACTIVATE = "mutation($id: ID!) { updateUser(id: $id, active: false) { __typename } }"


@pytest.fixture(scope="module")
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(
        email_backend="smtp", smtp_port=mail_inbox.port, webhook_allow_private_targets=True
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


def code_at(secret: str, clock: FrozenClock) -> str:
    return str(pyotp.TOTP(secret).at(clock.now()))


def refused_for_reauthentication(body: dict[str, Any]) -> bool:
    return body.get("data") is None and error_code(body) == "REAUTHENTICATION_REQUIRED"


async def reauthenticate(client: httpx.AsyncClient, token: str, **proof: str) -> dict[str, Any]:
    body = await call(client, REAUTH, proof, token)
    return dict(body["data"]["reauthenticate"])


async def enroll(client: httpx.AsyncClient, token: str, clock: FrozenClock) -> str:
    begun = (await call(client, BEGIN, token=token))["data"]["beginTotpEnrollment"]
    secret = str(begun["secret"])
    confirmed = await call(client, CONFIRM, {"code": code_at(secret, clock)}, token)
    assert confirmed["data"]["confirmTotpEnrollment"]["__typename"] == "BackupCodes"
    clock.advance(timedelta(seconds=30))  # the confirmation code's step is spent
    return secret


async def mfa_sign_in(client: httpx.AsyncClient, email: str, code: str) -> dict[str, Any]:
    login_result = await call(client, LOGIN_MFA, {"email": email, "password": PASSWORD})
    challenge = login_result["data"]["login"]["challengeToken"]
    body = await call(client, COMPLETE, {"challenge": challenge, "code": code})
    return dict(body["data"]["completeMfaLogin"])


async def failure_count(manager: LifespanManager, email: str) -> int:
    """The account's live failure counter (domain/lockout/counter.py)."""
    fingerprint = hashlib.sha256(email.encode()).hexdigest()[:32]
    prefix = manager.state.settings.redis_key_prefix
    raw = await manager.state.redis.get(f"{prefix}lockout:fail:{fingerprint}")
    return int(raw or 0)


async def user_id_of(email: str) -> str:
    user = await User.find_one(User.email == email)
    assert user is not None
    return str(user.id)


async def test_a_stale_session_must_reauthenticate_before_adding_a_second_factor(
    client: httpx.AsyncClient, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email = await verified_user(client, mail_inbox)
    token = (await login(client, email))["accessToken"]
    uid = await user_id_of(email)
    clock.advance(STALE)  # the access token (15 min) still works; the sign-in is old

    refused = await call(client, BEGIN, token=token)
    assert refused_for_reauthentication(refused), refused
    assert "reauthenticate" in refused["errors"][0]["message"]
    assert await TotpCredential.find({"user_id": PydanticObjectId(uid)}).count() == 0
    denied = await AuditEvent.find(
        {
            "event": "security.access_denied",
            "actor_id": uid,
            "details.needs": "recent_authentication",
        }
    ).count()
    assert denied == 1

    wrong = await reauthenticate(client, token, password="not my password 1")
    assert wrong["__typename"] == "InvalidCredentials"
    proved = await reauthenticate(client, token, password=PASSWORD)
    assert proved["__typename"] == "Reauthenticated"
    assert datetime.fromisoformat(proved["validUntil"]) == clock.now() + MAX_AGE

    secret = await enroll(client, token, clock)
    (notice,) = await mail_inbox.wait_for(email, "Two-factor sign-in was turned on")
    assert "locked it to their own phone" in " ".join(notice.text.split())
    assert {p.get_content_type() for p in notice.message.walk()} >= {"text/plain", "text/html"}

    # The proof lasts MAX_AGE; after that the guard answers before anything else.
    clock.advance(MAX_AGE)
    again = await call(client, BEGIN, token=token)
    assert refused_for_reauthentication(again), again
    assert secret


async def test_a_pending_enrollment_cannot_be_confirmed_from_a_stale_session(
    client: httpx.AsyncClient, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email = await verified_user(client, mail_inbox)
    token = (await login(client, email))["accessToken"]
    secret = (await call(client, BEGIN, token=token))["data"]["beginTotpEnrollment"]["secret"]
    clock.advance(STALE)
    refused = await call(client, CONFIRM, {"code": code_at(secret, clock)}, token)
    assert refused_for_reauthentication(refused), refused
    uid = PydanticObjectId(await user_id_of(email))
    stored = await TotpCredential.find_one({"user_id": uid})
    assert stored is not None
    assert stored.confirmed_at is None


async def test_a_refreshed_token_does_not_renew_the_recent_sign_in(
    client: httpx.AsyncClient, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email = await verified_user(client, mail_inbox)
    first = await login(client, email)
    clock.advance(STALE)
    refreshed = (await call(client, REFRESH, {"token": first["refreshToken"]}))["data"]
    token = refreshed["refreshToken"]["accessToken"]
    assert refused_for_reauthentication(await call(client, BEGIN, token=token))
    assert (await reauthenticate(client, token, password=PASSWORD))["__typename"] == (
        "Reauthenticated"
    )
    begun = (await call(client, BEGIN, token=token))["data"]["beginTotpEnrollment"]
    assert begun["__typename"] == "TotpEnrollment"


async def test_wrong_reauthentication_passwords_count_toward_the_lock(
    client: httpx.AsyncClient, manager: LifespanManager, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email = await verified_user(client, mail_inbox)
    token = (await login(client, email))["accessToken"]
    clock.advance(STALE)
    answers = [
        (await reauthenticate(client, token, password=f"guess number {i}"))["__typename"]
        for i in range(10)
    ]
    assert answers == ["InvalidCredentials"] * 9 + ["AccountLocked"]
    assert (await reauthenticate(client, token, password=PASSWORD))["__typename"] == (
        "AccountLocked"
    )
    await mail_inbox.wait_for(email, "was locked")
    assert refused_for_reauthentication(await call(client, BEGIN, token=token))
    failures = await AuditEvent.find(
        {"event": "user.reauthentication_failed", "target_id": await user_id_of(email)}
    ).count()
    assert failures == 10
    assert await failure_count(manager, email) == 10


async def test_reauthenticate_takes_exactly_one_proof(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = await verified_user(client, mail_inbox)
    token = (await login(client, email))["accessToken"]
    neither = await reauthenticate(client, token)
    assert neither["__typename"] == "ValidationFailed"
    both = await reauthenticate(client, token, password=PASSWORD, code="123456")
    assert both["__typename"] == "ValidationFailed"
    no_factor = await reauthenticate(client, token, code="123456")
    assert no_factor["__typename"] == "InvalidMfaCode"
    anonymous = await call(client, REAUTH, {"password": PASSWORD})
    assert error_code(anonymous) == "UNAUTHENTICATED"


async def test_a_current_code_reauthenticates_and_its_replay_is_not_a_guess(
    client: httpx.AsyncClient, manager: LifespanManager, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email = await verified_user(client, mail_inbox)
    token = (await login(client, email))["accessToken"]
    secret = await enroll(client, token, clock)
    signed_in = await mfa_sign_in(client, email, code_at(secret, clock))
    token = signed_in["accessToken"]
    clock.advance(STALE)
    code = code_at(secret, clock)
    assert (await reauthenticate(client, token, code=code))["__typename"] == "Reauthenticated"
    replayed = await reauthenticate(client, token, code=code)
    assert replayed["__typename"] == "InvalidMfaCode"
    assert replayed["code"] == "MFA_CODE_REPLAYED"
    assert await failure_count(manager, email) == 0
    wrong = await reauthenticate(client, token, code="000000" if code != "000000" else "111111")
    assert wrong["code"] == "INVALID_MFA_CODE"
    assert await failure_count(manager, email) == 1


async def test_replays_of_the_code_that_signed_in_never_lock_but_wrong_codes_do(
    client: httpx.AsyncClient, manager: LifespanManager, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email = await verified_user(client, mail_inbox)
    secret = await enroll(client, (await login(client, email))["accessToken"], clock)
    code = code_at(secret, clock)
    assert (await mfa_sign_in(client, email, code))["__typename"] == "AuthPayload"
    # A double submit, a retrying client, an impatient user: the same right code again.
    replays = [await mfa_sign_in(client, email, code) for _ in range(11)]
    assert {r["code"] for r in replays} == {"MFA_CODE_REPLAYED"}
    assert await failure_count(manager, email) == 0
    user = await User.find_one(User.email == email)
    assert user is not None
    assert user.locked_at is None
    clock.advance(timedelta(seconds=30))
    assert (await mfa_sign_in(client, email, code_at(secret, clock)))["__typename"] == (
        "AuthPayload"
    )
    # A wrong code is a guess and still counts: ten lock the account.
    wrong = "000000" if code_at(secret, clock) != "000000" else "111111"
    guesses = [(await mfa_sign_in(client, email, wrong))["code"] for _ in range(10)]
    assert guesses == ["INVALID_MFA_CODE"] * 9 + ["ACCOUNT_LOCKED"]


async def test_the_owner_is_told_when_a_factor_is_removed_or_codes_replaced(
    client: httpx.AsyncClient, manager: LifespanManager, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email = await verified_user(client, mail_inbox)
    secret = await enroll(client, (await login(client, email))["accessToken"], clock)
    token = (await mfa_sign_in(client, email, code_at(secret, clock)))["accessToken"]
    clock.advance(timedelta(seconds=30))
    regenerated = await call(
        client, REGENERATE, {"password": PASSWORD, "code": code_at(secret, clock)}, token
    )
    assert regenerated["data"]["regenerateBackupCodes"]["__typename"] == "BackupCodes"
    await mail_inbox.wait_for(email, "New backup codes were created")
    clock.advance(timedelta(seconds=30))
    off = await call(client, DISABLE, {"password": PASSWORD, "code": code_at(secret, clock)}, token)
    assert off["data"]["disableTotp"]["__typename"] == "TotpDisabled"
    (disabled,) = await mail_inbox.wait_for(email, "Two-factor sign-in was turned off")
    assert "backup codes no longer work" in " ".join(disabled.text.split())

    # On again, then an administrator removes it (a lost phone): the owner hears of it.
    clock.advance(timedelta(seconds=30))  # steps are claimed per user, across secrets
    await enroll(client, token, clock)
    admin_email = unique_email("reset.admin")
    await staff_account(manager.state, admin_email, PASSWORD, Role.ADMIN, clock=clock)
    admin = (await login(client, admin_email))["accessToken"]
    reset = await call(client, RESET_2FA, {"id": await user_id_of(email)}, admin)
    assert reset["data"]["resetUserTwoFactor"]["__typename"] == "UserUpdated"
    await mail_inbox.wait_for(email, "An administrator removed two-factor sign-in")
    # A pending enrollment is no factor yet: removing it tells nobody.
    assert (await call(client, BEGIN, token=token))["data"]["beginTotpEnrollment"]["secret"]
    again = await call(client, RESET_2FA, {"id": await user_id_of(email)}, admin)
    assert again["data"]["resetUserTwoFactor"]["__typename"] == "UserUpdated"
    await asyncio.sleep(1)
    assert len([m for m in mail_inbox.all(email) if "administrator removed" in m.subject]) == 1
    assert len([m for m in mail_inbox.all(email) if "turned off" in m.subject]) == 1


async def test_an_api_key_is_created_only_by_a_recent_session_and_its_creator_told(
    client: httpx.AsyncClient, manager: LifespanManager, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    admin_email = unique_email("keys.admin")
    await staff_account(manager.state, admin_email, PASSWORD, Role.ADMIN, clock=clock)
    token = (await login(client, admin_email))["accessToken"]
    clock.advance(STALE)
    before = await ApiKey.find_all().count()
    assert refused_for_reauthentication(await call(client, CREATE_KEY, token=token))
    assert await ApiKey.find_all().count() == before
    assert (await reauthenticate(client, token, password=PASSWORD))["__typename"] == (
        "Reauthenticated"
    )
    created = (await call(client, CREATE_KEY, token=token))["data"]["createApiKey"]
    assert created["__typename"] == "ApiKeyCreated"
    (notice,) = await mail_inbox.wait_for(admin_email, "A new API key was created")
    assert '"ci deploys"' in notice.text
    assert "users:read" in notice.text


async def test_every_lasting_control_mutation_needs_a_recent_sign_in(
    client: httpx.AsyncClient, manager: LifespanManager, clock: FrozenClock
) -> None:
    schema = build_schema(manager.state.settings)
    mutation = schema.get_type_by_name("Mutation")
    guarded = {
        field.graphql_name or schema.config.name_converter.get_graphql_name(field)
        for field in mutation.fields  # type: ignore[union-attr]
        if any(
            getattr(p, "reauthentication", False)
            for ext in field.extensions
            for p in getattr(ext, "permissions", [])
        )
    }
    assert guarded == set(LASTING_CONTROL), "update LASTING_CONTROL and SECURITY.md"

    boss_email = unique_email("table.super")
    await staff_account(manager.state, boss_email, PASSWORD, Role.SUPER_ADMIN, clock=clock)
    victim_email = unique_email("table.victim")
    await staff_account(manager.state, victim_email, PASSWORD, Role.STUDENT, clock=clock)
    victim = await user_id_of(victim_email)
    token = (await login(client, boss_email))["accessToken"]
    created = await call(
        client,
        'mutation { createWebhookEndpoint(url: "http://127.0.0.1:9/in", events: '
        '["user.registered"]) { ... on WebhookSecretIssued { endpoint { id } } } }',
        token=token,
    )
    endpoint = created["data"]["createWebhookEndpoint"]["endpoint"]["id"]
    variables = {"id": victim}

    async def snapshot() -> tuple[Any, ...]:
        hook = await WebhookEndpoint.get(endpoint)
        user = await User.get(PydanticObjectId(victim))
        assert hook is not None
        assert user is not None
        return (
            await ApiKey.find_all().count(),
            await WebhookEndpoint.find_all().count(),
            hook.url,
            hook.secret,
            await TotpCredential.find_all().count(),
            user.role,
            user.status,
        )

    clock.advance(STALE)
    before = await snapshot()
    for name, document in LASTING_CONTROL.items():
        ids = {"id": endpoint} if "Webhook" in name and "create" not in name else variables
        needs = {k: v for k, v in ids.items() if "$id" in document}
        body = await call(client, document, needs or None, token)
        assert refused_for_reauthentication(body), (name, body)
    assert await snapshot() == before
    # Taking away is not giving: deactivating needs no fresh proof; reactivating does.
    assert refused_for_reauthentication(await call(client, REACTIVATE, variables, token))
    deactivated = await call(client, DEACTIVATE, variables, token)
    assert deactivated["data"]["updateUser"]["__typename"] == "UserUpdated"

    assert (await reauthenticate(client, token, password=PASSWORD))["__typename"] == (
        "Reauthenticated"
    )
    for name, document in LASTING_CONTROL.items():
        ids = {"id": endpoint} if "Webhook" in name and "create" not in name else variables
        needs = {k: v for k, v in ids.items() if "$id" in document}
        body = await call(client, document, needs or None, token)
        assert body.get("data") is not None, (name, body)


async def test_the_proof_ends_with_the_session_and_without_redis_nothing_is_guessed(
    client: httpx.AsyncClient, manager: LifespanManager, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email = await verified_user(client, mail_inbox)
    signed_in = await login(client, email)
    state = manager.state
    principal = Principal(
        user_id=await user_id_of(email),
        session_id=signed_in["sessionId"],
        role=Role.STUDENT,
        token_id="test",
    )
    assert await state.services.reauthentication.is_recent(principal)
    clock.advance(STALE)
    assert not await state.services.reauthentication.is_recent(principal)
    assert (await reauthenticate(client, signed_in["accessToken"], password=PASSWORD))[
        "__typename"
    ] == "Reauthenticated"
    assert await state.services.reauthentication.is_recent(principal)
    await state.services.sessions.revoke_all(
        PydanticObjectId(principal.user_id), reason="test", actor=Actor.system()
    )
    assert not await state.services.reauthentication.is_recent(principal)

    # A Redis that does not answer: "try again later", never a yes or a no.
    dead = Redis(port=services.free_port(), socket_connect_timeout=0.5)
    broken = Reauthentication(
        state.settings,
        dead,
        clock,
        state.hasher,
        state.services.mfa,
        state.services.audit,
        state.services.lockout.record_failed_attempt,
    )
    fresh = await login(client, email)
    live = Principal(
        user_id=principal.user_id, session_id=fresh["sessionId"], role=Role.STUDENT, token_id="t"
    )
    with pytest.raises(DependencyUnavailableError):
        await broken.is_recent(live)
    with pytest.raises(DependencyUnavailableError):
        await broken.record(live.session_id)
    await dead.aclose()
