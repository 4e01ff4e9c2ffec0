"""Automatic persisted queries on the HTTP view.

Before execution a hash-only request gets its document from the store; after execution a
document sent with its hash is remembered, but only once it has parsed and validated, so
the store holds operations of this schema that fit the token limit, never arbitrary text.
"""

from __future__ import annotations

from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from domain.persisted_queries.protocol import (
    PersistedQueryNotFoundError,
    PersistedQueryNotSupportedError,
    check_hash,
    requested_hash,
)
from domain.persisted_queries.store import PersistedQueryStore


async def resolve(store: PersistedQueryStore, request: GraphQLRequestData) -> str | None:
    """Fill in the document of a hash-only request; the hash to remember after execution."""
    digest = requested_hash(request.extensions)
    if digest is None:
        return None
    if not store.enabled:
        raise PersistedQueryNotSupportedError
    if request.query is None:
        document = await store.lookup(digest)
        if document is None:
            raise PersistedQueryNotFoundError
        request.query = document
        return None
    check_hash(request.query, digest)
    return digest


async def remember(
    store: PersistedQueryStore, digest: str | None, query: str | None, result: object
) -> None:
    if digest is None or query is None or not isinstance(result, ExecutionResult):
        return
    if isinstance(result, PreExecutionError):
        return  # the document did not parse or validate: never stored
    await store.register(digest, query)
