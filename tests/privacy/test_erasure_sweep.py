"""The erasure proof: a person who used every feature is deleted, the grace period
passes, the sweep runs, and then no collection in the database holds their email (the
current one, the one they had before, the one they asked for and never confirmed),
their name, their IP addresses or those addresses' networks, and no Redis key under the
app's prefix holds an address of theirs.

Seeded through the API where a flow exists (registration, an email change and a pending
one, sign-ins from two networks and from abroad, refresh, TOTP with a remembered device,
a passkey, an API key, support staff changing the account and impersonating the person,
a data export left waiting, webhook deliveries of their events, emails), with a linked
social identity and an OAuth consent written as their slices write them (their flows
need a live provider).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest
from bson import json_util
from redis.asyncio import Redis

from domain.core.clock import FrozenClock
from domain.core.redis import create_redis
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.identity import repository as user_repository
from domain.impersonation.documents import ImpersonationRecord
from domain.oauth.documents import OAuthConsent
from domain.privacy.subjects import PersonKeys
from domain.social.documents import SocialIdentity
from domain.webhooks.documents import WebhookDelivery, WebhookEvent
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
from tests.privacy.support import DELETE_ME, REQUEST_EXPORT, answer, export_files
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.support.processes import running_worker
from tests.support.smtp import MailInbox
from tests.support.webauthn_authenticator import SoftwareAuthenticator

CLOCK_START = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)
EMAIL = "zenobia.quillfeather@example.org"
FORMER_EMAIL = "zq.student.days@example.net"  # changed to EMAIL
PENDING_EMAIL = "zq.new.job@example.com"  # asked for, never confirmed
FIRST, LAST = "Zenobia", "Quillfeather"
IP = "198.51.100.77"
SECOND_IP = "198.51.100.78"
ABROAD_IP = "85.214.132.117"  # Germany: the location history
NETWORKS = ("198.51.100.0/24", "85.214.132.0/24")  # what refresh rotations compare

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


async def _change_email(
    client: httpx.AsyncClient, token: str, mail_inbox: MailInbox, old: str, new: str
) -> str:
    """The change asked for; returns the link to confirm it (sent to ``new``)."""
    variables = {"email": new, "password": PASSWORD}
    asked = await call(client, REQUEST_EMAIL_CHANGE, variables, token)
    assert asked["data"]["requestEmailChange"]["__typename"] == "EmailRequestAccepted", asked
    (link,) = await mail_inbox.wait_for(new, "Confirm your new email")
    await mail_inbox.wait_for(old, "is being changed")
    return link.token()


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
            variables = {"email": FORMER_EMAIL, "password": PASSWORD, "first": FIRST, "last": LAST}
            await call(person, REGISTER, variables)
            (mail,) = await mail_inbox.wait_for(FORMER_EMAIL, "Confirm your email")
            await call(person, VERIFY, {"token": mail.token()})
            token = str((await login(person, FORMER_EMAIL))["accessToken"])
            link = await _change_email(person, token, mail_inbox, FORMER_EMAIL, EMAIL)
            changed = await call(person, CONFIRM_EMAIL_CHANGE, {"token": link})
            assert changed["data"]["confirmEmailChange"]["__typename"] == "EmailChanged", changed
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

        async with asgi_client(manager, client=(ABROAD_IP, 5002)) as person:
            await _mfa_sign_in(person, secret, clock)  # the location history
            await support_visit(manager, clock, str(user.id), first_name=FIRST)
            token = str((await _mfa_sign_in(person, secret, clock))["accessToken"])
            await _change_email(person, token, mail_inbox, EMAIL, PENDING_EMAIL)  # unconfirmed
            await call(person, REQUEST_EXPORT, token=token)
            await mail_inbox.wait_for(EMAIL, "data export is ready", seconds=30)
            deleted = answer(await call(person, DELETE_ME, token=token), "deleteMyAccount")
            assert deleted["__typename"] == "AccountDeletionScheduled"
            await mail_inbox.wait_for(EMAIL, "will be deleted")
    return str(user.id)


async def _holders(manager: LifespanManager) -> dict[str, list[str]]:
    """Every collection of the database, every document: which hold a trace."""
    traces = {"email": EMAIL.lower(), "first name": FIRST.lower(), "last name": LAST.lower()}
    traces |= {"former email": FORMER_EMAIL, "pending email": PENDING_EMAIL}
    traces |= {"ip": IP, "second ip": SECOND_IP, "ip abroad": ABROAD_IP}
    traces |= {f"network {network}": network for network in NETWORKS}
    database = manager.state.database
    found: dict[str, list[str]] = {}
    for name in await database.list_collection_names():
        async for document in database[name].find():
            text = json_util.dumps(document).lower()
            for what, value in traces.items():
                if value in text:
                    found.setdefault(name, []).append(f"{what}: {text[:300]}")
    return found


async def _value(redis: Redis, key: str) -> object:
    """A key's value read as its type is read (DUMP may compress it)."""
    kind = await redis.type(key)
    kind = kind.decode() if isinstance(kind, bytes) else kind
    readers: dict[str, Callable[[str], Awaitable[object]]] = {
        "string": redis.get,
        "hash": redis.hgetall,
        "list": lambda k: redis.lrange(k, 0, -1),
        "set": redis.smembers,
        "zset": lambda k: redis.zrange(k, 0, -1),
        "stream": redis.xrange,
    }
    reader = readers.get(kind)
    return await reader(key) if reader is not None else ""


async def _redis_holders(settings: Settings) -> list[str]:
    """Every Redis key under the app's prefix, name and value: which hold an address of
    the person's. (The refresh copies hold a rotation's IP network until they expire,
    an access token's life: they name no address, and the sessions they copy are gone.)"""
    addresses = (EMAIL.lower(), FORMER_EMAIL, PENDING_EMAIL)
    redis = create_redis(settings)
    found = []
    try:
        async for raw in redis.scan_iter(match=f"{settings.redis_key_prefix}*", count=500):
            key = raw.decode() if isinstance(raw, bytes) else raw
            text = f"{key} {await _value(redis, key)}".lower()
            found += [f"{key}: {a}" for a in addresses if a in text]
    finally:
        await redis.aclose()
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
        "action_tokens",  # the pending address
        "refresh_rotations",  # the network
    ):
        assert collection in before, (collection, sorted(before))
    for trace in ("former email", "pending email"):
        assert any(t.startswith(trace) for t in before["email_messages"]), trace
    assert any(t.startswith("network") for t in before["refresh_rotations"])
    person = await user_repository.get(user_id)
    assert person is not None
    assert (person.known_countries, person.last_country) == (["DE"], "DE")
    assert await ImpersonationRecord.find({"user_id": user_id}).count() == 1
    # An administrator looking at the deleted account caches it (its address with it): the
    # Redis scan below finds what it is meant to find.
    assert await manager.state.services.users.get(user_id) is not None
    assert [k.split(": ")[1] for k in await _redis_holders(settings)] == [EMAIL]
    assert await WebhookDelivery.find_all().count() > 0
    assert export_files(settings)

    clock.advance(timedelta(days=settings.account_deletion_grace_days, seconds=1))
    assert await manager.state.services.privacy.erasure.erase_due() == 1

    assert await _holders(manager) == {}
    assert await _redis_holders(settings) == []
    assert export_files(settings) == []
    # Other services are told to erase theirs: user.deleted, marked as the erasure.
    told = await WebhookEvent.find({"type": "user.deleted", "data.user_id": user_id}).to_list()
    assert [event.data.get("erased") for event in told] == [True]
    # The audit trail keeps what happened, by a pseudonymous actor that leads nowhere.
    pseudonym = PersonKeys(settings).pseudonym(user_id)
    trail = await manager.state.database["audit_events"].count_documents({"actor_id": pseudonym})
    assert trail > 5
