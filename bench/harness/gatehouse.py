"""Gatehouse under production settings: two uvicorn workers, one Dramatiq worker, seeding."""

from __future__ import annotations

import asyncio
import re
import secrets
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pymongo.errors import BulkWriteError, OperationFailure

from domain.core.settings import Settings
from harness.procs import Child, base_env, free_port, spawn
from harness.users import PASSWORD, BenchUser, bulk_email

DATABASE = "gatehouse_bench"
ADMIN_EMAIL = "admin@bench.example"
BATCH = 10_000
DUPLICATE_KEY = 11000
WORKERS = 2  # one uvicorn worker per core
# The web app's origin: CORS, and the page passkeys are created and used on (the load
# generator writes it into clientDataJSON as a browser would).
APP_ORIGIN = "https://app.bench.invalid"
PASSKEY_RP_ID = "bench.invalid"

LOGIN = (
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) "
    "{ __typename ... on AuthPayload { accessToken refreshToken } } }"
)


def production_env(mongodb_url: str, redis_url: str, tmp: Path) -> dict[str, str]:
    """Production settings with throwaway keys; the loopback load generator is allowlisted."""
    pem = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    key = Ed25519PrivateKey.generate().private_bytes(*pem, serialization.NoEncryption())
    # The OpenID provider signs RS256 (production refuses to start without its keys).
    oidc_key = rsa.generate_private_key(65537, 2048).private_bytes(
        *pem, serialization.NoEncryption()
    )
    return {
        "GATEHOUSE_ENVIRONMENT": "production",
        "GATEHOUSE_DEBUG": "false",
        "GATEHOUSE_PUBLIC_URL": "https://auth.bench.invalid",
        "GATEHOUSE_LOG_JSON": "true",
        "GATEHOUSE_LOG_LEVEL": "INFO",
        "GATEHOUSE_GRAPHIQL_ENABLED": "false",
        "GATEHOUSE_INTROSPECTION_ENABLED": "false",
        "GATEHOUSE_CORS_ORIGINS": APP_ORIGIN,
        "GATEHOUSE_PASSKEY_RP_ID": PASSKEY_RP_ID,
        "GATEHOUSE_PASSKEY_ORIGINS": APP_ORIGIN,
        "GATEHOUSE_HSTS": "true",
        "GATEHOUSE_MONGODB_URL": mongodb_url,
        "GATEHOUSE_MONGODB_DATABASE": DATABASE,
        "GATEHOUSE_REDIS_URL": redis_url,
        "GATEHOUSE_VAR_DIR": str(tmp / "var"),
        "GATEHOUSE_EMAIL_BACKEND": "file",
        "GATEHOUSE_MAIL_DIR": str(tmp / "mail"),
        "GATEHOUSE_JWT_PRIVATE_KEYS": key.decode(),
        "GATEHOUSE_OIDC_SIGNING_KEYS": oidc_key.decode(),
        "GATEHOUSE_TOTP_ENCRYPTION_KEY": secrets.token_urlsafe(32),
        # Rate limiting stays on; wrk's address is trusted so the limits do not cap it.
        "GATEHOUSE_RATE_LIMIT_ALLOWLIST": "127.0.0.1/32",
    }


def settings_from(env: dict[str, str]) -> Settings:
    values: dict[str, Any] = {k.removeprefix("GATEHOUSE_").lower(): v for k, v in env.items()}
    return Settings(_env_file=None, **values)


@dataclass
class Gatehouse:
    api: Child
    worker: Child
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.api.stop()
        self.worker.stop()


def start(env: dict[str, str], logs: Path) -> Gatehouse:
    full = {**base_env(), **env, "WEB_CONCURRENCY": str(WORKERS)}
    worker = spawn(
        "gatehouse-worker",
        [sys.executable, "-m", "dramatiq", "workers.main", "--processes", "1", "--threads", "2"],
        env=full,
        log=logs / "gatehouse-worker.log",
    )
    port = free_port()
    api = spawn(
        "gatehouse-api",
        [sys.executable, "app.py"],
        env={**full, "HOST": "127.0.0.1", "PORT": str(port)},
        log=logs / "gatehouse-api.log",
        port=port,
    )
    # The port opens before both workers finished their lifespans: wait until each answers.
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        while time.monotonic() < deadline:
            if client.get("/readyz").status_code == 200:
                break
            time.sleep(0.2)
    time.sleep(1)
    return Gatehouse(api, worker, port)


# ------------------------------------------------------------------------ seeding


async def _seed(settings: Settings, users: list[BenchUser], total: int, bulk_hash: str) -> int:
    from domain.core.claims import claim_once
    from domain.core.clock import SystemClock
    from domain.core.db import create_mongo_client, init_database
    from domain.core.roles import Role
    from domain.documents import DOCUMENT_MODELS
    from domain.identity import identifiers
    from domain.identity.passwords import create_password_hasher
    from domain.identity.provisioning import create_user

    # Batches of thousands of documents take longer than a request's socket timeout.
    client = create_mongo_client(settings.model_copy(update={"mongodb_socket_timeout_ms": 0}))
    hasher = create_password_hasher(settings)
    try:
        await init_database(client[settings.mongodb_database], DOCUMENT_MODELS)
        database = client[settings.mongodb_database]
        collection = database["users"]
        admin = await collection.find_one({"email": ADMIN_EMAIL})
        if admin is None:
            # The first account through the real path (policy, hashing), as create_admin.py.
            await create_user(
                settings=settings,
                clock=SystemClock(),
                hasher=hasher,
                email=ADMIN_EMAIL,
                password=PASSWORD,
                first_name="Bench",
                last_name="Admin",
                role=Role.SUPER_ADMIN,
                email_verified=True,
            )
            admin = await collection.find_one({"email": ADMIN_EMAIL})
            assert admin is not None
            template: dict[str, Any] = {k: v for k, v in admin.items() if k != "_id"}
            template.update(role="student", first_name="Bench", last_name="User")
            await _insert_users(
                database,
                [
                    {
                        **template,
                        "_id": ObjectId(),
                        "email": u.email,
                        "password_hash": u.password_hash,
                    }
                    for u in users
                ],
            )
        count = await collection.count_documents({})
        template = {k: v for k, v in admin.items() if k != "_id"}
        template.update(role="student", last_name="User", password_hash=bulk_hash)
        now = template["created_at"]
        started = time.monotonic()
        for start in range(count, total, BATCH):
            if start > count and start % 100_000 < BATCH:
                rate = (start - count) / (time.monotonic() - started)
                print(f"  {start:,} users ({rate:,.0f}/s)", flush=True)
            await _insert_users(
                database,
                [
                    {
                        **template,
                        "_id": ObjectId(),
                        "email": bulk_email(i),
                        "first_name": f"Bulk{i}",
                        "created_at": now - timedelta(seconds=i),
                        "updated_at": now - timedelta(seconds=i),
                    }
                    for i in range(start, min(total, start + BATCH))
                ],
            )
        # Gatehouse's first start on a database rebuilds every login identifier, which on
        # FerretDB with 1k users did not finish (its bulk upserts time out after 10 s; run
        # here without a timeout it had not finished after 10 min) and the API does not
        # start. The seed writes every user's identifier, so it marks the rebuild done, as
        # on a database that has run Gatehouse before.
        await claim_once(
            identifiers.REBUILT_MARKER,
            now=SystemClock().now(),
            expires_at=datetime(9999, 1, 1, tzinfo=UTC),
        )
        return int(await collection.count_documents({}))
    finally:
        hasher.close()
        await client.close()


async def _insert_users(database: Any, docs: list[dict[str, Any]]) -> None:
    """Users and their login identifiers, as registration writes them."""
    await _insert(database["users"], docs)
    identifiers = [{"_id": d["email"], "user_id": d["_id"]} for d in docs]
    await _insert(database["login_identifiers"], identifiers)


async def _insert(collection: Any, docs: list[dict[str, Any]]) -> None:
    """insert_many, retried when FerretDB's SQLite is busy with another writer.

    A retried batch may have been partly written: its duplicates (code 11000) are fine.
    """
    for attempt in range(6):
        try:
            await collection.insert_many(docs, ordered=False)
            return
        except BulkWriteError as exc:
            if all(e.get("code") == DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                return
            error: Exception = exc
        except OperationFailure as exc:
            error = exc
        print(f"  insert retried ({error.__class__.__name__})", flush=True)
        await asyncio.sleep(2**attempt)
    raise error


def seed(settings: Settings, users: list[BenchUser], total: int, bulk_hash: str) -> int:
    """Bring the users collection to ``total`` accounts; returns the count."""
    return asyncio.run(_seed(settings, users, total, bulk_hash))


# ------------------------------------------------------------------------ tokens


def login(url: str, email: str) -> dict[str, str]:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": LOGIN, "variables": {"e": email, "p": PASSWORD}},
        timeout=30,
    )
    payload = response.json()["data"]["login"]
    if payload["__typename"] != "AuthPayload":
        raise RuntimeError(f"Gatehouse login of {email} answered {payload}")
    return dict(payload)


def access_tokens(url: str, emails: list[str]) -> list[str]:
    return [login(url, e)["accessToken"] for e in emails]


def refresh_tokens(url: str, emails: list[str]) -> list[str]:
    return [login(url, e)["refreshToken"] for e in emails]


def probe(
    url: str, body: str, token: str | None, timeout: float, expect: str
) -> tuple[float | None, str]:
    """One request alone: (seconds or None past ``timeout``, "" or what went wrong)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.monotonic()
    try:
        response = httpx.post(f"{url}/graphql", content=body, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        return None, f"no answer within {timeout:.0f} s"
    took = time.monotonic() - started
    if response.status_code != 200 or not re.search(expect.replace("%s*", r"\s*"), response.text):
        codes = re.findall(r'"code":\s*"([A-Z_]+)"', response.text)
        return took, f"HTTP {response.status_code} {','.join(codes) or response.text[:80]}"
    return took, ""
