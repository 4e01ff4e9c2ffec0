"""Keycloak, the server most teams would run instead of Gatehouse: the third peer.

The distribution is the ``org.keycloak:keycloak-quarkus-dist`` zip from Maven Central,
fetched once with ``mvn dependency:copy`` and unpacked under .cache/bench/keycloak/ (later
runs are offline). It runs as ``kc.sh start-dev`` (embedded H2, HTTP) on 127.0.0.1 with
every default except the argon2 cost, which is Gatehouse's; its data directory is in the
run's tmp dir. The ``bench`` realm is created and filled through the admin REST API:
15-minute access tokens, refresh tokens single use like Gatehouse's, one confidential
client with direct access grants and an audience mapper, and the bench users with the very
hashes the other systems get (argon2-cffi's PHC strings rewritten as Keycloak credentials).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from harness.procs import ROOT, Child, base_env, children_of, free_port, spawn
from harness.users import PASSWORD, BenchUser, HashCost, bulk_email

VERSION = "26.7.3"
ARTIFACT = f"org.keycloak:keycloak-quarkus-dist:{VERSION}:zip"
CACHE = ROOT / ".cache" / "bench" / "keycloak"
DIST = CACHE / f"keycloak-{VERSION}"
MIN_JAVA = 17  # Keycloak 26 runs on OpenJDK 17 and later
# The first start also builds (Quarkus augmentation, ~20 s here); start-up itself is 15-75 s.
START_TIMEOUT = 300.0
IMPORT_BATCH = 1_000

REALM = "bench"
CLIENT_ID = "bench"
CLIENT_SECRET = "bench-" + "k" * 32
ADMIN_USER = "bench-admin"
ADMIN_PASSWORD = "bench-admin-" + "a" * 20
OIDC = f"/realms/{REALM}/protocol/openid-connect"
TOKEN_PATH = f"{OIDC}/token"
USERINFO_PATH = f"{OIDC}/userinfo"
INTROSPECT_PATH = f"{OIDC}/token/introspect"
CLIENT_FORM = f"client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}"
ACCESS_TOKEN_SECONDS = 900  # Gatehouse's 15 minutes


class UnavailableError(Exception):
    """Keycloak cannot run here (no Java, no distribution): the peer is skipped."""


# ------------------------------------------------------------------ install


def java() -> str:
    """The java binary Keycloak will use (JAVA_HOME first, as kc.sh does), or UnavailableError."""
    home = os.environ.get("JAVA_HOME")
    found = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not found or not Path(found).exists():
        raise UnavailableError("no java on PATH nor in JAVA_HOME (Keycloak needs Java 17+)")
    done = subprocess.run([found, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)', done.stderr + done.stdout)
    major = int(match.group(1)) if match else 0
    if major < MIN_JAVA:
        raise UnavailableError(f"{found} is Java {major or '?'}; Keycloak needs {MIN_JAVA}+")
    return found


def ensure_dist() -> Path:
    """The unpacked distribution, fetched and unpacked on first use; returns its home."""
    if (DIST / "bin" / "kc.sh").exists():
        return DIST
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / f"keycloak-quarkus-dist-{VERSION}.zip"
    if not archive.exists():
        mvn = shutil.which("mvn")
        if not mvn:
            raise UnavailableError(f"{archive.name} not cached and no mvn to fetch {ARTIFACT}")
        print(f"fetching {ARTIFACT} with mvn dependency:copy", flush=True)
        done = subprocess.run(
            [mvn, "-q", "dependency:copy", f"-Dartifact={ARTIFACT}", f"-DoutputDirectory={CACHE}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not archive.exists():
            tail = (done.stdout + done.stderr).strip()[-500:]
            raise UnavailableError(f"mvn could not fetch {ARTIFACT}: {tail}")
    # Unpacked beside, then renamed: an interrupted unpack never looks like a distribution.
    partial = CACHE / "unpacking"
    shutil.rmtree(partial, ignore_errors=True)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(partial)
    for script in (partial / DIST.name / "bin").glob("*.sh"):
        script.chmod(0o755)  # zipfile drops the mode bits
    (partial / DIST.name).rename(DIST)
    partial.rmdir()
    return DIST


# -------------------------------------------------------------- realm and users


def credential(password_hash: str) -> dict[str, str]:
    """An argon2-cffi PHC string as a Keycloak password credential (same salt, same hash).

    Keycloak stores standard padded base64 and the parameters beside it; with the same
    parameters as the server's argon2 settings its policy check passes, so a login
    verifies the hash as is and never rehashes it.
    """
    _, variant, version, params, salt, digest = password_hash.split("$")
    if variant != "argon2id" or version != "v=19":
        raise ValueError(f"not an argon2id v1.3 hash: {password_hash[:30]}")
    cost = dict(part.split("=") for part in params.split(","))
    salt, digest = (x + "=" * (-len(x) % 4) for x in (salt, digest))
    secret = {"value": digest, "salt": salt, "additionalParameters": {}}
    data = {
        "hashIterations": int(cost["t"]),
        "algorithm": "argon2",
        "additionalParameters": {
            "hashLength": [str(len(base64.b64decode(digest)))],
            "memory": [cost["m"]],
            "type": ["id"],
            "version": ["1.3"],
            "parallelism": [cost["p"]],
        },
    }
    return {
        "type": "password",
        "secretData": json.dumps(secret),
        "credentialData": json.dumps(data),
    }


def realm() -> dict[str, Any]:
    return {
        "realm": REALM,
        "enabled": True,
        # New hashes use the argon2 provider, whose cost comes from the SPI options.
        "passwordPolicy": "hashAlgorithm(argon2)",
        "accessTokenLifespan": ACCESS_TOKEN_SECONDS,
        # Single-use refresh tokens, as Gatehouse's rotation (a reuse is refused).
        "revokeRefreshToken": True,
        "refreshTokenMaxReuse": 0,
        "clients": [
            {
                "clientId": CLIENT_ID,
                "enabled": True,
                "publicClient": False,
                "secret": CLIENT_SECRET,
                "directAccessGrantsEnabled": True,
                # The client credentials grant, to compare with Gatehouse's (issue 20).
                "serviceAccountsEnabled": True,
                "standardFlowEnabled": False,
                "protocol": "openid-connect",
                # Without the client in `aud`, introspection answers {"active": false}.
                "protocolMappers": [
                    {
                        "name": "bench-audience",
                        "protocol": "openid-connect",
                        "protocolMapper": "oidc-audience-mapper",
                        "config": {
                            "included.client.audience": CLIENT_ID,
                            "access.token.claim": "true",
                            "introspection.token.claim": "true",
                            "id.token.claim": "false",
                        },
                    }
                ],
            }
        ],
    }


def _user(email: str, password_hash: str) -> dict[str, Any]:
    # First and last name filled and email verified: Keycloak's user profile would
    # otherwise hold a required action, and a password grant refuses such an account.
    return {
        "username": email,
        "email": email,
        "emailVerified": True,
        "enabled": True,
        "firstName": "Bench",
        "lastName": "User",
        "credentials": [credential(password_hash)],
    }


def _all_users(users: list[BenchUser], total: int, bulk_hash: str) -> Iterator[dict[str, Any]]:
    for user in users:
        yield _user(user.email, user.password_hash)
    bulk = credential(bulk_hash)
    for i in range(len(users), total):
        yield {**_user(bulk_email(i), bulk_hash), "credentials": [bulk]}


# ------------------------------------------------------------------- server


@dataclass
class Keycloak:
    child: Child
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.child.stop(timeout=60)

    def pids(self) -> list[int]:
        """The JVM: kc.sh itself after a rebuild (it execs java), else its java child."""
        shell = self.child.process.pid
        found = [p for p in [shell, *children_of(shell)] if _comm(p) == "java"]
        return found[:1]

    def admin_token(self) -> str:
        response = httpx.post(
            f"{self.url}/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": ADMIN_USER,
                "password": ADMIN_PASSWORD,
            },
            timeout=60,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def argon2_options(cost: HashCost) -> list[str]:
    spi = "--spi-password-hashing--argon2--"
    return [
        f"{spi}memory={cost.memory_kib}",
        f"{spi}iterations={cost.time_cost}",
        f"{spi}parallelism={cost.parallelism}",
        f"{spi}type=id",
    ]


def start(java_bin: str, cost: HashCost, tmp: Path, logs: Path) -> Keycloak:
    """``kc.sh start-dev`` on a free loopback port, its data under ``tmp``.

    Keycloak keeps its data in ``<home>/data``: the run gets its own home whose code
    directories link to the cached distribution, so the H2 database, transaction logs
    and temporary files are thrown away with the run.
    """
    dist = ensure_dist()
    home = tmp / "keycloak"
    (home / "data").mkdir(parents=True, exist_ok=True)
    for part in ("lib", "conf", "themes", "providers"):
        link = home / part
        if not link.exists():
            link.symlink_to(dist / part)
    port = free_port()
    env = {k: v for k, v in base_env().items() if not k.startswith(("KC_", "JAVA_OPTS"))}
    env |= {
        "JAVA": java_bin,
        "KC_BOOTSTRAP_ADMIN_USERNAME": ADMIN_USER,
        "KC_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    args = [
        str(dist / "bin" / "kc.sh"),
        f"-Dkc.home.dir={home}",  # after kc.sh's own: the last one wins
        "start-dev",
        "--http-host=127.0.0.1",
        f"--http-port={port}",
        *argon2_options(cost),
    ]
    child = spawn(
        "keycloak", args, env=env, log=logs / "keycloak.log", port=port, timeout=START_TIMEOUT
    )
    return Keycloak(child, port)


def seed(kc: Keycloak, users: list[BenchUser], total: int, bulk_hash: str) -> int:
    """Create the realm, then import the users in batches (partial import); returns the count."""
    headers = {"Authorization": f"Bearer {kc.admin_token()}"}
    with httpx.Client(base_url=kc.url, headers=headers, timeout=600) as client:
        client.post("/admin/realms", json=realm()).raise_for_status()
        batch: list[dict[str, Any]] = []
        for user in _all_users(users, total, bulk_hash):
            batch.append(user)
            if len(batch) == IMPORT_BATCH:
                _import(client, batch)
                batch = []
        if batch:
            _import(client, batch)
        count = client.get(f"/admin/realms/{REALM}/users/count")
        count.raise_for_status()
        return int(count.json())


def _import(client: httpx.Client, batch: list[dict[str, Any]]) -> None:
    response = client.post(
        f"/admin/realms/{REALM}/partialImport", json={"ifResourceExists": "FAIL", "users": batch}
    )
    response.raise_for_status()


# ------------------------------------------------------------------- tokens


def login_form(email: str, scope: str | None = None) -> str:
    """A password grant's form body: the confidential client and one user's credentials."""
    form = f"grant_type=password&{CLIENT_FORM}&username={quote(email)}&password={quote(PASSWORD)}"
    return f"{form}&scope={scope}" if scope else form


def login(url: str, email: str, scope: str | None = None) -> dict[str, Any]:
    response = httpx.post(
        f"{url}{TOKEN_PATH}",
        content=login_form(email, scope),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=60,
    )
    if response.status_code != 200:
        raise RuntimeError(f"Keycloak login of {email}: {response.status_code} {response.text}")
    result: dict[str, Any] = response.json()
    return result


def tokens(url: str, emails: list[str], key: str, scope: str | None = None) -> list[str]:
    """One login per email (two at a time: Keycloak hashes on as many threads as cores)."""
    with ThreadPoolExecutor(2) as pool:
        return [str(t[key]) for t in pool.map(lambda e: login(url, e, scope), emails)]
