"""Gatehouse against its peers, one command: ``make bench`` (or ``uv run python bench/run.py``).

Starts FerretDB and Redis on free ports (throwaway data), Gatehouse with production
settings (two uvicorn workers, one Dramatiq worker), fastapi-users and
strawberry-django-auth in their own venvs; seeds each with the same users; drives each
with wrk at fixed concurrency; prints one table and writes it to bench/results/latest.md.

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
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

_HERE = Path(__file__).resolve()
sys.path[:0] = [str(_HERE.parent), str(_HERE.parents[1]), str(_HERE.parents[1] / "scripts")]

from ferretdb_indexes import add_id_indexes  # noqa: E402
from harness import ceilings, gatehouse, peers, procs, scenarios, wrk  # noqa: E402
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


@dataclass
class Options:
    duration: float
    connections: int
    levels: list[int]
    bench_user_count: int
    quick: bool
    skip_peers: bool


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


class RssSampler:
    """Largest VmRSS of each uvicorn worker while a load runs."""

    def __init__(self, server_pid: int) -> None:
        self._server = server_pid
        self.peak: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(0.25):
            for pid in procs.worker_pids(self._server):
                self.peak[pid] = max(self.peak.get(pid, 0), procs.rss_kib(pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def rss_now(server_pid: int) -> list[int]:
    return [procs.rss_kib(pid) for pid in procs.worker_pids(server_pid)]


def mib(values: list[int]) -> str:
    return ", ".join(f"{v / 1024:.0f}" for v in sorted(values)) or "—"


class Bench:
    def __init__(self, opts: Options, tmp: Path, logs: Path, report: Report) -> None:
        self.opts = opts
        self.tmp = tmp
        self.logs = logs
        self.report = report
        self.current = "start"

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        print(f"… {name}", flush=True)
        self.current = name
        started = time.monotonic()
        yield
        took = time.monotonic() - started
        self.report.timings.append((name, took))
        print(f"  {name}: {took:.1f} s", flush=True)

    def load(
        self, system: str, scenario: str, url: str, spec: wrk.Spec, connections: int = 0
    ) -> wrk.Result:
        name = f"{system}-{scenario}".replace(" ", "-")
        with self.phase(f"wrk {system} {scenario}"):
            result = wrk.run(
                url,
                spec,
                name=name,
                workdir=self.tmp,
                duration=self.opts.duration,
                connections=connections or self.opts.connections,
                log=self.logs / "wrk.log",
            )
        print(
            f"  {result.rps:,.0f} req/s  p50 {result.p50_ms:.2f} ms  p99 {result.p99_ms:.2f} ms"
            f"  errors {result.error_text}",
            flush=True,
        )
        return result


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
        ferret = procs.services.ferretdb(tmp / "ferretdb").start()
        stack.callback(ferret.stop)
        redis = procs.services.redis_server(tmp / "redis").start()
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
        "unpinned. Every server: uvicorn (httptools, uvloop), 2 workers, Python "
        f"{sys.version.split()[0]}.",
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
        gatehouse.seed(settings, users, first, bulk_hash)
        # As `make run` does when FerretDB starts on existing data (scripts/services.py).
        add_id_indexes(sqlite_dir)
    with bench.phase("start Gatehouse"):
        gh = gatehouse.start(env, bench.logs)
        stack.callback(gh.stop)
    api_pid = gh.api.process.pid
    report.rss.append(
        (f"at rest, {label(first)} users", str(len(rss_now(api_pid))), mib(rss_now(api_pid)))
    )
    results: dict[str, wrk.Result] = {}

    def gh_load(scenario: str, spec: wrk.Spec, level: int, connections: int = 0) -> wrk.Result:
        with RssSampler(api_pid) as sampler:
            result = bench.load(
                "gatehouse", f"{scenario} {label(level)}", gh.url, spec, connections
            )
        if scenario in ("me", "login"):
            report.rss.append(
                (
                    f"under `{scenario}` load, {label(level)} users",
                    str(len(sampler.peak)),
                    mib(list(sampler.peak.values())),
                )
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
    # Registration last: it adds users, and its emails keep the worker busy afterwards.
    results["register"] = gh_load("register", scenarios.gh_register(run_id), first)
    for scenario in ("trivial query", "me", "login", "refresh", fanout, "register"):
        report.peers[("Gatehouse", scenario)] = results[scenario]
    for scenario in ("me", "login", "admin users page", "admin search"):
        report.scale[(label(first), scenario)] = results[scenario]

    # ------------------------------------------------------------------- peers
    if not opts.skip_peers:
        run_peers(bench, stack, run_id, mongodb_url, cost, users, bulk_hash, first)

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


def run_peers(
    bench: Bench,
    stack: contextlib.ExitStack,
    run_id: str,
    mongodb_url: str,
    cost: HashCost,
    users: list,
    bulk_hash: str,
    level: int,
) -> None:
    report, tmp, conns = bench.report, bench.tmp, bench.opts.connections
    emails = [u.email for u in users]
    fu_name, sda_name = "fastapi-users", "strawberry-django-auth"
    fanout = f"refresh x{scenarios.FANOUT} concurrent"
    for system, scenario, why in [
        (fu_name, "trivial query", "REST only, no GraphQL (its framework floor: the bare route)"),
        (fu_name, "refresh", "its JWT strategy issues no refresh token"),
        (fu_name, fanout, "its JWT strategy issues no refresh token"),
        (sda_name, fanout, "not run: the scenario measures Gatehouse's refresh grace (issue 16)"),
        (fu_name, "admin users page", "no user list route (users router: me and by id)"),
        (sda_name, "admin users page", "gqlauth has no user list query (me, publicUser)"),
    ]:
        report.peers[(system, scenario)] = why

    with bench.phase("venv fastapi-users"):
        peers.ensure_venv("fastapi_users")
    with bench.phase(f"seed fastapi-users to {label(level)} users"):
        peers.seed_fastapi_users(mongodb_url, users, level, bulk_hash)
        add_id_indexes(tmp / "ferretdb" / "sqlite")
    fu = peers.start_fastapi_users(mongodb_url, cost, tmp, bench.logs)
    stack.callback(fu.stop)
    tokens = peers.fastapi_users_tokens(fu.url, emails[:conns])
    report.peers[(fu_name, "me")] = bench.load(fu_name, "me", fu.url, scenarios.fu_me(tokens))
    forms = [peers.fastapi_users_form(e) for e in random.sample(emails, len(emails))]
    report.peers[(fu_name, "login")] = bench.load(
        fu_name, "login", fu.url, scenarios.fu_login(forms)
    )
    report.peers[(fu_name, "register")] = bench.load(
        fu_name, "register", fu.url, scenarios.fu_register(run_id)
    )
    fu.stop()

    with bench.phase("venv strawberry-django-auth"):
        peers.ensure_venv(peers.SDA)
    with bench.phase(f"seed strawberry-django-auth to {label(level)} users"):
        peers.seed_sda(users, level, bulk_hash, cost, tmp)
    sda = peers.start_sda(cost, tmp, bench.logs)
    stack.callback(sda.stop)
    report.peers[(sda_name, "trivial query")] = bench.load(
        sda_name, "trivial query", sda.url, scenarios.sda_trivial()
    )
    tokens = [peers.sda_login(sda.url, e)["access"] for e in emails[:conns]]
    report.peers[(sda_name, "me")] = bench.load(sda_name, "me", sda.url, scenarios.sda_me(tokens))
    shuffled = random.sample(emails, len(emails))
    report.peers[(sda_name, "login")] = bench.load(
        sda_name, "login", sda.url, scenarios.sda_login(shuffled)
    )
    refresh = [peers.sda_login(sda.url, e)["refresh"] for e in (emails * 4)[: 2 * conns]]
    report.peers[(sda_name, "refresh")] = bench.load(
        sda_name, "refresh", sda.url, scenarios.sda_refresh(refresh)
    )
    report.peers[(sda_name, "register")] = bench.load(
        sda_name, "register", sda.url, scenarios.sda_register(run_id)
    )
    sda.stop()


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
