"""The Dramatiq broker on real Redis: retries with backoff, dead letters, request ids."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker

from domain.core.request_context import current_request_id, request_id_var
from domain.core.settings import Settings
from workers.broker import queue_depths, setup_broker


@pytest.fixture
def broker(make_settings: Callable[..., Settings]) -> Iterator[RedisBroker]:
    settings = make_settings(job_max_retries=2, job_min_backoff_ms=10, job_max_backoff_ms=50)
    broker = setup_broker(settings)
    broker.flush_all()
    yield broker
    broker.flush_all()
    broker.close()


def run_worker_until(broker: RedisBroker, done: Callable[[], bool], timeout: float = 20) -> None:
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, "the job did not finish in time"
            time.sleep(0.02)
    finally:
        worker.stop()


def test_transient_failure_is_retried(broker: RedisBroker) -> None:
    calls: list[str | None] = []

    @dramatiq.actor(broker=broker, actor_name="test.flaky")
    def flaky() -> None:
        calls.append(current_request_id())
        if len(calls) < 2:
            raise ConnectionError("transient")

    token = request_id_var.set("req-retry-0123456789")
    try:
        flaky.send()
    finally:
        request_id_var.reset(token)
    run_worker_until(broker, lambda: len(calls) >= 2)
    assert calls == ["req-retry-0123456789", "req-retry-0123456789"]
    assert queue_depths(broker, "default")["dead"] == 0


def test_exhausted_job_lands_in_dead_letters(broker: RedisBroker) -> None:
    attempts: list[int] = []

    @dramatiq.actor(broker=broker, actor_name="test.broken")
    def broken(**_: Any) -> None:
        attempts.append(1)
        raise ValueError("permanent")

    broken.send()
    run_worker_until(broker, lambda: queue_depths(broker, "default")["dead"] == 1)
    assert len(attempts) == 3  # the first try and two retries
    assert queue_depths(broker, "default") == {"waiting": 0, "delayed": 0, "dead": 1}


def test_job_without_request_gets_its_own_id(broker: RedisBroker) -> None:
    seen: list[str | None] = []

    @dramatiq.actor(broker=broker, actor_name="test.orphan")
    def orphan() -> None:
        seen.append(current_request_id())

    message = orphan.send()
    run_worker_until(broker, lambda: bool(seen))
    assert seen == [f"job-{message.message_id}"]
