"""Enumeration and brute force against sign-in by emailed code, through GraphQL on the
real stores (ASVS 4.0.3 V2.2.1, V2.5.x, V11.1.4).

An address with an account and one without get the same answers from
``requestEmailSignIn`` and ``completeEmailSignIn``, and make the same database commands
(on the same collections, looked up the same way) and the same Redis commands, counted
with the shared counter (tests/support/commands.py). The rate limits count every
attempt: aliased fields in one document and operations in one batch are each one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from domain.audit.documents import AuditEvent
from domain.core.clock import FrozenClock
from domain.core.database_flavour import DatabaseFlavour, bound_flavour
from domain.core.roles import Role
from domain.email.outbox import EmailMessage
from domain.identity.documents import User
from tests.api.identity_ops import PASSWORD, call
from tests.passwordless.support import COMPLETE, REQUEST, emailed
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.support.commands import COMMANDS, Recording

CLOCK_START = datetime(2026, 9, 4, 9, 0, tzinfo=UTC)
TRIES = 3


@pytest.fixture(scope="module")
async def manager(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LifespanManager]:
    COMMANDS.install()  # before the app makes its database client
    async with app_with(clock=clock) as running:
        COMMANDS.watch_app(running.state)
        yield running


@pytest.fixture(scope="module")
async def client(manager: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(manager) as http:
        yield http


async def accounts(manager: LifespanManager, prefix: str, count: int) -> list[str]:
    emails = [f"{prefix}{i}@example.com" for i in range(count)]
    for email in emails:
        await staff_account(manager.state, email, PASSWORD, Role.STUDENT)
    return emails


def shape(sent: Recording) -> tuple[Counter[tuple[str, str]], Counter[str]]:
    """What one request sent: database commands by how they looked rows up, Redis commands."""
    return sent.lookups(), Counter(sent.redis_commands())


def usual(samples: list[tuple[Counter[tuple[str, str]], Counter[str]]]) -> object:
    """The shape most tries had (a background flush can add to one try)."""
    keyed = Counter(repr(sorted(s[0].items())) + repr(sorted(s[1].items())) for s in samples)
    best = keyed.most_common(1)[0][0]
    return next(
        s for s in samples if repr(sorted(s[0].items())) + repr(sorted(s[1].items())) == best
    )


async def test_a_request_answers_and_works_alike_for_accounts_and_non_accounts(
    client: httpx.AsyncClient, manager: LifespanManager
) -> None:
    known = await accounts(manager, "asked", TRIES)
    answers: set[str] = set()
    seen: dict[bool, list[tuple[Counter[tuple[str, str]], Counter[str]]]] = {True: [], False: []}
    for i in range(TRIES):
        for is_known, email in ((True, known[i]), (False, f"ghost{i}@example.com")):
            with COMMANDS.counting() as sent:
                body = await call(client, REQUEST, {"email": email})
            answers.add(repr(body))
            seen[is_known].append(shape(sent))
    # The same answer, expiry included (the injected clock stands still).
    assert len(answers) == 1, answers
    with_account, without = usual(seen[True]), usual(seen[False])
    assert with_account == without, (with_account, without)
    database = with_account[0]  # type: ignore[index]
    if bound_flavour() is DatabaseFlavour.FERRETDB:
        # Found by _id reads (login identifiers), never by a query FerretDB would scan.
        assert database[("find", "login_identifiers by _id")] == 1
    else:
        assert database[("find", "users by email")] == 1
    # An email record each time: sent to the account, suppressed for nobody.
    assert database[("insert", "email_messages")] == 1
    assert await EmailMessage.find({"to": known[0], "template": "email_sign_in"}).count() == 1
    assert await EmailMessage.find({"to": "ghost0@example.com"}).count() == 0


async def test_a_wrong_code_answers_and_works_alike_for_accounts_and_non_accounts(
    client: httpx.AsyncClient, manager: LifespanManager
) -> None:
    known = await accounts(manager, "guessed", TRIES)
    ghosts = [f"guessed-ghost{i}@example.com" for i in range(TRIES)]
    for email in known + ghosts:
        await call(client, REQUEST, {"email": email})
    answers: set[str] = set()
    seen: dict[bool, list[tuple[Counter[tuple[str, str]], Counter[str]]]] = {True: [], False: []}
    for i in range(TRIES):
        code, _ = await emailed(manager, known[i])
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for is_known, email in ((True, known[i]), (False, ghosts[i])):
            with COMMANDS.counting() as sent:
                body = await call(client, COMPLETE, {"email": email, "code": wrong})
            answers.add(repr(body))
            seen[is_known].append(shape(sent))
    assert len(answers) == 1, answers
    assert '"INVALID_EMAIL_CODE"' in answers.pop().replace("'", '"')
    assert usual(seen[True]) == usual(seen[False])


async def test_aliased_and_batched_codes_count_one_attempt_each(
    app_with: AppWith, clock: FrozenClock
) -> None:
    async with (
        app_with(
            clock=clock,
            rate_limits_enabled=True,
            rate_limit_login_account="3/300",
            rate_limit_email_account="2/3600",
            graphql_batch_max_operations=10,
        ) as limited,
        asgi_client(limited, client=("198.51.100.60", 5000)) as http,
    ):
        (email,) = await accounts(limited, "aliased", 1)
        # Ten requests in one document: two emails, then the address's limit.
        requests = " ".join(
            f'r{i}: requestEmailSignIn(email: "{email}") {{ __typename }}' for i in range(10)
        )
        sent = (await http.post("/graphql", json={"query": f"mutation {{ {requests} }}"})).json()
        kinds = [value["__typename"] for value in sent["data"].values()]
        assert kinds == ["EmailSignInRequested"] * 2 + ["RateLimited"] * 8
        assert await EmailMessage.find({"to": email, "template": "email_sign_in"}).count() == 2

        # A hundred guesses in one document, the right code among them: three are tried.
        code, _ = await emailed(limited, email)
        guesses = [
            code if i == 50 else f"{(int(code) + i + 1) % 1_000_000:06d}" for i in range(100)
        ]
        fields = " ".join(
            f'g{i}: completeEmailSignIn(email: "{email}", code: "{guess}") {{ __typename }}'
            for i, guess in enumerate(guesses)
        )
        body = (await http.post("/graphql", json={"query": f"mutation {{ {fields} }}"})).json()
        answers = [value["__typename"] for value in body["data"].values()]
        assert answers.count("InvalidEmailCode") == 3
        assert answers.count("RateLimited") == 97
        assert "AuthPayload" not in answers
        # A batch of operations is as many attempts, each refused now.
        batch = [{"query": COMPLETE, "variables": {"email": email, "code": code}}] * 10
        replies = (await http.post("/graphql", json=batch)).json()
        assert {r["data"]["completeEmailSignIn"]["__typename"] for r in replies} == {"RateLimited"}
        user = await User.find_one(User.email == email)
        assert user is not None
        failed = await AuditEvent.find(
            {"event": "user.login_failed", "target_id": str(user.id)}
        ).count()
        assert failed == 3
        assert (
            await AuditEvent.find({"event": "user.login", "target_id": str(user.id)}).count() == 0
        )
