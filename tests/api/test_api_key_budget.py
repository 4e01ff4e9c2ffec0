"""An API key's request budget has a ceiling (GATEHOUSE_API_KEY_MAX_RATE_LIMIT).

Without one, a key's creator could give it 100,000 requests a second, far above every
per-IP and per-user limit. Rates are compared as requests per second, whatever the
window: at the default ceiling of 6000/60, 100/1 is allowed and 101/1 is not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from domain.apikeys.service import ApiKey
from domain.core.roles import Role
from domain.core.settings import Settings
from tests.api.identity_ops import PASSWORD, call, login
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager, app_client

CREATE_KEY = """
mutation($limit: String) {
  createApiKey(name: "budget", scopes: ["users:read"], rateLimit: $limit) {
    __typename
    ... on ApiKeyCreated { apiKey { rateLimit } }
    ... on ValidationFailed { fieldErrors { field code } }
  }
}"""


async def admin_token(state: Any, client: httpx.AsyncClient, email: str) -> str:
    await staff_account(state, email, PASSWORD, Role.ADMIN)
    token: str = (await login(client, email))["accessToken"]
    return token


async def create(client: httpx.AsyncClient, token: str, limit: str) -> dict[str, Any]:
    body = await call(client, CREATE_KEY, {"limit": limit}, token)
    result: dict[str, Any] = body["data"]["createApiKey"]
    return result


@pytest.mark.parametrize("limit", ["100000/1", "6001/60", "101/1", "360001/3600"])
async def test_a_budget_over_the_ceiling_is_refused_and_nothing_is_created(
    app: LifespanManager, client: httpx.AsyncClient, limit: str
) -> None:
    token = await admin_token(app.state, client, f"budget.{limit.replace('/', '.')}@example.com")
    keys_before = await ApiKey.find_all().count()
    result = await create(client, token, limit)
    assert result == {
        "__typename": "ValidationFailed",
        "fieldErrors": [{"field": "rateLimit", "code": "TOO_HIGH"}],
    }
    assert await ApiKey.find_all().count() == keys_before


@pytest.mark.parametrize("limit", ["6000/60", "100/1", "360000/3600", "10/60"])
async def test_a_budget_at_or_under_the_ceiling_is_accepted(
    app: LifespanManager, client: httpx.AsyncClient, limit: str
) -> None:
    token = await admin_token(app.state, client, f"ok.{limit.replace('/', '.')}@example.com")
    result = await create(client, token, limit)
    assert result == {"__typename": "ApiKeyCreated", "apiKey": {"rateLimit": limit}}


async def test_the_ceiling_is_a_setting(make_settings: Callable[..., Settings]) -> None:
    async with app_client(make_settings(api_key_max_rate_limit="10/60")) as client:
        state = client.app_state  # type: ignore[attr-defined]
        token = await admin_token(state, client, "budget.setting@example.com")
        refused = await create(client, token, "11/60")
        assert refused["__typename"] == "ValidationFailed"
        assert (await create(client, token, "10/60"))["__typename"] == "ApiKeyCreated"
