from __future__ import annotations

from datetime import datetime

import strawberry

from domain.email.outbox import EmailMessage


@strawberry.type(name="EmailMessage", description="An outgoing email and what became of it.")
class EmailMessageType:
    id: strawberry.ID
    to: str
    template: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None

    @classmethod
    def from_document(cls, message: EmailMessage) -> EmailMessageType:
        return cls(
            id=strawberry.ID(str(message.id)),
            to=message.to,
            template=message.template,
            status=message.status.value,
            attempts=message.attempts,
            last_error=message.last_error,
            created_at=message.created_at,
            updated_at=message.updated_at,
            sent_at=message.sent_at,
        )


@strawberry.type
class EmailRequeued:
    email: EmailMessageType
