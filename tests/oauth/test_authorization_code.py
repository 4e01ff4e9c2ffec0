"""The authorization-code flow with PKCE against a real uvicorn, driven by independent
clients: authlib's OAuth client for the protocol, httpx for the browser (the built-in
sign-in and consent pages), PyJWT's PyJWKClient to check the ID token through discovery
and JWKS. Then userinfo, refresh rotation and reuse, revocation, introspection, code
replay, PKCE downgrade and redirect-URI tricks (RFC 9700)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from authlib.integrations.base_client.errors import OAuthError as OAuth2Error
from authlib.integrations.httpx_client import AsyncOAuth2Client

from tests.api.identity_ops import PASSWORD
from tests.oauth.conftest import NATIVE, RP, USER_EMAIL, Provider, hidden
from tests.oauth.flows import (
    check_id_token,
    discover,
    introspect,
    rp_client,
    run_flow,
    sign_in_through_pages,
)
from tests.oauth.support import create_client


async def test_code_flow_pkce_id_token_userinfo_refresh_revoke(
    provider: Provider, browser: httpx.AsyncClient
) -> None:
    which = provider.confidential
    client_id = which["client"]["id"]
    rp, token, nonce = await run_flow(provider, which, browser)
    claims = await check_id_token(provider, token["id_token"], client_id)
    assert claims["email"] == USER_EMAIL
    assert claims["email_verified"] is True
    assert claims["name"] == "Ada Lovelace"
    assert claims["nonce"] == nonce
    assert claims["amr"] == ["pwd"]
    assert claims["acr"] == "urn:gatehouse:acr:sfa"  # a password alone: one factor
    config = await discover(provider.base)
    assert "acr" in config["claims_supported"]
    assert config["acr_values_supported"] == ["urn:gatehouse:acr:sfa", "urn:gatehouse:acr:mfa"]
    assert isinstance(claims["auth_time"], int)
    digest = hashlib.sha256(token["access_token"].encode()).digest()[:16]
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    access = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert access["client_id"] == client_id
    assert "openid" in access["scope"].split()
    assert access["aud"] == provider.base

    info = await rp.get(f"{provider.base}/oauth2/userinfo")
    assert info.status_code == 200
    assert info.json() == {
        "sub": claims["sub"],
        "email": USER_EMAIL,
        "email_verified": True,
        "name": "Ada Lovelace",
    }
    assert (await introspect(provider, token["access_token"]))["active"] is True

    # Refresh rotates. The old token again at once (a lost response, the refresh grace)
    # gets the same successor; once the successor was used, the old token presented
    # again is reuse and ends the whole grant.
    first_refresh = token["refresh_token"]
    endpoint = f"{provider.base}/oauth2/token"
    successor = await rp.refresh_token(endpoint, refresh_token=first_refresh)
    assert successor["refresh_token"] != first_refresh
    retried = await rp.refresh_token(endpoint, refresh_token=first_refresh)
    assert retried["refresh_token"] == successor["refresh_token"]
    refreshed = await rp.refresh_token(endpoint, refresh_token=successor["refresh_token"])
    with pytest.raises(OAuth2Error) as reuse:
        await rp.refresh_token(f"{provider.base}/oauth2/token", refresh_token=first_refresh)
    assert reuse.value.error == "invalid_grant"
    assert (await introspect(provider, refreshed["access_token"]))["active"] is False
    assert (await introspect(provider, refreshed["refresh_token"]))["active"] is False

    # A new grant: revoking its access token (RFC 7009) makes it inactive.
    rp2, second, _ = await run_flow(provider, which, browser)  # consent remembered
    revoked = await rp2.revoke_token(f"{provider.base}/oauth2/revoke", token=second["access_token"])
    assert revoked.status_code == 200
    assert (await introspect(provider, second["access_token"]))["active"] is False
    gone = await rp2.get(f"{provider.base}/oauth2/userinfo")
    assert gone.status_code == 401


async def test_code_replay_revokes_the_first_tokens(
    provider: Provider, browser: httpx.AsyncClient
) -> None:
    which = provider.first_party
    config = await discover(provider.base)
    rp = rp_client(provider, which)
    verifier = secrets.token_urlsafe(48)
    url, _ = rp.create_authorization_url(config["authorization_endpoint"], code_verifier=verifier)
    location = await sign_in_through_pages(browser, url, consent=False)
    token = await rp.fetch_token(
        config["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    assert (await introspect(provider, token["access_token"]))["active"] is True
    with pytest.raises(OAuth2Error) as replay:
        await rp.fetch_token(
            config["token_endpoint"], authorization_response=location, code_verifier=verifier
        )
    assert replay.value.error == "invalid_grant"
    assert (await introspect(provider, token["access_token"]))["active"] is False


async def test_public_client_needs_s256_and_plain_is_refused(
    provider: Provider, browser: httpx.AsyncClient
) -> None:
    client_id = provider.public["client"]["id"]
    base = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": NATIVE,
        "scope": "openid",
        "state": "s1",
    }
    for extra in ({}, {"code_challenge": "a" * 43, "code_challenge_method": "plain"}):
        response = await browser.get("/oauth2/authorize", params={**base, **extra})
        assert response.status_code == 302
        query = parse_qs(urlsplit(response.headers["location"]).query)
        assert query["error"] == ["invalid_request"]
        assert query["state"] == ["s1"]
    # The same public client with S256 gets through, first party: no consent screen.
    rp = rp_client(provider, provider.public, scope="openid email")
    config = await discover(provider.base)
    verifier = secrets.token_urlsafe(48)
    url, _ = rp.create_authorization_url(config["authorization_endpoint"], code_verifier=verifier)
    location = await sign_in_through_pages(browser, url, consent=False)
    token = await rp.fetch_token(
        config["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    assert "refresh_token" not in token
    # A wrong verifier fails (a stolen code without the verifier is worthless).
    url, _ = rp.create_authorization_url(config["authorization_endpoint"], code_verifier=verifier)
    location = (await browser.get(url)).headers["location"]
    with pytest.raises(OAuth2Error) as wrong:
        await rp.fetch_token(
            config["token_endpoint"],
            authorization_response=location,
            code_verifier=secrets.token_urlsafe(48),
        )
    assert wrong.value.error == "invalid_grant"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        RP + "x",  # suffix
        RP + "/../../evil",  # path traversal
        RP + "#fragment",
        "https://rp.example.com.evil.example/callback",
        "https://evil.example/callback",
    ],
)
async def test_redirect_uri_tricks_are_refused_without_redirecting(
    provider: Provider, browser: httpx.AsyncClient, redirect_uri: str
) -> None:
    response = await browser.get(
        "/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": provider.confidential["client"]["id"],
            "redirect_uri": redirect_uri,
            "scope": "openid",
            "state": "x",
        },
    )
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_prompt_none_without_a_session_is_login_required(provider: Provider) -> None:
    async with httpx.AsyncClient(base_url=provider.base) as fresh:
        response = await fresh.get(
            "/oauth2/authorize",
            params={
                "response_type": "code",
                "client_id": provider.first_party["client"]["id"],
                "redirect_uri": RP,
                "scope": "openid",
                "state": "st",
                "prompt": "none",
            },
        )
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["error"] == ["login_required"]
    assert query["state"] == ["st"]


async def test_client_credentials(provider: Provider) -> None:
    service = provider.service
    config = await discover(provider.base)
    async with AsyncOAuth2Client(
        client_id=service["client"]["id"],
        client_secret=service["clientSecret"],
        scope="invoices:read",
    ) as machine:
        token = await machine.fetch_token(config["token_endpoint"], grant_type="client_credentials")
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["sub"] == service["client"]["id"]
    assert claims["aud"] == "https://billing.example.com"
    assert claims["scope"] == "invoices:read"
    assert "refresh_token" not in token
    assert (await introspect(provider, token["access_token"]))["active"] is True
    async with AsyncOAuth2Client(client_id=service["client"]["id"], client_secret="wrong") as bad:
        with pytest.raises(OAuth2Error) as refused:
            await bad.fetch_token(config["token_endpoint"], grant_type="client_credentials")
    assert refused.value.error == "invalid_client"


async def test_client_credentials_gets_only_its_registered_scopes(provider: Provider) -> None:
    """authlib's client-credentials grant asks the client nothing about scopes: a machine
    naming a scope it was not registered for, or ``openid``, is refused (RFC 6749 §5.2)."""
    config = await discover(provider.base)
    async with httpx.AsyncClient(base_url=provider.base) as http:
        registered = await create_client(
            http, provider.admin_token, "CONFIDENTIAL", name="Reports",
            grantTypes=["CLIENT_CREDENTIALS"], scopes=["api:read", "openid"],
        )  # fmt: skip
    machine_id, secret = registered["client"]["id"], registered["clientSecret"]
    for scope in ("api:read admin:all openid", "api:read admin:all", "api:read openid", "openid"):
        async with AsyncOAuth2Client(machine_id, secret, scope=scope) as machine:
            with pytest.raises(OAuth2Error) as refused:
                await machine.fetch_token(config["token_endpoint"], grant_type="client_credentials")
        assert refused.value.error == "invalid_scope", scope
    async with AsyncOAuth2Client(machine_id, secret, scope="api:read") as machine:
        token = await machine.fetch_token(config["token_endpoint"], grant_type="client_credentials")
    assert token["scope"] == "api:read"
    assert jwt.decode(token["access_token"], options={"verify_signature": False})["scope"] == (
        "api:read"
    )


async def test_prompt_login_asks_again_and_a_forged_form_is_refused(
    provider: Provider, browser: httpx.AsyncClient
) -> None:
    rp = rp_client(provider, provider.first_party, scope="openid")
    config = await discover(provider.base)
    verifier = secrets.token_urlsafe(48)
    url, _ = rp.create_authorization_url(config["authorization_endpoint"], code_verifier=verifier)
    await sign_in_through_pages(browser, url, consent=False)  # a session now exists
    silent, _ = rp.create_authorization_url(
        config["authorization_endpoint"], code_verifier=verifier, prompt="none"
    )
    assert "code=" in (await browser.get(silent)).headers["location"]
    again, _ = rp.create_authorization_url(
        config["authorization_endpoint"], code_verifier=verifier, prompt="login"
    )
    response = await browser.get(again)
    assert "/oauth2/login?challenge=" in response.headers["location"]
    page = await browser.get(response.headers["location"])
    forged = await browser.post(
        "/oauth2/login",
        data={
            "challenge": hidden(page.text, "challenge"),
            "csrf": "guessed",
            "email": USER_EMAIL,
            "password": PASSWORD,
        },
    )
    assert forged.status_code == 400
    assert "set-cookie" not in forged.headers


@pytest.mark.parametrize(
    ("hint", "prefilled"),
    [
        (USER_EMAIL, USER_EMAIL),
        ("o'hara&co@example.com", "o&#x27;hara&amp;co@example.com"),  # escaped
        ('x"><script>alert(1)</script>', ""),  # not an email address: ignored
        ("ada", ""),
    ],
)
async def test_the_login_hint_prefills_the_email_field(
    provider: Provider, hint: str, prefilled: str
) -> None:
    rp = rp_client(provider, provider.confidential)
    config = await discover(provider.base)
    url, _ = rp.create_authorization_url(
        config["authorization_endpoint"], code_verifier=secrets.token_urlsafe(48), login_hint=hint
    )
    async with httpx.AsyncClient(base_url=provider.base) as fresh:
        response = await fresh.get(url)
        assert "/oauth2/login?challenge=" in response.headers["location"]
        page = (await fresh.get(response.headers["location"])).text
    assert f'name="email" type="email" autocomplete="username" required value="{prefilled}"' in page
    assert "<script" not in page


async def test_an_unprintable_response_type_is_an_error_page(
    provider: Provider, browser: httpx.AsyncClient
) -> None:
    """authlib quotes the response_type in its error and cannot when it holds control
    characters (schemathesis found the 500 this was)."""
    response = await browser.get(
        "/oauth2/authorize", params={"response_type": "\x15code\x1b", "client_id": ""}
    )
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_tokens_issued_to_a_client_are_no_key_to_gatehouses_own_api(
    provider: Provider, browser: httpx.AsyncClient
) -> None:
    # A relying party holds the person's tokens for its own use: neither its access token
    # nor its ID token may act on the account through the first-party GraphQL API.
    _, token, _ = await run_flow(provider, provider.confidential, browser)
    async with httpx.AsyncClient(base_url=provider.base, timeout=10) as api:
        for presented in (token["access_token"], token["id_token"]):
            answer = await api.post(
                "/graphql",
                json={"query": "{ me { id email } }"},
                headers={"Authorization": f"Bearer {presented}"},
            )
            body = answer.json()
            assert body.get("data") in (None, {"me": None}), body
            assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
