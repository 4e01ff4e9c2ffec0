"""GraphQL over HTTP: the response media type a client asks for decides status and shape.

``application/graphql-response+json`` (Apollo Client 4, urql): a request error is a 400
without ``data``, so clients can read its codes. ``application/json`` named alone: a
well-formed request is 200 even when its document cannot run. Neither (``*/*``, no
``Accept``): Gatehouse's older answer, 400 with ``"data": null``.
"""

from __future__ import annotations

import httpx
import pytest

from schema.media_types import ResponseMedia, negotiate

APOLLO_4 = "application/graphql-response+json,application/json;q=0.9"
URQL = (
    "application/graphql-response+json, application/graphql-response+json, "
    "application/json, text/event-stream, multipart/mixed"
)
GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (APOLLO_4, ResponseMedia.GRAPHQL_RESPONSE),
        (URQL, ResponseMedia.GRAPHQL_RESPONSE),
        ("application/json", ResponseMedia.JSON),
        ("application/json, application/graphql-response+json;q=0.5", ResponseMedia.JSON),
        ("application/graphql-response+json;q=0, application/json", ResponseMedia.JSON),
        ("application/graphql-response+json; charset=latin1, */*", ResponseMedia.LEGACY_JSON),
        ("APPLICATION/GRAPHQL-RESPONSE+JSON; charset=UTF-8", ResponseMedia.GRAPHQL_RESPONSE),
        ("*/*", ResponseMedia.LEGACY_JSON),
        ("text/html", ResponseMedia.LEGACY_JSON),
        (None, ResponseMedia.LEGACY_JSON),
        ("", ResponseMedia.LEGACY_JSON),
        ("application/json;q=abc", ResponseMedia.LEGACY_JSON),
        ("x/y," * 2000 + "application/json", ResponseMedia.LEGACY_JSON),
    ],
)
def test_negotiation(accept: str | None, media: ResponseMedia) -> None:
    assert negotiate(accept) is media


async def post(client: httpx.AsyncClient, accept: str | None, body: object) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if accept is not None:
        headers["Accept"] = accept
    return await client.post("/graphql", json=body, headers=headers)


REQUEST_ERRORS = {
    "{ serverInfo { name ": "GRAPHQL_PARSE_FAILED",
    "{ serverInfo { password } }": "GRAPHQL_VALIDATION_FAILED",
    "{ " + " ".join(f"a{i}: __typename" for i in range(120)) + " }": "TOO_MANY_ALIASES",
}


@pytest.mark.parametrize(("query", "code"), REQUEST_ERRORS.items())
async def test_request_error_as_graphql_response_json_is_400_without_data(
    client: httpx.AsyncClient, query: str, code: str
) -> None:
    response = await post(client, APOLLO_4, {"query": query})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == code


@pytest.mark.parametrize(("query", "code"), REQUEST_ERRORS.items())
async def test_request_error_as_application_json_is_200_without_data(
    client: httpx.AsyncClient, query: str, code: str
) -> None:
    response = await post(client, "application/json", {"query": query})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == code


@pytest.mark.parametrize("accept", ["*/*", None])
async def test_request_error_for_a_client_that_names_no_type_is_400_with_null_data(
    client: httpx.AsyncClient, accept: str | None
) -> None:
    response = await post(client, accept, {"query": "{ serverInfo { password } }"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["data"] is None


async def test_variable_coercion_failure_is_a_request_error(client: httpx.AsyncClient) -> None:
    body = {"query": "query Q($id: ID!) { __typename }", "variables": {"id": None}}
    strict = await post(client, APOLLO_4, body)
    assert strict.status_code == 400
    assert "data" not in strict.json()
    assert strict.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await post(client, "application/json", body)).status_code == 200


async def test_success_and_field_errors_are_200_with_data(client: httpx.AsyncClient) -> None:
    ok = await post(client, APOLLO_4, {"query": "{ serverInfo { name } }"})
    assert ok.status_code == 200
    assert ok.headers["content-type"] == "application/graphql-response+json; charset=utf-8"
    assert ok.json() == {"data": {"serverInfo": {"name": "gatehouse"}}}
    # Execution started: a field error keeps the data entry (null here) and the 200.
    anonymous = await post(client, APOLLO_4, {"query": "{ me { id } }"})
    assert anonymous.status_code == 200
    assert anonymous.json()["data"] is None
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "BAD_REQUEST"),
        (b'{"variables": {}}', 400, "BAD_REQUEST"),
        (b'{"query": 0}', 400, "BAD_REQUEST"),
        (b'{"query": "{ __typename }", "variables": "x"}', 400, "BAD_REQUEST"),
    ],
)
@pytest.mark.parametrize("accept", [APOLLO_4, "application/json", "*/*"])
async def test_malformed_requests_are_400_in_every_media_type(
    client: httpx.AsyncClient, body: bytes, status: int, code: str, accept: str
) -> None:
    response = await client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json", "Accept": accept}
    )
    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] == code
    assert ("data" in response.json()) is (accept == "*/*")
    expected = GRAPHQL_RESPONSE if accept == APOLLO_4 else "application/json"
    assert response.headers["content-type"].startswith(expected)


async def test_a_body_without_a_json_content_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b'{"query": "{ __typename }"}', headers={"Accept": APOLLO_4}
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_a_get_query_with_an_ide_accept_header_but_a_query_runs(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    run = await client.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"Accept": "text/html, */*"}
    )
    assert run.json() == {"data": {"__typename": "Query"}}
