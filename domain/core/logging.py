"""Structured logging with loguru.

JSON lines in production, readable lines in development. Every record carries the
``request_id`` (and ``user_id`` once known) bound with ``logger.contextualize``.
Standard-library loggers (uvicorn, strawberry, dramatiq) are routed into loguru so
there is one format and one place that caps noisy messages.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any, TextIO

import orjson
from loguru import logger

from domain.core.request_context import request_id_var, user_id_var

if TYPE_CHECKING:
    from loguru import Message, Record

    from domain.core.settings import Settings

# Strawberry logs every rejected query in full at ERROR; an attacker could use that
# to flood the logs, so messages are cut to this many characters.
MAX_MESSAGE_CHARS = 2_000

_STD_LOGGERS = ("uvicorn", "uvicorn.error", "strawberry.execution", "dramatiq", "pymongo")


def _truncate(text: str) -> str:
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    return text[:MAX_MESSAGE_CHARS] + f"... [{len(text) - MAX_MESSAGE_CHARS} chars cut]"


def _json_line(record: Record) -> str:
    payload: dict[str, Any] = {
        "ts": record["time"].isoformat(),
        "level": record["level"].name.lower(),
        "logger": record["name"],
        "msg": _truncate(record["message"]),
    }
    extra = record["extra"]
    for key, value in extra.items():
        if not key.startswith("_"):
            payload[key] = value
    exc = record["exception"]
    if exc is not None and exc.type is not None:
        import traceback

        payload["error"] = {
            "type": exc.type.__name__,
            "message": _truncate(str(exc.value)),
            "stack": "".join(traceback.format_exception(exc.type, exc.value, exc.traceback)),
        }
    return orjson.dumps(payload, default=str).decode()


class _JsonSink:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, message: Message) -> None:
        self._stream.write(_json_line(message.record) + "\n")
        self._stream.flush()


def _dev_format(record: Record) -> str:
    rid = record["extra"].get("request_id")
    uid = record["extra"].get("user_id")
    scope = ""
    if rid:
        scope += f" <cyan>rid={str(rid)[:8]}</cyan>"
    if uid:
        scope += f" <magenta>uid={uid}</magenta>"
    fields = {k: v for k, v in record["extra"].items() if k not in {"request_id", "user_id"}}
    tail = (" " + " ".join(f"{k}={v}" for k, v in fields.items())) if fields else ""
    record["extra"]["_msg"] = _truncate(record["message"]) + tail
    return (
        "<green>{time:HH:mm:ss.SSS}</green> <level>{level: <7}</level>"
        + scope.replace("{", "{{").replace("}", "}}")
        + " {name}: {extra[_msg]}\n{exception}"
    )


def _file_format(record: Record) -> str:
    record["extra"]["_json"] = _json_line(record)
    return "{extra[_json]}\n"


class InterceptHandler(logging.Handler):
    """Send standard-library records to loguru, keeping their level and origin."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.bind(logger=record.name).opt(depth=6, exception=record.exc_info).log(
            level, record.getMessage()
        )


def _bind_request_scope(record: Record) -> None:
    extra = record["extra"]
    if "request_id" not in extra and (rid := request_id_var.get()) is not None:
        extra["request_id"] = rid
    if "user_id" not in extra and (uid := user_id_var.get()) is not None:
        extra["user_id"] = uid


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> None:
    """Install the sinks for this process. Safe to call more than once."""
    logger.remove()
    logger.configure(patcher=_bind_request_scope)
    out = stream or sys.stderr
    if settings.log_json:
        # The sink builds its line from the record: a bare format spares loguru from
        # rendering its default one (time, level, location) for every line only to drop it.
        logger.add(
            _JsonSink(out).write, level=settings.log_level, format="{message}", enqueue=False
        )
    else:
        logger.add(out, level=settings.log_level, format=_dev_format, colorize=out.isatty())
    if settings.log_file is not None:
        settings.log_file.parent.mkdir(parents=True, exist_ok=True)
        logger.add(
            settings.log_file,
            level=settings.log_level,
            format=_file_format,
            rotation=settings.log_rotation,
            retention=settings.log_retention,
            enqueue=True,
        )
    logging.basicConfig(handlers=[InterceptHandler()], level=logging.INFO, force=True)
    for name in _STD_LOGGERS:
        std = logging.getLogger(name)
        std.handlers = [InterceptHandler()]
        std.propagate = False
    # uvicorn's own access log is replaced by ours (it would print query strings).
    logging.getLogger("uvicorn.access").handlers = []
    logging.getLogger("uvicorn.access").propagate = False
    # Client libraries log full URLs at INFO; those may carry tokens.
    for name in ("pymongo", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
