"""Run wrk with bench/wrk/bench.lua and a spec; parse its report into a Result."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from harness.procs import ROOT

LUA = ROOT / "bench" / "wrk" / "bench.lua"
# wrk on the last core, the servers free on all cores (see bench/README.md).
WRK_CPU = "1"


@dataclass
class Spec:
    method: str
    path: str
    expect: str
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    pool: list[str] | None = None
    pool_use: str | None = None  # "auth:Bearer " or "body"
    rotate: str | None = None
    unique: str | None = None
    fanout: int | None = None  # with rotate: presentations of each item at once
    group: str | None = None  # with fanout: the rotation a successor belongs to
    lost: list[str] | None = None  # body texts that mean a lost session
    # Each item sent once and never put back (authorization codes): an empty pool is
    # counted as such, the request then carries "pool-exhausted".
    single_use: bool = False


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    detail: str = ""
    # Counted only when the spec asks (lost=, fanout=): presentations answered with a lost
    # session, rotations answered with two different successors, requests sent with an
    # empty pool.
    lost: int = 0
    forks: int = 0
    exhausted: int = 0

    @property
    def error_text(self) -> str:
        return f"{self.errors} ({self.detail})" if self.detail else str(self.errors)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk (apt-get install -y wrk)", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
    return shutil.which("wrk") or "/usr/bin/wrk"


def _write_spec(spec: Spec, workdir: Path, name: str) -> Path:
    lines = [f"method={spec.method}", f"path={spec.path}", f"expect={spec.expect}"]
    for key, value in spec.headers.items():
        lines.append(f"header={key}: {value}")
    if spec.body is not None:
        body = workdir / f"{name}.body"
        body.write_text(spec.body)
        lines.append(f"body_file={body}")
    if spec.pool is not None:
        pool = workdir / f"{name}.pool"
        pool.write_text("\n".join(spec.pool) + "\n")
        lines.append(f"pool_file={pool}")
    for key in ("pool_use", "rotate", "unique", "fanout", "group"):
        value = getattr(spec, key)
        if value is not None:
            lines.append(f"{key}={value}")
    if spec.lost:
        lines.append(f"lost={','.join(spec.lost)}")
    if spec.single_use:
        lines.append("single_use=1")
    path = workdir / f"{name}.spec"
    path.write_text("\n".join(lines) + "\n")
    return path


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(output: str) -> Result:
    def grab(pattern: str, default: str = "0") -> str:
        found = re.search(pattern, output)
        return found.group(1) if found else default

    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    socket_errors = sum(int(x) for x in socket.groups()) if socket else 0
    non2xx = int(grab(r"Non-2xx or 3xx responses: (\d+)"))
    bad = int(grab(r"BENCH_BAD (\d+)"))
    lost = int(grab(r"BENCH_LOST (\d+)"))
    forks = int(grab(r"BENCH_FORKS (\d+)"))
    exhausted = int(grab(r"BENCH_EXHAUSTED (\d+)"))
    requests = int(grab(r"(\d+) requests in"))
    parts = []
    if requests == 0:
        # Every request outlasted the run: nothing was measured, which is a failure too.
        parts.append("no response within the run")
    if non2xx:
        parts.append(f"{non2xx} non-2xx")
    if bad:
        parts.append(f"{bad} bad body")
    if socket_errors:
        parts.append(f"{socket_errors} socket")
    if lost:
        parts.append(f"{lost} lost session")
    if forks:
        parts.append(f"{forks} forked rotation")
    if exhausted:
        parts.append(f"{exhausted} with an empty pool")
    return Result(
        rps=float(grab(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(grab(r"\s50%\s+(\S+)", "nan")),
        p99_ms=_ms(grab(r"\s99%\s+(\S+)", "nan")),
        requests=requests,
        # A fork has no error of its own: both answers are AuthPayloads.
        errors=non2xx + bad + socket_errors + forks + (requests == 0),
        detail=", ".join(parts) if len(parts) > 1 or socket_errors or not requests else "",
        lost=lost,
        forks=forks,
        exhausted=exhausted,
    )


def run(
    url: str,
    spec: Spec,
    *,
    name: str,
    workdir: Path,
    duration: float,
    connections: int,
    log: Path,
) -> Result:
    spec_file = _write_spec(spec, workdir, name)
    args = [
        "taskset",
        "-c",
        WRK_CPU,
        ensure_wrk(),
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA),
        url,
        "--",
        str(spec_file),
    ]
    completed = subprocess.run(args, capture_output=True, text=True, check=False)
    with log.open("a") as handle:
        handle.write(f"### {name}\n{' '.join(args)}\n{completed.stdout}{completed.stderr}\n")
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed for {name}: {completed.stderr.strip()[:500]}")
    return parse(completed.stdout)
