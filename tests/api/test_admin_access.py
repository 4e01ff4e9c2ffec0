"""RBAC on admin fields, the create-admin command, and API-key management."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from domain.core.settings import Settings
from tests.api.identity_ops import LOGIN, PASSWORD, call, login, verified_user
from tests.conftest import ServiceUrls
from tests.support.smtp import MailInbox

ROOT = Path(__file__).resolve().parents[2]
ADMIN_EMAIL = "root.admin@example.com"
ADMIN_PASSWORD = "violet tangerine orbit 2041"

API_KEYS = "query { apiKeys { id name scopes rateLimit revokedAt } }"
CREATE_KEY = """
mutation Create($name: String!, $scopes: [String!]!, $limit: String) {
  createApiKey(name: $name, scopes: $scopes, rateLimit: $limit) {
    __typename
    ... on ApiKeyCreated { key apiKey { id name scopes rateLimit } }
    ... on ValidationFailed { fieldErrors { field code } }
  }
}"""
REVOKE_KEY = """
mutation Revoke($id: ID!) {
  revokeApiKey(id: $id) { __typename ... on ApiKeyRevoked { id } }
}"""


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(email_backend="smtp", smtp_port=mail_inbox.port, introspection="admin")


@pytest.fixture(scope="module")
def admin_created(service_urls: ServiceUrls, database_name: str, tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
    env.update(
        GATEHOUSE_MONGODB_URL=service_urls.mongodb_url,
        GATEHOUSE_MONGODB_DATABASE=database_name,
        GATEHOUSE_VAR_DIR=str(tmp_path_factory.mktemp("var")),
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
    )
    command = [
        sys.executable,
        "scripts/create_admin.py",
        "--email",
        ADMIN_EMAIL,
        "--first-name",
        "Root",
        "--last-name",
        "Admin",
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 2
    assert "email" in again.stderr
    return ADMIN_EMAIL


async def admin_token(client: httpx.AsyncClient, email: str) -> str:
    result = await login(client, email, ADMIN_PASSWORD)
    assert result["__typename"] == "AuthPayload", result
    assert result["user"]["role"] == "SUPER_ADMIN"
    token: str = result["accessToken"]
    return token


async def test_students_and_strangers_get_no_admin_data(
    client: httpx.AsyncClient, mail_inbox: MailInbox
) -> None:
    student = (await login(client, await verified_user(client, mail_inbox)))["accessToken"]
    for token, code in ((student, "FORBIDDEN"), (None, "UNAUTHENTICATED")):
        body = await call(client, API_KEYS, token=token)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == code
        created = await call(client, CREATE_KEY, {"name": "x", "scopes": []}, token)
        assert created["data"] is None
        assert created["errors"][0]["extensions"]["code"] == code


async def test_admin_manages_api_keys(client: httpx.AsyncClient, admin_created: str) -> None:
    token = await admin_token(client, admin_created)
    bad = await call(
        client, CREATE_KEY, {"name": "", "scopes": ["Not A Scope"], "limit": "x"}, token
    )
    assert {e["field"] for e in bad["data"]["createApiKey"]["fieldErrors"]} == {
        "name",
        "scopes",
        "rateLimit",
    }
    created = await call(
        client, CREATE_KEY, {"name": "billing", "scopes": ["users:read"], "limit": "100/60"}, token
    )
    result = created["data"]["createApiKey"]
    assert result["__typename"] == "ApiKeyCreated"
    key, key_id = result["key"], result["apiKey"]["id"]
    assert key.startswith(f"ghk_{key_id}_")

    listed = (await call(client, API_KEYS, token=token))["data"]["apiKeys"]
    assert [k["name"] for k in listed] == ["billing"]
    assert "key" not in listed[0]

    revoked = await call(client, REVOKE_KEY, {"id": key_id}, token)
    assert revoked["data"]["revokeApiKey"] == {"__typename": "ApiKeyRevoked", "id": key_id}
    again = await call(client, REVOKE_KEY, {"id": key_id}, token)
    assert again["data"]["revokeApiKey"]["__typename"] == "NotFound"
    listed = (await call(client, API_KEYS, token=token))["data"]["apiKeys"]
    assert listed[0]["revokedAt"] is not None


async def test_admin_only_introspection(
    client: httpx.AsyncClient, admin_created: str, mail_inbox: MailInbox
) -> None:
    query = "{ __schema { queryType { name } } }"
    anonymous = await call(client, query)
    assert anonymous["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
    student = (await login(client, await verified_user(client, mail_inbox)))["accessToken"]
    assert (await call(client, query, token=student))["data"] is None
    admin = await admin_token(client, admin_created)
    assert (await call(client, query, token=admin))["data"]["__schema"]["queryType"]["name"]


async def test_login_document_is_unchanged_for_admins(
    client: httpx.AsyncClient, admin_created: str
) -> None:
    body = await call(client, LOGIN, {"email": admin_created, "password": PASSWORD})
    assert body["data"]["login"]["__typename"] == "InvalidCredentials"
