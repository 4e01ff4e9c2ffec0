"""A request that meets a dead MongoDB or Redis says so with a code a client can act on."""

from __future__ import annotations

import pytest
from graphql import GraphQLError
from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from schema.errors import INTERNAL_MESSAGE, format_error


@pytest.mark.parametrize(
    "cause",
    [
        ServerSelectionTimeoutError("127.0.0.1:27017: [Errno 111] Connection refused"),
        AutoReconnect("connection closed"),
        RedisConnectionError("Error 111 connecting to 127.0.0.1:6379."),
        RedisTimeoutError("Timeout reading from socket"),
    ],
)
def test_unreachable_dependency_is_service_unavailable(cause: Exception) -> None:
    error = GraphQLError("boom", path=["login"], original_error=cause)
    formatted = format_error(error, pre_execution=False)
    assert formatted["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    # No addresses or driver text reach the client.
    assert "127.0.0.1" not in formatted["message"]
    assert "connect" not in formatted["message"].lower()


def test_other_failures_stay_masked_as_internal() -> None:
    error = GraphQLError("boom", path=["login"], original_error=KeyError("secret"))
    formatted = format_error(error, pre_execution=False)
    assert formatted["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert formatted["message"] == INTERNAL_MESSAGE
