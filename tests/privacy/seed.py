"""A person who used every feature there is, seeded through the running app: what the
erasure proof erases (test_erasure_sweep.py) and what the complete export must show
(test_data_export_complete.py).

Through the API where a flow exists (registration, an email change and a pending one,
sign-ins from two networks and from abroad, refresh, TOTP with a remembered device, a
passkey, an API key, support staff changing the account and impersonating the person,
a data export, webhook deliveries of their events, emails), with a linked social
identity and an OAuth consent written as their slices write them (their flows need a
live provider).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pyotp

from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.email.outbox import EmailMessage
from domain.identity import repository as user_repository
from domain.oauth.documents import OAuthConsent
from domain.social.documents import SocialIdentity
from domain.webhooks.events import EVENT_TYPES
from tests.api.identity_ops import (
    CONFIRM_EMAIL_CHANGE,
    PASSWORD,
    REFRESH,
    REGISTER,
    REQUEST_EMAIL_CHANGE,
    VERIFY,
    call,
    login,
    unique_email,
)
from tests.passkeys.support import register_passkey
from tests.privacy.staff import support_visit
from tests.privacy.support import REQUEST_EXPORT, answer
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager, asgi_client
from tests.support.smtp import MailInbox
from tests.support.webauthn_authenticator import SoftwareAuthenticator

SEED_CLOCK_START = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)
FIRST, LAST = "Zenobia", "Quillfeather"
IP = "198.51.100.77"
SECOND_IP = "198.51.100.78"
ABROAD_IP = "85.214.132.117"  # Germany: the location history
NETWORKS = ("198.51.100.0/24", "85.214.132.0/24")  # what refresh rotations compare

LEGACY_TEMPLATE = "welcome_before_user_ids"
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


@dataclass(frozen=True, slots=True)
class Addresses:
    """The person's addresses: one per test module, as the SMTP server and Redis (email
    cooldowns) are shared by the session's modules."""

    email: str  # now
    former: str  # changed to ``email``
    pending: str  # asked for, never confirmed

    @classmethod
    def tagged(cls, tag: str) -> Addresses:
        return cls(
            f"zenobia.quillfeather.{tag}@example.org",
            f"zq.student.days.{tag}@example.net",
            f"zq.new.job.{tag}@example.com",
        )


def app_overrides(mail_inbox: MailInbox) -> dict[str, object]:
    # The webhook receiver is a closed local port: deliveries are recorded and fail.
    return {
        "email_backend": "smtp",
        "smtp_port": mail_inbox.port,
        "webhook_allow_private_targets": True,
    }


@dataclass(frozen=True, slots=True)
class Seeded:
    """The person's id and a recent sign-in of theirs, the secrets they were shown (no
    export may hold one), the administrator who helped them, and the token of the data
    export link they were emailed (its file waits for them)."""

    user_id: str
    access_token: str
    totp_secret: str
    backup_codes: list[str]
    api_key: str
    admin_id: str
    export_token: str


async def mfa_sign_in(
    client: httpx.AsyncClient, email: str, secret: str, clock: FrozenClock
) -> dict[str, object]:
    clock.advance(timedelta(seconds=30))  # a fresh TOTP step
    begun = (await call(client, LOGIN_MFA, {"email": email, "password": PASSWORD}))["data"]
    challenge = begun["login"]["challengeToken"]
    code = pyotp.TOTP(secret).at(clock.now())
    done = answer(
        await call(client, COMPLETE, {"challenge": challenge, "code": code}), "completeMfaLogin"
    )
    assert done["__typename"] == "AuthPayload", done
    return done


async def change_email(
    client: httpx.AsyncClient, token: str, mail_inbox: MailInbox, old: str, new: str
) -> str:
    """The change asked for; returns the link to confirm it (sent to ``new``)."""
    variables = {"email": new, "password": PASSWORD}
    asked = await call(client, REQUEST_EMAIL_CHANGE, variables, token)
    assert asked["data"]["requestEmailChange"]["__typename"] == "EmailRequestAccepted", asked
    (link,) = await mail_inbox.wait_for(new, "Confirm your new email")
    await mail_inbox.wait_for(old, "is being changed")
    return link.token()


async def seed_the_person(
    manager: LifespanManager, mail_inbox: MailInbox, clock: FrozenClock, addresses: Addresses
) -> Seeded:
    """The person's account, used every way there is (at ``addresses.email`` now)."""
    email, former = addresses.email, addresses.former
    async with asgi_client(manager) as staff:
        boss = unique_email("erasure.boss")
        await staff_account(manager.state, boss, PASSWORD, Role.SUPER_ADMIN)
        boss_token = (await login(staff, boss))["accessToken"]
        hook = await call(staff, CREATE_HOOK, {"events": sorted(EVENT_TYPES)}, boss_token)
        assert hook["data"]["createWebhookEndpoint"]["__typename"] == "WebhookSecretIssued"

        async with asgi_client(manager, client=(IP, 5000)) as person:
            variables = {"email": former, "password": PASSWORD, "first": FIRST, "last": LAST}
            await call(person, REGISTER, variables)
            (mail,) = await mail_inbox.wait_for(former, "Confirm your email")
            await call(person, VERIFY, {"token": mail.token()})
            token = str((await login(person, former))["accessToken"])
            link = await change_email(person, token, mail_inbox, former, email)
            changed = await call(person, CONFIRM_EMAIL_CHANGE, {"token": link})
            assert changed["data"]["confirmEmailChange"]["__typename"] == "EmailChanged", changed
            first = await login(person, email)
            refreshed = await call(person, REFRESH, {"token": first["refreshToken"]})
            token = refreshed["data"]["refreshToken"]["accessToken"]
            secret = (await call(person, BEGIN_TOTP, token=token))["data"]["beginTotpEnrollment"][
                "secret"
            ]
            code = pyotp.TOTP(secret).at(clock.now())
            confirmed = await call(person, CONFIRM_TOTP, {"code": code}, token)
            backup = confirmed["data"]["confirmTotpEnrollment"]
            assert backup["__typename"] == "BackupCodes", backup
            token = str((await mfa_sign_in(person, email, secret, clock))["accessToken"])
            added = await register_passkey(person, token, SoftwareAuthenticator())
            assert added["__typename"] == "PasskeyAdded", added

            user = await user_repository.find_by_email(email)
            assert user is not None
            assert user.id is not None
            promoted = await call(staff, PROMOTE, {"id": str(user.id)}, boss_token)
            assert promoted["data"]["updateUser"]["__typename"] == "UserUpdated"

        async with asgi_client(manager, client=(SECOND_IP, 5001)) as person:
            token = str((await mfa_sign_in(person, email, secret, clock))["accessToken"])
            created = (await call(person, CREATE_KEY, token=token))["data"]["createApiKey"]
            assert created["__typename"] == "ApiKeyCreated", created
            await mail_inbox.wait_for(email, "A new API key was created")
            now = clock.now()
            await SocialIdentity(
                _id="oidc:zq-subject",
                user_id=user.id,
                provider="oidc",
                subject="zq-subject",
                email=email,
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
            # A message recorded before messages named their account: found by address.
            await EmailMessage.get_pymongo_collection().insert_one(
                {"to": email, "template": LEGACY_TEMPLATE, "status": "sent", "created_at": now}
            )

        async with asgi_client(manager, client=(ABROAD_IP, 5002)) as person:
            await mfa_sign_in(person, email, secret, clock)  # the location history
            admin_id = await support_visit(manager, clock, str(user.id), first_name=FIRST)
            token = str((await mfa_sign_in(person, email, secret, clock))["accessToken"])
            await change_email(person, token, mail_inbox, email, addresses.pending)  # unconfirmed
            await call(person, REQUEST_EXPORT, token=token)
            (ready,) = await mail_inbox.wait_for(email, "data export is ready", seconds=30)
    return Seeded(
        user_id=str(user.id),
        access_token=token,
        totp_secret=secret,
        backup_codes=list(backup["codes"]),
        api_key=str(created["key"]),
        admin_id=admin_id,
        export_token=ready.token(),
    )
