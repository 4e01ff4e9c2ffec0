"""The mixed workload for a fixed time, with the API processes' memory sampled as it runs."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.reliability.accounting import Accounting, account
from tests.reliability.cluster import Cluster
from tests.reliability.workload import Balancer, Figures, Workload, figures


@dataclass
class LoadResult:
    seconds: float
    figures: Figures
    accounting: Accounting
    # (seconds since start, {port: RSS KiB}) every sample interval.
    rss: list[tuple[float, dict[int, int]]] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.figures.requests / self.seconds if self.seconds else 0.0

    def rss_total_mib(self, index: int) -> float:
        return sum(self.rss[index][1].values()) / 1024

    def rss_growth(self) -> float:
        """Late growth: mean RSS over the last third against the middle third (the first
        third is warm-up: caches, pools and allocator arenas filling)."""
        totals = [sum(sample.values()) for _, sample in self.rss]
        third = len(totals) // 3
        if third == 0:
            return 0.0
        middle = totals[third : 2 * third]
        last = totals[2 * third :]
        return (sum(last) / len(last)) / (sum(middle) / len(middle)) - 1

    def lines(self, name: str) -> list[str]:
        f = self.figures
        trend = " → ".join(f"{sum(s.values()) / 1024:.0f}" for _, s in self.rss)
        return [
            f"{name}: {f.requests} requests in {self.seconds:.0f} s ({self.throughput:.0f}/s), "
            f"errors {f.errors} {f.codes or ''}, p50 {f.p50_ms:.0f} ms, p99 {f.p99_ms:.0f} ms, "
            f"max {f.max_ms:.0f} ms",
            f"{name}: users registered {len(self.accounting_registered)}, writes lost "
            f"{self.accounting.writes_lost}, duplicate emails {self.accounting.duplicates}, "
            f"logged-out sessions accepted {self.accounting.revoked_accepted}",
            f"{name}: API RSS MiB (all processes) start {self.rss_total_mib(0):.0f}, end "
            f"{self.rss_total_mib(-1):.0f}, late growth {self.rss_growth():+.1%}; samples {trend}",
        ]

    accounting_registered: set[str] = field(default_factory=set)


async def run_load(
    cluster: Cluster,
    *,
    seconds: float,
    clients: int,
    sample_seconds: float,
    prefix: str = "load",
) -> LoadResult:
    since = datetime.now(UTC) - timedelta(seconds=1)
    balancer = Balancer([api.url for api in cluster.apis])
    workload = Workload(balancer, cluster.inbox, clients=clients, prefix=prefix)
    samples: list[tuple[float, dict[int, int]]] = []
    started = time.monotonic()
    running = asyncio.create_task(workload.run())
    try:
        while time.monotonic() - started < seconds:
            samples.append((time.monotonic() - started, cluster.api_rss_kib()))
            await asyncio.sleep(
                min(sample_seconds, max(0.0, seconds - (time.monotonic() - started)))
            )
    finally:
        workload.stop.set()
        await running
    elapsed = time.monotonic() - started
    samples.append((elapsed, cluster.api_rss_kib()))
    calls = list(workload.calls)
    accounting = await account(cluster, workload, since)
    await balancer.aclose()
    return LoadResult(
        seconds=elapsed,
        figures=figures(calls),
        accounting=accounting,
        rss=samples,
        accounting_registered=workload.ledger.registered,
    )
