"""Limits every operation must fit in, and the cost model they are measured with.

The limits themselves (depth, aliases, fragments, cost, ...) are checked in one
linear pass before graphql-core validates (schema/document_limits.py). This module
says what things cost: a field 1, a mutation field 10, and the fields below that do
real work more, declared next to each other so the model reads in one place. A list
multiplies what is selected in each item by how many items it can return.
Introspection in "admin" mode depends on who asks, so it is checked per request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from domain.identity.permissions import Permission, has_permission
from schema.pagination import MAX_PAGE_SIZE

FIELD_COST = 1
MUTATION_FIELD_COST = 10
# One database round trip (a find, an aggregation), whatever it returns.
LOOKUP_COST = 10
_INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})

# What a field costs itself, by "Type.field"; anything else costs FIELD_COST (or
# MUTATION_FIELD_COST at the root of a mutation). Keep every value >= 1: the limits
# pass bounds the fields a document expands to by its cost.
FIELD_COSTS: Mapping[str, int] = {
    "Query.users": LOOKUP_COST,
    # A count visits every matching user: the dearest thing one can ask for.
    "UserConnection.totalCount": 250,
    # The user, their sessions and their recent events, and an audit record of the view.
    "Query.user": 4 * LOOKUP_COST,
    "Query.auditEvents": LOOKUP_COST,
    "Query.mySecurityEvents": LOOKUP_COST,
    "Query.mySessions": LOOKUP_COST,
    "Query.myPasskeys": LOOKUP_COST,
    "Query.myTrustedDevices": LOOKUP_COST,
    # The user, their passkeys, and an audit record of the view.
    "Query.userPasskeys": 3 * LOOKUP_COST,
    "User.identities": LOOKUP_COST,
    # The user, their identities, and an audit record of the view.
    "Query.userIdentities": 3 * LOOKUP_COST,
    "Query.apiKeys": LOOKUP_COST,
    "Query.oauthClients": LOOKUP_COST,
    "Query.failedEmails": LOOKUP_COST,
    "Query.webhookEndpoints": LOOKUP_COST,
    "Query.webhookDeliveries": LOOKUP_COST,
    "Query.activeUsers": LOOKUP_COST,
    "Query.dailyAuthStats": LOOKUP_COST,
    "Query.retentionCohorts": LOOKUP_COST,
    "Query.topOperations": LOOKUP_COST,
    # Batched per page (schema/loaders.py): one lookup for the page, a little per row.
    "User.twoFactorEnabled": 2,
    # Batched the same way: a lookup each of passwords, passkeys, identities and TOTP.
    "User.signInMethods": 4,
}


@dataclass(frozen=True, slots=True)
class ListSize:
    """How many items a list field can return.

    ``argument`` (``first``, ``limit``) gives the count when the document writes it;
    a variable counts as ``maximum`` (the verdict is cached per document, before the
    variables are known), an absent argument as its default in the schema. A list
    without an argument counts as ``maximum`` items. ``items`` names the list inside
    a connection (``edges``) when the field returns a connection.
    """

    maximum: int
    argument: str | None = None
    items: str | None = None


_PAGE = ListSize(maximum=MAX_PAGE_SIZE, argument="first")
_CONNECTION = ListSize(maximum=MAX_PAGE_SIZE, argument="first", items="edges")

# Every list of objects outside introspection; an unlisted one counts as
# UNLISTED_LIST_SIZE items (tests/security/test_query_cost.py keeps this complete).
LIST_SIZES: Mapping[str, ListSize] = {
    "Query.users": _CONNECTION,
    "Query.auditEvents": _CONNECTION,
    "Query.mySecurityEvents": _PAGE,
    "Query.failedEmails": _PAGE,
    "Query.webhookDeliveries": _PAGE,
    "Query.topOperations": ListSize(maximum=100, argument="limit"),
    "Query.retentionCohorts": ListSize(maximum=26, argument="weeks"),
    # A day a row, at most a year (resolvers/analytics.py MAX_DAYS).
    "Query.dailyAuthStats": ListSize(maximum=366),
    "Query.mySessions": ListSize(maximum=20),
    # domain/passkeys/registration.py MAX_PASSKEYS_PER_ACCOUNT.
    "Query.myPasskeys": ListSize(maximum=20),
    # domain/mfa/trusted_devices.py MAX_TRUSTED_DEVICES.
    "Query.myTrustedDevices": ListSize(maximum=20),
    "UserPasskeys.passkeys": ListSize(maximum=20),
    # One per configured provider.
    "Query.socialProviders": ListSize(maximum=20),
    "User.identities": ListSize(maximum=20),
    "UserIdentities.identities": ListSize(maximum=20),
    "Query.apiKeys": ListSize(maximum=50),
    # domain/oauth/clients.py MAX_LISTED.
    "Query.oauthClients": ListSize(maximum=100),
    "Query.myAuthorizedApps": ListSize(maximum=200),  # domain/oauth/consents.py MAX_LISTED
    "Query.webhookEndpoints": ListSize(maximum=20),
    "AdminUserDetail.sessions": ListSize(maximum=20),
    "AdminUserDetail.recentEvents": ListSize(maximum=20),
    "ValidationFailed.fieldErrors": ListSize(maximum=5),
}
UNLISTED_LIST_SIZE = 20


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
