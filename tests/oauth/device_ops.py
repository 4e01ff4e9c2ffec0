"""A device and a person in the device authorization grant (RFC 8628), shared by the
provider's tests: the device is authlib's OAuth client, the person a browser on the
built-in pages."""

from __future__ import annotations

from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError as OAuth2Error

from tests.api.identity_ops import PASSWORD
from tests.oauth.conftest import hidden
from tests.oauth.inprocess import BASE, LocalProvider

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


async def device_authorization(op: LocalProvider, name: str, scope: str) -> httpx.Response:
    """§3.1 as a device sends it: a public client names itself in the form, a
    confidential one authenticates with HTTP Basic."""
    which = op.clients[name]
    secret = which.get("clientSecret")
    client_id = which["client"]["id"]
    form = {"scope": scope} if secret else {"client_id": client_id, "scope": scope}
    async with op.http() as device:
        return await device.post(
            "/oauth2/device_authorization",
            data=form,
            auth=(client_id, secret) if secret else httpx.USE_CLIENT_DEFAULT,
        )


async def start(op: LocalProvider, name: str, scope: str) -> dict[str, Any]:
    response = await device_authorization(op, name, scope)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


async def poll(op: LocalProvider, name: str, device_code: str) -> dict[str, Any]:
    """§3.4: one token request; an error comes back as ``{"error": ...}``."""
    async with op.rp(name) as device:
        try:
            token = await device.fetch_token(
                f"{BASE}/oauth2/token", grant_type=DEVICE_GRANT, device_code=device_code
            )
        except OAuth2Error as error:
            return {"error": error.error}
    return dict(token)


async def enter_code(browser: httpx.AsyncClient, typed: str) -> httpx.Response:
    return await browser.post("/oauth2/device", data={"user_code": typed})


async def answer(browser: httpx.AsyncClient, approve_url: str, decision: str) -> httpx.Response:
    page = await browser.get(approve_url)
    assert page.status_code == 200, page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    return await browser.post(
        "/oauth2/device/approve",
        data={
            "challenge": hidden(page.text, "challenge"),
            "csrf": hidden(page.text, "csrf"),
            "decision": decision,
        },
    )


async def approval_for(browser: httpx.AsyncClient, started: dict[str, Any], email: str) -> str:
    """The person enters the device's code and signs in on the way: the approval page's
    address."""
    entered = await enter_code(browser, started["user_code"])
    login = await browser.get(entered.headers["location"])
    signed_in = await browser.post("/oauth2/login", data={
        "challenge": hidden(login.text, "challenge"), "csrf": hidden(login.text, "csrf"),
        "email": email, "password": PASSWORD})  # fmt: skip
    assert signed_in.status_code == 303, signed_in.text
    return str(signed_in.headers["location"])
