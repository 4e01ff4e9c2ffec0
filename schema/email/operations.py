from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission

from domain.identity.permissions import Permission
from resolvers import email
from schema.email.types import EmailMessageType, EmailRequeued
from schema.permissions import permission_guard
from schema.user_errors import NotFound

ResendEmailResult = Annotated[EmailRequeued | NotFound, strawberry.union("ResendEmailResult")]
_MANAGE: list[type[BasePermission]] = permission_guard(Permission.USERS_WRITE)


@strawberry.type
class EmailQuery:
    failed_emails: list[EmailMessageType] = strawberry.field(
        resolver=email.failed_emails,
        permission_classes=_MANAGE,
        description="Emails that could not be delivered, newest first.",
    )


@strawberry.type
class EmailMutation:
    resend_email = strawberry.mutation(
        resolver=email.resend_email,
        permission_classes=_MANAGE,
        graphql_type=ResendEmailResult,
        description="Queue a failed email again.",
    )
