"""Structured logs: JSON lines carry the request id, messages are capped, tokens stay out."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator

import httpx
import orjson
import pytest
from loguru import logger

from domain.core.logging import MAX_MESSAGE_CHARS, configure_logging
from domain.core.settings import Settings
from tests.support.asgi import LifespanManager


@pytest.fixture
def json_stream(make_settings: Callable[..., Settings]) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    stream.isatty = lambda: False  # type: ignore[method-assign]
    configure_logging(make_settings(log_json=True, log_level="INFO"), stream=stream)
    yield stream
    configure_logging(make_settings())


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_line_shape(json_stream: io.StringIO) -> None:
    logger.bind(component="x").info("hello {}", "world")
    (record,) = lines(json_stream)
    assert record["msg"] == "hello world"
    assert record["level"] == "info"
    assert record["component"] == "x"
    assert str(record["ts"]).startswith("20")


def test_stdlib_loggers_are_routed_and_capped(json_stream: io.StringIO) -> None:
    logging.getLogger("strawberry.execution").error("q" * (MAX_MESSAGE_CHARS * 3))
    (record,) = lines(json_stream)
    assert record["logger"] == "strawberry.execution"
    assert len(str(record["msg"])) < MAX_MESSAGE_CHARS + 100


def test_exception_stack_is_logged(json_stream: io.StringIO) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    (record,) = lines(json_stream)
    error = record["error"]
    assert isinstance(error, dict)
    assert error["type"] == "ValueError"
    assert "Traceback" in error["stack"]


async def test_request_lines_carry_request_id_and_no_query_string(
    make_settings: Callable[..., Settings],
) -> None:
    from app import create_app

    stream = io.StringIO()
    settings = make_settings(log_json=True, log_level="INFO")
    application = create_app(settings)
    configure_logging(settings, stream=stream)
    try:
        async with LifespanManager(application) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                response = await http.get(
                    "/api/status?token=s3cr3t-token-value",
                    headers={"X-Request-ID": "req-abcdef123456"},
                )
    finally:
        configure_logging(make_settings())
    assert response.status_code == 200
    records = lines(stream)
    access = [r for r in records if r.get("path") == "/api/status"]
    assert access, records
    assert access[0]["request_id"] == "req-abcdef123456"
    assert access[0]["status"] == 200
    assert access[0]["method"] == "GET"
    assert "duration_ms" in access[0]
    assert "s3cr3t-token-value" not in stream.getvalue()


def test_file_sink_writes_json_lines(make_settings: Callable[..., Settings], tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "logs" / "gatehouse.jsonl"
    configure_logging(make_settings(log_file=path, log_level="INFO"), stream=io.StringIO())
    try:
        logger.bind(component="file").info("to the file")
        logger.complete()
    finally:
        configure_logging(make_settings())
    (record,) = [orjson.loads(line) for line in path.read_text().splitlines()]
    assert record["msg"] == "to the file"
    assert record["component"] == "file"
