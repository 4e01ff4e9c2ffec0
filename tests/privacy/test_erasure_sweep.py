"""The erasure proof: a person who used every feature is deleted, the grace period
passes, the sweep runs, and then no collection in the database holds their email,
their name or their IP address.

Seeded through the API where a flow exists (registration, sign-ins, refresh, TOTP with
a remembered device, a passkey, an API key, a data export left waiting, webhook
deliveries of their events, emails), with a linked social identity and an OAuth
consent written as their slices write them (their flows need a live provider).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest
from bson import json_util

from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.identity import repository as user_repository
from domain.oauth.documents import OAuthConsent
from domain.privacy.subjects import PersonKeys
from domain.social.documents import SocialIdentity
from domain.webhooks.documents import WebhookDelivery, WebhookEvent
from domain.webhooks.events import EVENT_TYPES
from tests.api.identity_ops import (
    PASSWORD,
    REFRESH,
    REGISTER,
    VERIFY,
    call,
    login,
    unique_email,
)
from tests.passkeys.support import register_passkey
from tests.privacy.support import DELETE_ME, REQUEST_EXPORT, answer, export_files
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.support.processes import running_worker
from tests.support.smtp import MailInbox
from tests.support.webauthn_authenticator import SoftwareAuthenticator

CLOCK_START = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)
EMAIL = "zenobia.quillfeather@example.org"
FIRST, LAST = "Zenobia", "Quillfeather"
IP = "198.51.100.77"
SECOND_IP = "198.51.100.78"

BEGIN_TOTP = "mutation { beginTotpEnrollment { ... on TotpEnrollment { secret } } }"
CONFIRM_TOTP = """mutation($code: String!) {
  confirmTotpEnrollment(code: $code) { __typename ... on BackupCodes { codes } } }"""
LOGIN_MFA = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    __typename ... on MfaRequired { challengeToken } ... on AuthPayload { accessToken } } }"""
COMPLETE = """mutation($challenge: String!, $code: String) {
  completeMfaLogin(challengeToken: $challenge, code: $code, rememberDevice: true) {
    __typename ... on AuthPayload { accessToken deviceToken } ... on UserError { code } } }"""
PROMOTE = """mutation($id: ID!) { updateUser(id: $id, role: ADMIN) { __typename } }"""
CREATE_KEY = """mutation { createApiKey(name: "reports", scopes: ["users:read"]) {
  __typename ... on ApiKeyCreated { key } } }"""
CREATE_HOOK = """mutation($events: [String!]!) {
  createWebhookEndpoint(url: "http://127.0.0.1:9/hook", events: $events) { __typename } }"""


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(**_overrides(mail_inbox))


def _overrides(mail_inbox: MailInbox) -> dict[str, object]:
    # The webhook receiver is a closed local port: deliveries are recorded and fail.
    return {
        "email_backend": "smtp",
        "smtp_port": mail_inbox.port,
        "webhook_allow_private_targets": True,
    }


@pytest.fixture(scope="module")
async def manager(
    settings: Settings,
    app_with: AppWith,
    clock: FrozenClock,
    mail_inbox: MailInbox,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LifespanManager]:
    with running_worker(settings, tmp_path_factory.mktemp("worker") / "worker.log"):
        async with app_with(clock=clock, **_overrides(mail_inbox)) as app:
            yield app


async def _mfa_sign_in(
    client: httpx.AsyncClient, secret: str, clock: FrozenClock
) -> dict[str, object]:
    clock.advance(timedelta(seconds=30))  # a fresh TOTP step
    begun = (await call(client, LOGIN_MFA, {"email": EMAIL, "password": PASSWORD}))["data"]
    challenge = begun["login"]["challengeToken"]
    code = pyotp.TOTP(secret).at(clock.now())
    done = answer(
        await call(client, COMPLETE, {"challenge": challenge, "code": code}), "completeMfaLogin"
    )
    assert done["__typename"] == "AuthPayload", done
    return done


async def _seed_the_person(
    manager: LifespanManager, mail_inbox: MailInbox, clock: FrozenClock
) -> str:
    """The person's account, used every way there is; returns their id."""
    async with asgi_client(manager) as staff:
        boss = unique_email("erasure.boss")
        await staff_account(manager.state, boss, PASSWORD, Role.SUPER_ADMIN)
        boss_token = (await login(staff, boss))["accessToken"]
        hook = await call(staff, CREATE_HOOK, {"events": sorted(EVENT_TYPES)}, boss_token)
        assert hook["data"]["createWebhookEndpoint"]["__typename"] == "WebhookSecretIssued"

        async with asgi_client(manager, client=(IP, 5000)) as person:
            variables = {"email": EMAIL, "password": PASSWORD, "first": FIRST, "last": LAST}
            await call(person, REGISTER, variables)
            (mail,) = await mail_inbox.wait_for(EMAIL, "Confirm your email")
            await call(person, VERIFY, {"token": mail.token()})
            first = await login(person, EMAIL)
            refreshed = await call(person, REFRESH, {"token": first["refreshToken"]})
            token = refreshed["data"]["refreshToken"]["accessToken"]
            secret = (await call(person, BEGIN_TOTP, token=token))["data"]["beginTotpEnrollment"][
                "secret"
            ]
            code = pyotp.TOTP(secret).at(clock.now())
            confirmed = await call(person, CONFIRM_TOTP, {"code": code}, token)
            assert confirmed["data"]["confirmTotpEnrollment"]["__typename"] == "BackupCodes"
            token = str((await _mfa_sign_in(person, secret, clock))["accessToken"])
            added = await register_passkey(person, token, SoftwareAuthenticator())
            assert added["__typename"] == "PasskeyAdded", added

            user = await user_repository.find_by_email(EMAIL)
            assert user is not None
            assert user.id is not None
            promoted = await call(staff, PROMOTE, {"id": str(user.id)}, boss_token)
            assert promoted["data"]["updateUser"]["__typename"] == "UserUpdated"

        async with asgi_client(manager, client=(SECOND_IP, 5001)) as person:
            token = str((await _mfa_sign_in(person, secret, clock))["accessToken"])
            created = await call(person, CREATE_KEY, token=token)
            assert created["data"]["createApiKey"]["__typename"] == "ApiKeyCreated"
            await mail_inbox.wait_for(EMAIL, "A new API key was created")
            now = clock.now()
            await SocialIdentity(
                _id="oidc:zq-subject",
                user_id=user.id,
                provider="oidc",
                subject="zq-subject",
                email=EMAIL,
                email_verified=True,
                created_at=now,
            ).insert()
            await OAuthConsent(
                _id=OAuthConsent.key(str(user.id), "reports-app"),
                user_id=str(user.id),
                client_id="reports-app",
                scopes=["openid", "email"],
                granted_at=now,
            ).insert()
            await call(person, REQUEST_EXPORT, token=token)
            await mail_inbox.wait_for(EMAIL, "data export is ready", seconds=30)
            deleted = answer(await call(person, DELETE_ME, token=token), "deleteMyAccount")
            assert deleted["__typename"] == "AccountDeletionScheduled"
            await mail_inbox.wait_for(EMAIL, "will be deleted")
    return str(user.id)


async def _holders(manager: LifespanManager) -> dict[str, list[str]]:
    """Every collection of the database, every document: which hold a trace."""
    traces = {"email": EMAIL.lower(), "first name": FIRST.lower(), "last name": LAST.lower()}
    traces |= {"ip": IP, "second ip": SECOND_IP}
    database = manager.state.database
    found: dict[str, list[str]] = {}
    for name in await database.list_collection_names():
        async for document in database[name].find():
            text = json_util.dumps(document).lower()
            for what, value in traces.items():
                if value in text:
                    found.setdefault(name, []).append(f"{what}: {text[:300]}")
    return found


async def test_after_erasure_no_collection_holds_the_persons_email_name_or_ip(
    manager: LifespanManager, mail_inbox: MailInbox, clock: FrozenClock, settings: Settings
) -> None:
    user_id = await _seed_the_person(manager, mail_inbox, clock)
    before = await _holders(manager)
    # The seed reached the collections the proof is about (the remembered devices ended
    # with the sessions when the account was deleted).
    for collection in (
        "users",
        "sessions",
        "audit_events",
        "email_messages",
        "social_identities",
        "webhook_events",
    ):
        assert collection in before, (collection, sorted(before))
    assert await WebhookDelivery.find_all().count() > 0
    assert export_files(settings)

    clock.advance(timedelta(days=settings.account_deletion_grace_days, seconds=1))
    assert await manager.state.services.privacy.erasure.erase_due() == 1

    assert await _holders(manager) == {}
    assert export_files(settings) == []
    # Other services are told to erase theirs: user.deleted, marked as the erasure.
    told = await WebhookEvent.find({"type": "user.deleted", "data.user_id": user_id}).to_list()
    assert [event.data.get("erased") for event in told] == [True]
    # The audit trail keeps what happened, by a pseudonymous actor that leads nowhere.
    pseudonym = PersonKeys(settings).pseudonym(user_id)
    trail = await manager.state.database["audit_events"].count_documents({"actor_id": pseudonym})
    assert trail > 5
