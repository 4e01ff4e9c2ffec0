"""Every Query and Mutation field of the schema, with what guards it, and a minimal
document that calls it, so the attack suite covers fields added later without edits."""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
    get_named_type,
    is_leaf_type,
)

from domain.core.settings import Settings
from domain.identity.permissions import Permission
from schema.schema import build_schema

_SCHEMA = build_schema(Settings(_env_file=None, environment="test"))  # type: ignore[call-arg]

# Fields anyone may call: sign-up, sign-in and the emailed-link mutations.
PUBLIC = frozenset(
    {
        "serverInfo",
        "register",
        "verifyEmail",
        "resendVerificationEmail",
        "login",
        "refreshToken",
        "requestPasswordReset",
        "resetPassword",
        "completeMfaLogin",
        "unlockAccount",
        "confirmEmailChange",
        "beginPasskeyLogin",
        "finishPasskeyLogin",
        "requestEmailSignIn",
        "completeEmailSignIn",
        "socialProviders",
        "beginSocialSignIn",
        "completeSocialSignIn",
        "requestSocialLinkEmail",
        "confirmSocialLinkEmail",
        "cancelAccountDeletion",
        # Headless OIDC login UI: the challenge (192 random bits) is the capability; a
        # consent step's rejection still needs its person's session (domain/oauth/headless.py).
        "oauthChallenge",
        "rejectChallenge",
    }
)


@dataclass(frozen=True, slots=True)
class Operation:
    kind: str  # "query" | "mutation" | "subscription"
    name: str  # the GraphQL field name
    permission: Permission | None  # None: public or any signed-in user
    authenticated: bool  # needs a signed-in caller

    def document(self, id_value: str, variable: str | None = None) -> str:
        """A call with placeholder literals; ``variable`` names one argument to take from
        ``$v`` instead (declared with that argument's own type)."""
        field = _graphql_field(self.kind, self.name)
        args = [
            f"{name}: {'$v' if name == variable else _literal(arg.type, id_value)}"
            for name, arg in field.args.items()
            if name == variable
            or (isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined)
        ]
        call = f"{self.name}({', '.join(args)})" if args else self.name
        selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
        declared = f"($v: {field.args[variable].type})" if variable else ""
        return f"{self.kind}{declared} {{ {call}{selection} }}"

    def string_arguments(self) -> list[str]:
        """Arguments that take a String or ID (alone or in a list)."""
        field = _graphql_field(self.kind, self.name)
        return [
            name
            for name, arg in field.args.items()
            if get_named_type(arg.type).name in ("String", "ID")
        ]


def _graphql_field(kind: str, name: str) -> GraphQLField:
    root = {
        "query": _SCHEMA._schema.query_type,
        "mutation": _SCHEMA._schema.mutation_type,
        "subscription": _SCHEMA._schema.subscription_type,
    }[kind]
    assert root is not None
    return root.fields[name]


def _literal(type_: GraphQLInputType, id_value: str) -> str:
    """A well-typed placeholder, so the call gets past validation to the guard."""
    if isinstance(type_, GraphQLNonNull):
        return _literal(type_.of_type, id_value)
    if isinstance(type_, GraphQLList):
        return "[]"
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        fields = [
            f"{name}: {_literal(f.type, id_value)}"
            for name, f in type_.fields.items()
            if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined
        ]
        return "{" + ", ".join(fields) + "}"
    assert isinstance(type_, GraphQLScalarType)
    return {
        "ID": f'"{id_value}"',
        "String": '"x"',
        "Int": "1",
        "Float": "1.0",
        "Boolean": "false",
        "Date": '"2026-01-01"',
        "DateTime": '"2026-01-01T00:00:00+00:00"',
        "JSON": "{}",
    }[type_.name]


def _operations() -> list[Operation]:
    found = []
    for kind, type_name in (
        ("query", "Query"),
        ("mutation", "Mutation"),
        ("subscription", "Subscription"),
    ):
        definition = _SCHEMA.get_type_by_name(type_name)
        assert definition is not None
        for field in definition.fields:  # type: ignore[union-attr]
            guards = [p for ext in field.extensions for p in getattr(ext, "permissions", [])]
            required = [g.required for g in guards if hasattr(g, "required")]
            found.append(
                Operation(
                    kind=kind,
                    name=field.graphql_name
                    or _SCHEMA.config.name_converter.get_graphql_name(field),
                    permission=required[0] if required else None,
                    authenticated=bool(guards),
                )
            )
    return found


OPERATIONS = _operations()
GUARDED = [op for op in OPERATIONS if op.permission is not None and op.kind != "subscription"]
