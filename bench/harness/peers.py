"""The two peers, each in its own venv under .cache/bench/<peer>/ from a locked requirements.txt.

- fastapi-users: FastAPI + fastapi-users-db-beanie on the same FerretDB (its own database),
  JWT strategy with Bearer transport; REST.
- strawberry-django-auth: Strawberry + Django (gqlauth) on SQLite; GraphQL.

Both are served like Gatehouse: uvicorn with httptools/uvloop, two workers, no access log.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pymongo

from harness.procs import ROOT, Child, base_env, free_port, spawn
from harness.users import PASSWORD, BenchUser, HashCost, bulk_email

PEERS_DIR = ROOT / "bench" / "peers"
VENVS = ROOT / ".cache" / "bench"
PYTHON = "3.11"  # the interpreter of the project's own venv: same for all
WORKERS = 2
FASTAPI_DB = "fastapi_users_bench"


def ensure_venv(peer: str) -> Path:
    """Create or update the peer's venv from its lock; returns its python."""
    venv = VENVS / peer
    python = venv / "bin" / "python"
    lock = PEERS_DIR / peer / "requirements.txt"
    stamp = venv / ".requirements.txt"
    if python.exists() and stamp.exists() and stamp.read_text() == lock.read_text():
        return python
    subprocess.run(["uv", "venv", "-q", "--clear", "--python", PYTHON, str(venv)], check=True)
    subprocess.run(
        ["uv", "pip", "install", "-q", "--python", str(python), "-r", str(lock)], check=True
    )
    stamp.write_text(lock.read_text())
    return python


def _uvicorn(
    peer: str, target: str, env: dict[str, str], logs: Path, cwd: Path
) -> tuple[Child, int]:
    python = ensure_venv(peer)
    port = free_port()
    args = [
        str(python),
        "-m",
        "uvicorn",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(WORKERS),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    child = spawn(
        peer, args, env={**base_env(), **env}, log=logs / f"{peer}.log", cwd=cwd, port=port
    )
    time.sleep(2)  # both workers past their start-up
    return child, port


@dataclass
class Peer:
    name: str
    child: Child
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.child.stop()


# ------------------------------------------------------------------ fastapi-users


def seed_fastapi_users(mongodb_url: str, users: list[BenchUser], total: int, bulk_hash: str) -> int:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongodb_url)
    with client:
        collection = client[FASTAPI_DB]["users"]
        # The app's declared index (one at a time on FerretDB), then the same users.
        collection.create_index("email", name="email_unique", unique=True)
        base = {"is_active": True, "is_superuser": False, "is_verified": True}
        docs = [{**base, "email": u.email, "hashed_password": u.password_hash} for u in users]
        docs += [
            {**base, "email": bulk_email(i), "hashed_password": bulk_hash}
            for i in range(len(users), total)
        ]
        for start in range(0, len(docs), 10_000):
            collection.insert_many(docs[start : start + 10_000], ordered=False)
        return int(collection.count_documents({}))


def start_fastapi_users(mongodb_url: str, cost: HashCost, tmp: Path, logs: Path) -> Peer:
    mail = tmp / "fastapi-users-mail"
    mail.mkdir(parents=True, exist_ok=True)
    env = {
        "BENCH_MONGODB_URL": mongodb_url,
        "BENCH_MONGODB_DATABASE": FASTAPI_DB,
        "BENCH_JWT_SECRET": "bench-" + "f" * 40,
        "BENCH_MAIL_DIR": str(mail),
        **cost.env(),
    }
    child, port = _uvicorn("fastapi_users", "app:app", env, logs, PEERS_DIR / "fastapi_users")
    return Peer("fastapi-users", child, port)


def fastapi_users_form(email: str) -> str:
    return f"username={quote(email)}&password={quote(PASSWORD)}"


def fastapi_users_tokens(url: str, emails: list[str]) -> list[str]:
    tokens = []
    for email in emails:
        response = httpx.post(
            f"{url}/auth/jwt/login",
            content=fastapi_users_form(email),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=30,
        )
        response.raise_for_status()
        tokens.append(response.json()["access_token"])
    return tokens


# --------------------------------------------------------- strawberry-django-auth

SDA = "strawberry_django_auth"


def _sda_env(cost: HashCost, tmp: Path) -> dict[str, str]:
    data = tmp / "sda"
    mail = tmp / "sda-mail"
    data.mkdir(parents=True, exist_ok=True)
    mail.mkdir(parents=True, exist_ok=True)
    return {
        "DJANGO_SETTINGS_MODULE": "peer_settings",
        "BENCH_DATA_DIR": str(data),
        "BENCH_MAIL_DIR": str(mail),
        "BENCH_JWT_SECRET": "bench-" + "d" * 50,
        **cost.env(),
    }


def seed_sda(users: list[BenchUser], total: int, bulk_hash: str, cost: HashCost, tmp: Path) -> int:
    python = ensure_venv(SDA)
    users_file = tmp / "sda-users.tsv"
    users_file.write_text("".join(f"{u.email}\t{u.password_hash}\n" for u in users))
    done = subprocess.run(
        [str(python), "seed.py", str(users_file), str(total - len(users)), bulk_hash],
        cwd=PEERS_DIR / SDA,
        env={**base_env(), **_sda_env(cost, tmp)},
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[-1])


def start_sda(cost: HashCost, tmp: Path, logs: Path) -> Peer:
    child, port = _uvicorn(SDA, "asgi:application", _sda_env(cost, tmp), logs, PEERS_DIR / SDA)
    return Peer("strawberry-django-auth", child, port)


SDA_LOGIN = (
    "mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) "
    "{ success errors token { token } refreshToken { token } } }"
)


def sda_login(url: str, email: str) -> dict[str, str]:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": SDA_LOGIN, "variables": {"u": email, "p": PASSWORD}},
        timeout=30,
    )
    result = response.json()["data"]["tokenAuth"]
    if not result["success"]:
        raise RuntimeError(f"strawberry-django-auth login of {email}: {result['errors']}")
    return {"access": result["token"]["token"], "refresh": result["refreshToken"]["token"]}
