"""Pure logic: client IP behind proxies, request ids, GraphQL error masking."""

from __future__ import annotations

import pytest
from graphql import GraphQLError

from domain.core.errors import NotFoundError, RateLimitedError
from domain.core.request_context import accept_request_id
from resolvers.http.client_ip import client_ip, parse_networks
from schema.errors import INTERNAL_MESSAGE, format_error

PROXIES = parse_networks(["10.0.0.0/8", "127.0.0.1"])


@pytest.mark.parametrize(
    ("peer", "xff", "expected"),
    [
        ("198.51.100.1", None, "198.51.100.1"),
        # An untrusted peer cannot claim another address.
        ("198.51.100.1", "1.2.3.4", "198.51.100.1"),
        # Through our proxy: the client is the right-most untrusted hop.
        ("10.0.0.5", "203.0.113.9", "203.0.113.9"),
        ("10.0.0.5", "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        ("10.0.0.5", "203.0.113.9, 10.1.1.1", "203.0.113.9"),
        # Garbage in the header: fall back to what we know.
        ("10.0.0.5", "not-an-ip", "10.0.0.5"),
        ("127.0.0.1", "10.2.2.2", "10.2.2.2"),
    ],
)
def test_client_ip(peer: str, xff: str | None, expected: str) -> None:
    assert client_ip(peer, xff, PROXIES) == expected


def test_client_ip_without_trusted_proxies_ignores_header() -> None:
    assert client_ip("10.0.0.5", "203.0.113.9", ()) == "10.0.0.5"


def test_request_id_acceptance() -> None:
    assert accept_request_id("abc-123-DEF_456") == "abc-123-DEF_456"
    for bad in (None, "", "short", "a b c d e f g h", "x" * 129, "id\r\nSet-Cookie: a=b"):
        assert accept_request_id(bad) != bad


def test_unexpected_error_is_masked() -> None:
    error = GraphQLError("db password is hunter2", original_error=RuntimeError("hunter2"))
    formatted = format_error(error, pre_execution=False)
    assert formatted["message"] == INTERNAL_MESSAGE
    assert formatted["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "hunter2" not in str(formatted)


def test_domain_error_keeps_message_and_code() -> None:
    error = GraphQLError("x", original_error=RateLimitedError(retry_after_seconds=7))
    formatted = format_error(error, pre_execution=False)
    assert formatted["extensions"]["code"] == "RATE_LIMITED"
    assert formatted["extensions"]["retry_after_seconds"] == 7
    assert formatted["message"] == "Too many requests."
    nf = format_error(GraphQLError("x", original_error=NotFoundError()), pre_execution=False)
    assert nf["extensions"]["code"] == "NOT_FOUND"


def test_error_with_explicit_code_is_kept() -> None:
    error = GraphQLError("You must sign in.", extensions={"code": "UNAUTHENTICATED"})
    formatted = format_error(error, pre_execution=False)
    assert formatted["extensions"]["code"] == "UNAUTHENTICATED"
    assert formatted["message"] == "You must sign in."


def test_variable_error_before_execution_is_bad_input() -> None:
    error = GraphQLError("Variable '$x' got invalid value 3", original_error=ValueError("no"))
    assert format_error(error, pre_execution=True)["extensions"]["code"] == "BAD_USER_INPUT"
    assert format_error(error, pre_execution=False)["extensions"]["code"] == (
        "INTERNAL_SERVER_ERROR"
    )
