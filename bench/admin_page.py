"""How long one admin users page takes at 10k users, on FerretDB (the embedded default).

Starts FerretDB and Redis on free ports, seeds users in bulk (insert_many, a tenth of
them with a confirmed TOTP factor, a few soft-deleted), then times single requests
through the app, in-process: the default page (20 newest, with totalCount and
twoFactorEnabled), the next page, and a filtered and a searched page (these may
scan). The first page after start is timed on its own: on FerretDB it reads the page
snapshot (domain/admin/snapshot.py).
``--probe`` also times the raw database commands a page could be built from.

    uv run python bench/admin_page.py [--users 10000] [--rounds 5] [--probe]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import services  # noqa: E402
from ferretdb_indexes import add_id_indexes  # noqa: E402

from domain.core.settings import Settings  # noqa: E402
from tests.support.asgi import LifespanManager  # noqa: E402

PASSWORD = "sturdy walnut harbor 991"
PAGE = """
query Page($first: Int, $after: String, $filter: UserFilterInput) {
  users(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id email role status locked emailVerified createdAt twoFactorEnabled } }
  }
}"""
BATCH = 1000


async def seed(count: int, password_hash: str) -> None:
    from domain.core.roles import Role
    from domain.identity.documents import User, UserStatus
    from domain.mfa.documents import TotpCredential

    users = User.get_pymongo_collection()
    totp = TotpCredential.get_pymongo_collection()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for first in range(0, count, BATCH):
        docs: list[dict[str, Any]] = []
        for i in range(first, min(first + BATCH, count)):
            created = start + timedelta(minutes=i)
            user = User(
                email=f"seed{i:06d}@example.com",
                first_name="Seeded",
                last_name=f"User{i}",
                role=Role.INSTRUCTOR if i % 50 == 0 else Role.STUDENT,
                status=UserStatus.DELETED if i % 97 == 0 else UserStatus.ACTIVE,
                email_verified=True,
                password_hash=password_hash,
                password_changed_at=created,
                created_at=created,
                updated_at=created,
            )
            doc = user.model_dump(by_alias=True, exclude={"id"}, mode="python")
            doc["_id"] = ObjectId.from_datetime(created)
            docs.append(doc)
        await users.insert_many(docs, ordered=False)
        factors = [
            {
                "_id": ObjectId(),
                "user_id": d["_id"],
                "encrypted_secret": "sealed",
                "created_at": start,
                "confirmed_at": start,
            }
            for n, d in enumerate(docs)
            if n % 10 == 0
        ]
        await totp.insert_many(factors, ordered=False)


async def timed(rounds: int, call: Callable[[], Awaitable[Any]]) -> str:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return f"median {statistics.median(samples) * 1000:8.1f} ms  (min {min(samples) * 1000:.1f})"


async def collection_count(users: Any) -> list[dict[str, Any]]:
    cursor = await users.aggregate([{"$collStats": {"count": {}}}])
    rows: list[dict[str, Any]] = await cursor.to_list()
    return rows


async def probe(rounds: int, count: int) -> None:
    """The raw commands a page could be built from, and what each costs on FerretDB."""
    from domain.identity.documents import User

    users = User.get_pymongo_collection()
    one = await users.find_one({}, {"_id": 1})
    assert one is not None
    probes: dict[str, Callable[[], Awaitable[Any]]] = {
        "find status+sort, limit 21": lambda: (
            users.find({"status": {"$in": ["active", "deactivated"]}})
            .sort([("created_at", -1), ("_id", -1)])
            .limit(21)
            .to_list()
        ),
        "count status": lambda: users.count_documents(
            {"status": {"$in": ["active", "deactivated"]}}
        ),
        "find {} limit 21 (pushed down)": lambda: users.find({}).limit(21).to_list(),
        "find {} all, _id only": lambda: users.find({}, {"_id": 1}).to_list(),
        "count {}": lambda: users.count_documents({}),
        "$collStats count": lambda: collection_count(users),
        "find by _id": lambda: users.find_one({"_id": one["_id"]}),
        "find {} skip n-20 limit 20": lambda: users.find({}).skip(count - 20).limit(20).to_list(),
        "find {} all, projected": lambda: users.find(
            {}, {"password_hash": 0, "password_history": 0, "known_devices": 0}
        ).to_list(),
        "find {} all, projected, batch 100k": lambda: users.find(
            {}, {"password_hash": 0, "password_history": 0, "known_devices": 0}, batch_size=100000
        ).to_list(),
        "find {} all": lambda: users.find({}).to_list(),
    }
    for name, run in probes.items():
        print(f"  {name:34s} {await timed(rounds, run)}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--probe", action="store_true")
    args = parser.parse_args()

    from app import create_app
    from domain.core.roles import Role
    from tests.support.accounts import staff_account

    with tempfile.TemporaryDirectory() as tmp:
        ferret = services.ferretdb(Path(tmp) / "f").start()
        redis = services.redis_server(Path(tmp) / "r").start()
        try:
            settings = Settings(
                _env_file=None,
                environment="test",
                mongodb_url=f"mongodb://127.0.0.1:{ferret.port}",
                redis_url=f"redis://127.0.0.1:{redis.port}/0",
                var_dir=Path(tmp) / "var",
                log_level="WARNING",
                rate_limits_enabled=False,
            )
            async with LifespanManager(create_app(settings)) as manager:
                state = manager.state
                started = time.perf_counter()
                await seed(args.users, await state.hasher.hash(PASSWORD))
                add_id_indexes(Path(tmp) / "f" / "sqlite")
                print(f"seeded {args.users} users in {time.perf_counter() - started:.1f} s")
                await staff_account(state, "bench.admin@example.com", PASSWORD, Role.ADMIN)
                transport = httpx.ASGITransport(app=manager.app)
                async with httpx.AsyncClient(transport=transport, base_url="http://b") as c:
                    login = await c.post(
                        "/graphql",
                        json={
                            "query": "mutation($e: String!, $p: String!) { login(email: $e, "
                            "password: $p) { ... on AuthPayload { accessToken } } }",
                            "variables": {"e": "bench.admin@example.com", "p": PASSWORD},
                        },
                    )
                    token = login.json()["data"]["login"]["accessToken"]
                    headers = {"Authorization": f"Bearer {token}"}

                    async def page(**variables: Any) -> dict[str, Any]:
                        response = await c.post(
                            "/graphql",
                            json={"query": PAGE, "variables": {"first": 20, **variables}},
                            headers=headers,
                        )
                        body: dict[str, Any] = response.json()
                        assert "errors" not in body, body
                        return dict(body["data"]["users"])

                    started = time.perf_counter()
                    first = await page()
                    cold = time.perf_counter() - started
                    after = first["pageInfo"]["endCursor"]
                    print(
                        f"totalCount {first['totalCount']}, first page "
                        f"{first['edges'][0]['node']['email']} .. "
                        f"{first['edges'][-1]['node']['email']}"
                    )
                    print(f"first page after start          {cold * 1000:8.1f} ms")
                    print(f"default page (20, totalCount)   {await timed(args.rounds, page)}")
                    print(
                        f"next page                       "
                        f"{await timed(args.rounds, lambda: page(after=after))}"
                    )
                    print(
                        f"role filter                     "
                        f"{await timed(args.rounds, lambda: page(filter={'role': 'INSTRUCTOR'}))}"
                    )
                    print(
                        f"search                          "
                        f"{await timed(args.rounds, lambda: page(filter={'search': 'seed0099'}))}"
                    )
                    if args.probe:
                        await probe(args.rounds, args.users)
        finally:
            redis.stop()
            ferret.stop()


if __name__ == "__main__":
    asyncio.run(main())
