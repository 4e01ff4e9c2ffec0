"""Property-based fuzzing of every query and mutation (hypothesis-graphql).

Valid documents with arbitrary strings, unicode, NULs and huge numbers go through the
whole stack on real FerretDB and Redis, as an anonymous caller and as a super-admin.
Whatever comes in: no 5xx, no masked internal error, no stack trace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations as mutations_of
from hypothesis_graphql import nodes
from hypothesis_graphql import queries as queries_of

from domain.core.roles import Role
from domain.core.settings import Settings as AppSettings
from schema.export import current_sdl
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager

SDL = current_sdl()
# Our custom scalars, drawn as GraphQL literal nodes (valid and invalid dates alike).
SCALARS = {
    "Date": st.one_of(st.dates().map(lambda d: d.isoformat()), st.text(max_size=20)).map(
        nodes.String
    ),
    "DateTime": st.one_of(st.datetimes().map(lambda d: d.isoformat()), st.text(max_size=30)).map(
        nodes.String
    ),
    "JSON": st.just(nodes.String("{}")),
}
ADMIN_PASSWORD = "walrus cobalt mirage 4471"
EXAMPLES = 60


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., AppSettings]) -> AppSettings:
    return make_settings(graphql_max_cost=100_000)


@pytest.fixture(scope="module")
async def admin_token(app: LifespanManager, client: httpx.AsyncClient) -> str:
    state = app.state
    await staff_account(state, "fuzz.admin@example.com", ADMIN_PASSWORD, Role.SUPER_ADMIN)
    body = await client.post(
        "/graphql",
        json={
            "query": (
                'mutation { login(email: "fuzz.admin@example.com", password: "'
                + ADMIN_PASSWORD
                + '") { ... on AuthPayload { accessToken } } }'
            )
        },
    )
    return str(body.json()["data"]["login"]["accessToken"])


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    body: Any = response.json()
    for error in body.get("errors") or []:
        assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", error


@pytest.mark.parametrize("kind", ["Query", "Mutation"])
async def test_any_document_is_answered_without_server_errors(
    client: httpx.AsyncClient, admin_token: str, kind: str
) -> None:
    queries: list[str] = []

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,  # the same examples every run: a CI failure reproduces
    )
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        build = queries_of if kind == "Query" else mutations_of
        strategy = build(SDL, custom_scalars=SCALARS)
        queries.append(data.draw(strategy))

    collect()
    for index, query in enumerate(queries):
        headers = {"Authorization": f"Bearer {admin_token}"} if index % 2 else {}
        check(await client.post("/graphql", json={"query": query}, headers=headers))
