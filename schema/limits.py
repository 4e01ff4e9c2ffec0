"""Limits every operation must fit in: depth, aliases, tokens, cost, introspection.

Depth, alias and token limits are Strawberry's; the cost budget is ours (Strawberry
has none). All are validation rules, so their verdict is cached with the document.
Introspection in "admin" mode depends on who asks, so it is checked per request.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

from domain.identity.permissions import Permission, has_permission

MUTATION_FIELD_COST = 10
_INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


def cost_limit_rule(max_cost: int) -> type[ValidationRule]:
    class CostLimitRule(ValidationRule):
        """Each field costs 1, each mutation field 10; fragments count where spread."""

        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self._fragments = {
                d.name.value: d
                for d in context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }

        def _cost(self, selection_set: SelectionSetNode | None, seen: frozenset[str]) -> int:
            if selection_set is None:
                return 0
            total = 0
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    total += 1 + self._cost(selection.selection_set, seen)
                elif isinstance(selection, InlineFragmentNode):
                    total += self._cost(selection.selection_set, seen)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self._fragments.get(name)
                    if fragment is not None and name not in seen:
                        total += self._cost(fragment.selection_set, seen | {name})
            return total

        def _root_fields(self, selection_set: SelectionSetNode, seen: frozenset[str]) -> int:
            """Fields at the root, fragments expanded (a fragment must not hide mutations)."""
            count = 0
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    count += 1
                elif isinstance(selection, InlineFragmentNode):
                    count += self._root_fields(selection.selection_set, seen)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self._fragments.get(name)
                    if fragment is not None and name not in seen:
                        count += self._root_fields(fragment.selection_set, seen | {name})
            return count

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            cost = self._cost(node.selection_set, frozenset())
            if node.operation is OperationType.MUTATION:
                roots = self._root_fields(node.selection_set, frozenset())
                cost += (MUTATION_FIELD_COST - 1) * roots
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"The operation costs {cost}, over the budget of {max_cost}. "
                        "Ask for fewer fields or split the operation.",
                        node,
                        extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost},
                    )
                )

    return CostLimitRule


@lru_cache(maxsize=1024)  # documents come from the parser cache: the same object each time
def _selects_introspection(document: DocumentNode) -> bool:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }

    def walk(selection_set: SelectionSetNode | None, seen: frozenset[str]) -> Iterator[str]:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection.name.value
            elif isinstance(selection, InlineFragmentNode):
                yield from walk(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in seen:
                    yield from walk(fragments[name].selection_set, seen | {name})

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and any(
            name in _INTROSPECTION_ROOTS for name in walk(definition.selection_set, frozenset())
        ):
            return True
    return False


def introspection_refusal(
    document: DocumentNode | None, principal: object
) -> ExecutionResult | None:
    """In "admin" mode: the answer to a non-admin's introspection, else None."""
    role = getattr(principal, "role", None)
    if role is not None and has_permission(role, Permission.SCHEMA_INTROSPECT):
        return None
    if document is None or not _selects_introspection(document):
        return None
    return ExecutionResult(
        data=None,
        errors=[
            GraphQLError(
                "Introspection is available to administrators only.",
                extensions={"code": "INTROSPECTION_DISABLED"},
            )
        ],
    )
