"""The Strawberry schema and the extensions every operation runs through."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, ParserCache, SchemaExtension, ValidationCache
from strawberry.schema.config import StrawberryConfig

from domain.core.settings import Settings
from resolvers.server_info import resolve_server_info
from schema.extensions import OperationNameRecorder
from schema.types.server_info import ServerInfo


@strawberry.type
class Query:
    server_info: ServerInfo = strawberry.field(
        resolver=resolve_server_info, description="Name, version and environment of this server."
    )


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        # Parsing and validation are most of a small request's cost; both are pure
        # functions of the document, so they are cached (process-wide LRU caches).
        lambda: ParserCache(maxsize=1024),
        lambda: ValidationCache(maxsize=1024),
        OperationNameRecorder,
    ]
    if not settings.introspection_enabled:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    return strawberry.Schema(
        query=Query,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=settings.is_production),
    )


def schema_hash(schema: strawberry.Schema) -> str:
    return hashlib.sha256(schema.as_str().encode()).hexdigest()[:16]
