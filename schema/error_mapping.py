"""The one place a domain error becomes a member of a mutation's result union.

A resolver declares the domain errors it answers with, ``@maps_domain_errors(...)``;
Strawberry's exception handlers (``Schema(exception_handlers=...)``) turn each into its
union member from the table in schema/user_errors.py. ``union_mismatches`` checks, when
the schema is built, that every declared error has its member in the field's union and
every error member of the union is declared. A mapped error a resolver did not declare
is a bug: it is logged with its stack and masked as INTERNAL_SERVER_ERROR
(schema/errors.py), never answered with a member the client was not told to expect.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ParamSpec, TypeVar

import strawberry
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField
from strawberry.types.union import StrawberryUnion

from domain.core.errors import DomainError
from schema.context import Info
from schema.user_errors import USER_ERROR_TYPES, UserError, to_user_error, user_error_type

P = ParamSpec("P")
R = TypeVar("R")
DECLARED = "domain_errors"


class UndeclaredDomainError(Exception):
    """A resolver raised a mapped domain error it does not declare (a bug, not user input)."""

    def __init__(self, resolver: str, error: DomainError) -> None:
        super().__init__(
            f"{resolver} raised {type(error).__name__} ({error.code}), which it does not "
            "declare in @maps_domain_errors"
        )


def maps_domain_errors(
    *errors: type[DomainError],
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Declare the domain errors this resolver answers with a union member."""
    unmapped = [e.__name__ for e in errors if user_error_type(e) is None]
    if unmapped:
        raise TypeError(f"no union member for {unmapped}: add them to USER_ERROR_TYPES")

    def decorate(resolver: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(resolver)
        async def resolve(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await resolver(*args, **kwargs)
            except errors:
                raise  # the exception handler answers with the union member
            except DomainError as error:
                if user_error_type(type(error)) is None:
                    raise  # about the request (an outage, UNAUTHENTICATED): top-level
                raise UndeclaredDomainError(resolver.__qualname__, error) from error

        setattr(resolve, DECLARED, errors)
        return resolve

    return decorate


class UserErrorHandler:
    """Answers the domain errors of one union member with that member.

    Strawberry attaches it only to fields whose union holds ``error_type``.
    """

    def __init__(self, error_type: type[UserError], exception_type: tuple[type[DomainError], ...]):
        self.error_type = error_type
        self.exception_type = exception_type

    def handle(self, exception: DomainError, *, field: StrawberryField, info: Info) -> UserError:
        return to_user_error(exception)


def user_error_handlers() -> list[UserErrorHandler]:
    by_member: dict[type[UserError], list[type[DomainError]]] = {}
    for error, member in USER_ERROR_TYPES.items():
        by_member.setdefault(member, []).append(error)
    return [UserErrorHandler(member, tuple(errors)) for member, errors in by_member.items()]


def declared_errors(field: StrawberryField) -> tuple[type[DomainError], ...] | None:
    resolver = field.base_resolver
    if resolver is None:
        return None
    declared: tuple[type[DomainError], ...] | None = getattr(resolver.wrapped_func, DECLARED, None)
    return declared


def _union_error_members(field: StrawberryField) -> set[type[Any]]:
    field_type: Any = field.type
    of_type = getattr(field_type, "of_type", None)  # StrawberryOptional
    if of_type is not None:
        field_type = of_type
    if not isinstance(field_type, StrawberryUnion):
        return set()
    members = {getattr(t, "__strawberry_definition__", None) for t in field_type.types}
    return {
        d.origin
        for d in members
        if isinstance(d, StrawberryObjectDefinition) and issubclass(d.origin, UserError)
    }


def union_mismatches(fields: Iterable[tuple[str, StrawberryField]]) -> list[str]:
    """Each field's declared errors against the error members of its result union."""
    problems: list[str] = []
    for name, field in fields:
        members = _union_error_members(field)
        declared = declared_errors(field)
        if declared is None:
            if members:
                listed = sorted(m.__name__ for m in members)
                problems.append(f"{name}: its union has {listed} but no @maps_domain_errors")
            continue
        answered: set[type[Any]] = set()
        for error in declared:
            member = user_error_type(error)
            assert member is not None  # maps_domain_errors refuses unmapped errors
            answered.add(member)
            if member not in members:
                problems.append(
                    f"{name}: declares {error.__name__} but its union lacks {member.__name__}"
                )
        for member in sorted(members - answered, key=lambda m: m.__name__):
            problems.append(f"{name}: union member {member.__name__} is declared by no error")
    return problems


def schema_fields(schema: strawberry.Schema) -> list[tuple[str, StrawberryField]]:
    """The query and mutation fields, named ``Query.x`` and ``Mutation.y``."""
    found: list[tuple[str, StrawberryField]] = []
    for label, root in (("Query", schema.query), ("Mutation", schema.mutation)):
        definition = getattr(root, "__strawberry_definition__", None)
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        for field in definition.fields:
            graphql_name = field.graphql_name or schema.config.name_converter.get_graphql_name(
                field
            )
            found.append((f"{label}.{graphql_name}", field))
    return found
