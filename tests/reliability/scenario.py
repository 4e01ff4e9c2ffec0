"""Run the mixed workload around a fault and split its requests into before / during / after.

"During" holds every request still running when the fault is injected or started
before every API process answers ``/readyz`` again once the dependency is back (what a
load balancer waits for); "after" is every request started later: all must succeed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.reliability.accounting import Accounting, account
from tests.reliability.cluster import Cluster
from tests.reliability.workload import Balancer, Call, Figures, Workload, figures

Fault = Callable[[Cluster, Balancer], Awaitable[None]]

HEADER = (
    f"{'scenario':<18}{'requests':>9}{'err before':>11}{'err outage':>11}{'unclear':>8}"
    f"{'max outage ms':>14}{'err after':>10}{'lost':>6}{'dup mail':>9}{'hook rep':>9}"
    f"{'revoked ok':>11}{'p99 ms':>8}"
)


@dataclass
class ScenarioResult:
    name: str
    calls: list[Call]
    before: list[Call]
    during: list[Call]
    after: list[Call]
    accounting: Accounting
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def overall(self) -> Figures:
        return figures(self.calls)

    def errors(self, calls: list[Call]) -> int:
        return sum(1 for c in calls if c.error is not None)

    @property
    def unclear(self) -> list[Call]:
        return [c for c in self.during if not c.clear]

    @property
    def max_outage_ms(self) -> float:
        return max((c.elapsed for c in self.during), default=0.0) * 1000

    def line(self) -> str:
        a = self.accounting
        return (
            f"{self.name:<18}{len(self.calls):>9}{self.errors(self.before):>11}"
            f"{self.errors(self.during):>11}{len(self.unclear):>8}{self.max_outage_ms:>14.0f}"
            f"{self.errors(self.after):>10}{a.writes_lost:>6}{a.duplicates:>9}"
            f"{a.webhook_duplicates:>9}{a.revoked_accepted:>11}{self.overall.p99_ms:>8.0f}"
        )

    def details(self) -> str:
        a = self.accounting
        outage_codes = figures(self.during).codes
        return (
            f"  {self.name}: outage answers {outage_codes or '-'}; after-recovery errors "
            f"{figures(self.after).codes or '-'}; registered {len(self.ledger_registered)}, "
            f"emails {a.emails_requested}, webhook events {a.webhook_events} "
            f"(delivered {a.webhook_delivered}, failed visibly {a.webhook_failed_visibly}), "
            f"logged-out sessions checked {a.revoked_checked}; queues settled in "
            f"{a.settle_seconds:.1f} s; {self.notes or ''}"
        )

    ledger_registered: set[str] = field(default_factory=set)


async def run_scenario(
    cluster: Cluster,
    name: str,
    fault: Fault,
    *,
    clients: int = 8,
    warm_seconds: float = 3.0,
    after_seconds: float = 5.0,
    notes: dict[str, object] | None = None,
) -> ScenarioResult:
    since = datetime.now(UTC) - timedelta(seconds=1)
    balancer = Balancer([api.url for api in cluster.apis])
    workload = Workload(balancer, cluster.inbox, clients=clients, prefix=name)
    running = asyncio.create_task(workload.run())
    try:
        await asyncio.sleep(warm_seconds)
        fault_at = time.monotonic()
        await fault(cluster, balancer)
        await asyncio.to_thread(cluster.wait_ready)
        recovered_at = time.monotonic()
        await asyncio.sleep(after_seconds)
    finally:
        workload.stop.set()
        await running
    accounting = await account(cluster, workload, since)
    await balancer.aclose()
    calls = [c for c in workload.calls if not c.op.startswith("check_")]
    return ScenarioResult(
        name=name,
        calls=calls,
        before=[c for c in calls if c.started + c.elapsed < fault_at],
        during=[c for c in calls if c.started + c.elapsed >= fault_at and c.started < recovered_at],
        after=[c for c in calls if c.started >= recovered_at],
        accounting=accounting,
        notes=notes if notes is not None else {},
        ledger_registered=workload.ledger.registered,
    )
