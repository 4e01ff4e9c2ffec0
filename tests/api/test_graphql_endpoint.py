"""The GraphQL endpoint: happy path, the error model, and what must be refused."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import gql


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
    assert response.status_code in (400, 405)
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_get_query_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "{ serverInfo { name } }"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code in (400, 405)
    assert "serverInfo" not in response.text


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
