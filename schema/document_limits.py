"""One pass over a parsed document that refuses, in time linear in its size, what
would be slow to validate or to run.

It runs before graphql-core's validation rules, because some of those are not
linear: OverlappingFieldsCanBeMerged compares every pair of fields that share a
response name, and expanding fragments where they are spread doubles the work with
each level of a fragment that spreads the next one twice. Here each fragment is
measured once and its measure reused at every spread, so depth, aliases, cost and
the number of expanded spreads and fields cost one visit per node. Only a document
within all of those is expanded (at most ``max_cost`` fields) to bound how many
fields share one response name in one merged selection.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
)

from schema.limits import (
    FIELD_COST,
    FIELD_COSTS,
    LIST_SIZES,
    MUTATION_FIELD_COST,
    UNLISTED_LIST_SIZE,
    ListSize,
)

_SATURATED = 1 << 40  # counts stop growing here: a fan-out must not build huge integers


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    max_depth: int
    max_aliases: int
    max_cost: int
    max_fragments: int = 100  # fragment definitions in one document
    max_spreads: int = 500  # fragment spreads in one operation, fragments expanded
    max_repeats: int = 10  # fields sharing one response name in one merged selection
    max_variables: int = 50
    max_directives: int = 50  # in one operation, fragments expanded
    max_nesting: int = 64  # selection levels, introspection included


@dataclass(slots=True)
class _Shape:
    """What a selection set adds up to once its fragments are expanded."""

    cost: int = 0
    item_cost: int = 0  # inside a connection: the part each item repeats
    height: int = 0  # levels of fields, not counting below introspection fields
    nesting: int = 0  # levels of fields, all of them
    aliases: int = 0
    spreads: int = 0
    fields: int = 0
    directives: int = 0

    def add(self, other: _Shape) -> None:
        self.cost = min(self.cost + other.cost, _SATURATED)
        self.item_cost = min(self.item_cost + other.item_cost, _SATURATED)
        self.height = max(self.height, other.height)
        self.nesting = max(self.nesting, other.nesting)
        self.aliases = min(self.aliases + other.aliases, _SATURATED)
        self.spreads = min(self.spreads + other.spreads, _SATURATED)
        self.fields = min(self.fields + other.fields, _SATURATED)
        self.directives = min(self.directives + other.directives, _SATURATED)


@dataclass(frozen=True, slots=True)
class _CostModel:
    schema: GraphQLSchema
    # Connection type name -> the list field inside it whose items the page counts.
    connection_items: Mapping[str, str] = field(default_factory=dict)


@lru_cache(maxsize=8)
def _cost_model(schema: GraphQLSchema) -> _CostModel:
    items: dict[str, str] = {}
    for key, size in LIST_SIZES.items():
        type_name, field_name = key.split(".", 1)
        parent = schema.get_type(type_name)
        if size.items and isinstance(parent, GraphQLObjectType) and field_name in parent.fields:
            items[get_named_type(parent.fields[field_name].type).name] = size.items
    return _CostModel(schema, items)


class _Measure:
    def __init__(self, model: _CostModel, document: DocumentNode) -> None:
        self._model = model
        self._schema = model.schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.measured: dict[str, _Shape] = {}
        self._measuring: set[str] = set()

    def operation(self, node: OperationDefinitionNode) -> _Shape:
        root = self._schema.get_root_type(node.operation)
        shape = self._selection_set(node.selection_set, root)
        shape.directives += len(node.directives or ()) + sum(
            len(v.directives or ()) for v in node.variable_definitions or ()
        )
        return shape

    def _fragment(self, name: str) -> _Shape:
        known = self.measured.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self._measuring:
            return _Shape()  # unknown or a cycle: graphql-core names the mistake
        self._measuring.add(name)
        on = self._schema.get_type(definition.type_condition.name.value)
        shape = self._selection_set(definition.selection_set, on)
        shape.directives += len(definition.directives or ())
        self._measuring.discard(name)
        self.measured[name] = shape
        return shape

    def _selection_set(self, node: SelectionSetNode, on: GraphQLNamedType | None) -> _Shape:
        total = _Shape()
        items = self._model.connection_items.get(on.name) if on is not None else None
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                is_items = items is not None and selection.name.value == items
                part = self._field(selection, on, is_items=is_items)
                if is_items:
                    part.item_cost, part.cost = part.cost, 0
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self._schema.get_type(condition.name.value) if condition else on
                part = self._selection_set(selection.selection_set, inner)
                part.directives += len(selection.directives or ())
            elif isinstance(selection, FragmentSpreadNode):
                measured = self._fragment(selection.name.value)
                part = _Shape(spreads=1, directives=len(selection.directives or ()))
                part.add(measured)
            total.add(part)
        return total

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None, *, is_items: bool) -> _Shape:
        name = node.name.value
        definition: GraphQLField | None = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(name)
        key = f"{parent.name}.{name}" if parent is not None else ""
        own = FIELD_COSTS.get(key)
        if own is None:
            own = MUTATION_FIELD_COST if parent is self._schema.mutation_type else FIELD_COST
        children = _Shape()
        if node.selection_set is not None:
            inner = get_named_type(definition.type) if definition is not None else None
            children = self._selection_set(node.selection_set, inner)
        # A connection's items are counted by the page that holds them.
        size = None if is_items else self._list_size(key, node, definition)
        if size is not None and size[1].items:
            cost = own + children.cost + size[0] * children.item_cost
        else:
            cost = own + (size[0] if size else 1) * (children.cost + children.item_cost)
        introspection = name.startswith("__")
        return _Shape(
            cost=min(cost, _SATURATED),
            height=1 if introspection or node.selection_set is None else 1 + children.height,
            nesting=1 + children.nesting,
            aliases=children.aliases + (node.alias is not None),
            spreads=children.spreads,
            fields=children.fields + 1,
            directives=children.directives + len(node.directives or ()),
        )

    @staticmethod
    def _list_size(
        key: str, node: FieldNode, definition: GraphQLField | None
    ) -> tuple[int, ListSize] | None:
        """How many items a list field counts as, or None for a field that is no list."""
        size = LIST_SIZES.get(key)
        if size is None:
            if definition is None or key.startswith("__"):
                return None
            returned = get_nullable_type(definition.type)
            if not is_list_type(returned) or is_leaf_type(get_named_type(returned)):
                return None
            size = ListSize(maximum=UNLISTED_LIST_SIZE)
        if size.argument is None:
            return size.maximum, size
        given = next((a.value for a in node.arguments or () if a.name.value == size.argument), None)
        if isinstance(given, VariableNode):
            return size.maximum, size
        if isinstance(given, IntValueNode):
            count = int(given.value)
        else:  # absent or null: the resolver's default
            argument = definition.args.get(size.argument) if definition is not None else None
            default = argument.default_value if argument is not None else None
            count = default if isinstance(default, int) else size.maximum
        return max(1, min(count, size.maximum)), size


def _refusal(message: str, code: str, **extra: object) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extra})


def _operation_refusals(
    node: OperationDefinitionNode, shape: _Shape, limits: DocumentLimits
) -> list[GraphQLError]:
    errors = []
    name = node.name.value if node.name else "anonymous"
    cost = min(shape.cost + shape.item_cost, _SATURATED)
    if cost > limits.max_cost:
        errors.append(
            _refusal(
                f"The operation costs {cost}, over the budget of {limits.max_cost}. "
                "Ask for fewer fields or smaller pages, or split the operation.",
                "QUERY_TOO_COMPLEX",
                cost=cost,
            )
        )
    if shape.height - 1 > limits.max_depth or shape.nesting > limits.max_nesting:
        errors.append(
            _refusal(
                f"'{name}' exceeds maximum operation depth of {limits.max_depth}", "QUERY_TOO_DEEP"
            )
        )
    if shape.spreads > limits.max_spreads:
        errors.append(
            _refusal(
                f"'{name}' spreads fragments {shape.spreads} times once they are expanded. "
                f"Allowed: {limits.max_spreads}",
                "TOO_MANY_FRAGMENTS",
            )
        )
    variables = len(node.variable_definitions or ())
    if variables > limits.max_variables:
        errors.append(
            _refusal(
                f"'{name}' declares {variables} variables. Allowed: {limits.max_variables}",
                "TOO_MANY_VARIABLES",
            )
        )
    if shape.directives > limits.max_directives:
        errors.append(
            _refusal(
                f"'{name}' uses {shape.directives} directives once fragments are expanded. "
                f"Allowed: {limits.max_directives}",
                "TOO_MANY_DIRECTIVES",
            )
        )
    return errors


def _repeated_field(
    measure: _Measure, sets: list[tuple[SelectionSetNode, frozenset[str]]], limit: int
) -> str | None:
    """A response name selected more than ``limit`` times in one merged selection."""
    counts: Counter[str] = Counter()
    below: defaultdict[str, list[tuple[SelectionSetNode, frozenset[str]]]] = defaultdict(list)
    pending = list(sets)
    while pending:
        node, seen = pending.pop()
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                counts[key] += 1
                if counts[key] > limit:
                    return key
                if selection.selection_set is not None:
                    below[key].append((selection.selection_set, seen))
            elif isinstance(selection, InlineFragmentNode):
                pending.append((selection.selection_set, seen))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = measure.fragments.get(name)
                if fragment is not None and name not in seen:
                    pending.append((fragment.selection_set, seen | {name}))
    for merged in below.values():
        repeated = _repeated_field(measure, merged, limit)
        if repeated is not None:
            return repeated
    return None


def document_refusals(
    schema: GraphQLSchema, document: DocumentNode, limits: DocumentLimits
) -> list[GraphQLError]:
    """The limits ``document`` breaks, each a typed error; empty when it fits them all."""
    try:
        return _refusals(_cost_model(schema), document, limits)
    except RecursionError:
        return [_refusal("The document is nested too deeply.", "QUERY_TOO_DEEP")]


def _refusals(
    model: _CostModel, document: DocumentNode, limits: DocumentLimits
) -> list[GraphQLError]:
    measure = _Measure(model, document)
    if len(measure.fragments) > limits.max_fragments:
        return [
            _refusal(
                f"The document defines {len(measure.fragments)} fragments. "
                f"Allowed: {limits.max_fragments}",
                "TOO_MANY_FRAGMENTS",
            )
        ]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    errors: list[GraphQLError] = []
    aliases = fields = 0
    for operation in operations:
        shape = measure.operation(operation)
        errors += _operation_refusals(operation, shape, limits)
        aliases += shape.aliases
        fields += shape.fields
    if aliases > limits.max_aliases:
        errors.append(
            _refusal(f"{aliases} aliases found. Allowed: {limits.max_aliases}", "TOO_MANY_ALIASES")
        )
    # A fragment no operation uses is a mistake graphql-core would name too, but only
    # after comparing its fields pairwise; measured or not, it is refused here.
    errors += [
        GraphQLError(f"Fragment '{name}' is never used.", node)
        for name, node in measure.fragments.items()
        if name not in measure.measured
    ]
    if errors:
        return errors
    if fields > limits.max_cost:
        return [
            _refusal(
                f"The document selects {fields} fields once its fragments are expanded, "
                f"over the budget of {limits.max_cost}. Split it.",
                "QUERY_TOO_COMPLEX",
            )
        ]
    # Within the budget, expanding every operation is bounded by max_cost fields.
    for operation in operations:
        repeated = _repeated_field(
            measure, [(operation.selection_set, frozenset())], limits.max_repeats
        )
        if repeated is not None:
            return [
                _refusal(
                    f"'{repeated}' is selected more than {limits.max_repeats} times in one "
                    "selection. Select it once.",
                    "QUERY_TOO_COMPLEX",
                )
            ]
    return []
