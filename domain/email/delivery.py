"""Deliver one queued email: idempotent, retried on transient failures, recorded.

Each attempt is claimed (``email-attempt:<id>:<n>``) before the side effect, so a
message redelivered by the broker or re-enqueued by the sweeper is not sent twice
for the same attempt; a message already ``sent`` or ``failed`` is left alone. A
message left ``sending`` by a worker that died is checked against its send receipt
(domain/email/receipts.py) before it is tried again.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta

import aiosmtplib
from beanie import PydanticObjectId
from loguru import logger

from domain.core.by_id import update_by_id
from domain.core.claims import claim_once, claimed_at
from domain.core.clock import Clock
from domain.core.outages import is_dependency_outage
from domain.core.settings import Settings
from domain.email.mailer import Mailer
from domain.email.outbox import EmailMessage, EmailStatus, Outbox
from domain.email.receipts import SendReceipts


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    status: str  # "sent", "retry", "failed", "skipped"
    retry_in_ms: int = 0


def is_permanent(error: BaseException) -> bool:
    """5xx answers (recipient refused, policy) will not change by retrying."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return all(e.code >= 500 for e in error.recipients)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return error.code >= 500
    return False


class EmailDelivery:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        outbox: Outbox,
        mailer: Mailer,
        receipts: SendReceipts,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._outbox = outbox
        self._mailer = mailer
        self._receipts = receipts

    async def _claimer_may_be_working(self, message_id: str, attempt: int) -> bool:
        """Attempt ``attempt`` was claimed within the stuck cutoff: its worker may still
        be sending it. The claim's age decides, not the message's: after a worker is
        killed, its job (redelivered by the broker) and the sweeper's job for the same
        message race, and the message's old time would let the loser take the winner's
        live attempt for a dead one and send the email again."""
        claimed = await claimed_at(f"email-attempt:{message_id}:{attempt}")
        if claimed is None:
            return False
        now = self._clock.now()
        if claimed.tzinfo is None:
            claimed = claimed.replace(tzinfo=now.tzinfo)
        return claimed >= now - timedelta(seconds=self._settings.email_stuck_after_seconds)

    async def _abandoned(self, message: EmailMessage, attempt: int) -> DeliveryResult:
        """Attempt ``attempt`` is claimed but not recorded: skip it if its claimer may
        still be at work; if the claim is older than the stuck cutoff its claimer died
        between the claim and the record (a SIGKILLed worker), so count the attempt as
        spent and queue the next one. Without this the message was skipped on every
        sweep, never sent."""
        if message.attempts >= attempt or await self._claimer_may_be_working(
            str(message.id), attempt
        ):
            return DeliveryResult("skipped")
        now = self._clock.now()
        await update_by_id(
            EmailMessage.get_pymongo_collection(),
            message.id,
            {
                "$set": {
                    "attempts": attempt,
                    "status": EmailStatus.QUEUED.value,
                    "last_error": "attempt abandoned by a stopped worker",
                    "updated_at": now,
                }
            },
            guard={"attempts": message.attempts},
        )
        logger.bind(email_id=str(message.id), attempt=attempt).warning("email attempt abandoned")
        return DeliveryResult("retry", retry_in_ms=self._settings.email_retry_base_ms)

    async def deliver(self, message_id: str) -> DeliveryResult:
        message = await EmailMessage.get(PydanticObjectId(message_id))
        if message is None or message.status in (
            EmailStatus.SENT,
            EmailStatus.FAILED,
            EmailStatus.SUPPRESSED,
        ):
            return DeliveryResult("skipped")
        if message.status is EmailStatus.SENDING and message.attempts:
            # An attempt is under way, or its worker died before recording the outcome.
            provider_id = await self._receipts.find(message_id, message.attempts)
            if provider_id is not None:
                await self._record_sent(message, provider_id)
                logger.bind(email_id=message_id, attempt=message.attempts).warning(
                    "email sent by a stopped worker recorded from its receipt"
                )
                return DeliveryResult("sent")
            if await self._claimer_may_be_working(message_id, message.attempts):
                return DeliveryResult("skipped")
        attempt = message.attempts + 1
        now = self._clock.now()
        if not await claim_once(
            f"email-attempt:{message_id}:{attempt}", now=now, expires_at=now + timedelta(days=7)
        ):
            return await self._abandoned(message, attempt)
        await EmailMessage.find_one(EmailMessage.id == message.id).update(
            {"$set": {"status": EmailStatus.SENDING, "attempts": attempt, "updated_at": now}}
        )
        log = logger.bind(email_id=message_id, template=message.template, attempt=attempt)
        try:
            rendered = self._mailer.render(
                message.template, message.to, self._outbox.open_context(message), message_id
            )

            async def accepted(provider_id: str) -> None:
                await self._receipts.record(message_id, attempt, provider_id)

            provider_id = await self._mailer.deliver(rendered, accepted)
        except Exception as error:
            permanent = is_permanent(error) or attempt >= self._settings.email_max_attempts
            status = EmailStatus.FAILED if permanent else EmailStatus.QUEUED
            await EmailMessage.find_one(EmailMessage.id == message.id).update(
                {
                    "$set": {
                        "status": status,
                        "last_error": f"{type(error).__name__}: {error}"[:500],
                        "updated_at": self._clock.now(),
                    }
                }
            )
            if permanent:
                log.error("email failed for good: {}", type(error).__name__)
                return DeliveryResult("failed")
            delay = min(
                self._settings.email_retry_base_ms * 2 ** (attempt - 1),
                self._settings.email_retry_max_ms,
            )
            log.warning("email attempt failed, retrying in {} ms", delay)
            return DeliveryResult("retry", retry_in_ms=delay)
        await self._record_sent(message, provider_id)
        log.info("email sent")
        return DeliveryResult("sent")

    async def _record_sent(self, message: EmailMessage, provider_id: str | None) -> None:
        """Record the delivery, waiting out a database outage: the email has left, and a
        failure here would have the job retried and the email sent a second time."""
        deadline = time.monotonic() + self._settings.email_stuck_after_seconds
        pause = 0.2
        while True:
            done = self._clock.now()
            try:
                await EmailMessage.find_one(EmailMessage.id == message.id).update(
                    {
                        "$set": {
                            "status": EmailStatus.SENT,
                            "provider_message_id": provider_id,
                            "sent_at": done,
                            "updated_at": done,
                            "sealed_context": None,
                            "last_error": None,
                        }
                    }
                )
                return
            except Exception as error:
                if not is_dependency_outage(error) or time.monotonic() > deadline:
                    raise
                logger.bind(email_id=str(message.id)).warning(
                    "email sent but not yet recorded (database unavailable); retrying"
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)
