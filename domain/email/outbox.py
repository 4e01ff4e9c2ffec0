"""The email outbox: every email is recorded first, then queued.

The record exists before anything is enqueued, so a message survives a Redis or
worker outage: the sweeper finds it ``queued`` and enqueues it again. The template
context (which carries link tokens) is sealed with AES-GCM at rest and dropped once
the message is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from beanie import Document, PydanticObjectId, SortDirection
from loguru import logger
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from domain.core.clock import Clock
from domain.core.request_context import current_request_id
from domain.core.secret_box import SecretBox
from domain.core.settings import Settings

Enqueue = Callable[[str], None]


class EmailStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # Recorded in place of an email to an address without an account, so a request
    # does the same work either way; never sent (see ``Outbox.send_nothing``).
    SUPPRESSED = "suppressed"


class EmailMessage(Document):
    to: str
    # The account the message is about, whatever its address is now (a notice to the
    # address it had before, a link to one it asked for): how export and erasure find
    # the person's messages (domain/privacy/data_map.py). None: no account (records of
    # ``send_nothing``) or a message from before it was kept, found by ``to`` alone.
    user_id: PydanticObjectId | None = None
    template: str
    status: EmailStatus = EmailStatus.QUEUED
    attempts: int = 0
    last_error: str | None = None
    provider_message_id: str | None = None
    sealed_context: str | None = Field(default=None, repr=False)
    request_id: str | None = None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None = None

    class Settings:
        name = "email_messages"
        use_state_management = False
        indexes = [
            IndexModel([("status", ASCENDING), ("updated_at", ASCENDING)], name="status_updated"),
            IndexModel([("created_at", DESCENDING)], name="created_at"),
            IndexModel([("to", ASCENDING), ("created_at", DESCENDING)], name="recipient"),
            IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING)], name="user"),
        ]


def _aad(message_id: str) -> bytes:
    return f"email:{message_id}".encode()


class Outbox:
    """The domain's email port: ``send`` records and enqueues, never waits for SMTP."""

    def __init__(self, settings: Settings, clock: Clock, box: SecretBox, enqueue: Enqueue) -> None:
        self._settings = settings
        self._clock = clock
        self._box = box
        self._enqueue = enqueue

    def link(self, path: str, token: str) -> str:
        return f"{self._settings.frontend_url.rstrip('/')}{path}?token={token}"

    async def send(
        self, template: str, to: str, *, user_id: PydanticObjectId | str | None, **context: Any
    ) -> str:
        """Record and enqueue. ``user_id``, the account the message is about, is asked of
        every caller (None only where there is no account), so none forgets it and the
        person's export and erasure find every message, to any address they had."""
        now = self._clock.now()
        message_id = PydanticObjectId()
        sealed = self._box.encrypt(
            orjson.dumps(context, default=str).decode(), context=_aad(str(message_id))
        )
        await EmailMessage(
            id=message_id,
            to=to,
            user_id=PydanticObjectId(user_id) if user_id is not None else None,
            template=template,
            sealed_context=sealed,
            request_id=current_request_id(),
            created_at=now,
            updated_at=now,
        ).insert()
        await self.enqueue(str(message_id))
        return str(message_id)

    async def send_nothing(self, template: str) -> str:
        """The work of ``send`` (seal, record, enqueue) for an email that must not go out.

        Anonymous requests (reset, resend, register) answer alike for addresses with
        and without an account; doing the send's work either way keeps their time from
        saying which. The record keeps no address, and delivery skips it.
        """
        now = self._clock.now()
        message_id = PydanticObjectId()
        sealed = self._box.encrypt(orjson.dumps({}).decode(), context=_aad(str(message_id)))
        await EmailMessage(
            id=message_id,
            to="",
            template=template,
            status=EmailStatus.SUPPRESSED,
            sealed_context=sealed,
            request_id=current_request_id(),
            created_at=now,
            updated_at=now,
        ).insert()
        await self.enqueue(str(message_id))
        return str(message_id)

    async def enqueue(self, message_id: str) -> bool:
        try:
            # Dramatiq's send is a blocking Redis call: off the event loop, so a Redis
            # that stops answering holds up this request only, not every request.
            await asyncio.to_thread(self._enqueue, message_id)
        except Exception as exc:
            logger.bind(email_id=message_id).warning("email not enqueued yet: {}", exc)
            return False
        return True

    def open_context(self, message: EmailMessage) -> dict[str, Any]:
        if message.sealed_context is None:
            return {}
        raw = self._box.decrypt(message.sealed_context, context=_aad(str(message.id)))
        value: dict[str, Any] = orjson.loads(raw)
        return value

    async def failed(self, limit: int = 50) -> list[EmailMessage]:
        return (
            await EmailMessage.find(EmailMessage.status == EmailStatus.FAILED)
            .sort([("updated_at", SortDirection.DESCENDING)])
            .limit(limit)
            .to_list()
        )

    async def resend(self, message_id: str) -> EmailMessage | None:
        """Put a failed message back in the queue (an admin action)."""
        try:
            oid = PydanticObjectId(message_id)
        except Exception:
            return None
        message = await EmailMessage.get(oid)
        if message is None or message.status is not EmailStatus.FAILED:
            return None
        await EmailMessage.find_one(EmailMessage.id == oid).update(
            # Attempts keep counting: each attempt number is claimed once (see delivery.py).
            {"$set": {"status": EmailStatus.QUEUED, "updated_at": self._clock.now()}}
        )
        await self.enqueue(message_id)
        message.status = EmailStatus.QUEUED
        return message

    async def stuck(self, older_than: datetime, limit: int = 500) -> list[EmailMessage]:
        """Messages still queued (or left 'sending' by a dead worker) since before the cutoff."""
        return (
            await EmailMessage.find(
                {
                    "status": {"$in": [EmailStatus.QUEUED, EmailStatus.SENDING]},
                    "updated_at": {"$lt": older_than},
                }
            )
            .limit(limit)
            .to_list()
        )
