"""OAuth clients as data: admins register, change, re-key and disable them through
GraphQL (guards in tests/security/test_access_control.py), on real FerretDB and Redis."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from domain.audit.documents import AuditEvent
from domain.core.roles import Role
from domain.core.secrets import token_hash
from domain.oauth.documents import OAuthClient
from tests.api.identity_ops import PASSWORD, call, login
from tests.oauth.support import DISABLE, LIST, ROTATE, UPDATE, create_client
from tests.security.support import audit_events
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager

RP = "https://rp.example.com/callback"


@pytest.fixture(scope="module")
async def admin(app: LifespanManager, client: httpx.AsyncClient) -> dict[str, Any]:
    user = await staff_account(app.state, "oauth.admin@example.com", PASSWORD, Role.ADMIN)
    return {"id": str(user.id), "token": (await login(client, user.email))["accessToken"]}


async def test_confidential_client_secret_is_shown_once_and_stored_hashed(
    client: httpx.AsyncClient, admin: dict[str, Any]
) -> None:
    created = await create_client(
        client,
        admin["token"],
        "CONFIDENTIAL",
        name="Wiki",
        redirectUris=[RP],
        grantTypes=["AUTHORIZATION_CODE", "REFRESH_TOKEN"],
        scopes=["openid", "email", "offline_access"],
    )
    assert created["__typename"] == "OAuthClientCreated"
    secret = created["clientSecret"]
    client_id = created["client"]["id"]
    assert len(secret) >= 43
    stored = await OAuthClient.get(client_id)
    assert stored is not None
    assert stored.secret_hash == token_hash(secret)
    assert secret not in stored.model_dump_json()
    listed = (await call(client, LIST, token=admin["token"]))["data"]["oauthClients"]
    assert [c["id"] for c in listed if c["id"] == client_id] == [client_id]
    (event,) = await audit_events("oauth_client.created", target_id=client_id)
    assert event.actor_id == admin["id"]
    assert secret not in str(event.model_dump())


async def test_public_client_has_no_secret_and_cannot_use_client_credentials(
    client: httpx.AsyncClient, admin: dict[str, Any]
) -> None:
    created = await create_client(
        client, admin["token"], "PUBLIC", name="CLI", redirectUris=["http://127.0.0.1:9999/cb"]
    )
    assert created["__typename"] == "OAuthClientCreated"
    assert created["clientSecret"] is None
    refused = await create_client(
        client, admin["token"], "PUBLIC", name="Bad", grantTypes=["CLIENT_CREDENTIALS"]
    )
    assert refused["__typename"] == "ValidationFailed"
    assert {e["code"] for e in refused["fieldErrors"]} >= {"PUBLIC_CLIENT"}


@pytest.mark.parametrize(
    "uri",
    [
        "http://rp.example.com/cb",  # http off loopback
        "https://rp.example.com/cb#frag",  # fragment
        "https://*.example.com/cb",  # wildcard
        "javascript:alert(1)",
        "/relative/cb",
    ],
)
async def test_unsafe_redirect_uris_are_refused(
    client: httpx.AsyncClient, admin: dict[str, Any], uri: str
) -> None:
    refused = await create_client(
        client, admin["token"], "CONFIDENTIAL", name="Bad", redirectUris=[uri]
    )
    assert refused["__typename"] == "ValidationFailed"
    assert refused["fieldErrors"][0]["field"] == "redirectUris"


async def test_update_rotate_and_disable(client: httpx.AsyncClient, admin: dict[str, Any]) -> None:
    created = await create_client(
        client, admin["token"], "CONFIDENTIAL", name="Grafana", redirectUris=[RP]
    )
    client_id, first_secret = created["client"]["id"], created["clientSecret"]
    updated = await call(
        client,
        UPDATE,
        {"id": client_id, "client": {"firstParty": True, "scopes": ["openid", "profile"]}},
        token=admin["token"],
    )
    saved = updated["data"]["updateOAuthClient"]["client"]
    assert saved["firstParty"] is True
    assert saved["scopes"] == ["openid", "profile"]
    assert saved["redirectUris"] == [RP]  # left as it was
    too_long = await call(
        client,
        UPDATE,
        {"id": client_id, "client": {"accessTokenTtlSeconds": 86400}},
        token=admin["token"],
    )
    assert too_long["data"]["updateOAuthClient"]["__typename"] == "ValidationFailed"
    rotated = (await call(client, ROTATE, {"id": client_id}, token=admin["token"]))["data"]
    second_secret = rotated["rotateOAuthClientSecret"]["clientSecret"]
    assert second_secret != first_secret
    stored = await OAuthClient.get(client_id)
    assert stored is not None
    assert stored.secret_hash == token_hash(second_secret)
    disabled = (await call(client, DISABLE, {"id": client_id}, token=admin["token"]))["data"]
    assert disabled["disableOAuthClient"]["client"]["disabledAt"] is not None
    events = [e.event for e in await AuditEvent.find({"target_id": client_id}).to_list()]
    assert sorted(events) == sorted(
        [
            "oauth_client.created",
            "oauth_client.updated",
            "oauth_client.secret_rotated",
            "oauth_client.disabled",
        ]
    )
    missing = await call(client, DISABLE, {"id": "gh_nope"}, token=admin["token"])
    assert missing["data"]["disableOAuthClient"]["__typename"] == "NotFound"
