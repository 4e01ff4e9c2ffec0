"""The peers' part of a run, at the first scale level: fastapi-users, strawberry-django-auth,
then Keycloak, each started, seeded, loaded and stopped before the next starts."""

from __future__ import annotations

import contextlib
import random
import time

from ferretdb_indexes import add_id_indexes

from harness import keycloak, peers, procs, scenarios, wrk
from harness.bench import Bench, Pids
from harness.users import BenchUser, HashCost

FU, SDA, KC = "fastapi-users", "strawberry-django-auth", "Keycloak"
FANOUT = f"refresh x{scenarios.FANOUT} concurrent"
PASSKEY, PASSWORD_LOADGEN = scenarios.PASSKEY_LOGIN, scenarios.PASSWORD_LOADGEN
CODE, CLIENT_CREDENTIALS = scenarios.CODE_EXCHANGE, scenarios.CLIENT_CREDENTIALS
# What Keycloak is measured on (issue 17): `me` is its OIDC userinfo endpoint.
KC_SCENARIOS = ("me", "login", "refresh", "introspection", CLIENT_CREDENTIALS)
NOT_MEASURED = [
    (FU, "trivial query", "REST only, no GraphQL (its framework floor: the bare route)"),
    (FU, "refresh", "its JWT strategy issues no refresh token"),
    (FU, FANOUT, "its JWT strategy issues no refresh token"),
    (SDA, FANOUT, "not run: the scenario measures Gatehouse's refresh grace (issue 16)"),
    (FU, "admin users page", "no user list route (users router: me and by id)"),
    (SDA, "admin users page", "gqlauth has no user list query (me, publicUser)"),
    (FU, "introspection", "no token introspection endpoint"),
    (SDA, "introspection", "not run (gqlauth's nearest is its verifyToken mutation)"),
    (KC, "trivial query", "OAuth 2 / OIDC endpoints only, no GraphQL"),
    (KC, "register", "self-registration is a browser form flow (no API for it)"),
    (KC, FANOUT, "not run: the scenario measures Gatehouse's refresh grace (issue 16)"),
    (KC, "admin users page", "not run: issue 17 compares login, refresh, userinfo"),
    (FU, PASSKEY, "no passkeys (WebAuthn) in fastapi-users"),
    (SDA, PASSKEY, "no passkeys (WebAuthn) in gqlauth"),
    (KC, PASSKEY, "not run: its passkeys are steps of its browser login pages, no API"),
    (FU, PASSWORD_LOADGEN, "not run: Gatehouse's baseline for its passkey ratio"),
    (SDA, PASSWORD_LOADGEN, "not run: Gatehouse's baseline for its passkey ratio"),
    (KC, PASSWORD_LOADGEN, "not run: Gatehouse's baseline for its passkey ratio"),
    (FU, CODE, "not an OAuth provider"),
    (SDA, CODE, "not an OAuth provider"),
    (KC, CODE, "not run: each code needs a sign-in through its browser login pages"),
    (FU, CLIENT_CREDENTIALS, "not an OAuth provider"),
    (SDA, CLIENT_CREDENTIALS, "not an OAuth provider"),
]


def run_peers(
    bench: Bench,
    stack: contextlib.ExitStack,
    run_id: str,
    mongodb_url: str,
    cost: HashCost,
    users: list[BenchUser],
    bulk_hash: str,
    level: int,
    level_label: str,
) -> None:
    report, tmp, conns = bench.report, bench.tmp, bench.opts.connections
    emails = [u.email for u in users]
    for system, scenario, why in NOT_MEASURED:
        report.peers[(system, scenario)] = why

    with bench.phase("venv fastapi-users"):
        peers.ensure_venv("fastapi_users")
    with bench.phase(f"seed fastapi-users to {level_label} users"):
        peers.seed_fastapi_users(mongodb_url, users, level, bulk_hash)
        add_id_indexes(tmp / "ferretdb" / "sqlite")  # as after Gatehouse's seeding
    fu = peers.start_fastapi_users(mongodb_url, cost, tmp, bench.logs)
    stack.callback(fu.stop)
    fu_pids = _workers(fu.child)
    bench.at_rest(FU, fu_pids())
    tokens = peers.fastapi_users_tokens(fu.url, emails[:conns])

    def fu_load(scenario: str, spec: wrk.Spec) -> None:
        report.peers[(FU, scenario)] = bench.load(FU, scenario, fu.url, spec, pids=fu_pids, peer=FU)

    fu_load("me", scenarios.fu_me(tokens))
    forms = [peers.fastapi_users_form(e) for e in random.sample(emails, len(emails))]
    fu_load("login", scenarios.fu_login(forms))
    fu_load("register", scenarios.fu_register(run_id))
    fu.stop()

    with bench.phase("venv strawberry-django-auth"):
        peers.ensure_venv(peers.SDA)
    with bench.phase(f"seed strawberry-django-auth to {level_label} users"):
        peers.seed_sda(users, level, bulk_hash, cost, tmp)
    sda = peers.start_sda(cost, tmp, bench.logs)
    stack.callback(sda.stop)
    sda_pids = _workers(sda.child)
    bench.at_rest(SDA, sda_pids())

    def sda_load(scenario: str, spec: wrk.Spec) -> None:
        report.peers[(SDA, scenario)] = bench.load(
            SDA, scenario, sda.url, spec, pids=sda_pids, peer=SDA
        )

    sda_load("trivial query", scenarios.sda_trivial())
    tokens = [peers.sda_login(sda.url, e)["access"] for e in emails[:conns]]
    sda_load("me", scenarios.sda_me(tokens))
    sda_load("login", scenarios.sda_login(random.sample(emails, len(emails))))
    refresh = [peers.sda_login(sda.url, e)["refresh"] for e in (emails * 4)[: 2 * conns]]
    sda_load("refresh", scenarios.sda_refresh(refresh))
    sda_load("register", scenarios.sda_register(run_id))
    sda.stop()

    run_keycloak(bench, stack, cost, users, bulk_hash, level, level_label)


def _workers(child: procs.Child) -> Pids:
    return lambda: procs.worker_pids(child.process.pid)


def run_keycloak(
    bench: Bench,
    stack: contextlib.ExitStack,
    cost: HashCost,
    users: list[BenchUser],
    bulk_hash: str,
    level: int,
    level_label: str,
) -> None:
    """Keycloak on its embedded H2; skipped with a message where Java or the zip is missing.

    The JVM compiles hot code as it runs: each scenario runs once unrecorded first (as
    long as the measured run), then once measured after the server is idle again.
    """
    report = bench.report
    try:
        java = keycloak.java()
        with bench.phase(f"Keycloak {keycloak.VERSION} distribution"):
            keycloak.ensure_dist()
    except keycloak.UnavailableError as exc:
        print(f"  Keycloak skipped: {exc}", flush=True)
        for scenario in KC_SCENARIOS:
            report.peers[(KC, scenario)] = f"skipped: {exc}"
        return
    try:
        _measure_keycloak(bench, stack, java, cost, users, bulk_hash, level, level_label)
    except Exception as exc:  # a failing peer must not cost the run its scale levels
        print(f"  Keycloak failed in `{bench.current}`: {exc!r}", flush=True)
        for scenario in KC_SCENARIOS:
            if not isinstance(report.peers.get((KC, scenario)), wrk.Result):
                report.peers[(KC, scenario)] = (
                    f"failed in `{bench.current}`: {exc!r} (see keycloak.log in the logs)"
                )


def _measure_keycloak(
    bench: Bench,
    stack: contextlib.ExitStack,
    java: str,
    cost: HashCost,
    users: list[BenchUser],
    bulk_hash: str,
    level: int,
    level_label: str,
) -> None:
    report, conns = bench.report, bench.opts.connections
    emails = [u.email for u in users]
    with bench.phase("start Keycloak"):
        kc = keycloak.start(java, cost, bench.tmp, bench.logs)
        stack.callback(kc.stop)
    try:
        with bench.phase(f"seed Keycloak to {level_label} users"):
            count = keycloak.seed(kc, users, level, bulk_hash)
        bench.at_rest(KC, kc.pids())
        with bench.phase("Keycloak tokens"):
            userinfo = keycloak.tokens(kc.url, emails[:conns], "access_token", "openid")
            pools = [
                keycloak.tokens(kc.url, (emails * 4)[: 2 * conns], "refresh_token") for _ in (0, 1)
            ]

        def kc_load(scenario: str, warm: wrk.Spec, measured: wrk.Spec) -> None:
            bench.load("keycloak", f"{scenario} warm-up", kc.url, warm, pids=kc.pids)
            wait_idle(kc.pids)
            report.peers[(KC, scenario)] = bench.load(
                "keycloak", scenario, kc.url, measured, pids=kc.pids, peer=KC
            )

        kc_load("me", scenarios.kc_userinfo(userinfo), scenarios.kc_userinfo(userinfo))
        kc_load(
            "introspection", scenarios.kc_introspect(userinfo), scenarios.kc_introspect(userinfo)
        )
        forms = [keycloak.login_form(e) for e in random.sample(emails, len(emails))]
        kc_load("login", scenarios.kc_login(forms), scenarios.kc_login(forms))
        kc_load("refresh", scenarios.kc_refresh(pools[0]), scenarios.kc_refresh(pools[1]))
        client_credentials = scenarios.kc_client_credentials()
        kc_load(CLIENT_CREDENTIALS, client_credentials, client_credentials)
    finally:
        kc.stop()  # before Gatehouse's scale levels, also when a step failed
    report.notes.append(
        f"Keycloak {keycloak.VERSION}: `kc.sh start-dev` (embedded H2, HTTP on 127.0.0.1,"
        " default worker pool and JVM heap) on "
        f"{count:,} users imported with the same argon2id hashes (argon2 SPI set to the same"
        " cost, policy `hashAlgorithm(argon2)`); a confidential client with direct access"
        " grants and an audience mapper; 15-minute access tokens, single-use refresh tokens"
        " (`revokeRefreshToken`, `refreshTokenMaxReuse` 0). `me` is its userinfo (tokens with"
        " the `openid` scope), `login` its password grant without `openid` (access and refresh"
        " token, no ID token), `refresh` its refresh_token grant, `introspection` its token"
        " introspection of the `me` tokens, `token: client_credentials` the bench client's"
        " service account (`serviceAccountsEnabled`). Each scenario ran once unrecorded first (JIT"
        " warm-up), then measured once the JVM was idle."
    )


def wait_idle(pids: Pids, timeout: float = 30.0) -> None:
    """Until the processes use under 10% of a core over half a second: what a load left in
    flight (wrk stops with requests queued) is finished before the next load starts."""
    deadline = time.monotonic() + timeout
    before = sum(procs.cpu_seconds(pid) for pid in pids())
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = sum(procs.cpu_seconds(pid) for pid in pids())
        if now - before < 0.05:
            return
        before = now
