"""The email queue end to end: API → outbox → Redis → worker process → real SMTP server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import services

from domain.core.roles import Role
from domain.core.settings import Settings
from domain.email.outbox import EmailMessage, EmailStatus
from tests.api.identity_ops import (
    LOGIN,
    NEW_PASSWORD,
    PASSWORD,
    REFRESH,
    REGISTER,
    REQUEST_EMAIL_CHANGE,
    REQUEST_RESET,
    RESET,
    VERIFY,
    call,
    login,
    register,
    unique_email,
    verified_user,
)
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager
from tests.support.processes import running_worker
from tests.support.smtp import MailInbox

FAILED = "query { failedEmails { id to template status attempts lastError } }"
RESEND = "mutation($id: ID!) { resendEmail(id: $id) { __typename } }"
ADMIN_PASSWORD = "lilac ferry mountain 3318"

OTHER_BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(email_backend="smtp", smtp_port=mail_inbox.port, email_max_attempts=4)


def parts(mail: Any) -> set[str]:
    return {part.get_content_type() for part in mail.message.walk()}


async def wait_status(message_to: str, status: EmailStatus, seconds: float = 15) -> EmailMessage:
    deadline = time.monotonic() + seconds
    while True:
        message = await EmailMessage.find_one({"to": message_to, "status": status})
        if message is not None:
            return message
        assert time.monotonic() < deadline, f"no {status} email to {message_to}"
        await asyncio.sleep(0.1)


async def test_every_email_type_arrives_with_both_parts(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = unique_email("kinds")
    await register(client, email)
    (verify,) = await mail_inbox.wait_for(email, "Confirm your email")
    assert (await call(client, VERIFY, {"token": verify.token()}))["data"]["verifyEmail"][
        "__typename"
    ] == "EmailVerified"
    await register(client, email)
    await mail_inbox.wait_for(email, "tried to register")
    await call(client, REQUEST_RESET, {"email": email})
    (reset,) = await mail_inbox.wait_for(email, "Reset your")
    await call(client, RESET, {"token": reset.token(), "password": NEW_PASSWORD})
    await mail_inbox.wait_for(email, "password was changed")
    session = await login(client, email, NEW_PASSWORD)
    # A sign-in from a kind of device this account has not used before is announced;
    # the same device again is not, nor a return to the first one.
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Safari/604.1"
    await login(client, email, NEW_PASSWORD, user_agent=iphone)
    (notice,) = await mail_inbox.wait_for(email, "New sign-in")
    assert "Safari on iOS" in notice.text
    await login(client, email, NEW_PASSWORD, user_agent=iphone)
    await login(client, email, NEW_PASSWORD)
    new_email = unique_email("moved")
    await call(
        client,
        REQUEST_EMAIL_CHANGE,
        {"email": new_email, "password": NEW_PASSWORD},
        session["accessToken"],
    )
    await mail_inbox.wait_for(new_email, "Confirm your new email")
    await mail_inbox.wait_for(email, "being changed")
    rotated = await call(client, REFRESH, {"token": session["refreshToken"]})
    assert rotated["data"]["refreshToken"]["__typename"] == "AuthPayload"
    # The spent token from another browser: reuse (the same client inside the grace
    # window would be a retry answered with the same successor).
    await call(client, REFRESH, {"token": session["refreshToken"]}, user_agent=OTHER_BROWSER)
    await mail_inbox.wait_for(email, "signed out a session")
    for i in range(10):
        await call(client, LOGIN, {"email": email, "password": f"wrong password {i}"})
    (locked,) = await mail_inbox.wait_for(email, "was locked")
    assert "token=" in locked.text

    for mail in mail_inbox.all(email) + mail_inbox.all(new_email):
        assert {"text/plain", "text/html"} <= parts(mail), mail.subject
    for _ in range(50):  # the worker marks "sent" just after the SMTP server has the mail
        sent = await EmailMessage.find({"to": email, "status": EmailStatus.SENT}).to_list()
        if len(sent) == 8:
            break
        await asyncio.sleep(0.1)
    assert len(sent) == 8
    assert len([m for m in mail_inbox.all(email) if "New sign-in" in m.subject]) == 1
    assert all(m.sealed_context is None for m in sent)  # tokens are not kept once sent


async def test_transient_smtp_failures_are_retried_and_delivered_once(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    email = unique_email("flaky")
    mail_inbox.fail_next(2)
    await register(client, email)
    (mail,) = await mail_inbox.wait_for(email, "Confirm your email", seconds=20)
    message = await wait_status(email, EmailStatus.SENT)
    assert message.attempts == 3
    await asyncio.sleep(1)
    assert len(mail_inbox.all(email)) == 1
    assert mail.token()


async def test_permanent_failure_is_recorded_and_admin_can_resend(
    client: httpx.AsyncClient, app: LifespanManager, mail_inbox: MailInbox
) -> None:
    email = unique_email("rejected")
    mail_inbox.fail_next(1, "550 5.1.1 No such user here")
    await register(client, email)
    failed = await wait_status(email, EmailStatus.FAILED)
    assert failed.attempts == 1
    assert "550" in (failed.last_error or "")

    state = app.state
    await staff_account(state, "mail.admin@example.com", ADMIN_PASSWORD, Role.ADMIN)
    admin = (await login(client, "mail.admin@example.com", ADMIN_PASSWORD))["accessToken"]
    listed = (await call(client, FAILED, token=admin))["data"]["failedEmails"]
    assert [m["to"] for m in listed] == [email]
    resent = await call(client, RESEND, {"id": listed[0]["id"]}, admin)
    assert resent["data"]["resendEmail"]["__typename"] == "EmailRequeued"
    await mail_inbox.wait_for(email, "Confirm your email")
    student = (await login(client, await verified_user(client, mail_inbox)))["accessToken"]
    denied = await call(client, FAILED, token=student)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.fixture
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[services.Service]:
    service = services.redis_server(tmp_path_factory.mktemp("mail-redis")).start()
    yield service
    service.stop()


async def test_redis_down_at_registration_nothing_lost(
    make_settings: Callable[..., Settings],
    mail_inbox: MailInbox,
    own_redis: services.Service,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from app import create_app
    from workers.broker import setup_broker

    settings = make_settings(
        email_backend="smtp",
        smtp_port=mail_inbox.port,
        redis_url=f"redis://127.0.0.1:{own_redis.port}/0",
        redis_connect_timeout_seconds=0.3,
        redis_socket_timeout_seconds=0.3,
        email_stuck_after_seconds=1,
    )
    email = unique_email("outage")
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            own_redis.stop()
            started = time.monotonic()
            result = await register(client, email)
            assert result["__typename"] == "RegistrationAccepted"
            assert time.monotonic() - started < 5
            queued = await EmailMessage.find_one({"to": email})
            assert queued is not None
            assert queued.status is EmailStatus.QUEUED
            own_redis.start()
        with running_worker(settings, tmp_path_factory.mktemp("w") / "worker.log"):
            await asyncio.sleep(1.2)  # past the "stuck" threshold
            import workers.actors.email as email_actors

            broker = setup_broker(settings)
            try:
                email_actors.sweep_outbox.send()
                await mail_inbox.wait_for(email, "Confirm your email", seconds=20)
                await asyncio.sleep(1)
                email_actors.sweep_outbox.send()  # a second sweep finds nothing to redo
                await asyncio.sleep(1.5)
            finally:
                broker.close()
        assert len(mail_inbox.all(email)) == 1
        sent = await EmailMessage.find_one({"to": email})
        assert sent is not None
        assert sent.status is EmailStatus.SENT


async def test_request_never_waits_for_smtp(
    make_settings: Callable[..., Settings], tmp_path_factory: pytest.TempPathFactory
) -> None:
    from app import create_app

    # An SMTP port where nothing answers: the request must not notice.
    settings = make_settings(email_backend="smtp", smtp_port=services.free_port())
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            started = time.monotonic()
            body = await call(
                client,
                REGISTER,
                {"email": unique_email("fast"), "password": PASSWORD, "first": "F", "last": "S"},
            )
            assert body["data"]["register"]["__typename"] == "RegistrationAccepted"
            assert time.monotonic() - started < 2
