"""The GraphQL endpoint: happy path, the error model, and what must be refused."""

from __future__ import annotations

import httpx
import pytest

from domain.core.roles import Role
from tests.api.identity_ops import PASSWORD, call, unique_email
from tests.conftest import gql
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager


def assert_graphql_error(response: httpx.Response, status: int, code: str) -> dict:  # type: ignore[type-arg]
    assert response.status_code == status, response.text
    body = response.json()
    error = body["errors"][0]
    assert error["extensions"]["code"] == code
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert error["extensions"]["timestamp"].endswith("Z")
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", ["/graphql", "/api/v1/graphql"])
async def test_server_info(client: httpx.AsyncClient, path: str) -> None:
    response = await gql(
        client,
        "query Info { serverInfo { name version environment apiVersion serverTime } }",
        path=path,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    info = response.json()["data"]["serverInfo"]
    assert info["name"] == "gatehouse"
    assert info["environment"] == "test"
    assert info["apiVersion"] == "1"
    assert info["serverTime"].startswith("20")


async def test_syntax_error_is_400_with_code(client: httpx.AsyncClient) -> None:
    response = await gql(client, "{ serverInfo { name ")
    body = assert_graphql_error(response, 400, "GRAPHQL_PARSE_FAILED")
    assert body["data"] is None


async def test_repeated_syntax_error_still_formatted(client: httpx.AsyncClient) -> None:
    # The parser cache must not bypass our error formatting on the second hit.
    for _ in range(2):
        assert_graphql_error(await gql(client, "{ oops"), 400, "GRAPHQL_PARSE_FAILED")


async def test_unknown_field_is_400_validation(client: httpx.AsyncClient) -> None:
    response = await gql(client, "{ serverInfo { password } }")
    body = assert_graphql_error(response, 400, "GRAPHQL_VALIDATION_FAILED")
    assert "password" in body["errors"][0]["message"]


async def test_non_json_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_graphql_error(response, 400, "BAD_REQUEST")


async def test_missing_query(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"variables": {}})
    assert_graphql_error(response, 400, "BAD_REQUEST")


async def test_form_encoded_post_is_refused(client: httpx.AsyncClient) -> None:
    # A cross-site form cannot send JSON; refusing forms closes the CSRF door.
    response = await client.post("/graphql", data={"query": "{ serverInfo { name } }"})
    assert response.status_code in (400, 415)
    assert "data" not in response.json() or response.json()["data"] is None


async def test_get_mutation_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "mutation { __typename }"},
        headers={"Accept": "application/json"},
    )
    # GraphQL over HTTP: a mutation over GET is 405, with the method that would work.
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_get_query_is_answered(client: httpx.AsyncClient) -> None:
    """urql's default: queries over GET, variables as URL-encoded JSON."""
    response = await client.get(
        "/graphql",
        params={
            "query": "query Info($n: String!) { __type(name: $n) { name } serverInfo { name } }",
            "variables": '{"n": "Query"}',
            "operationName": "Info",
        },
        headers={"Accept": "application/graphql-response+json, application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert response.json()["data"] == {
        "__type": {"name": "Query"},
        "serverInfo": {"name": "gatehouse"},
    }
    assert response.headers["cache-control"] == "no-store"


async def test_session_token_in_the_url_is_ignored(
    app: LifespanManager, client: httpx.AsyncClient
) -> None:
    """Credentials travel only in the Authorization header, never in a URL (ASVS 3.1.1)."""
    email = unique_email("url-token")
    token = await signed_in_token(app, client, email)
    for name in ("access_token", "token", "authorization", "Authorization"):
        value = token if name.islower() else f"Bearer {token}"
        response = await client.get("/graphql", params={"query": "{ me { email } }", name: value})
        body = response.json()
        assert body["data"] is None, (name, body)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    with_header = await client.get(
        "/graphql",
        params={"query": "{ me { email } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert with_header.json()["data"]["me"]["email"] == email


async def test_get_query_keeps_the_limits(client: httpx.AsyncClient) -> None:
    aliased = "{ " + " ".join(f"a{i}: __typename" for i in range(120)) + " }"
    response = await client.get("/graphql", params={"query": aliased})
    assert_graphql_error(response, 400, "TOO_MANY_ALIASES")


async def test_mutation_type_absent_is_validation_error(client: httpx.AsyncClient) -> None:
    response = await gql(client, "mutation { nothing }")
    assert response.status_code == 400
    assert "Traceback" not in response.text


async def test_operation_name_reaches_access_log(client: httpx.AsyncClient) -> None:
    from loguru import logger

    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(m.record["extra"].get("operation", "")), level="INFO")
    try:
        await gql(client, "query NamedOp { serverInfo { name } }")
    finally:
        logger.remove(sink)
    assert "NamedOp" in lines


async def test_introspection_enabled_in_development_and_test(client: httpx.AsyncClient) -> None:
    response = await gql(client, "{ __schema { queryType { name } } }")
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


async def signed_in_token(app: LifespanManager, client: httpx.AsyncClient, email: str) -> str:
    await staff_account(app.state, email, PASSWORD, Role.STUDENT)
    body = await call(
        client,
        "mutation L($e: String!, $p: String!) { login(email: $e, password: $p) "
        "{ ... on AuthPayload { accessToken } } }",
        {"e": email, "p": PASSWORD},
    )
    token: str = body["data"]["login"]["accessToken"]
    return token
