"""Issue 18's target: passkey sign-in against password login, both through one generator.

The bench users' passkeys are registered through the real API, as a person would:
password sign-in (``beginPasskeyRegistration`` needs a recent one), the options, the
software authenticator's ``create``, ``finishPasskeyRegistration``. The credentials then
go to ``harness/loadgen.py``, which signs in with them (and with passwords) under load.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from harness import loadgen, wrk
from harness.gatehouse import APP_ORIGIN, LOGIN
from harness.users import PASSWORD
from tests.support.webauthn_authenticator import SoftwareAuthenticator

LOADGEN = Path(loadgen.__file__)
BEGIN_REGISTRATION = """mutation { beginPasskeyRegistration { __typename
  ... on PasskeyRegistrationOptions { options } } }"""
FINISH_REGISTRATION = """mutation($c: JSON!) { finishPasskeyRegistration(credential: $c,
  name: "Bench laptop") { __typename } }"""
REGISTRATIONS_AT_ONCE = 4  # each starts with a password sign-in (one argon2id verify)


async def _graphql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"{query.split('{')[1].strip()[:40]}: {response.text[:300]}")
    (answer,) = body["data"].values()
    return answer


async def _register(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    signed_in = await _graphql(client, LOGIN, {"e": email, "p": PASSWORD})
    token = signed_in["accessToken"]
    begun = await _graphql(client, BEGIN_REGISTRATION, {}, token)
    if begun["__typename"] != "PasskeyRegistrationOptions":
        raise RuntimeError(f"beginPasskeyRegistration for {email}: {begun}")
    # A device-bound passkey that keeps a signature counter, with user verification: the
    # sign-in is both factors and writes the counter forward each time.
    authenticator = SoftwareAuthenticator(origin=APP_ORIGIN, counter_step=1)
    finished = await _graphql(
        client, FINISH_REGISTRATION, {"c": authenticator.create(begun["options"])}, token
    )
    if finished["__typename"] != "PasskeyAdded":
        raise RuntimeError(f"finishPasskeyRegistration for {email}: {finished}")
    return loadgen.credential_record(email, authenticator)


async def _register_all(url: str, emails: list[str]) -> list[dict[str, Any]]:
    gate = asyncio.Semaphore(REGISTRATIONS_AT_ONCE)

    async def one(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
        async with gate:
            return await _register(client, email)

    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        return list(await asyncio.gather(*(one(client, e) for e in emails)))


def register_passkeys(url: str, emails: list[str]) -> list[dict[str, Any]]:
    """One passkey per account, registered through the API; their generator records."""
    return asyncio.run(_register_all(url, emails))


@dataclass
class Generated:
    result: wrk.Result
    cpu_share: float  # the generator's CPU time over the run, share of one core
    connections: int


def run(
    url: str,
    scenario: str,
    *,
    duration: float,
    connections: int,
    workdir: Path,
    log: Path,
    emails: list[str] | None = None,
    credentials: list[dict[str, Any]] | None = None,
) -> Generated:
    """One generator run, pinned to wrk's CPU; ``scenario`` is passkey or password."""
    spec = {
        "url": url,
        "scenario": scenario,
        "duration": duration,
        "connections": connections,
        "password": PASSWORD,
        "emails": emails or [],
        "credentials": credentials or [],
    }
    spec_file = workdir / f"loadgen-{scenario}.json"
    spec_file.write_text(json.dumps(spec))
    args = ["taskset", "-c", wrk.WRK_CPU, sys.executable, str(LOADGEN), str(spec_file)]
    done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=duration + 120)
    with log.open("a") as handle:
        handle.write(f"### loadgen {scenario}\n{' '.join(args)}\n{done.stdout}{done.stderr}\n")
    if done.returncode != 0:
        raise RuntimeError(f"loadgen {scenario} failed: {done.stderr.strip()[-500:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    errors = int(out["errors"])
    detail = f"e.g. {out['sample'][:120]}" if errors else ""
    if not out["sign_ins"]:
        errors, detail = errors + 1, "no sign-in completed within the run"
    return Generated(
        wrk.Result(
            rps=float(out["rate"]),
            p50_ms=float(out["p50_ms"]),
            p99_ms=float(out["p99_ms"]),
            requests=int(out["sign_ins"]),
            errors=errors,
            detail=detail,
        ),
        float(out["cpu_share"]),
        int(out["connections"]),
    )
