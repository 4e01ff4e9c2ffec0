"""Health and status routes against real services, including a Redis that goes away."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
import services

from domain.core.settings import Settings
from tests.support.asgi import LifespanManager, app_client


async def test_health_all_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"mongo", "redis", "email", "queue"}
    for check in body["checks"].values():
        assert check["status"] == "up"
        assert check["latencyMs"] >= 0
    assert body["checks"]["queue"]["details"]["queue"] == "default"
    assert {"waiting", "delayed", "dead"} <= set(body["checks"]["queue"]["details"])
    assert body["checks"]["email"]["details"]["transport"] == "file"


async def test_readyz_and_livez(client: httpx.AsyncClient) -> None:
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert set(ready.json()["checks"]) == {"mongo", "redis"}
    assert (await client.get("/livez")).json() == {"status": "ok"}


async def test_status(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/status")).json()
    assert body["service"] == "gatehouse"
    assert body["environment"] == "test"
    assert body["version"]
    assert body["uptimeSeconds"] >= 0
    assert len(body["schemaHash"]) == 16


async def test_openapi_describes_rest_routes(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/health", "/api/status", "/livez", "/readyz"} <= set(doc["paths"])


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[services.Service]:
    service = services.redis_server(tmp_path_factory.mktemp("own-redis")).start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def silent_smtp() -> Iterator[int]:
    """A TCP server that accepts connections and never says a word (a hung SMTP host)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


@pytest.fixture
async def isolated_client(
    make_settings: Callable[..., Settings], own_redis: services.Service
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        redis_url=f"redis://127.0.0.1:{own_redis.port}/0",
        redis_socket_timeout_seconds=0.5,
        redis_connect_timeout_seconds=0.5,
    )
    async with app_client(settings) as http:
        yield http


async def test_redis_down_then_back_without_restart(
    isolated_client: httpx.AsyncClient, own_redis: services.Service
) -> None:
    assert (await isolated_client.get("/api/health")).status_code == 200

    own_redis.stop()
    started = time.monotonic()
    down = await isolated_client.get("/api/health")
    assert time.monotonic() - started < 3.0
    assert down.status_code == 503
    body = down.json()
    assert body["status"] == "unavailable"
    assert "redis" in body["failing"]
    assert body["checks"]["redis"]["status"] == "down"
    assert body["checks"]["mongo"]["status"] == "up"
    assert (await isolated_client.get("/readyz")).status_code == 503

    own_redis.start()
    for _ in range(50):
        recovered = await isolated_client.get("/api/health")
        if recovered.status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert recovered.status_code == 200, recovered.text
    assert (await isolated_client.get("/readyz")).status_code == 200


async def test_hung_email_server_is_cut_at_deadline(
    make_settings: Callable[..., Settings], silent_smtp: int
) -> None:
    from app import create_app

    settings = make_settings(
        email_backend="smtp",
        smtp_port=silent_smtp,
        smtp_timeout_seconds=30,
        health_check_timeout_seconds=0.5,
    )
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            started = time.monotonic()
            response = await http.get("/api/health")
            elapsed = time.monotonic() - started
    assert elapsed < 2.5
    assert response.status_code == 503
    assert response.json()["failing"] == ["email"]
    assert "0.5s" in response.json()["checks"]["email"]["error"]


async def test_file_outbox_not_writable_is_down(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    from app import create_app

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the outbox folder should be")
    settings = make_settings(mail_dir=blocker)
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/api/health")
    assert response.status_code == 503
    assert response.json()["failing"] == ["email"]


async def test_metrics_in_prometheus_format(client: httpx.AsyncClient) -> None:
    await client.get("/livez")
    await client.get("/nope")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'gatehouse_http_requests_total{method="GET",status="2xx"}' in text
    assert 'gatehouse_http_requests_total{method="GET",status="4xx"}' in text
    assert 'gatehouse_queue_messages{queue="email",state="dead"}' in text
    assert "gatehouse_queue_broker_up{} 1" in text
    assert 'gatehouse_http_request_duration_seconds_bucket{le="+Inf"}' in text
