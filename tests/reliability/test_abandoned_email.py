"""An email whose attempt was claimed by a worker that died before recording it is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from domain.core.claims import claim_once
from domain.core.clock import FrozenClock
from domain.core.db import create_mongo_client, init_database
from domain.core.sealing import sealing_box
from domain.core.settings import Settings
from domain.documents import DOCUMENT_MODELS
from domain.email.delivery import EmailDelivery
from domain.email.mailer import Mailer
from domain.email.outbox import EmailMessage, EmailStatus, Outbox
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


async def test_attempt_claimed_by_a_dead_worker_is_retried_and_sent_once(
    mail_settings: Settings, database: None, mail_inbox: MailInbox
) -> None:
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    outbox = Outbox(mail_settings, clock, sealing_box(mail_settings), lambda _: None)
    delivery = EmailDelivery(
        mail_settings, clock, outbox, Mailer(mail_settings, create_transport(mail_settings))
    )
    to = "abandoned.attempt@example.com"
    message_id = await outbox.send("account_exists", to, name="Ada")
    # The worker claimed attempt 1 and was SIGKILLed before writing anything else.
    assert await claim_once(
        f"email-attempt:{message_id}:1", now=clock.now(), expires_at=clock.now() + timedelta(1)
    )
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
