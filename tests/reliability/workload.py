"""A mixed workload from many concurrent clients, and a ledger of what the server acknowledged.

Each client repeats one user's life: register, read the verification link from the
real SMTP sink, verify, log in, ``me``, refresh, ``me``, an admin user list, log out,
and ``me`` again (refused); a few readers keep a signed-in admin reading. Requests go
round-robin over the live API processes, so consecutive steps of one user land on
different processes. Every request is recorded
(operation, process, start, duration, outcome) for the error and latency figures, and
every acknowledged write goes into the :class:`Ledger` that the nothing-lost checks
read afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.api.identity_ops import LOGIN, LOGOUT, ME, REFRESH, REGISTER, VERIFY
from tests.reliability.cluster import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.smtp import MailInbox

USERS = "query Users { users(first: 5) { totalCount edges { node { id email } } } }"
PASSWORD = "tangerine quarry whistle 8812"
# A client gives up on a request after this long: a hang shows as a timeout error.
CLIENT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Call:
    op: str
    port: int
    started: float  # time.monotonic()
    elapsed: float
    error: str | None  # None when the answer was the expected one

    @property
    def clear(self) -> bool:
        """An error the server stated (a GraphQL error code or a typed result), not a
        dropped connection or a timeout."""
        return self.error is None or self.error.startswith(("code:", "result:", "http:503"))


@dataclass
class Ledger:
    """What the server acknowledged: none of it may be lost."""

    registered: set[str] = field(default_factory=set)
    verified: set[str] = field(default_factory=set)
    # (access token, refresh token) of sessions whose logout succeeded.
    logged_out: list[tuple[str, str]] = field(default_factory=list)
    mail_waits_abandoned: int = 0


class Balancer:
    """Round-robin over API processes, like a load balancer; draining takes one out of
    rotation while its in-flight requests finish."""

    def __init__(self, urls: list[str]) -> None:
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._rotation: list[str] = []
        self._next = itertools.count()
        for url in urls:
            self.add(url)

    def add(self, url: str) -> None:
        self._clients[url] = httpx.AsyncClient(
            base_url=url, timeout=CLIENT_TIMEOUT_SECONDS, trust_env=False
        )
        self._rotation.append(url)

    def drain(self, url: str) -> None:
        self._rotation.remove(url)

    def pick(self) -> tuple[str, httpx.AsyncClient]:
        url = self._rotation[next(self._next) % len(self._rotation)]
        return url, self._clients[url]

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()


def _error_code(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = (errors[0].get("extensions") or {}).get("code")
        return str(code) if code else None
    code = body.get("code")
    return str(code) if code else None


def _outcome(
    response: httpx.Response, field_name: str, expect: str | None
) -> tuple[Any, str | None]:
    """The field's value and None, or None and what was wrong."""
    try:
        body = response.json()
    except ValueError:
        return (
            None,
            f"http:{response.status_code}" if response.status_code != 200 else "http:not-json",
        )
    if response.status_code != 200:
        # Refused before execution: its code, when the body says one (GraphQL errors or
        # the REST error model).
        code = _error_code(body)
        return None, f"code:{code}" if code else f"http:{response.status_code}"
    if body.get("errors"):
        code = (body["errors"][0].get("extensions") or {}).get("code", "none")
        return None, f"code:{code}"
    value = (body.get("data") or {}).get(field_name)
    if expect is not None and (not isinstance(value, dict) or value.get("__typename") != expect):
        typename = value.get("__typename") if isinstance(value, dict) else value
        return None, f"result:{typename}"
    return value, None


class Workload:
    def __init__(
        self,
        balancer: Balancer,
        inbox: MailInbox,
        *,
        clients: int,
        prefix: str,
        readers: int = 2,
        mail_wait_seconds: float = 20.0,
    ) -> None:
        self.readers = readers
        self.balancer = balancer
        self.inbox = inbox
        self.clients = clients
        self.prefix = prefix
        self.mail_wait_seconds = mail_wait_seconds
        self.calls: list[Call] = []
        self.ledger = Ledger()
        self.stop = asyncio.Event()
        self._admin: tuple[str, float] | None = None
        self._users = itertools.count(1)

    async def request(
        self,
        op: str,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        field_name: str,
        expect: str | None = None,
        expect_code: str | None = None,
    ) -> Any:
        """One request through the balancer, recorded; the field's value or None."""
        url, client = self.balancer.pick()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        started = time.monotonic()
        error: str | None
        value: Any = None
        try:
            response = await client.post(
                "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
            )
        except httpx.HTTPError as exc:
            error = f"transport:{type(exc).__name__}"
        else:
            value, error = _outcome(response, field_name, expect)
            if expect_code is not None:
                # The expected answer is this error code (a logged-out token, say).
                error = None if error == f"code:{expect_code}" else error or "result:accepted"
        elapsed = time.monotonic() - started
        port = int(url.rsplit(":", 1)[1])
        self.calls.append(Call(op, port, started, elapsed, error))
        return value if error is None else None

    async def admin_token(self) -> str | None:
        # Access tokens live 15 minutes: a long soak signs the admin in again.
        if self._admin is None or time.monotonic() - self._admin[1] > 600:
            login = await self.request(
                "admin_login",
                LOGIN,
                {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                field_name="login",
                expect="AuthPayload",
            )
            if login is None:
                return None
            self._admin = (login["accessToken"], time.monotonic())
        return self._admin[0]

    async def wait_for_link(self, email: str) -> str | None:
        deadline = time.monotonic() + self.mail_wait_seconds
        while not self.stop.is_set() and time.monotonic() < deadline:
            for mail in self.inbox.all(email):
                if "confirm your email" in mail.subject.lower():
                    return mail.token()
            await asyncio.sleep(0.05)
        self.ledger.mail_waits_abandoned += 1
        return None

    async def user_life(self, email: str) -> None:
        """One user's journey; it stops at the first unexpected answer."""
        registered = await self.request(
            "register",
            REGISTER,
            {"email": email, "password": PASSWORD, "first": "Load", "last": "Client"},
            field_name="register",
            expect="RegistrationAccepted",
        )
        if registered is None:
            return
        self.ledger.registered.add(email)
        link = await self.wait_for_link(email)
        if link is None:
            return
        verified = await self.request(
            "verify", VERIFY, {"token": link}, field_name="verifyEmail", expect="EmailVerified"
        )
        if verified is None:
            return
        self.ledger.verified.add(email)
        login = await self.request(
            "login",
            LOGIN,
            {"email": email, "password": PASSWORD},
            field_name="login",
            expect="AuthPayload",
        )
        if login is None:
            return
        if await self.request("me", ME, token=login["accessToken"], field_name="me") is None:
            return
        refreshed = await self.request(
            "refresh",
            REFRESH,
            {"token": login["refreshToken"]},
            field_name="refreshToken",
            expect="AuthPayload",
        )
        if refreshed is None:
            return
        access, refresh = refreshed["accessToken"], refreshed["refreshToken"]
        if await self.request("me", ME, token=access, field_name="me") is None:
            return
        admin = await self.admin_token()
        if admin is None:
            return
        if await self.request("users", USERS, token=admin, field_name="users") is None:
            return
        if await self.request("logout", LOGOUT, token=access, field_name="logout") is None:
            return
        self.ledger.logged_out.append((access, refresh))
        # Refused at once, whichever process answers.
        await self.request(
            "me_after_logout", ME, token=access, field_name="me", expect_code="UNAUTHENTICATED"
        )

    async def _reader(self) -> None:
        """A signed-in user who keeps reading (``me``, the admin list): steady traffic
        while the other clients wait for their emails."""
        while not self.stop.is_set():
            token = await self.admin_token()
            if token is not None:
                await self.request("admin_me", ME, token=token, field_name="me")
                await self.request("users", USERS, token=token, field_name="users")
            await asyncio.sleep(0.05)

    async def _client(self, number: int) -> None:
        while not self.stop.is_set():
            await self.user_life(f"{self.prefix}.{number}.{next(self._users)}@example.com")

    async def run(self, seconds: float | None = None) -> None:
        """Run the clients until ``stop`` is set (or for ``seconds``); each finishes its user."""
        tasks = [asyncio.create_task(self._client(n)) for n in range(self.clients)]
        tasks += [asyncio.create_task(self._reader()) for _ in range(self.readers)]
        if seconds is not None:
            await asyncio.sleep(seconds)
            self.stop.set()
        await asyncio.gather(*tasks)


@dataclass(frozen=True)
class Figures:
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    codes: dict[str, int]


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def figures(calls: list[Call]) -> Figures:
    elapsed = [c.elapsed for c in calls]
    codes: dict[str, int] = {}
    for call in calls:
        if call.error is not None:
            codes[call.error] = codes.get(call.error, 0) + 1
    return Figures(
        requests=len(calls),
        errors=sum(codes.values()),
        p50_ms=percentile(elapsed, 0.50) * 1000,
        p99_ms=percentile(elapsed, 0.99) * 1000,
        max_ms=max(elapsed, default=0.0) * 1000,
        codes=codes,
    )
