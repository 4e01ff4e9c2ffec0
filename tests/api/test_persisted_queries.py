"""Automatic persisted queries (Apollo's protocol) through the real app, FerretDB and Redis.

Hash only → PERSISTED_QUERY_NOT_FOUND; hash and text → checked, run, remembered; hash
only again → run from the store, by POST or GET. Bounded: documents that do not validate
or are too big are not kept, unused ones expire, and past the cap the least recently used
go. Redis unreachable → "not found", so the client sends the text and is served anyway.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from domain.core.clock import FrozenClock
from domain.core.settings import Settings
from domain.persisted_queries.store import PersistedQueryStore
from tests.support.asgi import app_client

STRICT = "application/graphql-response+json,application/json;q=0.9"
INFO = "query Info { serverInfo { name } }"
LOGIN = (
    "mutation Login($e: String!, $p: String!) { login(email: $e, password: $p) "
    "{ __typename ... on UserError { code } } }"
)


def sha(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def persisted(digest: str, version: object = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": digest}}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def open_client(make_settings: Callable[..., Settings], clock: FrozenClock) -> Callable[..., Any]:
    def factory(**overrides: Any) -> Any:
        return app_client(make_settings(**overrides), clock)

    return factory


@pytest.fixture
async def client(open_client: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with open_client(redis_key_prefix=f"apq{id(open_client)}:") as http:
        yield http


async def send(
    client: httpx.AsyncClient,
    query: str | None,
    digest: str,
    accept: str = STRICT,
    variables: dict[str, Any] | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"extensions": persisted(digest)}
    if query is not None:
        body["query"] = query
    if variables is not None:
        body["variables"] = variables
    return await client.post("/graphql", json=body, headers={"Accept": accept})


def code_of(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


async def test_unknown_hash_then_registration_then_hash_only(client: httpx.AsyncClient) -> None:
    digest = sha(INFO)
    missing = await send(client, None, digest)
    assert missing.status_code == 400
    assert missing.headers["content-type"].startswith("application/graphql-response+json")
    body = missing.json()
    assert "data" not in body
    assert body["errors"][0]["message"] == "PersistedQueryNotFound"
    assert code_of(missing) == "PERSISTED_QUERY_NOT_FOUND"

    registered = await send(client, INFO, digest)
    assert registered.json() == {"data": {"serverInfo": {"name": "gatehouse"}}}

    again = await send(client, None, digest)
    assert again.status_code == 200
    assert again.json() == {"data": {"serverInfo": {"name": "gatehouse"}}}
    # Apollo's useGETForHashedQueries: the same over GET, extensions in the URL.
    by_get = await client.get(
        "/graphql",
        params={"extensions": json.dumps(persisted(digest)), "operationName": "Info"},
        headers={"Accept": STRICT},
    )
    assert by_get.status_code == 200, by_get.text
    assert by_get.json() == {"data": {"serverInfo": {"name": "gatehouse"}}}


async def test_not_found_status_follows_the_media_type(client: httpx.AsyncClient) -> None:
    digest = sha("{ __typename }")
    assert (await send(client, None, digest, accept="application/json")).status_code == 200
    legacy = await send(client, None, digest, accept="*/*")
    assert legacy.status_code == 400
    assert code_of(legacy) == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_mutation_can_be_persisted_and_is_refused_over_get(
    client: httpx.AsyncClient,
) -> None:
    digest = sha(LOGIN)
    variables = {"e": "nobody@example.com", "p": "wrong password 123"}
    assert code_of(await send(client, None, digest, variables=variables)) == (
        "PERSISTED_QUERY_NOT_FOUND"
    )
    first = await send(client, LOGIN, digest, variables=variables)
    assert first.json()["data"]["login"]["__typename"] == "InvalidCredentials"
    second = await send(client, None, digest, variables=variables)
    assert second.json()["data"]["login"] == {
        "__typename": "InvalidCredentials",
        "code": "INVALID_CREDENTIALS",
    }
    over_get = await client.get(
        "/graphql",
        params={"extensions": json.dumps(persisted(digest)), "variables": json.dumps(variables)},
        headers={"Accept": STRICT},
    )
    assert over_get.status_code == 405
    assert over_get.headers["allow"] == "POST"
    assert code_of(over_get) == "METHOD_NOT_ALLOWED"


async def test_a_hash_that_is_not_the_querys_is_refused_and_not_stored(
    client: httpx.AsyncClient,
) -> None:
    other = sha("{ __typename }")
    mismatch = await send(client, INFO, other)
    assert mismatch.status_code == 400
    assert code_of(mismatch) == "BAD_REQUEST"
    assert "sha256" in mismatch.json()["errors"][0]["message"]
    assert code_of(await send(client, None, other)) == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    "extension",
    [
        {"persistedQuery": "abc"},
        persisted(sha(INFO), version=2),
        persisted(sha(INFO), version=True),
        persisted("zz" * 32),
        persisted(sha(INFO)[:40]),
        {"persistedQuery": {"version": 1}},
    ],
)
@pytest.mark.parametrize("accept", [STRICT, "application/json"])
async def test_malformed_persisted_query_extensions_are_400(
    client: httpx.AsyncClient, extension: dict[str, Any], accept: str
) -> None:
    response = await client.post(
        "/graphql", json={"extensions": extension}, headers={"Accept": accept}
    )
    assert response.status_code == 400
    assert code_of(response) == "BAD_REQUEST"


async def test_documents_that_do_not_validate_are_not_stored(client: httpx.AsyncClient) -> None:
    for bad in ("{ serverInfo { password } }", "{ serverInfo { name "):
        digest = sha(bad)
        assert (await send(client, bad, digest)).status_code == 400
        assert code_of(await send(client, None, digest)) == "PERSISTED_QUERY_NOT_FOUND"


async def test_unused_documents_expire_and_used_ones_stay(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    kept, dropped = "query Kept { __typename }", "query Dropped { __typename }"
    await send(client, kept, sha(kept))
    await send(client, dropped, sha(dropped))
    ttl = timedelta(seconds=client.app_state.settings.persisted_queries_ttl_seconds)  # type: ignore[attr-defined]
    clock.advance(ttl * 0.6)
    assert (await send(client, None, sha(kept))).status_code == 200  # a use slides its TTL
    clock.advance(ttl * 0.6)
    assert (await send(client, None, sha(kept))).status_code == 200
    assert code_of(await send(client, None, sha(dropped))) == "PERSISTED_QUERY_NOT_FOUND"


async def test_the_least_recently_used_go_past_the_cap(
    open_client: Callable[..., Any], clock: FrozenClock
) -> None:
    async with open_client(
        redis_key_prefix="apq-cap:", persisted_queries_max_documents=2
    ) as client:
        queries = [f"query Q{i} {{ __typename }}" for i in range(3)]
        for query in queries[:2]:
            await send(client, query, sha(query))
            clock.advance(timedelta(seconds=1))
        await send(client, None, sha(queries[0]))  # Q0 used again: Q1 is now the oldest
        clock.advance(timedelta(seconds=1))
        await send(client, queries[2], sha(queries[2]))
        assert (await send(client, None, sha(queries[0]))).status_code == 200
        assert (await send(client, None, sha(queries[2]))).status_code == 200
        assert code_of(await send(client, None, sha(queries[1]))) == "PERSISTED_QUERY_NOT_FOUND"
        redis: Redis = client.app_state.redis  # type: ignore[attr-defined]
        assert await redis.hlen("apq-cap:apq:documents") == 2
        assert await redis.zcard("apq-cap:apq:last_used") == 2


async def test_documents_over_the_byte_cap_run_but_are_not_stored(
    open_client: Callable[..., Any],
) -> None:
    async with open_client(
        redis_key_prefix="apq-bytes:", persisted_queries_max_document_bytes=256
    ) as client:
        long = "query Long { " + " ".join(f"f{i}: __typename" for i in range(30)) + " }"
        assert len(long) > 256
        ran = await send(client, long, sha(long))
        assert ran.json()["data"]["f29"] == "Query"
        assert code_of(await send(client, None, sha(long))) == "PERSISTED_QUERY_NOT_FOUND"


async def test_switched_off_answers_not_supported(open_client: Callable[..., Any]) -> None:
    async with open_client(persisted_queries_enabled=False) as client:
        for query in (None, INFO):
            response = await send(client, query, sha(INFO))
            assert response.status_code == 400
            assert response.json()["errors"][0]["message"] == "PersistedQueryNotSupported"
            assert code_of(response) == "PERSISTED_QUERY_NOT_SUPPORTED"
        assert (await client.post("/graphql", json={"query": INFO})).status_code == 200


async def test_without_redis_the_store_reads_as_empty(
    settings: Settings, clock: FrozenClock
) -> None:
    """Lookups answer "not found" (the client re-sends the text) and nothing is raised."""
    unreachable = Redis.from_url(
        "redis://127.0.0.1:9/0", socket_connect_timeout=0.5, socket_timeout=0.5
    )
    store = PersistedQueryStore(unreachable, settings, clock)
    try:
        assert await store.lookup(sha(INFO)) is None
        assert await store.register(sha(INFO), INFO) is False
    finally:
        await unreachable.aclose()
