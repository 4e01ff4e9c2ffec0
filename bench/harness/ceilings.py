"""Ceilings measured in the same run: argon2id verify time (in-process) and a bare route."""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

from harness.procs import ROOT, Child, base_env, free_port, spawn
from harness.users import PASSWORD, HashCost


def verify_seconds(cost: HashCost, password_hash: str, rounds: int = 30) -> float:
    """Median time of one argon2id verify with the configured parameters, one thread."""
    hasher = cost.hasher()
    hasher.verify(password_hash, PASSWORD)  # warm-up
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        hasher.verify(password_hash, PASSWORD)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def cores() -> int:
    return len(os.sched_getaffinity(0))


def start_bare_route(workers: int, logs: Path) -> tuple[Child, int]:
    """The bare route with the project's uvicorn (uvloop, httptools) and the same workers."""
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "harness.bare_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    child = spawn(
        "bare-route",
        args,
        env=base_env(),
        log=logs / "bare-route.log",
        cwd=ROOT / "bench",
        port=port,
    )
    time.sleep(1.5)
    return child, port
