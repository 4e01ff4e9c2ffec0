"""The real processes: uvicorn serving the app, the dramatiq worker, and how both stop."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis as sync_redis

from tests.conftest import ServiceUrls
from tests.support.processes import gatehouse_env, start_api, start_worker

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(
    service_urls: ServiceUrls, database_name: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    var = tmp_path_factory.mktemp("var")
    return gatehouse_env(
        {
            "GATEHOUSE_ENVIRONMENT": "test",
            "GATEHOUSE_MONGODB_URL": service_urls.mongodb_url,
            "GATEHOUSE_MONGODB_DATABASE": database_name,
            "GATEHOUSE_REDIS_URL": service_urls.redis_url,
            "GATEHOUSE_VAR_DIR": str(var),
            "GATEHOUSE_LOG_JSON": "true",
            "GATEHOUSE_SHUTDOWN_GRACE_SECONDS": "10",
        }
    )


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def api(env: dict[str, str], logs: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    process, port = start_api(env, logs / "api.log")
    yield process, port
    if process.poll() is None:
        process.kill()
        process.wait()


async def test_uvicorn_serves_without_server_header(
    api: tuple[subprocess.Popen[bytes], int],
) -> None:
    _, port = api
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        health = await http.get("/api/health")
    assert health.status_code == 200, health.text
    assert "server" not in health.headers
    assert health.headers["x-request-id"]


async def test_sigterm_lets_in_flight_requests_finish(
    api: tuple[subprocess.Popen[bytes], int], logs: Path
) -> None:
    process, port = api
    body = b'{"query": "query Slow { serverInfo { name } }"}'

    async def slow_body():  # type: ignore[no-untyped-def]
        # The request is in flight (headers sent, body trickling) when SIGTERM lands.
        for i in range(0, len(body), 8):
            yield body[i : i + 8]
            await asyncio.sleep(0.15)

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
        requests = [
            asyncio.create_task(
                http.post(
                    "/graphql",
                    content=slow_body(),
                    headers={"Content-Type": "application/json"},
                )
            )
            for _ in range(3)
        ]
        await asyncio.sleep(0.4)
        process.send_signal(signal.SIGTERM)
        responses = await asyncio.gather(*requests)

    for response in responses:
        assert response.status_code == 200, response.text
        assert response.json()["data"]["serverInfo"]["name"] == "gatehouse"
    # uvicorn re-raises the signal it handled once shutdown is complete.
    assert process.wait(timeout=15) in (0, -signal.SIGTERM)
    # New connections are refused once it has stopped.
    async with httpx.AsyncClient(timeout=2) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/livez")
    assert "closing connection pools" in (logs / "api.log").read_text()


def _wait_for_key(client: sync_redis.Redis, key: str, timeout: float) -> bytes | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = client.get(key)
        if value is not None:
            return value  # type: ignore[no-any-return]
        time.sleep(0.05)
    return None


@pytest.fixture
def enqueue(env: dict[str, str]):  # type: ignore[no-untyped-def]
    from domain.core.request_context import request_id_var
    from domain.core.settings import Settings
    from workers.broker import setup_broker

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        redis_url=env["GATEHOUSE_REDIS_URL"],
        environment="test",
    )
    broker = setup_broker(settings)
    import workers.actors.system as system

    def send(request_id: str, **kwargs: object) -> str:
        token = uuid.uuid4().hex
        reset = request_id_var.set(request_id)
        try:
            system.ping.send(token, **kwargs)
        finally:
            request_id_var.reset(reset)
        return token

    yield send
    broker.close()


def test_job_runs_in_worker_with_request_id(
    env: dict[str, str],
    logs: Path,
    enqueue,
    service_urls: ServiceUrls,  # type: ignore[no-untyped-def]
) -> None:
    from workers.actors.system import ping_key

    worker = start_worker(env, logs / "worker.log")
    client = sync_redis.Redis.from_url(service_urls.redis_url)
    try:
        token = enqueue("req-job-0123456789")
        assert _wait_for_key(client, ping_key(token), 30) == b"req-job-0123456789"
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        client.close()
    log = (logs / "worker.log").read_text()
    assert "Traceback" not in log


def test_sigterm_lets_the_worker_finish_its_job(
    env: dict[str, str],
    logs: Path,
    enqueue,
    service_urls: ServiceUrls,  # type: ignore[no-untyped-def]
) -> None:
    from workers.actors.system import ping_key

    worker = start_worker(env, logs / "worker.log")
    client = sync_redis.Redis.from_url(service_urls.redis_url)
    try:
        token = enqueue("req-hold-0123456789", hold_ms=1500)
        assert _wait_for_key(client, ping_key(token, "started"), 30) is not None
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
        assert client.get(ping_key(token)) == b"req-hold-0123456789"
    finally:
        if worker.poll() is None:
            worker.kill()
        client.close()


def test_job_of_a_killed_worker_is_redelivered_and_completes(
    service_urls: ServiceUrls, database_name: str, logs: Path, env: dict[str, str]
) -> None:
    from domain.core.request_context import request_id_var
    from domain.core.settings import Settings
    from workers.actors.system import ping_key
    from workers.broker import setup_broker

    fast = {
        **env,
        "GATEHOUSE_JOB_HEARTBEAT_TIMEOUT_MS": "2000",
        "GATEHOUSE_JOB_MAINTENANCE_CHANCE": "1000000",
    }
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        redis_url=service_urls.redis_url,
        job_heartbeat_timeout_ms=2000,
        job_maintenance_chance=1_000_000,
    )
    broker = setup_broker(settings)
    import workers.actors.system as system

    client = sync_redis.Redis.from_url(service_urls.redis_url)
    first = start_worker(fast, logs / "first.log")
    second = None
    try:
        token = uuid.uuid4().hex
        reset = request_id_var.set("req-killed-0123456789")
        try:
            system.ping.send(token, hold_ms=4000)
        finally:
            request_id_var.reset(reset)
        assert _wait_for_key(client, ping_key(token, "started"), 30) is not None
        # The worker dies mid-job without a chance to acknowledge or requeue.
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        assert client.get(ping_key(token)) is None
        second = start_worker(fast, logs / "second.log")
        assert _wait_for_key(client, ping_key(token), 45) == b"req-killed-0123456789"
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
        client.close()
        broker.close()
