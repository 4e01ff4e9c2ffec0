"""TOTP two-factor through GraphQL, codes computed with pyotp from the returned secret."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyotp
import pytest

from domain.core.clock import FrozenClock
from domain.core.settings import Settings
from domain.mfa.documents import TotpCredential
from tests.api.identity_ops import ME, PASSWORD, call, login, verified_user
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.support.processes import running_worker
from tests.support.smtp import MailInbox

BEGIN = """
mutation { beginTotpEnrollment {
  __typename ... on TotpEnrollment { secret otpauthUri qrCodeSvgDataUri }
  ... on UserError { code }
} }"""
CONFIRM = """
mutation($code: String!) { confirmTotpEnrollment(code: $code) {
  __typename ... on BackupCodes { codes } ... on UserError { code }
} }"""
COMPLETE = """
mutation($challenge: String!, $code: String, $backup: String) {
  completeMfaLogin(challengeToken: $challenge, code: $code, backupCode: $backup) {
    __typename ... on AuthPayload { accessToken user { twoFactorEnabled } }
    ... on UserError { code message }
  }
}"""
LOGIN_MFA = """
mutation($email: String!, $password: String!) { login(email: $email, password: $password) {
  __typename ... on MfaRequired { challengeToken expiresAt methods } ... on UserError { code }
} }"""
DISABLE = """
mutation($password: String!, $code: String!) { disableTotp(password: $password, code: $code) {
  __typename ... on UserError { code }
} }"""
REGENERATE = """
mutation($password: String!, $code: String!) {
  regenerateBackupCodes(password: $password, code: $code) {
    __typename ... on BackupCodes { codes } ... on UserError { code }
  }
}"""
RESET = """
mutation($id: ID!) { resetUserTwoFactor(id: $id) { __typename } }"""

START = CLOCK_START = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def manager(
    make_settings: Callable[..., Settings],
    mail_inbox: MailInbox,
    app_with: AppWith,
    clock: FrozenClock,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LifespanManager]:
    mail = {"email_backend": "smtp", "smtp_port": mail_inbox.port}
    with running_worker(make_settings(**mail), tmp_path_factory.mktemp("worker") / "worker.log"):
        async with app_with(clock=clock, **mail) as running:
            yield running


@pytest.fixture(scope="module")
async def client(manager: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(manager) as http:
        yield http


def code_at(secret: str, clock: FrozenClock) -> str:
    return str(pyotp.TOTP(secret).at(clock.now()))


async def enrolled_user(
    client: httpx.AsyncClient, mail_inbox: MailInbox, clock: FrozenClock
) -> tuple[str, str, list[str]]:
    email = await verified_user(client, mail_inbox)
    token = (await login(client, email))["accessToken"]
    begun = (await call(client, BEGIN, token=token))["data"]["beginTotpEnrollment"]
    assert begun["__typename"] == "TotpEnrollment"
    secret = begun["secret"]
    confirmed = (await call(client, CONFIRM, {"code": code_at(secret, clock)}, token))["data"]
    codes = confirmed["confirmTotpEnrollment"]["codes"]
    clock.advance(timedelta(seconds=30))  # the confirmation code's step is spent
    return email, secret, codes


async def challenge_for(client: httpx.AsyncClient, email: str) -> str:
    result = (await call(client, LOGIN_MFA, {"email": email, "password": PASSWORD}))["data"]
    assert result["login"]["__typename"] == "MfaRequired"
    assert result["login"]["methods"] == ["totp", "backup_code"]
    return str(result["login"]["challengeToken"])


async def test_full_two_factor_journey(
    client: httpx.AsyncClient, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email = await verified_user(client, mail_inbox)
    token = (await login(client, email))["accessToken"]
    assert (await call(client, ME + "", token=token))["data"]["me"]["email"] == email

    begun = (await call(client, BEGIN, token=token))["data"]["beginTotpEnrollment"]
    assert begun["otpauthUri"].startswith("otpauth://totp/")
    assert begun["qrCodeSvgDataUri"].startswith("data:image/svg+xml")
    secret = begun["secret"]
    wrong = await call(client, CONFIRM, {"code": "000000"}, token)
    assert wrong["data"]["confirmTotpEnrollment"]["code"] == "INVALID_MFA_CODE"
    confirmed = await call(client, CONFIRM, {"code": code_at(secret, clock)}, token)
    codes = confirmed["data"]["confirmTotpEnrollment"]["codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    again = (await call(client, BEGIN, token=token))["data"]["beginTotpEnrollment"]
    assert again["code"] == "TOTP_ALREADY_ENABLED"
    stored = await TotpCredential.find_one({})
    assert stored is not None
    assert secret not in stored.model_dump_json()

    clock.advance(timedelta(seconds=30))
    challenge = await challenge_for(client, email)
    code = code_at(secret, clock)
    done = (await call(client, COMPLETE, {"challenge": challenge, "code": code}))["data"]
    assert done["completeMfaLogin"]["__typename"] == "AuthPayload"
    assert done["completeMfaLogin"]["user"]["twoFactorEnabled"] is True
    # The same code cannot be used twice, even with a fresh challenge.
    replay = await call(
        client, COMPLETE, {"challenge": await challenge_for(client, email), "code": code}
    )
    assert replay["data"]["completeMfaLogin"]["code"] == "MFA_CODE_REPLAYED"
    # A used challenge is gone.
    used = await call(client, COMPLETE, {"challenge": challenge, "code": code})
    assert used["data"]["completeMfaLogin"]["code"] == "INVALID_TOKEN"

    # A backup code works once.
    backup = codes[0]
    first = await call(
        client, COMPLETE, {"challenge": await challenge_for(client, email), "backup": backup}
    )
    assert first["data"]["completeMfaLogin"]["__typename"] == "AuthPayload"
    second = await call(
        client, COMPLETE, {"challenge": await challenge_for(client, email), "backup": backup}
    )
    assert second["data"]["completeMfaLogin"]["code"] == "INVALID_MFA_CODE"

    # Disabling needs the password and a current code.
    fresh = first["data"]["completeMfaLogin"]["accessToken"]
    clock.advance(timedelta(seconds=30))
    no_password = await call(
        client, DISABLE, {"password": "wrong pass 1", "code": code_at(secret, clock)}, fresh
    )
    assert no_password["data"]["disableTotp"]["code"] == "INVALID_CREDENTIALS"
    bad_code = await call(client, DISABLE, {"password": PASSWORD, "code": "123456"}, fresh)
    assert bad_code["data"]["disableTotp"]["code"] == "INVALID_MFA_CODE"
    off = await call(client, DISABLE, {"password": PASSWORD, "code": code_at(secret, clock)}, fresh)
    assert off["data"]["disableTotp"]["__typename"] == "TotpDisabled"
    assert (await login(client, email))["__typename"] == "AuthPayload"


async def test_concurrent_completions_have_one_winner(
    client: httpx.AsyncClient, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email, secret, _ = await enrolled_user(client, mail_inbox, clock)
    challenge = await challenge_for(client, email)
    code = code_at(secret, clock)
    results = await asyncio.gather(
        *(call(client, COMPLETE, {"challenge": challenge, "code": code}) for _ in range(10))
    )
    kinds = [r["data"]["completeMfaLogin"]["__typename"] for r in results]
    assert kinds.count("AuthPayload") == 1, kinds


async def test_wrong_codes_count_toward_lockout(
    client: httpx.AsyncClient, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    email, secret, _ = await enrolled_user(client, mail_inbox, clock)
    challenge = await challenge_for(client, email)
    results: list[Any] = []
    for _ in range(10):
        body = await call(client, COMPLETE, {"challenge": challenge, "code": "000000"})
        results.append(body["data"]["completeMfaLogin"]["code"])
    assert results[-1] == "ACCOUNT_LOCKED"
    assert results[:9] == ["INVALID_MFA_CODE"] * 9
    right = await call(client, COMPLETE, {"challenge": challenge, "code": code_at(secret, clock)})
    assert right["data"]["completeMfaLogin"]["code"] == "ACCOUNT_LOCKED"
    await mail_inbox.wait_for(email, "was locked")


async def test_a_replayed_code_is_refused_audited_and_the_holder_told(
    client: httpx.AsyncClient, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    from domain.audit.documents import AuditEvent
    from domain.identity.documents import User

    email, secret, _ = await enrolled_user(client, mail_inbox, clock)
    code = code_at(secret, clock)

    async def complete_with_code() -> dict[str, Any]:
        challenge = await challenge_for(client, email)
        body = await call(client, COMPLETE, {"challenge": challenge, "code": code})
        return dict(body["data"]["completeMfaLogin"])

    async def replays() -> int:
        user = await User.find_one(User.email == email)
        assert user is not None
        return await AuditEvent.find(
            {"event": "user.mfa_replayed", "target_id": str(user.id)}
        ).count()

    assert (await complete_with_code())["__typename"] == "AuthPayload"
    # Someone who saw the code uses it inside its 30 seconds, with the password.
    assert (await complete_with_code())["code"] == "MFA_CODE_REPLAYED"
    (notice,) = await mail_inbox.wait_for(email, "used sign-in code")
    assert "already been used" in " ".join(notice.text.split())
    assert await replays() == 1
    # Another replay within the hour is audited, not mailed again.
    assert (await complete_with_code())["code"] == "MFA_CODE_REPLAYED"
    await asyncio.sleep(0.5)
    assert len([m for m in mail_inbox.all(email) if "used sign-in code" in m.subject]) == 1
    assert await replays() == 2


async def test_regenerate_and_admin_reset(
    client: httpx.AsyncClient, manager: LifespanManager, mail_inbox: MailInbox, clock: FrozenClock
) -> None:
    from domain.core.roles import Role
    from tests.support.accounts import staff_account

    email, secret, codes = await enrolled_user(client, mail_inbox, clock)
    challenge = await challenge_for(client, email)
    token = (
        await call(client, COMPLETE, {"challenge": challenge, "code": code_at(secret, clock)})
    )["data"]["completeMfaLogin"]["accessToken"]
    clock.advance(timedelta(seconds=30))
    fresh = await call(
        client, REGENERATE, {"password": PASSWORD, "code": code_at(secret, clock)}, token
    )
    new_codes = fresh["data"]["regenerateBackupCodes"]["codes"]
    assert set(new_codes).isdisjoint(codes)
    old = await call(
        client, COMPLETE, {"challenge": await challenge_for(client, email), "backup": codes[1]}
    )
    assert old["data"]["completeMfaLogin"]["code"] == "INVALID_MFA_CODE"

    state = manager.state
    await staff_account(state, "mfa.admin@example.com", PASSWORD, Role.ADMIN, clock=clock)
    admin = (await login(client, "mfa.admin@example.com"))["accessToken"]
    user_id = (await call(client, ME, token=token))["data"]["me"]["id"]
    reset = await call(client, RESET, {"id": user_id}, admin)
    assert reset["data"]["resetUserTwoFactor"]["__typename"] == "UserUpdated"
    assert (await login(client, email))["__typename"] == "AuthPayload"
