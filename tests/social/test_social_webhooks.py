"""Linking and unlinking fire webhooks (``user.identity_linked``, ``user.identity_unlinked``),
delivered to a real HTTP receiver on 127.0.0.1 and signed with the endpoint's secret.

The link is a real one (Canaille, pytest-iam); the audit trail publishes the events
(domain/webhooks/audit_bridge.py); each delivery is made here the way the worker's
actor makes it (tests/webhooks/support.py), so no worker process is needed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from domain.core.actor import Actor
from domain.core.roles import Role
from domain.webhooks.documents import WebhookEvent
from tests.api.identity_ops import PASSWORD, call, login, unique_email
from tests.passkeys.support import result
from tests.social.conftest import provider_settings
from tests.social.support import (
    CONFIRM_LINK,
    REDIRECT_URI,
    REMOVE_USER_IDENTITY,
    UNLINK,
    provider_user,
    social_sign_in,
)
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import delivered

EVENTS = ["user.identity_linked", "user.identity_unlinked"]


@pytest.fixture(scope="module")
def social_settings(issuer: str) -> dict[str, Any]:
    return {
        "social_providers": {"iam": provider_settings(issuer)},
        "social_redirect_uris": [REDIRECT_URI],
        "webhook_allow_private_targets": True,  # the receiver is on 127.0.0.1
    }


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def secret(manager: LifespanManager, receiver: Receiver) -> str:
    webhooks = manager.state.services.webhooks
    _, signing_secret = await webhooks.endpoints.create(Actor.system(), receiver.url(), EVENTS)
    return str(signing_secret)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as client:
        yield client


async def test_linking_and_unlinking_reach_the_receiver(
    client: httpx.AsyncClient,
    provider: Any,
    manager: LifespanManager,
    receiver: Receiver,
    http: httpx.AsyncClient,
    secret: str,
) -> None:
    email = unique_email("hooked")
    owner = await staff_account(manager.state, email, PASSWORD, Role.STUDENT)
    person = provider_user(provider, email)
    key = f"iam:{person.user_name}"
    answer = await social_sign_in(client, provider, person)
    assert answer["__typename"] == "AccountLinkRequired", answer
    assert await WebhookEvent.find({"type": {"$in": EVENTS}}).count() == 0  # nothing yet
    token = (await login(client, email))["accessToken"]
    linked = result(await call(client, CONFIRM_LINK, {"token": answer["linkToken"]}, token))
    assert linked["__typename"] == "SocialIdentityLinked", linked

    (link_event,) = await delivered(manager, receiver, http, secret)
    assert link_event["type"] == "user.identity_linked"
    assert link_event["data"] == {"user_id": str(owner.id), "provider": "iam", "proof": "sign_in"}

    unlinked = result(await call(client, UNLINK, {"id": key}, token))
    assert unlinked["__typename"] == "SocialIdentityUnlinked", unlinked
    (unlink_event,) = await delivered(manager, receiver, http, secret)
    assert unlink_event["type"] == "user.identity_unlinked"
    assert unlink_event["data"] == {
        "user_id": str(owner.id),
        "provider": "iam",
        "actor_id": str(owner.id),
    }


async def test_an_administrators_removal_names_the_administrator(
    client: httpx.AsyncClient,
    provider: Any,
    manager: LifespanManager,
    receiver: Receiver,
    http: httpx.AsyncClient,
    secret: str,
) -> None:
    person = provider_user(provider, unique_email("removed"))
    signed_in = await social_sign_in(client, provider, person)
    assert signed_in["__typename"] == "AuthPayload", signed_in
    user_id = signed_in["user"]["id"]
    # A new account is ``user.registered`` (its first identity comes with it), not a link.
    assert await delivered(manager, receiver, http, secret) == []

    admin_email = unique_email("admin")
    admin = await staff_account(manager.state, admin_email, PASSWORD, Role.ADMIN)
    admin_token = (await login(client, admin_email))["accessToken"]
    variables = {"userId": user_id, "id": f"iam:{person.user_name}"}
    removed = result(await call(client, REMOVE_USER_IDENTITY, variables, admin_token))
    assert removed["__typename"] == "SocialIdentityUnlinked", removed
    (event,) = await delivered(manager, receiver, http, secret)
    assert event["type"] == "user.identity_unlinked"
    assert event["data"] == {"user_id": user_id, "provider": "iam", "actor_id": str(admin.id)}
