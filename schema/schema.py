"""The Strawberry schema and the extensions every operation runs through."""

from __future__ import annotations

import hashlib

import strawberry
from graphql import ASTValidationRule, GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from loguru import logger
from strawberry.schema.config import BatchingConfig, StrawberryConfig
from strawberry.types import ExecutionContext

from domain.core.settings import Settings
from resolvers.server_info import resolve_server_info
from schema.admin.operations import AdminMutation, AdminQuery
from schema.analytics.operations import AnalyticsQuery
from schema.apikeys.operations import ApiKeyMutation, ApiKeyQuery
from schema.audit.operations import AuditQuery
from schema.document_limits import DocumentLimits
from schema.email.operations import EmailMutation, EmailQuery
from schema.error_mapping import schema_fields, union_mismatches, user_error_handlers
from schema.extensions import GatehouseExtension, OperationPolicy
from schema.identity.operations import IdentityMutation, IdentityQuery
from schema.impersonation.operations import ImpersonationMutation
from schema.live import Subscription
from schema.oauth.operations import OAuthMutation, OAuthQuery
from schema.passkeys.operations import PasskeyMutation, PasskeyQuery
from schema.passwordless.operations import PasswordlessMutation
from schema.privacy.operations import PrivacyMutation
from schema.social.operations import SocialMutation, SocialQuery
from schema.trusted_devices.operations import TrustedDeviceMutation, TrustedDeviceQuery
from schema.types.server_info import ServerInfo
from schema.webhooks.operations import WebhookMutation, WebhookQuery


@strawberry.type
class Query(
    IdentityQuery,
    PasskeyQuery,
    TrustedDeviceQuery,
    SocialQuery,
    ApiKeyQuery,
    OAuthQuery,
    AuditQuery,
    AdminQuery,
    AnalyticsQuery,
    EmailQuery,
    WebhookQuery,
):
    server_info: ServerInfo = strawberry.field(
        resolver=resolve_server_info, description="Name, version and environment of this server."
    )


@strawberry.type
class Mutation(
    IdentityMutation,
    PasskeyMutation,
    PasswordlessMutation,
    TrustedDeviceMutation,
    SocialMutation,
    ApiKeyMutation,
    OAuthMutation,
    AdminMutation,
    EmailMutation,
    WebhookMutation,
    ImpersonationMutation,
    PrivacyMutation,
):
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
    # Made once: the validation cache is keyed by the rules. Depth, aliases and cost
    # are not rules: Strawberry's limiters and a cost rule expanded fragments at every
    # spread (exponential in a fan-out); schema/document_limits.py measures them once.
    rules: list[type[ASTValidationRule]] = []
    mode = settings.introspection_mode
    if mode == "off":
        rules.append(NoSchemaIntrospectionCustomRule)
    limits = DocumentLimits(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_cost=settings.graphql_max_cost,
    )
    policy = OperationPolicy(
        max_tokens=settings.graphql_max_tokens,
        limits=limits,
        rules=tuple(rules),
        admin_only_introspection=mode == "admin",
    )
    batching: BatchingConfig | None = None
    if settings.graphql_batch_max_operations > 0:
        batching = {"max_operations": settings.graphql_batch_max_operations}
    schema = GatehouseSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[lambda: GatehouseExtension(policy)],
        config=StrawberryConfig(
            disable_field_suggestions=settings.is_production, batching_config=batching
        ),
        exception_handlers=user_error_handlers(),
    )
    problems = union_mismatches(schema_fields(schema))
    if problems:
        raise TypeError("domain errors and result unions disagree:\n" + "\n".join(problems))
    return schema


def schema_hash(schema: strawberry.Schema) -> str:
    return hashlib.sha256(schema.as_str().encode()).hexdigest()[:16]
