"""The admin console's operations (schema/graphiql/static/admin-console.json) against the schema.

GraphiQL opens on these tabs and the sign-in panel sends the `signIn` operations itself; a
schema change that breaks one of them must fail here, not in front of an admin.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from graphql import (
    GraphQLSchema,
    OperationDefinitionNode,
    Source,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from domain.core.settings import Settings
from schema.graphiql import STATIC_DIR
from schema.schema import build_schema

CONSOLE: dict[str, Any] = json.loads((STATIC_DIR / "admin-console.json").read_text())
TABS: list[dict[str, Any]] = CONSOLE["tabs"]


@pytest.fixture(scope="module")
def graphql_schema() -> GraphQLSchema:
    return build_schema(Settings(_env_file=None, environment="development"))._schema


def _document(lines: list[str], name: str) -> tuple[list[OperationDefinitionNode], list[str]]:
    document = parse(Source("\n".join(lines), name))
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return operations, [op.name.value for op in operations if op.name is not None]


@pytest.mark.parametrize("name", sorted(CONSOLE["signIn"]))
def test_each_sign_in_operation_is_valid(graphql_schema: GraphQLSchema, name: str) -> None:
    lines = CONSOLE["signIn"][name]
    document = parse("\n".join(lines))
    assert validate(graphql_schema, document) == []
    operations, names = _document(lines, name)
    assert len(operations) == 1, "the panel sends exactly one operation"
    assert names, "a named one (the access log shows it)"


@pytest.mark.parametrize("index", range(len(TABS)))
def test_each_tab_is_valid_with_its_example_variables(
    graphql_schema: GraphQLSchema, index: int
) -> None:
    tab = TABS[index]
    lines: list[str] = tab["query"]
    assert lines[0].startswith("#"), "each tab opens with a comment saying what it is for"
    document = parse("\n".join(lines))
    assert validate(graphql_schema, document) == []
    operations, names = _document(lines, f"tab {index}")
    assert len(names) == len(operations) == len(set(names)), "named, distinct operations"
    variables: dict[str, Any] = tab.get("variables", {})
    defined = {
        definition.variable.name.value
        for operation in operations
        for definition in operation.variable_definitions or ()
    }
    assert set(variables) <= defined, f"unused example variables: {set(variables) - defined}"
    for operation in operations:
        own = {d.variable.name.value for d in operation.variable_definitions or ()}
        coerced = get_variable_values(
            graphql_schema,
            operation.variable_definitions or [],
            {key: value for key, value in variables.items() if key in own},
        )
        assert not isinstance(coerced, list), (operation.name, [str(e) for e in coerced])


def test_the_tabs_cover_the_common_admin_tasks() -> None:
    text = "\n".join("\n".join(tab["query"]) for tab in TABS)
    for field in (
        "users(",
        "user(id:",
        "unlockUser(",
        "revokeUserSessions(",
        "resetUserTwoFactor(",
        "updateUser(",
        "auditEvents(",
        "failedEmails(",
        "resendEmail(",
        "webhookEndpoints",
        "webhookDeliveries(",
        "redeliverWebhook(",
        "apiKeys",
        "dailyAuthStats(",
    ):
        assert field in text, field
    assert _document(TABS[0]["query"], "tab 0")[1] == ["UsersPage"], "the page opens on users"
