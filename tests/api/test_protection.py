"""Rate limits, API keys, lockout and GraphQL limits, through GraphQL on real services."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import services
from graphql import get_introspection_query

from domain.core.actor import Actor
from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.identity.documents import User
from domain.sessions.documents import Session
from tests.api.identity_ops import (
    LOGIN,
    LOGOUT,
    ME,
    PASSWORD,
    call,
    login,
    unique_email,
    verified_user,
)
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager
from tests.support.processes import running_worker
from tests.support.smtp import MailInbox
from tests.tokens.support import rsa_pem

UNLOCK = """
mutation Unlock($token: String!) {
  unlockAccount(token: $token) { __typename ... on UserError { code message } }
}"""
ClientFactory = Callable[..., Any]


@pytest.fixture(scope="module")
def open_client(
    make_settings: Callable[..., Settings],
    mail_inbox: MailInbox,
    tmp_path_factory: pytest.TempPathFactory,
) -> ClientFactory:
    @asynccontextmanager
    async def factory(
        clock: FrozenClock | None = None,
        client_ip: str = "198.51.100.20",
        worker: bool = False,
        **overrides: Any,
    ) -> AsyncIterator[httpx.AsyncClient]:
        from app import create_app

        values: dict[str, Any] = {
            "email_backend": "smtp",
            "smtp_port": mail_inbox.port,
            "rate_limits_enabled": True,
        }
        values.update(overrides)
        settings = make_settings(**values)
        log = tmp_path_factory.mktemp("worker") / "worker.log"
        # A worker process only where a test reads the emails it sends.
        with running_worker(settings, log) if worker else nullcontext():
            async with LifespanManager(create_app(settings, clock=clock)) as manager:
                transport = httpx.ASGITransport(app=manager.app, client=(client_ip, 40000))
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                    http.app_state = manager.state  # type: ignore[attr-defined]
                    yield http

    return factory


def aliased_logins(email: str, count: int) -> str:
    fields = "\n".join(
        f'a{i}: login(email: "{email}", password: "wrong password {i} zz") '
        "{ __typename ... on RateLimited { retryAfterSeconds } }"
        for i in range(count)
    )
    return f"mutation {{ {fields} }}"


async def test_login_limit_per_ip_with_retry_time(open_client: ClientFactory) -> None:
    async with open_client(rate_limit_login_ip="5/60", client_ip="198.51.100.1") as client:
        results = [await login(client, unique_email("ip"), "wrong password 1") for _ in range(7)]
        kinds = [r["__typename"] for r in results]
        assert kinds[:5] == ["InvalidCredentials"] * 5
        assert kinds[5:] == ["RateLimited"] * 2
        response = await client.post(
            "/graphql",
            json={"query": LOGIN, "variables": {"email": "a@example.com", "password": "x"}},
        )
        limited = response.json()["data"]["login"]
        assert limited["__typename"] == "RateLimited"
        assert 0 < int(response.headers["retry-after"]) <= 60


async def test_login_limit_per_account(open_client: ClientFactory) -> None:
    async with open_client(rate_limit_login_account="3/60", client_ip="198.51.100.2") as client:
        target = unique_email("acct")
        kinds = [(await login(client, target, "wrong password 2"))["__typename"] for _ in range(4)]
        assert kinds == ["InvalidCredentials"] * 3 + ["RateLimited"]
        other = await login(client, unique_email("other"), "wrong password 2")
        assert other["__typename"] == "InvalidCredentials"


async def test_hundred_aliases_count_as_hundred_attempts(open_client: ClientFactory) -> None:
    async with open_client(rate_limit_login_ip="5/60", client_ip="198.51.100.3") as client:
        response = await client.post(
            "/graphql", json={"query": aliased_logins(unique_email("alias"), 100)}
        )
        assert response.status_code == 200, response.text
        kinds = [v["__typename"] for v in response.json()["data"].values()]
        assert kinds.count("InvalidCredentials") == 5
        assert kinds.count("RateLimited") == 95


async def test_batched_operations_count_each(open_client: ClientFactory) -> None:
    async with open_client(
        rate_limit_login_ip="3/60", graphql_batch_max_operations=10, client_ip="198.51.100.4"
    ) as client:
        batch = [
            {"query": LOGIN, "variables": {"email": unique_email("b"), "password": "wrong pw 3"}}
            for _ in range(6)
        ]
        response = await client.post("/graphql", json=batch)
        assert response.status_code == 200, response.text
        kinds = [item["data"]["login"]["__typename"] for item in response.json()]
        assert kinds.count("RateLimited") == 3
        too_many = await client.post("/graphql", json=batch * 2)
        assert too_many.status_code == 400
        assert "Traceback" not in too_many.text


async def test_batching_is_off_by_default(open_client: ClientFactory) -> None:
    async with open_client() as client:
        response = await client.post("/graphql", json=[{"query": "{ serverInfo { name } }"}] * 2)
        assert response.status_code == 400
        assert "serverInfo" not in response.text


async def test_allowlisted_ip_is_not_limited(open_client: ClientFactory) -> None:
    async with open_client(
        rate_limit_login_ip="2/60",
        rate_limit_allowlist="198.51.100.0/28",
        client_ip="198.51.100.5",
    ) as client:
        kinds = {
            (await login(client, unique_email("al"), "wrong pw 4"))["__typename"] for _ in range(6)
        }
        assert kinds == {"InvalidCredentials"}


async def test_api_key_gets_its_own_higher_limit(open_client: ClientFactory) -> None:
    from domain.apikeys.service import ApiKeyService
    from domain.audit.service import AuditService
    from domain.core.clock import SystemClock

    async with open_client(rate_limit_login_ip="2/60", client_ip="198.51.100.6") as client:
        _, raw = await ApiKeyService(SystemClock(), AuditService(SystemClock())).create(
            actor=Actor.system(),
            name="mobile backend",
            scopes=["users:read"],
            rate_limit="50/60",
            created_by=None,
        )
        headers = {"X-API-Key": raw}
        kinds = []
        for _ in range(6):
            response = await client.post(
                "/graphql",
                json={
                    "query": LOGIN,
                    "variables": {"email": unique_email("k"), "password": "no pw 5"},
                },
                headers=headers,
            )
            kinds.append(response.json()["data"]["login"]["__typename"])
        assert kinds == ["InvalidCredentials"] * 6
        # Without the key, the same IP is over its limit.
        plain = [
            (await login(client, unique_email("n"), "no pw 5"))["__typename"] for _ in range(3)
        ]
        assert plain[-1] == "RateLimited"
        # A made-up key is not a key.
        fake = await client.post(
            "/graphql",
            json={"query": LOGIN, "variables": {"email": "z@example.com", "password": "x"}},
            headers={"X-API-Key": raw[:-2] + "xx"},
        )
        assert fake.json()["data"]["login"]["__typename"] == "RateLimited"


async def test_door_limit_answers_429_with_code(open_client: ClientFactory) -> None:
    async with open_client(rate_limit_request_ip="5/60", client_ip="198.51.100.7") as client:
        statuses = []
        for _ in range(6):
            response = await client.post("/graphql", json={"query": "{ serverInfo { name } }"})
            statuses.append(response.status_code)
        assert statuses == [200] * 5 + [429]
        assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert int(response.headers["retry-after"]) > 0
        ok = await client.post("/graphql", json={"query": "{ serverInfo { name } }"})
        assert ok.status_code == 429


async def test_rate_limit_headers_on_success(open_client: ClientFactory) -> None:
    async with open_client(rate_limit_request_ip="50/60", client_ip="198.51.100.8") as client:
        response = await client.post("/graphql", json={"query": "{ serverInfo { name } }"})
        assert response.headers["ratelimit-limit"] == "50"
        assert response.headers["ratelimit-remaining"] == "49"


async def test_ten_failures_lock_the_account(
    open_client: ClientFactory, mail_inbox: MailInbox
) -> None:
    async with open_client(
        client_ip="198.51.100.9", worker=True, rate_limits_enabled=False
    ) as client:
        email = await verified_user(client, mail_inbox)
        kinds = [
            (await login(client, email, f"wrong password {i}"))["__typename"] for i in range(10)
        ]
        assert kinds == ["InvalidCredentials"] * 9 + ["AccountLocked"]
        # The right password no longer helps, and says nothing about being right.
        assert (await login(client, email))["__typename"] == "AccountLocked"
        assert (await login(client, email, "wrong again 11"))["__typename"] == "AccountLocked"
        (mail,) = await mail_inbox.wait_for(email, "was locked")
        unlocked = await call(client, UNLOCK, {"token": mail.token()})
        assert unlocked["data"]["unlockAccount"]["__typename"] == "AccountUnlocked"
        assert (await login(client, email))["__typename"] == "AuthPayload"
        replay = await call(client, UNLOCK, {"token": mail.token()})
        assert replay["data"]["unlockAccount"]["__typename"] == "InvalidToken"


async def test_concurrent_failures_lock_once_and_email_once(
    open_client: ClientFactory, mail_inbox: MailInbox
) -> None:
    async with open_client(
        client_ip="198.51.100.10", worker=True, rate_limits_enabled=False
    ) as client:
        email = await verified_user(client, mail_inbox)
        results = await asyncio.gather(
            *(login(client, email, f"wrong password {i}") for i in range(50))
        )
        kinds = [r["__typename"] for r in results]
        assert set(kinds) <= {"InvalidCredentials", "AccountLocked"}
        assert kinds.count("InvalidCredentials") == 9
        # The mail goes through the worker and SMTP: wait for it (a loaded machine takes
        # longer than a fixed pause), then long enough that a second one would show.
        await mail_inbox.wait_for(email, "was locked")
        await asyncio.sleep(0.5)
        locks = [m for m in mail_inbox.all(email) if "was locked" in m.subject]
        assert len(locks) == 1
        user = await User.find_one(User.email == email)
        assert user is not None
        assert user.locked_at is not None


async def test_admin_unlock_and_success_resets_counter(
    open_client: ClientFactory, mail_inbox: MailInbox
) -> None:
    from domain.lockout.service import LockoutService

    async with open_client(
        client_ip="198.51.100.11", worker=True, rate_limits_enabled=False
    ) as client:
        email = await verified_user(client, mail_inbox)
        for i in range(9):
            await login(client, email, f"wrong password {i}")
        # A success resets the count: nine more failures do not lock.
        assert (await login(client, email))["__typename"] == "AuthPayload"
        kinds = {(await login(client, email, f"bad {i} password"))["__typename"] for i in range(9)}
        assert kinds == {"InvalidCredentials"}
        assert (await login(client, email, "tenth bad password"))["__typename"] == "AccountLocked"
        user = await User.find_one(User.email == email)
        assert user is not None
        assert user.id is not None
        lockout: LockoutService = client.app_state.services.lockout  # type: ignore[attr-defined]
        await lockout.unlock(user, Actor.system())
        assert (await login(client, email))["__typename"] == "AuthPayload"


async def test_progressive_throttling_before_lock(
    open_client: ClientFactory, mail_inbox: MailInbox
) -> None:
    clock = FrozenClock(datetime(2026, 2, 1, tzinfo=UTC))
    async with open_client(
        clock=clock,
        client_ip="198.51.100.12",
        worker=True,
        rate_limits_enabled=False,
        lockout_throttle_base_seconds=2,
        lockout_throttle_after=3,
    ) as client:
        email = await verified_user(client, mail_inbox)
        kinds = [(await login(client, email, f"wrong pw {i} x"))["__typename"] for i in range(3)]
        assert kinds == ["InvalidCredentials"] * 3
        throttled = await login(client, email)
        assert throttled["__typename"] == "RateLimited"
        clock.advance(timedelta(seconds=3))
        assert (await login(client, email))["__typename"] == "AuthPayload"


async def test_graphql_limits_answer_with_codes(open_client: ClientFactory) -> None:
    async with open_client(
        graphql_max_depth=1, graphql_max_aliases=3, graphql_max_tokens=200, graphql_max_cost=30
    ) as client:
        deep = (
            'mutation { login(email: "a@example.com", password: "x") '
            "{ ... on AuthPayload { user { id } } } }"
        )
        cases = {
            deep: "QUERY_TOO_DEEP",
            "{ " + " ".join(f"a{i}: serverInfo {{ name }}" for i in range(4)) + " }": (
                "TOO_MANY_ALIASES"
            ),
            "{ serverInfo { " + "name " * 300 + "} }": "TOO_MANY_TOKENS",
            "{ serverInfo { " + "name version " * 20 + "} }": "QUERY_TOO_COMPLEX",
        }
        for query, code in cases.items():
            response = await client.post("/graphql", json={"query": query})
            assert response.status_code == 400, (code, response.text)
            codes = {e["extensions"]["code"] for e in response.json()["errors"]}
            assert code in codes, (code, response.text)


async def test_graphiql_introspection_fits_default_limits(open_client: ClientFactory) -> None:
    async with open_client() as client:
        query = get_introspection_query(descriptions=True, input_value_deprecation=True)
        response = await client.post("/graphql", json={"query": query})
        assert response.status_code == 200, response.text
        assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


@pytest.mark.parametrize(("mode", "allowed"), [("on", True), ("off", False), ("admin", False)])
async def test_introspection_follows_setting(
    open_client: ClientFactory, mode: str, allowed: bool
) -> None:
    async with open_client(introspection=mode) as client:
        response = await client.post(
            "/graphql", json={"query": "{ __schema { queryType { name } } }"}
        )
        body = response.json()
        if allowed:
            assert body["data"]["__schema"]["queryType"]["name"] == "Query"
        else:
            assert body.get("data") is None
            assert body["errors"][0]["extensions"]["code"]
        # __typename is not introspection of the schema and always works.
        assert (await client.post("/graphql", json={"query": "{ __typename }"})).json()["data"]


async def test_production_gives_no_field_suggestions(open_client: ClientFactory) -> None:
    production = {
        "environment": "production",
        "jwt_private_keys": _fresh_pem(),
        "oidc_signing_keys": rsa_pem(),
        "public_url": "https://auth.example.com",
        "totp_encryption_key": "A" * 43,
        "passkey_rp_id": "example.com",
        "passkey_origins": ["https://app.example.com"],
    }
    async with open_client(**production) as client:
        response = await client.post("/graphql", json={"query": "{ serverInfo { nme } }"})
        assert response.status_code == 400
        assert "Did you mean" not in response.text
    async with open_client() as client:
        response = await client.post("/graphql", json={"query": "{ serverInfo { nme } }"})
        assert "Did you mean" in response.text


def _fresh_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


async def test_redis_down_login_fails_closed_and_server_stays_up(
    open_client: ClientFactory,
    mail_inbox: MailInbox,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    own = services.redis_server(tmp_path_factory.mktemp("redis-down")).start()
    try:
        async with open_client(
            client_ip="198.51.100.13",
            worker=True,
            redis_url=f"redis://127.0.0.1:{own.port}/0",
            redis_socket_timeout_seconds=0.5,
            redis_connect_timeout_seconds=0.5,
        ) as client:
            email = await verified_user(client, mail_inbox)
            session = await login(client, email)
            assert session["__typename"] == "AuthPayload"
            own.stop()
            refused = await login(client, email, PASSWORD)
            assert refused["__typename"] == "RateLimited"
            # Without the revocation list a token is not trusted, but the answer is
            # "try again", not "signed out": the client keeps its tokens.
            me = await client.post(
                "/graphql",
                json={"query": ME},
                headers={"Authorization": f"Bearer {session['accessToken']}"},
            )
            assert me.status_code == 503
            assert me.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            assert "Retry-After" in me.headers
            health = await client.get("/api/health")
            assert health.status_code == 503
            assert "redis" in health.json()["failing"]
            assert (await client.get("/livez")).status_code == 200
            own.start()
            for _ in range(40):
                again = await login(client, email)
                if again["__typename"] == "AuthPayload":
                    break
                await asyncio.sleep(0.1)
            assert again["__typename"] == "AuthPayload"
    finally:
        own.stop()


async def test_throttling_looks_the_same_for_unknown_addresses(
    open_client: ClientFactory, mail_inbox: MailInbox
) -> None:
    clock = FrozenClock(datetime(2026, 2, 2, tzinfo=UTC))
    async with open_client(
        clock=clock,
        client_ip="198.51.100.14",
        rate_limits_enabled=False,
        lockout_throttle_base_seconds=2,
        lockout_throttle_after=3,
        worker=True,
    ) as client:
        known = await verified_user(client, mail_inbox)
        unknown = unique_email("nobody-throttle")
        for email in (known, unknown):
            kinds = [
                (await login(client, email, f"wrong pw {i} y"))["__typename"] for i in range(4)
            ]
            assert kinds == ["InvalidCredentials"] * 3 + ["RateLimited"], email


async def test_account_limit_counts_unicode_variants_of_one_address(
    open_client: ClientFactory,
) -> None:
    async with open_client(rate_limit_login_account="2/300", client_ip="198.51.100.15") as client:
        kinds = [
            (await login(client, email, "wrong password 9"))["__typename"]
            for email in ("victim@example.com", "VICTIM@example.com", "victim@\uff45xample.com")
        ]
        assert kinds == ["InvalidCredentials", "InvalidCredentials", "RateLimited"]


async def test_wrong_current_password_counts_toward_lockout(
    open_client: ClientFactory, mail_inbox: MailInbox
) -> None:
    from tests.api.identity_ops import CHANGE_PASSWORD, NEW_PASSWORD

    async with open_client(
        client_ip="198.51.100.16", rate_limits_enabled=False, lockout_threshold=3, worker=True
    ) as client:
        email = await verified_user(client, mail_inbox)
        token = (await login(client, email))["accessToken"]
        for i in range(3):
            await call(
                client,
                CHANGE_PASSWORD,
                {"current": f"guess number {i}", "new": NEW_PASSWORD},
                token,
            )
        assert (await login(client, email))["__typename"] == "AccountLocked"


async def test_mutations_hidden_in_a_fragment_still_cost(open_client: ClientFactory) -> None:
    async with open_client(graphql_max_cost=100) as client:
        fields = " ".join(f"a{i}: logout {{ sessionsEnded }}" for i in range(15))
        query = f"mutation {{ ...F }} fragment F on Mutation {{ {fields} }}"
        response = await client.post("/graphql", json={"query": query})
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_door_counts_a_live_session_as_its_user_and_a_revoked_one_as_its_ip(
    open_client: ClientFactory,
) -> None:
    clock = FrozenClock(datetime(2026, 3, 3, 12, tzinfo=UTC))
    async with open_client(
        clock=clock,
        client_ip="198.51.100.16",
        rate_limit_request_user="7/60",
        rate_limit_request_ip="40/60",
        session_last_seen_interval_seconds=60,
    ) as client:
        state = client.app_state  # type: ignore[attr-defined]
        email = unique_email("door")
        user = await staff_account(state, email, PASSWORD, Role.STUDENT, clock)
        session = await login(client, email)
        token = session["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}

        first = await client.post("/graphql", json={"query": ME}, headers=headers)
        assert first.json()["data"]["me"]["email"] == email
        assert first.headers["ratelimit-limit"] == "7"
        assert first.headers["ratelimit-remaining"] == "6"
        stored = await Session.find_one(Session.user_id == user.id)
        assert stored is not None
        seen = stored.last_seen_at

        # Within the interval, activity is not written again; after it, it is.
        clock.advance(timedelta(seconds=30))
        await client.post("/graphql", json={"query": ME}, headers=headers)
        again = await Session.get(stored.id)
        assert again is not None
        assert again.last_seen_at == seen
        await state.redis.delete(state.services.sessions.seen_marker(str(stored.id))[0])
        await client.post("/graphql", json={"query": ME}, headers=headers)
        later = await Session.get(stored.id)
        assert later is not None
        assert later.last_seen_at > seen

        assert (await call(client, LOGOUT, token=token))["data"]["logout"]["sessionsEnded"] == 1
        # The revoked token is anonymous: refused, and counted against the IP, not the user.
        refused = await client.post("/graphql", json={"query": ME}, headers=headers)
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert refused.headers["ratelimit-limit"] == "40"
        statuses = [
            (await client.post("/graphql", json={"query": ME}, headers=headers)).status_code
            for _ in range(8)
        ]
        assert 429 not in statuses
