"""Webhooks through GraphQL, delivered by a real worker process to a real HTTP receiver."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from domain.core.actor import Actor
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.webhooks.signing import verify_signature
from tests.api.identity_ops import call, login, register, unique_email
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager
from tests.support.smtp import MailInbox
from tests.webhooks.receiver import Receiver

PASSWORD = "hazel kettle meridian 6652"
CREATE = """
mutation($url: String!, $events: [String!]!) {
  createWebhookEndpoint(url: $url, events: $events, description: "crm") {
    __typename
    ... on WebhookSecretIssued { secret endpoint { id url events active } }
    ... on ValidationFailed { fieldErrors { field code } }
  }
}"""
DELIVERIES = """
query($id: String) {
  webhookDeliveries(endpointId: $id) { id eventType status attempts lastStatusCode }
}"""
TEST = "mutation($id: ID!) { testWebhook(endpointId: $id) { __typename } }"
ROTATE = """
mutation($id: ID!) { rotateWebhookSecret(id: $id, overlapSeconds: 600) {
  __typename ... on WebhookSecretIssued { secret endpoint { previousSecretExpiresAt } }
} }"""


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(
        email_backend="smtp",
        smtp_port=mail_inbox.port,
        webhook_allow_private_targets=True,
        webhook_retry_base_ms=200,
        webhook_retry_max_ms=1000,
    )


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


async def super_admin(app: LifespanManager, client: httpx.AsyncClient) -> str:
    state = app.state
    await staff_account(state, "hooks@example.com", PASSWORD, Role.SUPER_ADMIN)
    return str((await login(client, "hooks@example.com", PASSWORD))["accessToken"])


async def test_signed_events_reach_the_receiver(
    client: httpx.AsyncClient, app: LifespanManager, receiver: Receiver
) -> None:
    admin = await super_admin(app, client)
    refused = await call(client, CREATE, {"url": receiver.url(), "events": ["user.nope"]}, admin)
    assert refused["data"]["createWebhookEndpoint"]["fieldErrors"][0]["code"] == (
        "UNKNOWN_EVENT_TYPE"
    )
    created = (
        await call(
            client,
            CREATE,
            {"url": receiver.url(), "events": ["user.registered", "user.login_failed"]},
            admin,
        )
    )["data"]["createWebhookEndpoint"]
    secret, endpoint_id = created["secret"], created["endpoint"]["id"]

    receiver.respond(500, 500, 200)
    email = unique_email("hooked")
    await register(client, email)
    requests = receiver.wait_for(3)
    ids = {r.headers["gatehouse-event-id"] for r in requests}
    assert len(ids) == 1
    for request in requests:
        assert verify_signature(
            secret,
            request.headers["gatehouse-signature"],
            request.headers["gatehouse-timestamp"],
            request.body,
        )
        assert not verify_signature(
            secret,
            request.headers["gatehouse-signature"],
            request.headers["gatehouse-timestamp"],
            request.body + b" ",
        )
    envelope = json.loads(requests[-1].body)
    assert envelope["type"] == "user.registered"
    assert envelope["data"]["email"] == email

    log = (await call(client, DELIVERIES, {"id": endpoint_id}, admin))["data"]["webhookDeliveries"]
    assert log[0]["status"] == "succeeded"
    assert log[0]["attempts"] == 3

    receiver.reset()
    assert (await call(client, TEST, {"id": endpoint_id}, admin))["data"]["testWebhook"][
        "__typename"
    ] == "WebhookDeliveryQueued"
    (ping,) = receiver.wait_for(1)
    assert json.loads(ping.body)["type"] == "webhook.test"

    rotated = (await call(client, ROTATE, {"id": endpoint_id}, admin))["data"]
    new_secret = rotated["rotateWebhookSecret"]["secret"]
    assert rotated["rotateWebhookSecret"]["endpoint"]["previousSecretExpiresAt"]
    receiver.reset()
    await login(client, email, "not the password 1")
    (failed_login,) = receiver.wait_for(1)
    signature = failed_login.headers["gatehouse-signature"]
    assert signature.count("v1=") == 2
    for key in (secret, new_secret):
        assert verify_signature(
            key, signature, failed_login.headers["gatehouse-timestamp"], failed_login.body
        )


async def test_loopback_is_refused_by_default(
    make_settings: Callable[..., Settings], receiver: Receiver
) -> None:
    from domain.core.clock import SystemClock
    from domain.core.errors import ValidationError
    from tests.webhooks.conftest import make_webhooks

    strict = make_settings()
    with pytest.raises(ValidationError) as refused:
        await make_webhooks(strict, SystemClock()).endpoints.create(
            Actor.system(), receiver.url(), ["user.registered"]
        )
    assert refused.value.field_errors[0].field == "url"


async def test_students_cannot_manage_webhooks(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    from tests.api.identity_ops import verified_user

    student = (await login(client, await verified_user(client, mail_inbox)))["accessToken"]
    body = await call(client, DELIVERIES, {}, student)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
