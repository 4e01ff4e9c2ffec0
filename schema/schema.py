"""The Strawberry schema and the extensions every operation runs through."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import strawberry
from graphql import ASTValidationRule, GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from loguru import logger
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_limit_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_limit_rule
from strawberry.schema.config import BatchingConfig, StrawberryConfig
from strawberry.types import ExecutionContext

from domain.core.settings import Settings
from resolvers.server_info import resolve_server_info
from schema.admin.operations import AdminMutation, AdminQuery
from schema.analytics.operations import AnalyticsQuery
from schema.apikeys.operations import ApiKeyMutation, ApiKeyQuery
from schema.audit.operations import AuditQuery
from schema.email.operations import EmailMutation, EmailQuery
from schema.extensions import OperationNameRecorder
from schema.identity.operations import IdentityMutation, IdentityQuery
from schema.limits import AdminOnlyIntrospection, cost_limit_rule
from schema.live import Subscription
from schema.types.server_info import ServerInfo
from schema.webhooks.operations import WebhookMutation, WebhookQuery


@strawberry.type
class Query(
    IdentityQuery, ApiKeyQuery, AuditQuery, AdminQuery, AnalyticsQuery, EmailQuery, WebhookQuery
):
    server_info: ServerInfo = strawberry.field(
        resolver=resolve_server_info, description="Name, version and environment of this server."
    )


@strawberry.type
class Mutation(IdentityMutation, ApiKeyMutation, AdminMutation, EmailMutation, WebhookMutation):
    pass


class GatehouseSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Client mistakes are not server errors: keep them out of the ERROR log (an
        # attacker could flood it). Unexpected errors are logged, with their stack,
        # where they are masked (schema/errors.py).
        for error in errors:
            logger.bind(path=error.path).debug("graphql error: {}", error.message[:300])


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        # Parsing and validation are most of a small request's cost; both are pure
        # functions of the document, so they are cached (process-wide LRU caches).
        lambda: ParserCache(maxsize=1024),
        lambda: ValidationCache(maxsize=1024),
        OperationNameRecorder,
    ]
    # The rule classes are made once: the validation cache is keyed by them, and
    # QueryDepthLimiter/MaxAliasesLimiter would make new classes on every request,
    # so every request would miss the cache and validate again (a third of `me`).
    rules: list[type[ASTValidationRule]] = [
        cost_limit_rule(settings.graphql_max_cost),
        depth_limit_rule(settings.graphql_max_depth, None),
        alias_limit_rule(settings.graphql_max_aliases),
    ]
    mode = settings.introspection_mode
    if mode == "off":
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions += [
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: AddValidationRules(rules),
    ]
    if mode == "admin":
        extensions.append(AdminOnlyIntrospection)
    batching: BatchingConfig | None = None
    if settings.graphql_batch_max_operations > 0:
        batching = {"max_operations": settings.graphql_batch_max_operations}
    return GatehouseSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(
            disable_field_suggestions=settings.is_production, batching_config=batching
        ),
    )


def schema_hash(schema: strawberry.Schema) -> str:
    return hashlib.sha256(schema.as_str().encode()).hexdigest()[:16]
