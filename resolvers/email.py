from __future__ import annotations

import strawberry

from domain.core.errors import NotFoundError
from schema.context import Info
from schema.email.types import EmailMessageType, EmailRequeued
from schema.error_mapping import maps_domain_errors
from schema.pagination import page_size


async def failed_emails(info: Info, first: int | None = 50) -> list[EmailMessageType]:
    messages = await info.context.services.outbox.failed(page_size(first, default=50))
    return [EmailMessageType.from_document(m) for m in messages]


@maps_domain_errors(NotFoundError)
async def resend_email(info: Info, id: strawberry.ID) -> EmailRequeued:
    message = await info.context.services.outbox.resend(str(id))
    if message is None:
        raise NotFoundError("No failed email has that id.")
    return EmailRequeued(email=EmailMessageType.from_document(message))
