"""The mixed workload on two API processes for a bounded time: no errors, nothing lost.

Figures (requests, errors, p50/p99, RSS at start and end) go to the "reliability
figures" section of the test log; the long run with an RSS trend is ``make soak``.
"""

from __future__ import annotations

import pytest

from tests.reliability.cluster import Cluster
from tests.reliability.conftest import report
from tests.reliability.load import run_load

pytestmark = pytest.mark.slow


async def test_mixed_workload_serves_every_request(cluster: Cluster) -> None:
    result = await run_load(cluster, seconds=15, clients=10, sample_seconds=3, prefix="load")
    for line in result.lines("load"):
        report(line)
    assert result.figures.errors == 0, result.figures.codes
    assert result.figures.requests > 100
    a = result.accounting
    assert a.writes_lost == 0
    assert a.duplicates == 0
    assert a.revoked_checked > 0
    assert a.revoked_accepted == 0
    # Every API process served: the balancer spread the users over them.
    assert len(result.rss[-1][1]) == len(cluster.apis) >= 2
