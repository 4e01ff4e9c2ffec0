"""One run's shared state: options, phases with their timings, wrk loads with RSS sampling."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from harness import procs, wrk
from harness.report import Report

Pids = Callable[[], list[int]]


@dataclass
class Options:
    duration: float
    connections: int
    levels: list[int]
    bench_user_count: int
    quick: bool
    skip_peers: bool


class RssSampler:
    """Largest VmRSS of each process ``pids()`` names while a load runs (every 0.25 s)."""

    def __init__(self, pids: Pids) -> None:
        self._pids = pids
        self.peak: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(0.25):
            for pid in self._pids():
                self.peak[pid] = max(self.peak.get(pid, 0), procs.rss_kib(pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _no_pids() -> list[int]:
    return []


def rss_now(pids: list[int]) -> list[int]:
    return [procs.rss_kib(pid) for pid in pids]


def mib(values: list[int]) -> str:
    return ", ".join(f"{v / 1024:.0f}" for v in sorted(values)) or "—"


class Bench:
    def __init__(self, opts: Options, tmp: Path, logs: Path, report: Report) -> None:
        self.opts = opts
        self.tmp = tmp
        self.logs = logs
        self.report = report
        self.current = "start"
        # Peak RSS per process of the last load run with ``pids``.
        self.last_peak: dict[int, int] = {}

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        print(f"… {name}", flush=True)
        self.current = name
        started = time.monotonic()
        yield
        took = time.monotonic() - started
        self.report.timings.append((name, took))
        print(f"  {name}: {took:.1f} s", flush=True)

    def at_rest(self, peer: str, pids: list[int]) -> None:
        """The peer's RSS before any load (after start and seeding), for the peers table."""
        self.report.peer_rss_rest[peer] = rss_now(pids)

    def load(
        self,
        system: str,
        scenario: str,
        url: str,
        spec: wrk.Spec,
        connections: int = 0,
        *,
        pids: Pids | None = None,
        peer: str | None = None,
    ) -> wrk.Result:
        """One wrk run. With ``pids``, the processes' RSS is sampled meanwhile; with ``peer``
        too, the peak counts towards that system's line in the peers table."""
        name = f"{system}-{scenario}".replace(" ", "-")

        def run_wrk() -> wrk.Result:
            return wrk.run(
                url,
                spec,
                name=name,
                workdir=self.tmp,
                duration=self.opts.duration,
                connections=connections or self.opts.connections,
                log=self.logs / "wrk.log",
            )

        return self.measure(f"wrk {system} {scenario}", run_wrk, pids=pids, peer=peer)

    def measure(
        self,
        phase: str,
        run: Callable[[], wrk.Result],
        *,
        pids: Pids | None = None,
        peer: str | None = None,
    ) -> wrk.Result:
        """One load run by any generator (wrk, harness/loadgen.py), as ``load`` describes."""
        with self.phase(phase), RssSampler(pids or _no_pids) as sampler:
            result = run()
        self.last_peak = sampler.peak
        if peer is not None and sampler.peak:
            peaks = self.report.peer_rss_peak.setdefault(peer, {})
            for pid, kib in sampler.peak.items():
                peaks[pid] = max(peaks.get(pid, 0), kib)
        print(
            f"  {result.rps:,.0f} req/s  p50 {result.p50_ms:.2f} ms  p99 {result.p99_ms:.2f} ms"
            f"  errors {result.error_text}",
            flush=True,
        )
        return result
