"""A load generator for the sign-ins wrk cannot make: a passkey sign-in signs a fresh
WebAuthn assertion over each challenge, which a wrk Lua script cannot do.

Run as its own process, pinned to CPU 1 as wrk is (``harness/sign_in.py`` starts it):

    taskset -c 1 python bench/harness/loadgen.py SPEC.json    # prints one JSON result

asyncio on uvloop, orjson, and a minimal HTTP/1.1 keep-alive client on asyncio streams
(wrk's model: each connection signs in again and again, for a fixed duration). Not httpx:
here it spent ~0.85 ms of CPU per request against ~0.05 ms for these few lines, and the
generator shares two cores with the server it measures.

- ``passkey``: ``beginPasskeyLogin`` without an email (a discoverable credential, the
  autofill sign-in), the software authenticator of tests/support signs the options'
  challenge (ES256, user verification, a counter that steps), ``finishPasskeyLogin``.
  One sign-in is the pair; its latency runs from the begin's send to the finish's answer.
  Each connection owns its own accounts, so one passkey is never used twice at once
  (its counter must move forward, WebAuthn §6.1.1).
- ``password``: the ``login`` mutation, the same selection as wrk's ``login``, so the
  two sign-ins are compared through one generator.

A sign-in counts when it completes within the duration; errors are transport failures,
non-200 answers and answers other than ``AuthPayload``. The process's own CPU time over
the run is reported (share of one core): near 100% the generator, not the server, sets
the pace.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import uvloop  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from tests.support.webauthn_authenticator import (  # noqa: E402
    Credential,
    SoftwareAuthenticator,
    b64url,
    from_b64url,
)

# Named operations: the server's request log tells them apart.
AUTH = "{ __typename ... on AuthPayload { accessToken refreshToken } }"
PASSWORD_LOGIN = (
    f"mutation BenchLogin($e: String!, $p: String!) {{ login(email: $e, password: $p) {AUTH} }}"
)
BEGIN = (
    "mutation BenchPasskeyBegin { beginPasskeyLogin { __typename "
    "... on PasskeyLoginOptions { attemptId options } } }"
)
FINISH = (
    "mutation BenchPasskeyFinish($a: String!, $c: JSON!) { "
    f"finishPasskeyLogin(attemptId: $a, credential: $c) {AUTH} }}"
)
TIMEOUT = 10.0  # wrk's --timeout


# ------------------------------------------------ passkeys between the two processes


def credential_record(email: str, authenticator: SoftwareAuthenticator) -> dict[str, Any]:
    """A registered authenticator's one credential, as JSON for the generator's spec."""
    (credential,) = authenticator.credentials.values()
    assert isinstance(credential.private_key, ec.EllipticCurvePrivateKey)
    key = credential.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {
        "email": email,
        "origin": authenticator.origin,
        "credential_id": b64url(credential.credential_id),
        "rp_id": credential.rp_id,
        "user_handle": b64url(credential.user_handle),
        "sign_count": credential.sign_count,
        "private_key": key.decode(),
    }


def authenticator_of(record: dict[str, Any]) -> SoftwareAuthenticator:
    key = serialization.load_pem_private_key(record["private_key"].encode(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    credential_id = from_b64url(record["credential_id"])
    credential = Credential(
        credential_id=credential_id,
        algorithm="ES256",
        private_key=key,
        rp_id=record["rp_id"],
        user_handle=from_b64url(record["user_handle"]),
        sign_count=record["sign_count"],
    )
    return SoftwareAuthenticator(origin=record["origin"], credentials={credential_id: credential})


# ------------------------------------------------------------------------- the load


class RefusedError(Exception):
    """An answer that is not a successful sign-in."""


class Connection:
    """One keep-alive HTTP/1.1 connection posting JSON; reopened after any failure."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._head = (
            f"POST %s HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        ).encode()
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, payload: Any) -> tuple[int, bytes]:
        body = orjson.dumps(payload)
        try:
            async with asyncio.timeout(TIMEOUT):
                if self._streams is None:
                    self._streams = await asyncio.open_connection(self._host, self._port)
                reader, writer = self._streams
                writer.write(self._head % (path.encode(), len(body)) + body)
                status, length, close = _parse_head(await reader.readuntil(b"\r\n\r\n"))
                answer = await reader.readexactly(length)
        except BaseException:
            self.close()  # whatever state the stream is in, the next request starts afresh
            raise
        if close:
            self.close()
        return status, answer

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    """Status, Content-Length and whether the server closes. Every answer here has a
    length (Starlette's responses); one without is refused, not guessed."""
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, close = None, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            close = value.strip().lower() == b"close"
    if length is None:
        raise RefusedError(f"HTTP {status} without Content-Length")
    return status, length, close


FAILURES = (
    OSError,
    TimeoutError,
    asyncio.IncompleteReadError,
    asyncio.LimitOverrunError,
    RefusedError,
    ValueError,
    KeyError,
    TypeError,
)


@dataclass
class Tally:
    deadline: float
    latencies: list[float] = field(default_factory=list)
    requests: int = 0
    errors: int = 0
    sample: str = ""

    def failed(self, what: str) -> None:
        self.errors += 1
        if not self.sample:
            self.sample = what[:300]


async def _post(connection: Connection, tally: Tally, query: str, variables: Any) -> Any:
    tally.requests += 1
    status, raw = await connection.post("/graphql", {"query": query, "variables": variables})
    if status != 200:
        raise RefusedError(f"HTTP {status} {raw[:200].decode(errors='replace')}")
    body = orjson.loads(raw)
    if body.get("errors") or not body.get("data"):
        raise RefusedError(raw[:300].decode(errors="replace"))
    (answer,) = body["data"].values()
    return answer


async def _password(connection: Connection, tally: Tally, email: str, password: str) -> None:
    answer = await _post(connection, tally, PASSWORD_LOGIN, {"e": email, "p": password})
    if answer["__typename"] != "AuthPayload":
        raise RefusedError(json.dumps(answer)[:300])


async def _passkey(
    connection: Connection, tally: Tally, authenticator: SoftwareAuthenticator
) -> None:
    begun = await _post(connection, tally, BEGIN, {})
    if begun["__typename"] != "PasskeyLoginOptions":
        raise RefusedError(json.dumps(begun)[:300])
    assertion = authenticator.get(begun["options"])
    answer = await _post(connection, tally, FINISH, {"a": begun["attemptId"], "c": assertion})
    if answer["__typename"] != "AuthPayload":
        raise RefusedError(json.dumps(answer)[:300])


SignIn = Callable[[Connection, Tally], Awaitable[None]]


async def _connection(connection: Connection, tally: Tally, sign_ins: list[SignIn]) -> None:
    """One connection signing in with its own accounts in turn until the end."""
    turn = 0
    while time.monotonic() < tally.deadline:
        sign_in = sign_ins[turn % len(sign_ins)]
        turn += 1
        started = time.monotonic()
        try:
            await sign_in(connection, tally)
        except FAILURES as exc:
            if time.monotonic() <= tally.deadline:
                tally.failed(f"{type(exc).__name__}: {exc}")
            continue
        finished = time.monotonic()
        if finished <= tally.deadline:  # as wrk: what completes within the run
            tally.latencies.append(finished - started)
    connection.close()


def _sign_ins(spec: dict[str, Any]) -> list[SignIn]:
    if spec["scenario"] == "passkey":
        authenticators = [authenticator_of(r) for r in spec["credentials"]]
        return [partial(_passkey, authenticator=a) for a in authenticators]
    return [partial(_password, email=e, password=spec["password"]) for e in spec["emails"]]


def _percentile(sorted_values: list[float], share: float) -> float:
    if not sorted_values:
        return math.nan
    index = min(len(sorted_values) - 1, math.ceil(share * len(sorted_values)) - 1)
    return sorted_values[max(0, index)] * 1000


async def drive(spec: dict[str, Any]) -> dict[str, Any]:
    duration = float(spec["duration"])
    sign_ins = _sign_ins(spec)
    # Each connection owns every n-th account: no account is signed in twice at once.
    connections = min(int(spec["connections"]), len(sign_ins))
    started = time.monotonic()
    cpu_started = time.process_time()
    tally = Tally(deadline=started + duration)
    tasks = [
        asyncio.create_task(_connection(Connection(spec["url"]), tally, sign_ins[i::connections]))
        for i in range(connections)
    ]
    await asyncio.sleep(max(0.0, tally.deadline - time.monotonic()))
    cpu = time.process_time() - cpu_started
    await asyncio.gather(*tasks)  # the last sign-ins in flight end, uncounted
    latencies = sorted(tally.latencies)
    return {
        "sign_ins": len(latencies),
        "rate": len(latencies) / duration,
        "p50_ms": _percentile(latencies, 0.50),
        "p99_ms": _percentile(latencies, 0.99),
        "requests": tally.requests,
        "errors": tally.errors,
        "sample": tally.sample,
        "connections": connections,
        "cpu_share": cpu / duration,
    }


def main() -> int:
    spec = json.loads(Path(sys.argv[1]).read_text())
    result = uvloop.run(drive(spec))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
