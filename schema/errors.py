"""Turn GraphQL errors into what a client may see.

Three paths (DESIGN.md section 3): a GraphQL error the client caused (syntax,
validation, bad variables, a limit) keeps its message; a ``DomainError`` or an
error raised with an explicit ``extensions.code`` (permission classes) keeps its
message and code; MongoDB or Redis being unreachable is ``SERVICE_UNAVAILABLE``
(retry later); anything else is logged with its stack and masked as
``INTERNAL_SERVER_ERROR``. Every error gets ``requestId`` and ``timestamp``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from loguru import logger

from domain.core.error_tracking import report_exception
from domain.core.errors import DependencyUnavailableError, DomainError
from domain.core.outages import is_dependency_outage
from domain.core.request_context import current_request_id

INTERNAL_MESSAGE = "An unexpected error occurred. Quote the request id when reporting it."


def _timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def error_extensions(code: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "requestId": current_request_id(), "timestamp": _timestamp(), **extra}


_LIMIT_CODES = (
    ("exceeds maximum operation depth", "QUERY_TOO_DEEP"),
    ("aliases found. Allowed", "TOO_MANY_ALIASES"),
    ("tokens. Parsing aborted", "TOO_MANY_TOKENS"),
    ("Batching is not enabled", "BATCHING_DISABLED"),
    ("Too many operations", "BATCH_TOO_LARGE"),
)


def _client_error_code(error: GraphQLError) -> str:
    for fragment, code in _LIMIT_CODES:
        if fragment in error.message:
            return code
    if isinstance(error, GraphQLSyntaxError) or error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith("Variable "):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def format_error(error: GraphQLError, *, pre_execution: bool) -> dict[str, Any]:
    """One error as it goes to the client."""
    original = error.original_error
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [loc._asdict() for loc in error.locations]
    if error.path:
        formatted["path"] = error.path

    own_code = (error.extensions or {}).get("code")
    if isinstance(original, DomainError):
        formatted["message"] = original.message
        extra = {k: v for k, v in original.details.items() if isinstance(v, str | int | bool)}
        formatted["extensions"] = error_extensions(original.code, **extra)
    elif own_code is not None and (original is None or isinstance(original, GraphQLError)):
        formatted["extensions"] = {**(error.extensions or {}), **error_extensions(str(own_code))}
    elif (
        original is None
        or isinstance(original, GraphQLError)
        or (pre_execution and error.message.startswith("Variable "))
    ):
        formatted["extensions"] = error_extensions(_client_error_code(error))
    elif is_dependency_outage(original):
        # MongoDB or Redis is down: the client should retry, the operator sees one line
        # per request (the health routes name the dependency), not a stack per request.
        logger.warning("dependency unavailable: {}: {}", type(original).__name__, original)
        formatted["message"] = DependencyUnavailableError.default_message
        formatted.pop("locations", None)
        formatted["extensions"] = error_extensions(DependencyUnavailableError.code)
    else:
        logger.opt(exception=original).error(
            "unexpected error in GraphQL resolver at {}", ".".join(map(str, error.path or []))
        )
        report_exception(original)
        formatted["message"] = INTERNAL_MESSAGE
        formatted.pop("locations", None)
        formatted["extensions"] = error_extensions("INTERNAL_SERVER_ERROR")
    return formatted


def format_errors(errors: Sequence[GraphQLError], *, pre_execution: bool) -> list[dict[str, Any]]:
    return [format_error(e, pre_execution=pre_execution) for e in errors]


def http_error_body(message: str, code: str) -> dict[str, Any]:
    """A transport-level failure (bad JSON, wrong method) in the GraphQL error shape."""
    return {"data": None, "errors": [{"message": message, "extensions": error_extensions(code)}]}
