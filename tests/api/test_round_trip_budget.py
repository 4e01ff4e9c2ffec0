"""The round-trip budget of each hot operation (issue 17, item 1), through GraphQL on the
real database and Redis, with production's rate limits on.

Each test runs one operation the way a client does and counts what that request sent:
database commands (a pymongo listener) and Redis round trips (a pipeline is one trip; a
job enqueued through the broker is one too), background flushes and workers left out
(tests/support/commands.py). An operation runs once before the counted run, so its Lua
scripts are loaded (the first call after a Redis restart adds a SCRIPT LOAD). The budgets are
today's counts, as ceilings: a change that adds a round trip fails here, with the list
of commands in the message, instead of slowing production silently. Lower a budget
when a change saves a trip. The database budget differs by flavour where FerretDB needs
an extra read (guarded writes by _id read first: domain/core/by_id.py; sign-in emails
are looked up through their _id-keyed copy: domain/identity/email_lookup.py).
bench/RESULTS.md has the table.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from domain.core.actor import Actor
from domain.core.clock import FrozenClock
from domain.core.database_flavour import DatabaseFlavour, bound_flavour
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.identity.documents import User
from domain.sessions.principal import Principal
from domain.sessions.rotation import family_copy_key
from tests.api.identity_ops import (
    LOGIN,
    LOGOUT,
    ME,
    PASSWORD,
    REFRESH,
    REGISTER,
    SESSIONS,
    call,
    login,
    unique_email,
)
from tests.oauth.support import create_client
from tests.passkeys.support import (
    begin_login,
    enable_totp,
    finish_login,
    passkey_login,
    register_passkey,
)
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager, asgi_client
from tests.support.commands import COMMANDS, Recording
from tests.support.webauthn_authenticator import SoftwareAuthenticator

START = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"


@dataclass(frozen=True, slots=True)
class Budget:
    """Round trips one request may make: database commands on each flavour, Redis trips."""

    ferretdb: int
    mongodb: int
    redis: int

    def database(self) -> int:
        return self.ferretdb if bound_flavour() is DatabaseFlavour.FERRETDB else self.mongodb


BUDGETS = {
    # The cached account comes back in the admission's own round trip (session 7).
    "me": Budget(ferretdb=0, mongodb=0, redis=1),
    # Audit events are written in bulk by the API's flusher (domain/audit/buffer.py).
    # The refresh family's Redis copy is kept at once (domain/sessions/family_cache.py):
    # the first refresh then reads no document.
    "login": Budget(ferretdb=6, mongodb=5, redis=7),
    # A login's and the new-country alert's (domain/location/notices.py): the webhook
    # subscribers read for its event, the email's outbox record and job, the event's bus.
    "login (new country)": Budget(ferretdb=8, mongodb=7, redis=9),
    # The first after a sign-in: the family from the copy the sign-in kept, the user not
    # cached; the rotation's record inserted (domain/sessions/rotation_records.py).
    "refresh": Budget(ferretdb=2, mongodb=2, redis=6),
    # Every later one: the rotation's insert alone.
    "refresh (next)": Budget(ferretdb=1, mongodb=1, redis=5),
    # Once the copy's life is over: the family, the live generation's record and its
    # successor's absence (domain/sessions/rotation_records.py), then the insert.
    "refresh (copy expired)": Budget(ferretdb=4, mongodb=4, redis=5),
    # One _id read more for every address: is it an erased account's, still reserved
    # (domain/privacy/tombstones.py)?
    "register": Budget(ferretdb=8, mongodb=6, redis=5),
    "logout": Budget(ferretdb=6, mongodb=5, redis=4),
    "users": Budget(ferretdb=1, mongodb=3, redis=1),
    "users (filtered)": Budget(ferretdb=3, mongodb=3, redis=1),
    # The view is audited, and the recent events read writes what is waiting first.
    # Sessions' last refresh from their families' Redis copies, one pipeline.
    "user": Budget(ferretdb=5, mongodb=5, redis=3),
    "auditEvents": Budget(ferretdb=2, mongodb=2, redis=1),
    "mySessions": Budget(ferretdb=1, mongodb=1, redis=2),
    "introspection": Budget(ferretdb=0, mongodb=0, redis=1),
    # The account's credentials from its _id-keyed listing on FerretDB
    # (domain/passkeys/owners.py): one read by _id, with or without an account.
    # The password step of a two-factor account: the challenge, and whether a passkey
    # may answer it (the account's passkey listing by _id on FerretDB).
    "login (two-factor)": Budget(ferretdb=4, mongodb=3, redis=5),
    # One account's ways in, each read by _id on FerretDB: the password, the passkey and
    # identity listings, the TOTP credential (MongoDB: the indexes).
    "me (sign-in methods)": Budget(ferretdb=5, mongodb=5, redis=1),
    "passkey options": Budget(ferretdb=3, mongodb=2, redis=3),
    # The credential and its owner, the counter (its guard read just before the write on
    # FerretDB: domain/core/by_id.py) and the sign-in's writes.
    "passkey sign-in": Budget(ferretdb=7, mongodb=6, redis=9),
}

USERS_PAGE = """
query Page($first: Int, $filter: UserFilterInput) {
  users(first: $first, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id email role status locked emailVerified createdAt twoFactorEnabled } }
  }
}"""
USER = """
query User($id: ID!) {
  user(id: $id) {
    __typename
    ... on AdminUserDetail {
      user { id email twoFactorEnabled }
      sessions { id device createdAt }
      recentEvents { id event occurredAt }
    }
  }
}"""
AUDIT_EVENTS = """
query Events($first: Int) {
  auditEvents(first: $first) {
    edges { cursor node { id event action result actorId targetId occurredAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.fixture(scope="module")
def clock(frozen_clock: Callable[..., FrozenClock]) -> FrozenClock:
    return frozen_clock(START)


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings]) -> Settings:
    # Production's limits (each costs its Redis trip, and the budget counts it) and
    # production's batched audit writes (the tests' default writes each event at once).
    return make_settings(rate_limits_enabled=True, audit_flush_interval_ms=100)


@pytest.fixture(scope="module")
async def manager(settings: Settings, clock: FrozenClock) -> AsyncIterator[LifespanManager]:
    from app import create_app

    COMMANDS.install()  # before the app makes its database client
    async with LifespanManager(create_app(settings, clock=clock)) as running:
        COMMANDS.watch_app(running.state)
        yield running


_peers = iter(range(1, 250))


@pytest.fixture
async def http(manager: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    """A client from its own address, so no test spends another's rate-limit allowance."""
    async with asgi_client(manager, (f"198.51.100.{next(_peers)}", 40000)) as client:
        yield client


async def member(manager: LifespanManager, name: str, role: Role = Role.STUDENT) -> User:
    return await staff_account(manager.state, f"{name}@example.com", PASSWORD, role)


def within(operation: str, sent: Recording) -> None:
    """The request kept to its budget; the message lists what it sent."""
    budget = BUDGETS[operation]
    print(f"{operation} on {bound_flavour().value}:\n{sent.summary()}")
    assert len(sent) <= budget.database(), f"{operation} over its database budget\n{sent.summary()}"
    assert len(sent.redis) <= budget.redis, f"{operation} over its Redis budget\n{sent.summary()}"


def by_id_only(sent: Recording) -> None:
    """On FerretDB every command found its rows by ``_id`` (or inserted): any other
    filter is a scan of the whole collection in Go, whose cost grows with it (a TOTP
    lookup by ``user_id`` at each sign-in once read every enrolled user's credential)."""
    if bound_flavour() is DatabaseFlavour.FERRETDB:
        assert all(keys in ((), ("_id",)) for keys in sent.filters), sent.summary()


async def signed_in(http: httpx.AsyncClient, manager: LifespanManager, name: str) -> dict[str, Any]:
    user = await member(manager, name)
    session = await login(http, user.email, user_agent=FIREFOX)
    assert session["__typename"] == "AuthPayload", session
    return session


async def test_me_from_the_user_cache_sends_no_database_command(
    manager: LifespanManager, http: httpx.AsyncClient
) -> None:
    session = await signed_in(http, manager, "me")
    await call(http, ME, token=session["accessToken"])  # the user is cached from here on
    with COMMANDS.counting() as sent:
        body = await call(http, ME, token=session["accessToken"])
    assert body["data"]["me"]["email"] == "me@example.com"
    within("me", sent)
    assert len(sent) == 0, sent.summary()


async def test_login(manager: LifespanManager, http: httpx.AsyncClient) -> None:
    user = await member(manager, "login")
    await login(http, user.email, user_agent=FIREFOX)  # a known device from here on
    with COMMANDS.counting() as sent:
        body = await call(
            http, LOGIN, {"email": user.email, "password": PASSWORD}, user_agent=FIREFOX
        )
    assert body["data"]["login"]["__typename"] == "AuthPayload", body
    within("login", sent)
    by_id_only(sent)


async def test_login_from_a_country(manager: LifespanManager) -> None:
    """A sign-in whose address has a country (domain/location/) keeps the login budget:
    the country history rides on the sign-in's own user update. A new country costs its
    alert: the webhook subscribers' look-up, the email's outbox record and its job."""
    user = await member(manager, "located")
    warm = await member(manager, "located-warm")
    async with (
        asgi_client(manager, ("85.214.132.117", 40000)) as germany,
        asgi_client(manager, ("90.0.0.1", 40000)) as france,
    ):
        for account in (user, warm):
            await login(germany, account.email, user_agent=FIREFOX)  # Germany known from here
        # Another account's alert first, so the broker's scripts are loaded.
        await login(france, warm.email, user_agent=FIREFOX)
        with COMMANDS.counting() as sent:
            body = await call(
                germany, LOGIN, {"email": user.email, "password": PASSWORD}, user_agent=FIREFOX
            )
        assert body["data"]["login"]["__typename"] == "AuthPayload", body
        within("login", sent)
        with COMMANDS.counting() as sent:
            body = await call(
                france, LOGIN, {"email": user.email, "password": PASSWORD}, user_agent=FIREFOX
            )
        assert body["data"]["login"]["__typename"] == "AuthPayload", body
        within("login (new country)", sent)


async def test_refresh(manager: LifespanManager, http: httpx.AsyncClient) -> None:
    session = await signed_in(http, manager, "refresh")
    await call(http, REFRESH, {"token": session["refreshToken"]}, user_agent=FIREFOX)
    token = (await login(http, "refresh@example.com", user_agent=FIREFOX))["refreshToken"]
    for budget in ("refresh", "refresh (next)", "refresh (copy expired)"):
        if budget == "refresh (copy expired)":
            session_id = token.split(".")[1]  # r1.<session>.<generation>.<mac>
            await manager.state.redis.delete(family_copy_key(manager.state.settings, session_id))
        with COMMANDS.counting() as sent:
            body = await call(http, REFRESH, {"token": token}, user_agent=FIREFOX)
        assert body["data"]["refreshToken"]["__typename"] == "AuthPayload", body
        within(budget, sent)
        by_id_only(sent)
        token = body["data"]["refreshToken"]["refreshToken"]


async def test_register(http: httpx.AsyncClient) -> None:
    for attempt in ("warm", "counted"):
        variables = {
            "email": unique_email(attempt),
            "password": PASSWORD,
            "first": "A",
            "last": "L",
        }
        with COMMANDS.counting() as sent:
            body = await call(http, REGISTER, variables)
    assert body["data"]["register"]["__typename"] == "RegistrationAccepted", body
    within("register", sent)


async def test_logout(manager: LifespanManager, http: httpx.AsyncClient) -> None:
    session = await signed_in(http, manager, "logout")
    await call(http, LOGOUT, token=session["accessToken"])
    session = await login(http, "logout@example.com", user_agent=FIREFOX)
    with COMMANDS.counting() as sent:
        body = await call(http, LOGOUT, token=session["accessToken"])
    assert body["data"]["logout"]["sessionsEnded"] == 1, body
    within("logout", sent)


async def test_my_sessions(manager: LifespanManager, http: httpx.AsyncClient) -> None:
    session = await signed_in(http, manager, "sessions")
    await call(http, ME, token=session["accessToken"])
    with COMMANDS.counting() as sent:
        body = await call(http, SESSIONS, token=session["accessToken"])
    assert len(body["data"]["mySessions"]) == 1, body
    within("mySessions", sent)


async def admin_token(manager: LifespanManager, http: httpx.AsyncClient) -> str:
    email = "budget.admin@example.com"
    if await User.find_one(User.email == email) is None:
        await staff_account(manager.state, email, PASSWORD, Role.ADMIN)
    session = await login(http, email, user_agent=FIREFOX)
    token = str(session["accessToken"])
    await call(http, ME, token=token)  # the admin is cached, as between two clicks
    return token


async def test_the_admin_users_page_is_the_same_commands_whatever_its_size(
    manager: LifespanManager, http: httpx.AsyncClient
) -> None:
    for i in range(30):
        await member(manager, f"page{i:02d}")
    token = await admin_token(manager, http)
    # On FerretDB the first unfiltered page reads every user once into the page
    # snapshot (domain/admin/snapshot.py); the pages after it read no user at all.
    await call(http, USERS_PAGE, {"first": 1}, token=token)
    for filter_ in (None, {"role": "STUDENT"}):
        sent_for: dict[int, Recording] = {}
        for size in (5, 25):
            with COMMANDS.counting() as sent:
                body = await call(http, USERS_PAGE, {"first": size, "filter": filter_}, token)
            assert len(body["data"]["users"]["edges"]) == size, body
            within("users" if filter_ is None else "users (filtered)", sent)
            sent_for[size] = sent
        assert sent_for[5] == sent_for[25], f"{sent_for[5].summary()}\n{sent_for[25].summary()}"
        assert len(sent_for[5].redis) == len(sent_for[25].redis)


async def test_the_admin_user_detail(manager: LifespanManager, http: httpx.AsyncClient) -> None:
    target = await signed_in(http, manager, "detail")
    token = await admin_token(manager, http)
    with COMMANDS.counting() as sent:
        body = await call(http, USER, {"id": target["user"]["id"]}, token=token)
    assert body["data"]["user"]["__typename"] == "AdminUserDetail", body
    within("user", sent)


async def test_audit_events(manager: LifespanManager, http: httpx.AsyncClient) -> None:
    token = await admin_token(manager, http)
    with COMMANDS.counting() as sent:
        body = await call(http, AUDIT_EVENTS, {"first": 20}, token=token)
    assert body["data"]["auditEvents"]["edges"], body
    within("auditEvents", sent)


async def test_introspection(manager: LifespanManager, http: httpx.AsyncClient) -> None:
    """A resource server introspects on every call it serves: the signature is checked
    locally, and its client, the token's client (from the client cache,
    domain/oauth/client_cache.py) and the token's revocation records are one Redis round
    trip (domain/oauth/presented.py), with no database command: for its own token and
    for another client's."""
    admin = await admin_token(manager, http)
    auths = []
    for name in ("orders-api", "billing-worker"):
        created = await create_client(
            http,
            admin,
            "CONFIDENTIAL",
            name=name,
            grantTypes=["CLIENT_CREDENTIALS"],
            scopes=["orders:read"],
        )
        auths.append((created["client"]["id"], created["clientSecret"]))
    resource, caller = auths
    for auth in (resource, caller):
        grant = {"grant_type": "client_credentials"}
        issued = await http.post("/oauth2/token", data=grant, auth=auth)
        assert issued.status_code == 200, issued.text
        form = {"token": issued.json()["access_token"]}
        await http.post("/oauth2/introspect", data=form, auth=resource)  # clients cached
        with COMMANDS.counting() as sent:
            seen = await http.post("/oauth2/introspect", data=form, auth=resource)
        assert seen.json()["active"] is True, seen.text
        assert seen.json()["client_id"] == auth[0]
        within("introspection", sent)


async def test_me_as_an_impersonation_costs_what_me_costs(
    manager: LifespanManager, http: httpx.AsyncClient
) -> None:
    """The administrator's session is checked in the same admission round trip."""
    boss = await member(manager, "impersonator", Role.SUPER_ADMIN)
    admin_session = await login(http, boss.email, user_agent=FIREFOX)
    user = await member(manager, "impersonated")
    started = await manager.state.services.impersonation.start(
        Principal(str(boss.id), admin_session["sessionId"], Role.SUPER_ADMIN, "t", mfa=True),
        user_id=str(user.id),
        reason="budget measurement",
        read_only=True,
        actor=Actor.anonymous("198.51.100.1", FIREFOX, None).as_user(str(boss.id)),
    )
    await call(http, ME, token=started.access_token)  # the user is cached from here on
    with COMMANDS.counting() as sent:
        body = await call(http, ME, token=started.access_token)
    assert body["data"]["me"]["email"] == "impersonated@example.com"
    within("me", sent)
    assert len(sent) == 0, sent.summary()


async def test_passkey_sign_in(manager: LifespanManager, http: httpx.AsyncClient) -> None:
    """Both requests of a passkey sign-in: the options for an email, then the answer."""
    session = await signed_in(http, manager, "passkey")
    key = SoftwareAuthenticator()
    registered = await register_passkey(http, session["accessToken"], key)
    assert registered["__typename"] == "PasskeyAdded", registered
    await passkey_login(http, key, "passkey@example.com")  # scripts loaded
    with COMMANDS.counting() as sent:
        begun = await begin_login(http, "passkey@example.com")
    within("passkey options", sent)
    by_id_only(sent)
    answer = key.get(begun["options"])
    with COMMANDS.counting() as sent:
        body = await finish_login(http, begun["attemptId"], answer)
    assert body["__typename"] == "AuthPayload", body
    within("passkey sign-in", sent)
    by_id_only(sent)


async def test_a_two_factor_sign_in_reads_by_id_only(
    manager: LifespanManager, http: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """The password step of a two-factor account asks whether the account has a passkey
    (to offer it as the second step): on FerretDB its listing, read by _id."""
    session = await signed_in(http, manager, "two-factor")
    await enable_totp(http, session["accessToken"], clock)
    with COMMANDS.counting() as sent:
        body = await call(http, LOGIN, {"email": "two-factor@example.com", "password": PASSWORD})
    assert body["data"]["login"]["__typename"] == "MfaRequired", body
    within("login (two-factor)", sent)
    by_id_only(sent)


ME_METHODS = "query { me { signInMethods identities { id provider } } }"


async def test_my_sign_in_methods_read_by_id_only(
    manager: LifespanManager, http: httpx.AsyncClient
) -> None:
    """``me { signInMethods identities }`` asks about one account: each way in (password,
    passkeys, TOTP, linked identities) is read by _id on FerretDB, never by a filter it
    would answer by reading every account's records (domain/core/owner_listing.py)."""
    session = await signed_in(http, manager, "methods")
    await call(http, ME_METHODS, token=session["accessToken"])
    with COMMANDS.counting() as sent:
        body = await call(http, ME_METHODS, token=session["accessToken"])
    assert body["data"]["me"]["signInMethods"] == ["PASSWORD", "EMAIL_CODE"], body
    within("me (sign-in methods)", sent)
    by_id_only(sent)
