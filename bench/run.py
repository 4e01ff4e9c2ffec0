"""Gatehouse against its peers, one command: ``make bench`` (or ``uv run python bench/run.py``).

Starts FerretDB and Redis on free ports (throwaway data), Gatehouse with production
settings (two uvicorn workers, one Dramatiq worker), fastapi-users and
strawberry-django-auth in their own venvs, and Keycloak (``kc.sh start-dev``, when Java is
there); seeds each with the same users; drives each with wrk at fixed concurrency; prints
one table and writes it to bench/results/latest.md.

    uv run python bench/run.py                  # full run: 10 s per scenario, 1k/100k/1M users
    uv run python bench/run.py --quick          # 3 s per scenario, 1k/10k users
    BENCH_SCALE=1k,100k uv run python bench/run.py --duration 5
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import random
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

_HERE = Path(__file__).resolve()
sys.path[:0] = [str(_HERE.parent), str(_HERE.parents[1]), str(_HERE.parents[1] / "scripts")]

import services  # noqa: E402  (scripts/services.py: FerretDB, Redis)
from ferretdb_indexes import add_id_indexes  # noqa: E402
from harness import ceilings, gatehouse, gh_flows, procs, scenarios, wrk  # noqa: E402
from harness.bench import Bench, Options, mib, rss_now  # noqa: E402
from harness.peer_runs import run_peers  # noqa: E402
from harness.report import Report, render  # noqa: E402
from harness.targets import targets  # noqa: E402
from harness.users import HashCost, bench_users  # noqa: E402

# Admin scenarios: few connections (an operator's console, not a crowd), and a probe first.
ADMIN_CONNECTIONS = 4
PROBE_TIMEOUT = 120.0
RESULTS = procs.ROOT / "bench" / "results" / "latest.md"
LOGS = procs.ROOT / ".cache" / "bench" / "logs"


def parse_level(text: str) -> int:
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * factor)


def label(level: int) -> str:
    if level >= 1_000_000 and level % 1_000_000 == 0:
        return f"{level // 1_000_000}M"
    return f"{level // 1000}k" if level % 1000 == 0 else str(level)


def options() -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="3 s per scenario, 1k/10k users")
    parser.add_argument("--duration", type=float, help="seconds per scenario (10; quick 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--scale", help="user counts, e.g. 1k,100k,1m (or BENCH_SCALE)")
    parser.add_argument("--no-peers", action="store_true", help="Gatehouse and ceilings only")
    args = parser.parse_args()
    scale = (
        args.scale or os.environ.get("BENCH_SCALE") or ("1k,10k" if args.quick else "1k,100k,1m")
    )
    return Options(
        duration=args.duration or (3.0 if args.quick else 10.0),
        connections=args.connections,
        levels=sorted(parse_level(x) for x in scale.split(",") if x.strip()),
        bench_user_count=64 if args.quick else 128,
        quick=args.quick,
        skip_peers=args.no_peers,
    )


def main() -> int:
    opts = options()
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    logs = LOGS / run_id
    logs.mkdir(parents=True, exist_ok=True)
    report = Report()
    total_started = time.monotonic()
    status = 0
    with (
        tempfile.TemporaryDirectory(prefix="gatehouse-bench-") as tmp_name,
        contextlib.ExitStack() as stack,
    ):
        tmp = Path(tmp_name)
        bench = Bench(opts, tmp, logs, report)
        try:
            run(bench, stack, run_id)
        except Exception as exc:
            # Keep what was measured: a long run that fails late still reports.
            report.notes.insert(0, f"**The run stopped in `{bench.current}`: {exc!r}** (see logs).")
            print(f"run failed: {exc!r}", file=sys.stderr)
            status = 1
    report.timings.append(("whole run", time.monotonic() - total_started))
    text = render(report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print("\n" + text)
    print(f"written to {RESULTS.relative_to(procs.ROOT)}; logs in {logs}")
    return status


def run(bench: Bench, stack: contextlib.ExitStack, run_id: str) -> None:
    opts, tmp, report = bench.opts, bench.tmp, bench.report
    notes(report, opts)
    wrk.ensure_wrk()
    with bench.phase("start FerretDB and Redis"):
        ferret = services.ferretdb(tmp / "ferretdb").start()
        stack.callback(ferret.stop)
        redis = services.redis_server(tmp / "redis").start()
        stack.callback(redis.stop)
    mongodb_url = f"mongodb://127.0.0.1:{ferret.port}"
    env = gatehouse.production_env(mongodb_url, f"redis://127.0.0.1:{redis.port}/0", tmp)
    settings = gatehouse.settings_from(env)
    cost = HashCost.of(settings)
    with bench.phase(f"hash {opts.bench_user_count} bench users"):
        users = bench_users(opts.bench_user_count, cost)
        bulk_hash = cost.hasher().hash(secrets.token_urlsafe(16))
    emails = [u.email for u in users]
    conns = opts.connections
    first = opts.levels[0]
    report.peer_level = label(first)
    report.header = [
        f"Run {run_id} on {os.cpu_count()} cores; wrk 1 thread, {conns} connections, "
        f"{opts.duration:g} s per scenario, pinned to CPU {wrk.WRK_CPU} (taskset); servers "
        "unpinned. Every Python server: uvicorn (httptools, uvloop), 2 workers, Python "
        f"{sys.version.split()[0]}; Keycloak: its own JVM server (see the notes).",
        f"Password hash cost everywhere: {cost}.",
    ]

    # ---------------------------------------------------------------- ceilings
    with bench.phase("ceiling: argon2id verify"):
        verify = ceilings.verify_seconds(cost, users[0].password_hash)
    cores = ceilings.cores()
    hash_ceiling = cores / verify
    report.ceilings["argon2id verify (one, in-process)"] = f"{verify * 1000:.1f} ms"
    report.ceilings[f"hash-bound login ceiling ({cores} cores ÷ verify)"] = (
        f"{hash_ceiling:,.1f} req/s"
    )
    bare, bare_port = ceilings.start_bare_route(2, bench.logs)
    stack.callback(bare.stop)
    bare_spec = wrk.Spec("POST", "/json", '"Query"', '{"query": "{ __typename }"}', scenarios.JSON)
    bare_result = bench.load("bare", "route", f"http://127.0.0.1:{bare_port}", bare_spec)
    bare.stop()
    report.ceilings["bare Starlette JSON route (same uvicorn, 2 workers)"] = (
        f"{bare_result.rps:,.0f} req/s, p50 {bare_result.p50_ms:.2f} ms, "
        f"p99 {bare_result.p99_ms:.2f} ms, errors {bare_result.error_text}"
    )

    # ------------------------------------------------------- Gatehouse, first level
    sqlite_dir = tmp / "ferretdb" / "sqlite"
    with bench.phase(f"seed Gatehouse to {label(first)} users"):
        # As `make run` does: every collection and its _id index before the API writes.
        services.prepare_gatehouse_collections(
            mongodb_url, settings.mongodb_database, tmp / "ferretdb"
        )
        gatehouse.seed(settings, users, first, bulk_hash)
        add_id_indexes(sqlite_dir)
    with bench.phase("start Gatehouse"):
        gh = gatehouse.start(env, bench.logs)
        stack.callback(gh.stop)
    api_pid = gh.api.process.pid

    def gh_pids() -> list[int]:
        return procs.worker_pids(api_pid)

    rest = rss_now(gh_pids())
    report.rss.append((f"at rest, {label(first)} users", str(len(rest)), mib(rest)))
    bench.at_rest("Gatehouse", gh_pids())
    results: dict[str, wrk.Result] = {}

    def gh_load(scenario: str, spec: wrk.Spec, level: int, connections: int = 0) -> wrk.Result:
        # The peers table's RSS line is the first level's, where the peers run too.
        peer = "Gatehouse" if level == first else None
        name = f"{scenario} {label(level)}"
        result = bench.load("gatehouse", name, gh.url, spec, connections, pids=gh_pids, peer=peer)
        if scenario in ("me", "login"):
            peak = list(bench.last_peak.values())
            report.rss.append(
                (f"under `{scenario}` load, {label(level)} users", str(len(peak)), mib(peak))
            )
        return result

    next_tokens: list[tuple[list[str], str]] = []

    def gh_tokens() -> tuple[list[str], str]:
        tokens = gatehouse.access_tokens(gh.url, emails[:conns])
        return tokens, gatehouse.login(gh.url, gatehouse.ADMIN_EMAIL)["accessToken"]

    def gh_standard(level: int, tokens: list[str], admin: str) -> dict[str, wrk.Result]:
        out = {}
        out["me"] = gh_load("me", scenarios.gh_me(tokens), level)
        if level != opts.levels[-1]:
            # The next level's tokens, now: after this level's login load the server is
            # still busy with its writes, and at a million users on FerretDB a login may
            # not finish at all (tokens live 15 minutes; seeding takes about 5).
            next_tokens.append(gh_tokens())
        shuffled = random.sample(emails, len(emails))
        login = scenarios.gh_login(shuffled)
        # Past the first level, one login alone first (as the admin scenarios): where it
        # takes seconds, 32 connections only queue writes the server finishes long after.
        out["login"] = (
            gh_load("login", login, level)
            if level == first
            else probed("login", login, None, level)
        )
        prefixes = [f"bulk-{random.randrange(10_000):04d}" for _ in range(500)]
        for scenario, spec in (
            ("admin users page", scenarios.gh_admin_page(admin)),
            ("admin search", scenarios.gh_admin_search(admin, prefixes)),
        ):
            out[scenario] = probed(scenario, spec, admin, level, ADMIN_CONNECTIONS)
        return out

    def probed(
        scenario: str, spec: wrk.Spec, token: str | None, level: int, connections: int = 0
    ) -> wrk.Result:
        # One request alone first: where it takes seconds, a load run would only pile up
        # requests the server keeps working on after wrk has gone.
        body = (spec.body or "").replace("{{ITEM}}", (spec.pool or [""])[-1])
        with bench.phase(f"probe gatehouse {scenario} {label(level)}"):
            took, problem = gatehouse.probe(gh.url, body, token, PROBE_TIMEOUT, spec.expect)
        if took is not None and not problem and took < opts.duration / 4:
            return gh_load(scenario, spec, level, connections)
        if took is None or problem:
            print(f"  one request alone failed: {problem}", flush=True)
            ms = math.nan if took is None else took * 1000
            return wrk.Result(math.nan, ms, ms, 1, 1, f"one request alone: {problem}")
        print(f"  one request alone: {took:.2f} s, too slow for a load run", flush=True)
        return wrk.Result(
            1 / took, took * 1000, took * 1000, 1, 0, "one request alone; too slow for a load run"
        )

    results["trivial query"] = gh_load("trivial query", scenarios.gh_trivial(), first)
    results.update(gh_standard(first, *gh_tokens()))
    refresh = gatehouse.refresh_tokens(gh.url, (emails * 4)[: 2 * conns])
    results["refresh"] = gh_load("refresh", scenarios.gh_refresh(refresh), first)
    fanout = f"refresh x{scenarios.FANOUT} concurrent"
    refresh = gatehouse.refresh_tokens(gh.url, (emails * 4)[: 2 * conns])
    results[fanout] = gh_load(fanout, scenarios.gh_refresh_fanout(refresh), first)
    # Issues 18 and 20: passkey and password sign-in through one generator, the OpenID
    # provider's token endpoint and introspection.
    flows = gh_flows.run(bench, gh.url, emails, gh_pids)
    results.update(flows)
    # Registration last: it adds users, and its emails keep the worker busy afterwards.
    results["register"] = gh_load("register", scenarios.gh_register(run_id), first)
    for scenario in ("trivial query", "me", "login", "refresh", fanout, "register", *flows):
        report.peers[("Gatehouse", scenario)] = results[scenario]
    for scenario in ("me", "login", "admin users page", "admin search"):
        report.scale[(label(first), scenario)] = results[scenario]

    # ------------------------------------------------------------------- peers
    if not opts.skip_peers:
        run_peers(bench, stack, run_id, mongodb_url, cost, users, bulk_hash, first, label(first))

    # --------------------------------------------------------- Gatehouse at scale
    targets(report, results, bare_result, hash_ceiling)
    for level in opts.levels[1:]:
        tokens, admin = next_tokens.pop()
        with bench.phase(f"seed Gatehouse to {label(level)} users"):
            gatehouse.seed(settings, users, level, bulk_hash)
            add_id_indexes(sqlite_dir)
        for scenario, result in gh_standard(level, tokens, admin).items():
            report.scale[(label(level), scenario)] = result
    admin_level = max((x for x in opts.levels if x <= 100_000), default=first)
    report.admin_level = label(admin_level)
    report.peers[("Gatehouse", "admin users page")] = report.scale[
        (label(admin_level), "admin users page")
    ]
    gh.stop()
    targets(report, results, bare_result, hash_ceiling)


def notes(report: Report, opts: Options) -> None:
    report.notes += [
        "Rate limiting is on in Gatehouse, with 127.0.0.1/32 in GATEHOUSE_RATE_LIMIT_ALLOWLIST:"
        " the load comes from one loopback address, which the per-IP and per-account limits"
        " would otherwise cap within seconds. Lockout is not involved (passwords are right).",
        "Gatehouse runs production settings (JSON logs at INFO, throwaway Ed25519 signing key,"
        " TOTP key, https public URL) and one Dramatiq worker writing emails with the file"
        " backend; the peers write their emails as files too (fastapi-users from"
        " on_after_request_verify in a thread, Django's file backend inline).",
        "Errors count non-2xx, wrk socket errors and 2xx bodies without the success result"
        " (GraphQL typed failures or `errors`).",
        "`me` rotates access tokens of 32 users; `login` rotates the bench users; `refresh` uses a"
        f" pool of {2 * opts.connections} refresh tokens, each response's new token going back"
        " into the pool (single use); `register` uses fresh emails.",
        f"`refresh x{scenarios.FANOUT} concurrent`: another {2 * opts.connections} sessions,"
        f" each refresh token presented by {scenarios.FANOUT} connections at once (one client"
        " context, as tabs of one browser); its successor goes back into the pool once all"
        f" {scenarios.FANOUT} answers are in. req/s counts presentations (one rotation each"
        f" {scenarios.FANOUT}). A presentation answered RefreshTokenReused, InvalidRefreshToken"
        " or SessionExpired is a lost session; two different successors for one rotation"
        " count as a forked rotation (an error).",
        "fastapi-users: FerretDB implements no collations, so its adapter's case-insensitive"
        " email index and lookup are replaced by a lowercased exact match (see its app.py).",
        "strawberry-django-auth: Django 5.2 (Django 6 needs Python 3.12; every server here runs"
        " the project's Python 3.11), SQLite in WAL mode, sync GraphQLView under Django's ASGI"
        " handler, captcha off. Its refresh is `refreshToken(revokeRefreshToken: true)`.",
        "Peers are compared at the first scale level only; scale levels are Gatehouse's.",
    ]
    if opts.quick:
        report.notes.append("--quick run: short durations and small scale, for development.")


if __name__ == "__main__":
    raise SystemExit(main())
