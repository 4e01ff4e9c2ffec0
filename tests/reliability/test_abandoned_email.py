"""An email whose worker died mid-attempt is sent, and sent once.

Two deaths are possible: between the claim and the send (the attempt is re-queued once
its claimer has been silent past the stuck cutoff), and after the provider accepted
the message but before the outbox recorded it (the send receipt records it instead of
a second send).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from beanie import PydanticObjectId

from domain.core.claims import claim_once
from domain.core.clock import FrozenClock
from domain.core.db import create_mongo_client, init_database
from domain.core.redis import create_redis
from domain.core.sealing import sealing_box
from domain.core.settings import Settings
from domain.documents import DOCUMENT_MODELS
from domain.email.delivery import EmailDelivery
from domain.email.mailer import Mailer
from domain.email.outbox import EmailMessage, EmailStatus, Outbox
from domain.email.receipts import SendReceipts
from domain.email.transport import create_transport
from tests.support.smtp import MailInbox


@pytest.fixture(scope="module")
def mail_settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(email_backend="smtp", smtp_port=mail_inbox.port)


@pytest.fixture(scope="module")
async def database(mail_settings: Settings) -> AsyncIterator[None]:
    client = create_mongo_client(mail_settings)
    await init_database(client[mail_settings.mongodb_database], DOCUMENT_MODELS)
    yield
    await client.close()


@pytest.fixture(scope="module")
async def receipts(mail_settings: Settings) -> AsyncIterator[SendReceipts]:
    redis = create_redis(mail_settings)
    yield SendReceipts(redis, mail_settings.redis_key_prefix)
    await redis.aclose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def outbox(mail_settings: Settings, clock: FrozenClock) -> Outbox:
    return Outbox(mail_settings, clock, sealing_box(mail_settings), lambda _: None)


@pytest.fixture
def delivery(
    mail_settings: Settings, clock: FrozenClock, outbox: Outbox, receipts: SendReceipts
) -> EmailDelivery:
    mailer = Mailer(mail_settings, create_transport(mail_settings))
    return EmailDelivery(mail_settings, clock, outbox, mailer, receipts)


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: nothing after it runs, not even ``except Exception``."""


class DiesBeforeRecording(EmailDelivery):
    async def _record_sent(self, message: EmailMessage, provider_id: str | None) -> None:
        raise WorkerKilled


async def claim_attempt(message_id: str, attempt: int, clock: FrozenClock) -> None:
    """What a worker does first for an attempt (domain/email/delivery.py)."""
    key = f"email-attempt:{message_id}:{attempt}"
    assert await claim_once(key, now=clock.now(), expires_at=clock.now() + timedelta(1))


async def mark_sending(message_id: str, attempts: int, clock: FrozenClock) -> None:
    """What it does next: the message is ``sending`` with the attempt counted."""
    await EmailMessage.find_one(EmailMessage.id == PydanticObjectId(message_id)).update(
        {"$set": {"status": EmailStatus.SENDING, "attempts": attempts, "updated_at": clock.now()}}
    )


async def test_attempt_claimed_by_a_dead_worker_is_retried_and_sent_once(
    mail_settings: Settings,
    database: None,
    mail_inbox: MailInbox,
    clock: FrozenClock,
    outbox: Outbox,
    delivery: EmailDelivery,
) -> None:
    to = "abandoned.attempt@example.com"
    message_id = await outbox.send("account_exists", to, user_id=None, name="Ada")
    # The worker claimed attempt 1 and was SIGKILLed before writing anything else.
    await claim_attempt(message_id, 1, clock)
    # While the claimer may still be working, the message is left to it.
    assert (await delivery.deliver(message_id)).status == "skipped"
    clock.advance(timedelta(seconds=mail_settings.email_stuck_after_seconds + 1))
    assert (await delivery.deliver(message_id)).status == "retry"
    assert (await delivery.deliver(message_id)).status == "sent"
    message = await EmailMessage.get(message_id)
    assert message is not None
    assert message.status is EmailStatus.SENT
    assert message.attempts == 2
    assert len(mail_inbox.all(to)) == 1


async def test_email_accepted_before_the_worker_died_is_recorded_not_resent(
    mail_settings: Settings,
    database: None,
    mail_inbox: MailInbox,
    clock: FrozenClock,
    outbox: Outbox,
    delivery: EmailDelivery,
    receipts: SendReceipts,
) -> None:
    to = "accepted.then.killed@example.com"
    message_id = await outbox.send("account_exists", to, user_id=None, name="Ada")
    dying = DiesBeforeRecording(
        mail_settings,
        clock,
        outbox,
        Mailer(mail_settings, create_transport(mail_settings)),
        receipts,
    )
    with pytest.raises(WorkerKilled):
        await dying.deliver(message_id)
    (sent,) = mail_inbox.all(to)
    left = await EmailMessage.get(message_id)
    assert left is not None
    assert (left.status, left.attempts) == (EmailStatus.SENDING, 1)

    # The sweeper (or the broker) hands the message to a live worker.
    assert (await delivery.deliver(message_id)).status == "sent"
    message = await EmailMessage.get(message_id)
    assert message is not None
    assert message.status is EmailStatus.SENT
    assert message.attempts == 1
    assert message.provider_message_id == sent.message["Message-ID"]
    assert message.sealed_context is None
    assert len(mail_inbox.all(to)) == 1


async def test_sending_without_a_receipt_is_tried_again_with_the_same_message_id(
    mail_settings: Settings,
    database: None,
    mail_inbox: MailInbox,
    clock: FrozenClock,
    outbox: Outbox,
    delivery: EmailDelivery,
) -> None:
    """No receipt and no claim left: the provider never took the message (the worker
    died mid-send, long ago), so the next attempt sends it; a mailbox that did get it
    sees the same Message-ID."""
    to = "killed.mid.send@example.com"
    message_id = await outbox.send("account_exists", to, user_id=None, name="Ada")
    await mark_sending(message_id, 1, clock)
    assert (await delivery.deliver(message_id)).status == "sent"
    message = await EmailMessage.get(message_id)
    assert message is not None
    assert (message.status, message.attempts) == (EmailStatus.SENT, 2)
    (sent,) = mail_inbox.all(to)
    assert sent.message["Message-ID"] == f"<{message_id}@gatehouse.local>"


async def test_a_fresh_claim_on_a_long_stuck_message_is_left_to_its_claimer(
    mail_settings: Settings,
    database: None,
    mail_inbox: MailInbox,
    clock: FrozenClock,
    outbox: Outbox,
    delivery: EmailDelivery,
) -> None:
    """After a worker is killed, the broker's redelivery and the sweeper's job for the
    same message run together: one claims the next attempt, the other must leave it to
    it, however long the message itself has been stuck."""
    to = "stuck.then.raced@example.com"
    message_id = await outbox.send("account_exists", to, user_id=None, name="Ada")
    oid = PydanticObjectId(message_id)
    # The killed worker's attempt 1: claimed, marked sending, never finished.
    await claim_attempt(message_id, 1, clock)
    await mark_sending(message_id, 1, clock)
    clock.advance(timedelta(seconds=mail_settings.email_stuck_after_seconds * 3))
    # The winner of the race claims attempt 2 now and is about to record it.
    await claim_attempt(message_id, 2, clock)
    assert (await delivery.deliver(message_id)).status == "skipped"
    message = await EmailMessage.get(oid)
    assert message is not None
    assert (message.status, message.attempts) == (EmailStatus.SENDING, 1)
    assert mail_inbox.all(to) == []


async def test_an_attempt_under_way_is_not_doubled_by_a_second_job(
    database: None,
    mail_inbox: MailInbox,
    clock: FrozenClock,
    outbox: Outbox,
    delivery: EmailDelivery,
) -> None:
    """A second job for a message whose attempt another worker has just started (claimed
    and marked sending, not yet sent) leaves it alone instead of starting the next one."""
    to = "attempt.under.way@example.com"
    message_id = await outbox.send("account_exists", to, user_id=None, name="Ada")
    await claim_attempt(message_id, 1, clock)
    await mark_sending(message_id, 1, clock)
    assert (await delivery.deliver(message_id)).status == "skipped"
    assert mail_inbox.all(to) == []
