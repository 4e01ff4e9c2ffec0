"""Credential stuffing, alias and batch brute force, and TOTP brute force and replay
(ASVS 4.0.3 V2.2.1, V2.8.4, V11.1.4, V7.2.1), through GraphQL on real FerretDB and Redis
with the rate limiter switched on for each test's own app.

Each refusal is a typed ``RateLimited`` / ``InvalidMfaCode`` answer; each counted
attempt leaves exactly one failure in the audit trail, and the attempts refused at the
limit never reach the password check (so the right password among them does not help).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from domain.core.clock import FrozenClock
from domain.core.roles import Role
from tests.api.identity_ops import LOGIN, PASSWORD, call, login
from tests.api.test_protection import ClientFactory, open_client  # noqa: F401 - the fixture
from tests.api.test_two_factor import BEGIN, COMPLETE, CONFIRM, LOGIN_MFA, code_at
from tests.security.support import audit_events
from tests.support.accounts import staff_account


async def account(client: httpx.AsyncClient, email: str, clock: Any = None) -> str:
    user = await staff_account(
        client.app_state,  # type: ignore[attr-defined]
        email,
        PASSWORD,
        Role.STUDENT,
        clock=clock,
    )
    return str(user.id)


async def login_from(client: httpx.AsyncClient, email: str, password: str, ip: str) -> str:
    response = await client.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"email": email, "password": password}},
        headers={"X-Forwarded-For": ip},
    )
    return str(response.json()["data"]["login"]["__typename"])


async def test_credential_stuffing_across_many_accounts_from_one_ip(
    open_client: ClientFactory,  # noqa: F811
) -> None:
    async with open_client(rate_limit_login_ip="10/300", client_ip="198.51.100.40") as client:
        emails = [f"stuffed{i}@example.com" for i in range(3)]
        for email in emails:
            await account(client, email)
        # A leaked list: mostly wrong pairs and unknown accounts, one right pair late on.
        pairs = [(f"leak{i}@example.com", f"leaked password {i}") for i in range(12)]
        pairs += [(emails[i % 3], f"old password {i} of theirs") for i in range(12)]
        pairs.insert(20, (emails[0], PASSWORD))
        kinds = [(await login(client, email, password))["__typename"] for email, password in pairs]
        assert kinds[:10] == ["InvalidCredentials"] * 10
        assert kinds[10:] == ["RateLimited"] * (len(pairs) - 10)
        failures = await audit_events("user.login_failed", ip="198.51.100.40")
        assert len(failures) == 10
        assert await audit_events("user.login", ip="198.51.100.40") == []


async def test_one_account_from_many_ips(open_client: ClientFactory) -> None:  # noqa: F811
    async with open_client(
        rate_limit_login_account="5/300",
        trusted_proxies=["198.51.100.0/24"],
        client_ip="198.51.100.41",
    ) as client:
        user_id = await account(client, "sprayed@example.com")
        ips = [f"203.0.113.{i}" for i in range(1, 10)]
        kinds = [
            await login_from(client, "sprayed@example.com", f"guess {i} of many", ip)
            for i, ip in enumerate(ips[:8])
        ]
        assert kinds == ["InvalidCredentials"] * 5 + ["RateLimited"] * 3
        # Even the right password, from yet another address, waits out the account's limit.
        assert await login_from(client, "sprayed@example.com", PASSWORD, ips[8]) == "RateLimited"
        failures = await audit_events("user.login_failed", target_id=user_id)
        assert len(failures) == 5
        assert {event.ip for event in failures} == set(ips[:5])


async def test_aliased_and_batched_guesses_cannot_smuggle_the_right_password(
    open_client: ClientFactory,  # noqa: F811
) -> None:
    async with open_client(
        rate_limit_login_ip="5/300", graphql_batch_max_operations=10, client_ip="198.51.100.42"
    ) as client:
        user_id = await account(client, "aliased@example.com")
        guesses = [PASSWORD if i == 50 else f"guess {i} xx" for i in range(100)]
        fields = [
            f'a{i}: login(email: "aliased@example.com", password: "{guess}") {{ __typename }}'
            for i, guess in enumerate(guesses)
        ]
        response = await client.post(
            "/graphql", json={"query": f"mutation {{ {' '.join(fields)} }}"}
        )
        kinds = [value["__typename"] for value in response.json()["data"].values()]
        assert kinds.count("InvalidCredentials") == 5
        assert kinds.count("RateLimited") == 95
        assert "AuthPayload" not in kinds
        batch = [
            {"query": LOGIN, "variables": {"email": "aliased@example.com", "password": password}}
            for password in ["batch guess 1 zz"] * 9 + [PASSWORD]
        ]
        answers = (await client.post("/graphql", json=batch)).json()
        assert {a["data"]["login"]["__typename"] for a in answers} == {"RateLimited"}
        assert len(await audit_events("user.login_failed", target_id=user_id)) == 5
        assert await audit_events("user.login", target_id=user_id) == []


async def enrolled(client: httpx.AsyncClient, email: str, clock: FrozenClock) -> tuple[str, str]:
    user_id = await account(client, email, clock)
    token = (await login(client, email))["accessToken"]
    secret = (await call(client, BEGIN, token=token))["data"]["beginTotpEnrollment"]["secret"]
    confirmed = await call(client, CONFIRM, {"code": code_at(secret, clock)}, token)
    assert confirmed["data"]["confirmTotpEnrollment"]["__typename"] == "BackupCodes"
    clock.advance(timedelta(seconds=30))
    return user_id, secret


async def challenge(client: httpx.AsyncClient, email: str) -> str:
    answer = (await call(client, LOGIN_MFA, {"email": email, "password": PASSWORD}))["data"]
    assert answer["login"]["__typename"] == "MfaRequired"
    return str(answer["login"]["challengeToken"])


async def complete(client: httpx.AsyncClient, challenge_token: str, code: str) -> dict[str, Any]:
    body = await call(client, COMPLETE, {"challenge": challenge_token, "code": code})
    result: dict[str, Any] = body["data"]["completeMfaLogin"]
    return result


async def test_totp_brute_force_is_limited_per_account_across_challenges(
    open_client: ClientFactory,  # noqa: F811
) -> None:
    clock = FrozenClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    async with open_client(
        clock=clock, rate_limit_mfa_account="6/300", client_ip="198.51.100.43"
    ) as client:
        user_id, secret = await enrolled(client, "totp.brute@example.com", clock)
        right = code_at(secret, clock)
        guesses = [f"{n:06d}" for n in range(8) if f"{n:06d}" != right][:6]
        # The enrollment's confirmation code was the account's first of six attempts.
        first = await challenge(client, "totp.brute@example.com")
        results = [(await complete(client, first, guess)).get("code") for guess in guesses]
        assert results == ["INVALID_MFA_CODE"] * 5 + ["RATE_LIMITED"]
        # A fresh challenge does not reset the count: the limit is the account's.
        second = await challenge(client, "totp.brute@example.com")
        assert (await complete(client, second, right)).get("code") == "RATE_LIMITED"
        assert len(await audit_events("user.mfa_failed", target_id=user_id)) == 5


async def test_used_totp_step_cannot_be_replayed(open_client: ClientFactory) -> None:  # noqa: F811
    clock = FrozenClock(datetime(2026, 6, 2, 9, 0, tzinfo=UTC))
    async with open_client(clock=clock, client_ip="198.51.100.44") as client:
        user_id, secret = await enrolled(client, "totp.replay@example.com", clock)
        code = code_at(secret, clock)
        done = await complete(client, await challenge(client, "totp.replay@example.com"), code)
        assert done["__typename"] == "AuthPayload"
        # An observer of that code (shoulder, phishing proxy) tries it within its 30 s.
        clock.advance(timedelta(seconds=10))
        replay = await complete(client, await challenge(client, "totp.replay@example.com"), code)
        assert replay["__typename"] == "InvalidMfaCode"
        assert replay["code"] == "MFA_CODE_REPLAYED"
        # Refused and recorded as a replay; not a wrong guess toward the lock.
        (event,) = await audit_events("user.mfa_replayed", target_id=user_id)
        assert event.result.value == "failure"
        assert await audit_events("user.mfa_failed", target_id=user_id) == []


async def test_forged_forwarded_for_does_not_escape_the_ip_limit(
    open_client: ClientFactory,  # noqa: F811
) -> None:
    """Without a trusted proxy in front, ``X-Forwarded-For`` is the client's own claim:
    rotating it must not give each guess a fresh address."""
    async with open_client(rate_limit_login_ip="4/300", client_ip="198.51.100.45") as client:
        kinds = [
            await login_from(client, f"spoof{i}@example.com", "guess 1 zz", f"203.0.113.{i}")
            for i in range(1, 7)
        ]
        assert kinds == ["InvalidCredentials"] * 4 + ["RateLimited"] * 2
        failures = await audit_events("user.login_failed", ip="198.51.100.45")
        assert len(failures) == 4
