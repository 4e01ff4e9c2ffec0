"""Login timing for a known and an unknown email: should be of the same order.

Starts FerretDB and Redis on free ports, runs the app in-process, and prints the
median and p90 latency of failed logins for an existing account (wrong password)
and for an email with no account (dummy verify). Ratios, not absolute timings,
are the result: ``uv run python bench/login_timing.py``.
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

from domain.core.settings import Settings  # noqa: E402
from tests.support.asgi import LifespanManager  # noqa: E402

LOGIN = """mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename } }"""
ROUNDS = 40


async def measure(client: httpx.AsyncClient, email: str) -> list[float]:
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        response = await client.post(
            "/graphql", json={"query": LOGIN, "variables": {"e": email, "p": "wrong password 123"}}
        )
        samples.append((time.perf_counter() - started) * 1000)
        assert response.json()["data"]["login"]["__typename"] == "InvalidCredentials"
    return samples


async def main() -> None:
    from app import create_app
    from domain.core.clock import utcnow
    from domain.identity.documents import User
    from domain.identity.passwords import create_password_hasher

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
            )
            async with LifespanManager(create_app(settings)) as manager:
                hasher = create_password_hasher(settings)
                now = utcnow()
                await User(
                    email="known@example.com",
                    first_name="K",
                    last_name="N",
                    email_verified=True,
                    password_hash=await hasher.hash("the real password 456"),
                    password_changed_at=now,
                    created_at=now,
                    updated_at=now,
                ).insert()
                transport = httpx.ASGITransport(app=manager.app)
                async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
                    await measure(client, "warmup@example.com")
                    known = await measure(client, "known@example.com")
                    unknown = await measure(client, "nobody@example.com")
        finally:
            redis.stop()
            ferret.stop()

    def row(name: str, xs: list[float]) -> str:
        p90 = statistics.quantiles(xs, n=10)[-1]
        return f"{name:<28} median {statistics.median(xs):7.2f} ms   p90 {p90:7.2f} ms"

    print(row("known email, wrong password", known))
    print(row("unknown email", unknown))
    print(
        f"ratio unknown/known (median): {statistics.median(unknown) / statistics.median(known):.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
