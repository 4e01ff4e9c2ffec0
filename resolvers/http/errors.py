"""The REST error envelope: ``{error, message, code, statusCode, timestamp, requestId}``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from loguru import logger
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.core.error_tracking import report_exception
from domain.core.errors import DomainError
from domain.core.request_context import current_request_id

_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    408: "REQUEST_TIMEOUT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_FAILED",
    429: "RATE_LIMITED",
    500: "INTERNAL_SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def error_body(
    status: int, message: str, code: str | None = None, details: Any = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "error": HTTPStatus(status).phrase,
        "message": message,
        "code": code or _CODES.get(status, "ERROR"),
        "statusCode": status,
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestId": current_request_id(),
    }
    if details is not None:
        body["details"] = details
    return body


def error_response(
    status: int,
    message: str,
    code: str | None = None,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(status, message, code, details), status, headers=headers)


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return error_response(exc.status_code, message, headers=exc.headers)


async def domain_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error_response(exc.status_code, exc.message, exc.code, exc.details or None)


def internal_error_response(exc: BaseException) -> JSONResponse:
    logger.opt(exception=exc).error("unhandled error")
    report_exception(exc)
    return error_response(
        500, "An unexpected error occurred. Quote the request id when reporting it."
    )
