"""Faults under a concurrent mixed workload: answered clearly, recovered, nothing lost.

Each scenario runs the workload (tests/reliability/workload.py) on two API processes,
injects one fault, brings the dependency back, keeps going, lets the queues settle and
then accounts: every acknowledged registration and verification is in the database,
every requested email reached the SMTP sink exactly once, every webhook event reached
the receiver (or is visibly failed), and no logged-out session's tokens work again.
"""

from __future__ import annotations

import signal

import pytest

from tests.reliability import faults
from tests.reliability.cluster import OUTAGE_BOUND_SECONDS, Cluster
from tests.reliability.conftest import report
from tests.reliability.scenario import HEADER, ScenarioResult, run_scenario

pytestmark = pytest.mark.slow

# What a client may be told while MongoDB or Redis is gone: retry later. Never
# UNAUTHENTICATED: a client hearing it throws its tokens away, so a Redis restart would
# sign every active user out (a token that cannot be checked is refused as 503).
OUTAGE_ANSWERS = {"code:SERVICE_UNAVAILABLE"}


def record(result: ScenarioResult) -> None:
    if not any(line == HEADER for line in _reported):
        report(HEADER)
        _reported.append(HEADER)
    report(result.line())
    report(result.details())


_reported: list[str] = []


def assert_nothing_lost(result: ScenarioResult) -> None:
    a = result.accounting
    assert result.errors(result.before) == 0, result.details()
    assert result.errors(result.after) == 0, result.details()
    assert a.users_lost == [], a.users_lost
    assert a.verifications_lost == [], a.verifications_lost
    assert a.emails_lost == [], a.emails_lost
    assert a.email_duplicates == {}, a.email_duplicates
    assert a.webhook_lost == [], a.webhook_lost
    # At-least-once with an event id (README): the receiver dedupes, and every event
    # generated arrived once it does.
    assert a.webhook_delivered + a.webhook_failed_visibly == a.webhook_events
    assert a.revoked_checked > 0
    assert a.revoked_accepted == 0
    assert len(result.ledger_registered) > 0


def assert_outage_answered_clearly(result: ScenarioResult) -> None:
    assert result.unclear == [], result.unclear[:5]
    codes = {c.error for c in result.during if c.error is not None}
    assert codes <= OUTAGE_ANSWERS, codes
    slow = [c for c in result.during if c.elapsed > OUTAGE_BOUND_SECONDS]
    assert slow == [], slow[:5]


async def test_redis_restart(cluster: Cluster) -> None:
    result = await run_scenario(cluster, "redis-restart", faults.restart_redis)
    record(result)
    assert_outage_answered_clearly(result)
    assert_nothing_lost(result)


async def test_ferretdb_killed_and_restarted(cluster: Cluster) -> None:
    result = await run_scenario(cluster, "ferretdb-kill", faults.restart_ferretdb)
    record(result)
    assert_outage_answered_clearly(result)
    # The outage was seen (the workload writes to MongoDB on every step).
    assert result.errors(result.during) > 0
    assert_nothing_lost(result)


async def test_worker_sigkilled_and_replaced(cluster: Cluster) -> None:
    result = await run_scenario(cluster, "worker-sigkill", faults.kill_worker)
    record(result)
    # The request path does not need a worker: no request fails at all.
    assert result.errors(result.during) == 0, result.details()
    assert_nothing_lost(result)


async def test_api_sigterm_finishes_in_flight_requests(cluster: Cluster) -> None:
    replacement = faults.ApiReplacement()
    result = await run_scenario(cluster, "api-sigterm", replacement)
    in_flight = [
        c
        for c in result.calls
        if c.port == replacement.stopped_port
        and c.started < replacement.signalled_at < c.started + c.elapsed
    ]
    result.notes["in flight at SIGTERM"] = len(in_flight)
    record(result)
    assert replacement.exit_code in (0, -signal.SIGTERM)
    # Requests the process had accepted completed: no reset, no error.
    assert result.errors(result.calls) == 0, result.details()
    assert_nothing_lost(result)
