"""Administrators' changes to OAuth clients (create, update, rotate the secret, disable)
and a person's revoking of an authorized app fire webhooks, as the issue asks of them:
the GraphQL mutations on the app in-process, each event delivered to a real HTTP
receiver on 127.0.0.1 and its signature checked; no delivery carries a client secret."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from domain.core.actor import Actor
from domain.core.clock import FrozenClock
from domain.webhooks.documents import WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.api.identity_ops import call, login
from tests.oauth.inprocess import BASE, RP, LocalProvider, local_provider, walk_pages
from tests.oauth.support import DISABLE, ROTATE, UPDATE
from tests.support.asgi import AppWith
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import delivered

CLIENT_EVENTS = [
    "oauth_client.created",
    "oauth_client.updated",
    "oauth_client.secret_rotated",
    "oauth_client.disabled",
]
REVOKE = """
mutation($id: ID!) { revokeAuthorizedApp(clientId: $id) { __typename } }"""
PERSON = "hooked.ada@example.com"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def op(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LocalProvider]:
    # The receiver listens on loopback, which endpoints may name only with this on.
    async with local_provider(app_with, clock, webhook_allow_private_targets=True) as provider:
        await provider.person(PERSON)
        yield provider


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as client:
        yield client


async def _subscribe(op: LocalProvider, receiver: Receiver, events: list[str]) -> str:
    """The only endpoint, subscribed to ``events``; its signing secret."""
    for model in (WebhookEndpoint, WebhookDelivery, WebhookEvent):
        await model.get_pymongo_collection().delete_many({})
    webhooks = op.app.state.services.webhooks
    _, signing_secret = await webhooks.endpoints.create(Actor.system(), receiver.url(), events)
    return str(signing_secret)


async def test_client_changes_reach_a_subscribed_endpoint(
    op: LocalProvider, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    signing = await _subscribe(op, receiver, CLIENT_EVENTS)
    created = await op.add_client(
        "Wiki", "CONFIDENTIAL", redirectUris=[RP], grantTypes=["AUTHORIZATION_CODE"]
    )
    client_id, first_secret = created["client"]["id"], created["clientSecret"]
    async with op.http() as api:
        me = await call(api, "{ me { id } }", token=op.admin_token)
        admin_id = me["data"]["me"]["id"]
        updated = await call(
            api, UPDATE, {"id": client_id, "client": {"name": "Team wiki"}}, op.admin_token
        )
        assert updated["data"]["updateOAuthClient"]["__typename"] == "OAuthClientSaved"
        rotated = await call(api, ROTATE, {"id": client_id}, op.admin_token)
        second_secret = rotated["data"]["rotateOAuthClientSecret"]["clientSecret"]
        disabled = await call(api, DISABLE, {"id": client_id}, op.admin_token)
        assert disabled["data"]["disableOAuthClient"]["client"]["disabledAt"]

    bodies = await delivered(op.app, receiver, http, signing)
    common = {"client_id": client_id, "client_type": "confidential", "actor_id": admin_id}
    assert sorted(
        ((b["type"], b["data"]) for b in bodies), key=lambda e: CLIENT_EVENTS.index(e[0])
    ) == [
        ("oauth_client.created", {**common, "name": "Wiki", "disabled": False}),
        ("oauth_client.updated", {**common, "name": "Team wiki", "disabled": False}),
        ("oauth_client.secret_rotated", {**common, "name": "Team wiki", "disabled": False}),
        ("oauth_client.disabled", {**common, "name": "Team wiki", "disabled": True}),
    ]
    for request in receiver.requests:
        for secret in (first_secret, second_secret):
            assert secret.encode() not in request.body
            assert secret not in str(request.headers)


async def test_revoking_an_authorized_app_reaches_a_subscribed_endpoint(
    op: LocalProvider, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    signing = await _subscribe(op, receiver, ["oauth.consent_revoked"])
    await op.add_client("Notes", "CONFIDENTIAL", redirectUris=[RP], scopes=["openid", "email"])
    notes_id = op.clients["Notes"]["client"]["id"]
    rp = op.rp("Notes")
    verifier = secrets.token_urlsafe(48)
    url, _ = rp.create_authorization_url(f"{BASE}/oauth2/authorize", code_verifier=verifier)
    async with op.http() as browser:
        back = await walk_pages(browser, url, PERSON)
    assert back.startswith(RP + "?code="), back
    await rp.fetch_token(
        f"{BASE}/oauth2/token", authorization_response=back, code_verifier=verifier
    )
    async with op.http() as api:
        person = (await login(api, PERSON))["accessToken"]
        me = await call(api, "{ me { id } }", token=person)
        revoked = await call(api, REVOKE, {"id": notes_id}, person)
    assert revoked["data"]["revokeAuthorizedApp"]["__typename"] == "AuthorizedAppRevoked"

    # Only the subscribed type: the client's creation is not sent to this endpoint.
    (event,) = await delivered(op.app, receiver, http, signing)
    assert event["type"] == "oauth.consent_revoked"
    user_id = me["data"]["me"]["id"]
    assert event["data"] == {
        "user_id": user_id,
        "client_id": notes_id,
        "grants_revoked": 1,
        "actor_id": user_id,
    }
