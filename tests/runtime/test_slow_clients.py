"""Slow clients against the real server (uvicorn as `make run` starts it).

A connection whose headers, or whose body, arrive too slowly is ended: headers by the
server's protocol (resolvers/http/slow_clients.py), bodies with a 408 by the body
middleware. A client that sends in time is served as usual, even on a kept-alive
connection at the moment the server is told to stop.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import Iterator

import pytest

from tests.conftest import ServiceUrls
from tests.support.processes import gatehouse_env, start_api

pytestmark = pytest.mark.slow
DEADLINE = 1.0


@pytest.fixture(scope="module")
def env(
    service_urls: ServiceUrls, database_name: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    return gatehouse_env(
        {
            "GATEHOUSE_ENVIRONMENT": "test",
            "GATEHOUSE_MONGODB_URL": service_urls.mongodb_url,
            "GATEHOUSE_MONGODB_DATABASE": database_name,
            "GATEHOUSE_REDIS_URL": service_urls.redis_url,
            "GATEHOUSE_VAR_DIR": str(tmp_path_factory.mktemp("var")),
            "GATEHOUSE_REQUEST_HEADER_TIMEOUT_SECONDS": str(DEADLINE),
            "GATEHOUSE_REQUEST_BODY_TIMEOUT_SECONDS": str(DEADLINE),
        }
    )


@pytest.fixture(scope="module")
def port(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    process, api_port = start_api(env, tmp_path_factory.mktemp("logs") / "api.log")
    yield api_port
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


async def _read_all(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.read(), DEADLINE * 5)


async def test_headers_that_never_finish_end_the_connection(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    await writer.drain()
    started = asyncio.get_running_loop().time()
    assert await _read_all(reader) == b""  # closed by the server, no answer
    assert asyncio.get_running_loop().time() - started < DEADLINE * 4
    writer.close()


async def test_a_silent_connection_is_closed(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert await _read_all(reader) == b""
    writer.close()


async def test_a_trickled_body_gets_408(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"query":'
    )
    await writer.drain()
    answer = await _read_all(reader)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"REQUEST_TIMEOUT" in answer
    writer.close()


async def test_a_prompt_client_is_served(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    await writer.drain()
    answer = await _read_all(reader)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    writer.close()


async def _refused(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return True
    writer.close()
    return False


async def test_a_request_sent_as_the_server_stops_is_answered(
    env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    process, api_port = start_api(env, tmp_path_factory.mktemp("stopping") / "api.log")
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", api_port)
        request = b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        writer.write(request)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), DEADLINE * 5)
        assert head.startswith(b"HTTP/1.1 200"), head
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        # The connection is idle and kept alive. The server is told to stop: once it
        # refuses new connections it has told every open one (uvicorn does both at once).
        process.send_signal(signal.SIGTERM)
        for _ in range(500):
            if await _refused(api_port):
                break
            await asyncio.sleep(0.01)
        # A request already on its way (a load balancer's last pick) is still answered.
        writer.write(request)
        answer = await asyncio.wait_for(reader.read(), DEADLINE * 5)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert b"connection: close" in answer.lower()
        writer.close()
        assert process.wait(timeout=20) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
