"""The one schema extension every operation runs through.

One extension with four hooks rather than one extension per concern: Strawberry
wraps every hook of every extension anew on each request, and for the seven small
extensions this replaced (parser cache, validation cache, token, depth and alias
limits, extra rules, admin-only introspection, operation names) that wrapping cost
more than executing a small query.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import TypeVar

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema
from graphql.language.parser import parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from schema.document_limits import DocumentLimits, document_refusals
from schema.impersonation.gate import impersonation_refusal
from schema.limits import introspection_refusal

CACHED_DOCUMENTS = 1024  # bounded: query texts are client-chosen

# Parsing and validation are pure functions of the document and the rules, so they
# are cached process-wide. The parser returns the same document object for the same
# text, and the rules are one tuple made at start-up, so validation hits its cache.
_parse = lru_cache(maxsize=CACHED_DOCUMENTS)(parse)

# A long document is parsed and checked on a worker thread, and never cached.
# graphql-core is pure Python: tens of milliseconds for a document at the token limit,
# which on the event loop would stall every other request (and /livez). The thread
# shares the GIL, but the interpreter hands it back to the loop every few milliseconds.
# One thread: hostile documents queue behind each other instead of taking more cores.
# Not cached, because the caches would keep up to 1,024 client-chosen large trees
# alive, and every full garbage collection walks them (pauses of 100+ ms measured).
OFF_LOOP_CHARACTERS = 2_000
_document_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphql-document")
_T = TypeVar("_T")


def _long(query: str | None) -> bool:
    return query is not None and len(query) > OFF_LOOP_CHARACTERS


async def _off_loop(work: Callable[[], _T]) -> _T:
    return await asyncio.get_running_loop().run_in_executor(_document_worker, work)


class _Same:
    """A document as a cache key by identity. graphql-core's nodes are frozen
    dataclasses, hashed and compared field by field, recursively: every lookup walked
    the whole tree, and a deeply nested document overflowed the stack (a 500)."""

    __slots__ = ("document",)

    def __init__(self, document: DocumentNode) -> None:
        self.document = document  # held, so its id is not reused while cached

    def __hash__(self) -> int:
        return id(self.document)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.document is self.document


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _validate(
    schema: GraphQLSchema, key: _Same, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    return validate_document(schema, key.document, rules)


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _refusals(schema: GraphQLSchema, key: _Same, limits: DocumentLimits) -> list[GraphQLError]:
    return document_refusals(schema, key.document, limits)


@dataclass(frozen=True, slots=True)
class OperationPolicy:
    max_tokens: int
    limits: DocumentLimits
    rules: tuple[type[ASTValidationRule], ...]
    admin_only_introspection: bool


class GatehouseExtension(SchemaExtension):
    def __init__(self, policy: OperationPolicy) -> None:
        super().__init__()
        self._policy = policy

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.parse_options["max_tokens"] = self._policy.max_tokens
        ctx.validation_rules = ctx.validation_rules + self._policy.rules
        yield
        self._record_operation()

    async def on_parse(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        query = ctx.query
        if query is not None and _long(query):
            ctx.graphql_document = await _off_loop(partial(parse, query, **ctx.parse_options))
        else:
            ctx.graphql_document = _parse(ctx.query, **ctx.parse_options)
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        assert ctx.graphql_document is not None  # Strawberry validates parsed documents only
        schema = ctx.schema._schema
        document = ctx.graphql_document
        rules = ctx.validation_rules
        limits = self._policy.limits
        # Limits first, in linear time: some of graphql-core's rules are quadratic or
        # worse in what a small document can expand to.
        if _long(ctx.query):

            def check() -> list[GraphQLError]:
                refusals = document_refusals(schema, document, limits)
                return refusals or validate_document(schema, document, rules)

            ctx.pre_execution_errors = await _off_loop(check)
        else:
            key = _Same(document)
            ctx.pre_execution_errors = _refusals(schema, key, limits) or _validate(
                schema, key, rules
            )
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        if self._policy.admin_only_introspection:
            refusal = introspection_refusal(
                ctx.graphql_document, getattr(ctx.context, "principal", None)
            )
            if refusal is not None:
                ctx.result = refusal
        if ctx.result is None:
            # An impersonation's mutation: audited, and refused unless its mode allows it.
            ctx.result = await impersonation_refusal(ctx)
        yield

    def _record_operation(self) -> None:
        """Leave the operation's name for the access log and count it (with the caller)."""
        ctx = self.execution_context
        name = ctx.operation_name
        if name is None and ctx.graphql_document is not None:
            try:
                name = f"<{ctx.operation_type.value}>"
            except RuntimeError:
                name = None
        name = name[:100] if name else None
        context = ctx.context
        request = getattr(context, "request", None)
        if request is not None and name:
            request.scope.setdefault("state", {})["graphql_operation"] = name
        services = getattr(context, "services", None)
        if services is not None:
            principal = getattr(context, "principal", None)
            services.analytics.note_activity(principal.user_id if principal else None, name)
