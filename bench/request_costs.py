"""What the audit write and the user cache cost on the request path (ratios, one run).

Starts FerretDB and Redis on free ports and measures, in-process:
- one audit event insert, against the `me` request it would accompany;
- `me` served from the Redis user cache versus straight from the database;
- a whole sign-in against the argon2id verify inside it: what the request costs
  besides the hash (issue 17: the time between the hash and the response).

    uv run python bench/request_costs.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import services  # noqa: E402

from domain.core.actor import Actor  # noqa: E402
from domain.core.settings import Settings  # noqa: E402
from tests.support.asgi import LifespanManager  # noqa: E402

ROUNDS = 300
ME = "query Me { me { id email firstName } }"


def ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:6.3f} ms"


async def main() -> None:
    from app import create_app
    from domain.audit.documents import AuditAction
    from domain.core.clock import SystemClock
    from domain.core.roles import Role
    from domain.identity import repository
    from domain.identity.provisioning import create_user

    with tempfile.TemporaryDirectory() as tmp:
        ferret = services.ferretdb(Path(tmp) / "f").start()
        redis = services.redis_server(Path(tmp) / "r").start()
        try:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                environment="test",
                mongodb_url=f"mongodb://127.0.0.1:{ferret.port}",
                redis_url=f"redis://127.0.0.1:{redis.port}/0",
                var_dir=Path(tmp) / "var",
                log_level="WARNING",
                rate_limits_enabled=False,
            )
            async with LifespanManager(create_app(settings)) as manager:
                state = manager.state
                user = await create_user(
                    settings=settings,
                    clock=SystemClock(),
                    hasher=state.hasher,
                    email="bench@example.com",
                    password="sturdy walnut harbor 991",
                    first_name="B",
                    last_name="E",
                    role=Role.STUDENT,
                    email_verified=True,
                )
                transport = httpx.ASGITransport(app=manager.app)
                async with httpx.AsyncClient(transport=transport, base_url="http://b") as c:
                    login = await c.post(
                        "/graphql",
                        json={
                            "query": 'mutation { login(email: "bench@example.com", password: '
                            '"sturdy walnut harbor 991") { ... on AuthPayload { accessToken } } }'
                        },
                    )
                    token = login.json()["data"]["login"]["accessToken"]
                    headers = {"Authorization": f"Bearer {token}"}

                    async def timed_me() -> float:
                        started = time.perf_counter()
                        await c.post("/graphql", json={"query": ME}, headers=headers)
                        return time.perf_counter() - started

                    for _ in range(50):
                        await timed_me()
                    cached = [await timed_me() for _ in range(ROUNDS)]
                    uncached = []
                    for _ in range(ROUNDS):
                        await state.services.users.invalidate(user.id)
                        uncached.append(await timed_me())
                    audit = []
                    for _ in range(ROUNDS):
                        started = time.perf_counter()
                        await state.services.audit.record(
                            "bench.event", AuditAction.VIEW, actor=Actor.system(), target_id="x"
                        )
                        await state.services.audit.flush()  # the insert itself, not the queue
                        audit.append(time.perf_counter() - started)
                    login_body = {
                        "query": 'mutation { login(email: "bench@example.com", password: '
                        '"sturdy walnut harbor 991") { __typename } }'
                    }
                    logins, verifies = [], []
                    for _ in range(60):
                        started = time.perf_counter()
                        await c.post("/graphql", json=login_body)
                        logins.append(time.perf_counter() - started)
                        started = time.perf_counter()
                        await state.hasher.verify("sturdy walnut harbor 991", user.password_hash)
                        verifies.append(time.perf_counter() - started)
                    db_reads = []
                    for _ in range(ROUNDS):
                        started = time.perf_counter()
                        await repository.get(user.id)  # type: ignore[arg-type]
                        db_reads.append(time.perf_counter() - started)
        finally:
            redis.stop()
            ferret.stop()

    print(f"me, user from cache          {ms(cached)}")
    print(f"me, user from database       {ms(uncached)}")
    print(f"one user read from FerretDB  {ms(db_reads)}")
    print(f"one audit event insert       {ms(audit)}")
    print(f"login, whole request         {ms(logins)}")
    print(f"argon2id verify alone        {ms(verifies)}")
    beside = statistics.median(logins) - statistics.median(verifies)
    print(f"login besides the hash:      {beside * 1000:6.3f} ms")
    cached_ms, uncached_ms = statistics.median(cached), statistics.median(uncached)
    print(f"cache speed-up on me:        {uncached_ms / cached_ms:.2f}x")
    print(f"audit insert / me request:   {statistics.median(audit) / cached_ms:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
