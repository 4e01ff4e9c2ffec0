from __future__ import annotations

import strawberry

from domain.core.errors import NotFoundError
from schema.context import Info
from schema.email.types import EmailMessageType, EmailRequeued
from schema.pagination import page_size
from schema.user_errors import UserError, map_user_error


async def failed_emails(info: Info, first: int | None = 50) -> list[EmailMessageType]:
    messages = await info.context.state.outbox.failed(page_size(first, default=50))
    return [EmailMessageType.from_document(m) for m in messages]


async def resend_email(info: Info, id: strawberry.ID) -> EmailRequeued | UserError:
    message = await info.context.state.outbox.resend(str(id))
    if message is None:
        return map_user_error(NotFoundError("No failed email has that id."))
    return EmailRequeued(email=EmailMessageType.from_document(message))
