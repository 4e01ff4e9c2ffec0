"""The one place an impersonation session's mutations are decided, on every transport.

Run by the schema extension before execution (schema/extensions.py), so it holds for
HTTP, GET, batches and the WebSocket alike, and no resolver repeats it. Every mutation
an impersonation session sends is audited (``impersonation.mutation``, with both ids),
run or refused; a refused operation runs no field at all and answers one top-level
error, ``IMPERSONATION_READ_ONLY``. Which fields are refused: domain/impersonation/policy.py,
with the schema's own list of lasting-control mutations (those declaring
``@requires_recent_authentication``), read once per schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
)
from strawberry.types import ExecutionContext

from domain.impersonation.errors import ImpersonationReadOnlyError
from domain.impersonation.policy import refused_fields
from schema.actor import actor_of_context
from schema.recent_authentication import MAX_AGE_ATTRIBUTE

_DEFINITION = "strawberry-definition"  # Strawberry's back reference on each GraphQL field


def root_fields(document: DocumentNode, operation: OperationDefinitionNode) -> list[str]:
    """The operation's root field names, through fragments, each fragment read once
    (linear in the document). ``@skip``/``@include`` are ignored: a field that might
    run counts as one that will."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    seen: set[str] = set()

    def walk(selections: SelectionSetNode) -> Iterator[str]:
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                if not selection.name.value.startswith("__"):
                    yield selection.name.value
            elif isinstance(selection, InlineFragmentNode):
                yield from walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    yield from walk(fragments[name].selection_set)

    return list(dict.fromkeys(walk(operation.selection_set)))


@lru_cache(maxsize=4)
def lasting_control_fields(schema: GraphQLSchema) -> frozenset[str]:
    """Mutations whose resolver declares a recent re-authentication."""
    mutation = schema.mutation_type
    if mutation is None:
        return frozenset()
    found = set()
    for name, field in mutation.fields.items():
        definition = (field.extensions or {}).get(_DEFINITION)
        resolver = getattr(getattr(definition, "base_resolver", None), "wrapped_func", None)
        if getattr(resolver, MAX_AGE_ATTRIBUTE, None) is not None:
            found.add(name)
    return frozenset(found)


async def impersonation_refusal(ctx: ExecutionContext) -> ExecutionResult | None:
    """The answer to an impersonation session's mutation it may not run, else None."""
    context = ctx.context
    principal = getattr(context, "principal", None)
    if principal is None or principal.impersonation is None:
        return None
    document = ctx.graphql_document
    operation = get_operation_ast(document, ctx.operation_name) if document else None
    if document is None or operation is None or operation.operation is not OperationType.MUTATION:
        return None
    fields = root_fields(document, operation)
    refused = refused_fields(
        fields,
        read_only=principal.impersonation.read_only,
        lasting_control=lasting_control_fields(ctx.schema._schema),
    )
    await context.services.impersonation.record_mutation(
        actor_of_context(context), principal, fields, refused
    )
    if not refused:
        return None
    error = ImpersonationReadOnlyError(
        ImpersonationReadOnlyError.default_message
        if principal.impersonation.read_only
        else "An impersonation session never changes how the account signs in or who "
        "controls it: " + ", ".join(refused) + "."
    )
    return ExecutionResult(data=None, errors=[GraphQLError(error.message, original_error=error)])
