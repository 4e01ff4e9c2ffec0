"""A second, independent relying party: idpyoidc's ``RPHandler`` (the IdentityPython
OpenID Connect client) against the real server. It reads discovery, builds the
authorization request (PKCE S256, ``nonce``, ``state``), and after the person signs in
on the built-in pages (httpx as the browser) it checks the authorization response
(``state``, ``iss``), exchanges the code with ``client_secret_basic``, verifies the ID
token against the JWKS (signature, ``iss``, ``aud``, ``nonce``, ``exp``, ``at_hash``)
and calls userinfo: a cross-check of the provider with code written by others."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from idpyoidc.client.rp_handler import RPHandler  # type: ignore[import-untyped]

from tests.oauth.conftest import RP, USER_EMAIL, Provider
from tests.oauth.flows import discover, sign_in_through_pages


def _handler(provider: Provider, which: dict[str, Any], keys: Path) -> RPHandler:
    config = {
        "gatehouse": {
            "issuer": provider.base,
            "client_id": which["client"]["id"],
            "client_secret": which["clientSecret"],
            "redirect_uris": [RP],
            "client_type": "oidc",
            "preference": {
                "response_types_supported": ["code"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            },
            "add_ons": {
                "pkce": {
                    "function": "idpyoidc.client.oauth2.add_on.pkce.add_support",
                    "kwargs": {"code_challenge_length": 64, "code_challenge_method": "S256"},
                }
            },
        }
    }
    # The RP's own keys (unused by the code flow) go to the test's directory: idpyoidc
    # would otherwise write them to static/ and private/ under the working directory.
    key_conf = {
        "private_path": str(keys / "private-jwks.json"),
        "public_path": str(keys / "jwks.json"),
        "key_defs": [{"type": "EC", "crv": "P-256", "use": ["sig"]}],
        "read_only": False,
    }
    return RPHandler(
        base_url="https://rp.example.com",
        client_configs=config,
        verify_ssl=False,
        key_conf=key_conf,
        jwks_path="static/jwks.json",
    )


async def test_idpyoidc_signs_in_with_the_code_flow(
    provider: Provider, browser: httpx.AsyncClient, tmp_path: Path
) -> None:
    rph = _handler(provider, provider.confidential, tmp_path)
    url = await asyncio.to_thread(rph.begin, "gatehouse")
    assert url.startswith(provider.base + "/oauth2/authorize?")
    # Discovery as idpyoidc parsed and verified it (ProviderConfigurationResponse).
    parsed = rph.issuer2rp[provider.base].get_context().provider_info
    assert parsed["issuer"] == provider.base
    assert parsed["authorization_response_iss_parameter_supported"] is True
    assert "RS256" in parsed["id_token_signing_alg_values_supported"]
    sent = dict(parse_qsl(urlsplit(url).query))
    state = sent["state"]
    assert sent["code_challenge_method"] == "S256"
    assert sent["nonce"]
    location = await sign_in_through_pages(browser, url)
    assert location.startswith(RP + "?")
    response = dict(parse_qsl(urlsplit(location).query))
    assert response["state"] == state
    assert response["iss"] == provider.base
    result = await asyncio.to_thread(rph.finalize, provider.base, response)
    assert result["state"] == state
    id_token = result["id_token"]
    config = await discover(provider.base)
    assert id_token["iss"] == config["issuer"]
    assert id_token["aud"] == [provider.confidential["client"]["id"]]
    assert id_token["nonce"] == sent["nonce"]
    assert result["userinfo"]["email"] == USER_EMAIL
    assert result["userinfo"]["sub"] == id_token["sub"]
    assert id_token.jws_header["alg"] == "RS256"
    assert id_token.jws_header["kid"] in {k["kid"] for k in (await _jwks(config))["keys"]}


async def _jwks(config: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        body: dict[str, Any] = (await http.get(config["jwks_uri"])).json()
    return body
