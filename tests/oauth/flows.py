"""The relying party's side of the flows, shared by the provider's tests: discovery,
authlib's OAuth client, the built-in pages followed like a browser, ID-token checks
through discovery + JWKS (PyJWT's PyJWKClient) and introspection as a resource server."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from authlib.integrations.httpx_client import AsyncOAuth2Client

from tests.api.identity_ops import PASSWORD
from tests.oauth.conftest import USER_EMAIL, Provider, hidden


async def discover(base: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{base}/.well-known/openid-configuration")
    assert response.status_code == 200
    config: dict[str, Any] = response.json()
    return config


def rp_client(provider: Provider, which: dict[str, Any], **extra: Any) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=which["client"]["id"],
        client_secret=which.get("clientSecret"),
        scope=extra.pop("scope", "openid email profile offline_access"),
        redirect_uri=which["client"]["redirectUris"][0],
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic" if which.get("clientSecret") else "none",
        **extra,
    )


async def sign_in_through_pages(
    browser: httpx.AsyncClient, authorize_url: str, *, consent: bool = True
) -> str:
    """Follows the provider's pages like a person would; returns the final redirect to
    the client (its Location)."""
    response = await browser.get(authorize_url)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    if "/oauth2/login" in location:
        page = await browser.get(location)
        assert page.status_code == 200
        assert "script" not in page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        posted = await browser.post(
            "/oauth2/login",
            data={
                "challenge": hidden(page.text, "challenge"),
                "csrf": hidden(page.text, "csrf"),
                "email": USER_EMAIL,
                "password": PASSWORD,
            },
        )
        assert posted.status_code == 303, posted.text
        response = await browser.get(posted.headers["location"])
        assert response.status_code == 302
        location = response.headers["location"]
    if "/oauth2/consent" in location:
        assert consent, "consent was not expected"
        page = await browser.get(location)
        assert page.status_code == 200
        assert "Allow" in page.text
        posted = await browser.post(
            "/oauth2/consent",
            data={
                "challenge": hidden(page.text, "challenge"),
                "csrf": hidden(page.text, "csrf"),
                "decision": "allow",
            },
        )
        assert posted.status_code == 303
        response = await browser.get(posted.headers["location"])
        assert response.status_code == 302
        location = response.headers["location"]
    return location


async def run_flow(
    provider: Provider, which: dict[str, Any], browser: httpx.AsyncClient
) -> tuple[AsyncOAuth2Client, dict[str, Any], str]:
    config = await discover(provider.base)
    rp = rp_client(provider, which)
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = rp.create_authorization_url(
        config["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    location = await sign_in_through_pages(browser, url)
    assert location.startswith(which["client"]["redirectUris"][0] + "?")
    assert parse_qs(urlsplit(location).query)["state"] == [state]
    token = await rp.fetch_token(
        config["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    return rp, dict(token), nonce


async def check_id_token(provider: Provider, id_token: str, client_id: str) -> dict[str, Any]:
    config = await discover(provider.base)
    jwks = jwt.PyJWKClient(config["jwks_uri"])
    key = await asyncio.to_thread(jwks.get_signing_key_from_jwt, id_token)
    claims: dict[str, Any] = jwt.decode(
        id_token, key.key, algorithms=["RS256"], audience=client_id, issuer=config["issuer"]
    )
    return claims


async def introspect(provider: Provider, token: str) -> dict[str, Any]:
    service = provider.service
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{provider.base}/oauth2/introspect",
            data={"token": token},
            auth=(service["client"]["id"], service["clientSecret"]),
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
