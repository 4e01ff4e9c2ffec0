"""A stolen access token alone never buys lasting control (review finding 6, issue 16).

Through the real GraphQL API on FerretDB and Redis, with a clock the tests move: each
change that gives lasting control declares how recent the session's authentication
must be (``@requires_recent_authentication``); older, it answers the typed
``ReauthenticationRequired`` member (its ``maxAgeSeconds`` and the ``methods`` the
account can prove itself with) and changes nothing, until ``reauthenticate``. Access
tokens carry the session's ``auth_time``: a refresh keeps it, ``reauthenticate``
renews it and hands back a token with the new one. The owner is emailed (read from a
real SMTP server) whenever a second factor is added or removed; a replay of a used TOTP
code is refused without counting toward the lock.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pyotp
import pytest
from beanie import PydanticObjectId

from domain.apikeys.service import ApiKey
from domain.audit.documents import AuditEvent
from domain.core.actor import Actor
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.identity.documents import User
from domain.mfa.documents import TotpCredential
from domain.sessions.family_cache import RefreshFamilies
from domain.sessions.principal import Principal
from domain.webhooks.documents import WebhookEndpoint
from schema.recent_authentication import MAX_AGE_ATTRIBUTE
from schema.schema import build_schema
from tests.api.identity_ops import (
    NEW_PASSWORD,
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
# What a refusal for a too-old sign-in looks like in every document below.
STALE_FIELDS = "... on ReauthenticationRequired { code message maxAgeSeconds methods }"

REAUTH = """
mutation($password: String, $code: String, $backup: String) {
  reauthenticate(password: $password, code: $code, backupCode: $backup) {
    __typename
    ... on Reauthenticated {
      validUntil authTime accessToken tokenType expiresIn accessTokenExpiresAt
    }
    ... on UserError { code message }
  }
}"""
BEGIN = f"""mutation {{ beginTotpEnrollment {{
  __typename ... on TotpEnrollment {{ secret }} ... on UserError {{ code }} {STALE_FIELDS} }} }}"""
CONFIRM = f"""mutation($code: String!) {{ confirmTotpEnrollment(code: $code) {{
  __typename ... on BackupCodes {{ codes }} ... on UserError {{ code }} {STALE_FIELDS} }} }}"""
LOGIN_MFA = """
mutation($email: String!, $password: String!) { login(email: $email, password: $password) {
  __typename ... on MfaRequired { challengeToken } ... on UserError { code } } }"""
COMPLETE = """
mutation($challenge: String!, $code: String) {
  completeMfaLogin(challengeToken: $challenge, code: $code) {
    __typename
    ... on AuthPayload { accessToken refreshToken sessionId }
    ... on UserError { code message }
  }
}"""
DISABLE = f"""mutation($password: String!, $code: String!) {{
  disableTotp(password: $password, code: $code) {{
    __typename ... on UserError {{ code }} {STALE_FIELDS} }} }}"""
REGENERATE = """mutation($password: String!, $code: String!) {
  regenerateBackupCodes(password: $password, code: $code) {
    __typename ... on UserError { code } } }"""
RESET_2FA = "mutation($id: ID!) { resetUserTwoFactor(id: $id) { __typename } }"
CREATE_KEY = f"""mutation {{ createApiKey(name: "ci deploys", scopes: ["users:read"]) {{
  __typename ... on ApiKeyCreated {{ key }} {STALE_FIELDS} }} }}"""
CHANGE_PASSWORD = f"""mutation($current: String!, $new: String!) {{
  changePassword(currentPassword: $current, newPassword: $new) {{
    __typename ... on UserError {{ code }} {STALE_FIELDS} }} }}"""
WRONG = "not my password 1"

# Every mutation that gives lasting control and the maximum age of the authentication
# it accepts, in seconds, written out by hand and reviewed by a person (SECURITY.md,
# "Mutations that change credentials, factors or recovery"): the schema's declarations
# are checked against this table, never the other way round. Those that also take the
# password inline accept an older sign-in; the rest need one within five minutes.
LASTING_CONTROL: dict[str, tuple[int, str]] = {
    "beginTotpEnrollment": (300, "mutation { beginTotpEnrollment { $R } }"),
    "confirmTotpEnrollment": (300, 'mutation { confirmTotpEnrollment(code: "123456") { $R } }'),
    "disableTotp": (900, f'mutation {{ disableTotp(password: "{WRONG}", code: "1") {{ $R }} }}'),
    "regenerateBackupCodes": (
        900,
        f'mutation {{ regenerateBackupCodes(password: "{WRONG}", code: "1") {{ $R }} }}',
    ),
    "changePassword": (
        900,
        f'mutation {{ changePassword(currentPassword: "{WRONG}", newPassword: "{NEW_PASSWORD}") '
        "{ $R } }",
    ),
    "requestEmailChange": (
        900,
        'mutation { requestEmailChange(newEmail: "moved@example.com", '
        f'currentPassword: "{WRONG}") {{ $R }} }}',
    ),
    "createApiKey": (300, 'mutation { createApiKey(name: "k", scopes: []) { $R } }'),
    "createOAuthClient": (
        300,
        'mutation { createOAuthClient(clientType: PUBLIC, client: {name: "rp", '
        'redirectUris: ["https://rp.example.com/cb"]}) { $R } }',
    ),
    "updateOAuthClient": (
        300,
        'mutation($id: ID!) { updateOAuthClient(id: $id, client: {name: "rp2"}) { $R } }',
    ),
    "rotateOAuthClientSecret": (
        300,
        "mutation($id: ID!) { rotateOAuthClientSecret(id: $id) { $R } }",
    ),
    "createWebhookEndpoint": (
        300,
        "mutation { createWebhookEndpoint("
        'url: "http://127.0.0.1:9/new", events: ["user.registered"]) { $R } }',
    ),
    "updateWebhookEndpoint": (
        300,
        'mutation($id: ID!) { updateWebhookEndpoint(id: $id, url: "http://127.0.0.1:9/evil") '
        "{ $R } }",
    ),
    "rotateWebhookSecret": (300, "mutation($id: ID!) { rotateWebhookSecret(id: $id) { $R } }"),
    "updateUser": (300, "mutation($id: ID!) { updateUser(id: $id, role: ADMIN) { $R } }"),
    "restoreUser": (300, "mutation($id: ID!) { restoreUser(id: $id) { $R } }"),
    "resetUserTwoFactor": (300, "mutation($id: ID!) { resetUserTwoFactor(id: $id) { $R } }"),
    "beginPasskeyRegistration": (300, "mutation { beginPasskeyRegistration { $R } }"),
    "finishPasskeyRegistration": (
        300,
        'mutation { finishPasskeyRegistration(credential: {id: "x"}) { $R } }',
    ),
    "removePasskey": (300, 'mutation { removePasskey(id: "x") { $R } }'),
    "removeUserPasskey": (
        300,
        'mutation($id: ID!) { removeUserPasskey(userId: $id, id: "x") { $R } }',
    ),
    "beginSocialLink": (
        300,
        'mutation { beginSocialLink(provider: "x", redirectUri: "https://x/cb") { $R } }',
    ),
    "linkSocialIdentity": (
        300,
        'mutation { linkSocialIdentity(provider: "x", code: "c", state: "s") { $R } }',
    ),
    "confirmSocialLink": (300, 'mutation { confirmSocialLink(linkToken: "x") { $R } }'),
    "unlinkSocialIdentity": (300, 'mutation { unlinkSocialIdentity(id: "x") { $R } }'),
    "removeUserIdentity": (
        300,
        'mutation($id: ID!) { removeUserIdentity(userId: $id, id: "x") { $R } }',
    ),
    "impersonateUser": (
        300,
        'mutation($id: ID!) { impersonateUser(id: $id, reason: "ticket 1") { $R } }',
    ),
    "requestDataExport": (300, "mutation { requestDataExport { $R } }"),
    "deleteMyAccount": (300, "mutation { deleteMyAccount { $R } }"),
    "acceptLoginChallenge": (300, 'mutation { acceptLoginChallenge(challenge: "x") { $R } }'),
    "acceptConsentChallenge": (300, 'mutation { acceptConsentChallenge(challenge: "x") { $R } }'),
}
# Refused first for a session without a second factor, whatever its age (the boss below
# signs in with a password alone): its staleness is tested in tests/api/test_impersonation.py.
SECOND_FACTOR_FIRST = {"impersonateUser"}
# They also check the password they are given (a wrong one in the documents above).
TAKES_THE_PASSWORD = {
    "disableTotp",
    "regenerateBackupCodes",
    "changePassword",
    "requestEmailChange",
}
# It ends the session that asks (tests/privacy/test_account_deletion_api.py runs it).
ENDS_THE_SESSION = {"deleteMyAccount"}
# updateUser needs it only to give: a role, or the account back (active: true).
REACTIVATE = (
    f"mutation($id: ID!) {{ updateUser(id: $id, active: true) {{ __typename {STALE_FIELDS} }} }}"
)
DEACTIVATE = "mutation($id: ID!) { updateUser(id: $id, active: false) { __typename } }"


def document(name: str) -> str:
    return LASTING_CONTROL[name][1].replace("$R", f"__typename {STALE_FIELDS}")


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


def answer(body: dict[str, Any]) -> dict[str, Any]:
    """The one mutation's result (its union member)."""
    assert "errors" not in body, body
    (result,) = body["data"].values()
    return dict(result)


def refused_for_reauthentication(
    body: dict[str, Any], max_age: int = 300, methods: tuple[str, ...] = ("password",)
) -> bool:
    result = answer(body)
    return (
        result["__typename"] == "ReauthenticationRequired"
        and result["code"] == "REAUTHENTICATION_REQUIRED"
        and result["maxAgeSeconds"] == max_age
        and tuple(result["methods"]) == methods
    )


async def refreshed(client: httpx.AsyncClient, refresh_token: str) -> str:
    """A new access token for the session (its authentication time unchanged)."""
    tokens = answer(await call(client, REFRESH, {"token": refresh_token}))
    assert tokens["__typename"] == "AuthPayload", tokens
    return str(tokens["accessToken"])


def claims_of(token: str) -> dict[str, Any]:
    """The access token's claims, read as any client or resource server would."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


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
    assert "reauthenticate" in answer(refused)["message"]
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
    assert datetime.fromisoformat(proved["authTime"]) == clock.now()

    secret = await enroll(client, token, clock)
    (notice,) = await mail_inbox.wait_for(email, "Two-factor sign-in was turned on")
    assert "locked it to their own phone" in " ".join(notice.text.split())
    assert {p.get_content_type() for p in notice.message.walk()} >= {"text/plain", "text/html"}

    # The proof lasts MAX_AGE; after that the guard answers before anything else, and
    # now offers the new factor as a proof too.
    clock.advance(MAX_AGE)
    again = await call(client, BEGIN, token=token)
    assert refused_for_reauthentication(again, 300, ("password", "totp", "backup_code")), again
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
    email = await verified_user(client, mail_inbox)
    secret = await enroll(client, (await login(client, email))["accessToken"], clock)
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
    declared = {
        field.graphql_name or schema.config.name_converter.get_graphql_name(field): getattr(
            field.base_resolver.wrapped_func, MAX_AGE_ATTRIBUTE
        )
        for field in mutation.fields  # type: ignore[union-attr]
        if field.base_resolver is not None
        and hasattr(field.base_resolver.wrapped_func, MAX_AGE_ATTRIBUTE)
    }
    reviewed = {name: max_age for name, (max_age, _) in LASTING_CONTROL.items()}
    assert declared == reviewed, "update LASTING_CONTROL and SECURITY.md"
    # No permission class answers it any more: the refusal is a union member.
    assert not any(
        getattr(p, "reauthentication", False)
        for field in mutation.fields  # type: ignore[union-attr]
        for ext in field.extensions
        for p in getattr(ext, "permissions", [])
    )

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

    def arguments(name: str) -> dict[str, Any] | None:
        ids = {"id": endpoint} if "Webhook" in name and "create" not in name else variables
        return {k: v for k, v in ids.items() if "$id" in document(name)} or None

    clock.advance(timedelta(seconds=901))  # older than every declared maximum age
    before = await snapshot()
    for name, (max_age, _) in LASTING_CONTROL.items():
        if name in SECOND_FACTOR_FIRST:
            continue
        body = await call(client, document(name), arguments(name), token)
        assert refused_for_reauthentication(body, max_age), (name, body)
    assert await snapshot() == before
    # Taking away is not giving: deactivating needs no fresh proof; reactivating does.
    assert refused_for_reauthentication(await call(client, REACTIVATE, variables, token))
    deactivated = await call(client, DEACTIVATE, variables, token)
    assert deactivated["data"]["updateUser"]["__typename"] == "UserUpdated"

    assert (await reauthenticate(client, token, password=PASSWORD))["__typename"] == (
        "Reauthenticated"
    )
    # No wrong guesses to count.
    for name in (
        LASTING_CONTROL.keys() - TAKES_THE_PASSWORD - SECOND_FACTOR_FIRST - ENDS_THE_SESSION
    ):
        body = await call(client, document(name), arguments(name), token)
        assert answer(body)["__typename"] != "ReauthenticationRequired", (name, body)


async def test_the_proof_ends_with_the_session_and_the_setting_caps_every_max_age(
    client: httpx.AsyncClient,
    manager: LifespanManager,
    mail_inbox: MailInbox,
    clock: FrozenClock,
    make_settings: Callable[..., Settings],
) -> None:
    email = await verified_user(client, mail_inbox)
    signed_in = await login(client, email)
    state = manager.state
    reauthentication = state.services.reauthentication
    principal = Principal(
        user_id=await user_id_of(email),
        session_id=signed_in["sessionId"],
        role=Role.STUDENT,
        token_id="test",
    )
    assert await reauthentication.is_recent(principal, 300)
    clock.advance(STALE)
    assert not await reauthentication.is_recent(principal, 300)
    assert await reauthentication.is_recent(principal, 900)
    assert (await reauthenticate(client, signed_in["accessToken"], password=PASSWORD))[
        "__typename"
    ] == "Reauthenticated"
    assert await reauthentication.is_recent(principal, 300)
    await state.services.sessions.revoke_all(
        PydanticObjectId(principal.user_id), reason="test", actor=Actor.system()
    )
    assert not await reauthentication.is_recent(principal, 900)
    assert await reauthentication.auth_time(principal) is None

    # GATEHOUSE_REAUTHENTICATION_MAX_AGE_SECONDS lowers every declared age, never raises one.
    assert state.settings.reauthentication_max_age_seconds == 900
    assert reauthentication.max_age(300) == 300
    assert reauthentication.max_age(900) == 900
    strict = make_settings(reauthentication_max_age_seconds=120)
    capped = type(reauthentication)(
        strict,
        clock,
        state.hasher,
        state.services.mfa,
        state.services.audit,
        state.services.lockout.record_failed_attempt,
        state.services.access_tokens,
        passkeys=state.services.passkey_reauthentication,
        families=RefreshFamilies(state.redis, strict),
    )
    assert (capped.max_age(300), capped.max_age(900), capped.max_age(60)) == (120, 120, 60)


async def test_access_tokens_carry_auth_time_kept_by_refresh_and_renewed_by_reauthenticate(
    client: httpx.AsyncClient, manager: LifespanManager, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email = await verified_user(client, mail_inbox)
    signed_in_at = clock.now()
    first = await login(client, email)
    assert claims_of(first["accessToken"])["auth_time"] == int(signed_in_at.timestamp())

    clock.advance(STALE)
    refreshed = answer(await call(client, REFRESH, {"token": first["refreshToken"]}))
    claims = claims_of(refreshed["accessToken"])
    assert claims["iat"] == int(clock.now().timestamp())
    assert claims["auth_time"] == int(signed_in_at.timestamp()), "a refresh is no sign-in"
    verified = manager.state.services.access_tokens.verify(refreshed["accessToken"])
    assert verified.auth_time == signed_in_at

    proved = await reauthenticate(client, refreshed["accessToken"], password=PASSWORD)
    assert proved["__typename"] == "Reauthenticated"
    assert datetime.fromisoformat(proved["authTime"]) == clock.now()
    assert proved["tokenType"] == "Bearer"
    assert proved["expiresIn"] == manager.state.settings.access_token_ttl_seconds
    renewed = claims_of(proved["accessToken"])
    assert renewed["auth_time"] == int(clock.now().timestamp())
    assert renewed["sid"] == claims["sid"]
    assert renewed["exp"] == int(datetime.fromisoformat(proved["accessTokenExpiresAt"]).timestamp())
    begun = answer(await call(client, BEGIN, token=proved["accessToken"]))
    assert begun["__typename"] == "TotpEnrollment"

    # The session keeps the new time: the next refresh carries it on.
    reauthenticated_at = clock.now()
    clock.advance(timedelta(seconds=60))
    again = answer(await call(client, REFRESH, {"token": refreshed["refreshToken"]}))
    assert claims_of(again["accessToken"])["auth_time"] == int(reauthenticated_at.timestamp())


async def test_each_operation_answers_with_its_own_max_age_and_the_accounts_methods(
    client: httpx.AsyncClient, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email = await verified_user(client, mail_inbox)
    signed_in = await login(client, email)
    token = signed_in["accessToken"]
    clock.advance(STALE)
    # Five minutes for a new factor; a password change, which takes the password too,
    # accepts a sign-in up to fifteen minutes old.
    assert refused_for_reauthentication(await call(client, BEGIN, token=token), 300)
    changed = {"current": PASSWORD, "new": NEW_PASSWORD}
    assert answer(await call(client, CHANGE_PASSWORD, changed, token))["__typename"] == (
        "PasswordChanged"
    )
    clock.advance(timedelta(seconds=600))  # the access token (15 min) is renewed, not the proof
    token = await refreshed(client, signed_in["refreshToken"])
    back = {"current": NEW_PASSWORD, "new": "a third passphrase, never used 93"}
    refused = await call(client, CHANGE_PASSWORD, back, token)
    assert refused_for_reauthentication(refused, 900), refused
    assert (await reauthenticate(client, token, password=NEW_PASSWORD))["__typename"] == (
        "Reauthenticated"
    )
    assert answer(await call(client, CHANGE_PASSWORD, back, token))["__typename"] == (
        "PasswordChanged"
    )

    # With two-factor on, the refusal offers the code and the backup codes as well.
    email = await verified_user(client, mail_inbox)
    secret = await enroll(client, (await login(client, email))["accessToken"], clock)
    signed_in = await mfa_sign_in(client, email, code_at(secret, clock))
    clock.advance(timedelta(seconds=901))
    token = await refreshed(client, signed_in["refreshToken"])
    off = {"password": PASSWORD, "code": code_at(secret, clock)}
    refused = await call(client, DISABLE, off, token)
    assert refused_for_reauthentication(refused, 900, ("password", "totp", "backup_code"))
    proved = await reauthenticate(client, token, code=code_at(secret, clock))
    assert proved["__typename"] == "Reauthenticated"
    clock.advance(timedelta(seconds=30))
    off = {"password": PASSWORD, "code": code_at(secret, clock)}
    done = await call(client, DISABLE, off, proved["accessToken"])
    assert answer(done)["__typename"] == "TotpDisabled"
