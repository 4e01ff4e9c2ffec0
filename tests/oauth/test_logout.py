"""RP-initiated logout against a real uvicorn: the relying party (authlib's client) signs
a person in through the built-in pages, then sends the browser to the discovered
``end_session_endpoint`` with its ID token. The session ends, with every token issued
under it; the browser goes back only to a registered post-logout URI, with ``state``."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from authlib.integrations.base_client.errors import OAuthError as OAuth2Error
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.oauth.conftest import RP, RP_SIGNED_OUT, Provider, hidden
from tests.oauth.flows import discover, introspect, rp_client, run_flow, sign_in_through_pages


async def test_logout_with_an_id_token_hint_ends_the_session_and_its_tokens(
    provider: Provider, browser: httpx.AsyncClient
) -> None:
    config = await discover(provider.base)
    assert config["end_session_endpoint"] == f"{provider.base}/oauth2/logout"
    rp, token, _ = await run_flow(provider, provider.confidential, browser)
    assert (await introspect(provider, token["access_token"]))["active"] is True

    response = await browser.get(
        config["end_session_endpoint"],
        params={
            "id_token_hint": token["id_token"],
            "post_logout_redirect_uri": RP_SIGNED_OUT,
            "state": "after-logout",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == RP_SIGNED_OUT + "&state=after-logout"
    assert 'gh_op_session=""' in response.headers["set-cookie"]  # the cookie is cleared

    assert (await introspect(provider, token["access_token"]))["active"] is False
    assert (await introspect(provider, token["refresh_token"]))["active"] is False
    assert (await rp.get(config["userinfo_endpoint"])).status_code == 401
    with pytest.raises(OAuth2Error) as refused:
        await rp.refresh_token(config["token_endpoint"], refresh_token=token["refresh_token"])
    assert refused.value.error == "invalid_grant"
    # The provider's own session is over too: a silent request needs a sign-in.
    silent, _ = rp.create_authorization_url(
        config["authorization_endpoint"], code_verifier=secrets.token_urlsafe(48), prompt="none"
    )
    answer = parse_qs(urlsplit((await browser.get(silent)).headers["location"]).query)
    assert answer["error"] == ["login_required"]


async def test_unregistered_post_logout_uris_and_foreign_hints_are_refused(
    provider: Provider, browser: httpx.AsyncClient
) -> None:
    config = await discover(provider.base)
    _, token, _ = await run_flow(provider, provider.confidential, browser)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt.decode(token["id_token"], options={"verify_signature": False})
    header = jwt.get_unverified_header(token["id_token"])
    forged = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": header["kid"]})
    client_id = provider.confidential["client"]["id"]
    for params in (
        {"id_token_hint": token["id_token"], "post_logout_redirect_uri": RP_SIGNED_OUT + "x"},
        {"id_token_hint": token["id_token"], "post_logout_redirect_uri": RP},  # a login URI
        {"id_token_hint": token["id_token"], "post_logout_redirect_uri": "https://evil.example/"},
        {"post_logout_redirect_uri": RP_SIGNED_OUT},  # no client to check it against
        {"id_token_hint": forged, "post_logout_redirect_uri": RP_SIGNED_OUT},
        {"id_token_hint": token["id_token"], "client_id": provider.public["client"]["id"]},
        {"id_token_hint": token["access_token"], "client_id": client_id},  # not an ID token
    ):
        response = await browser.get(config["end_session_endpoint"], params=params)
        assert response.status_code == 400, params
        assert "location" not in response.headers
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert (await introspect(provider, token["access_token"]))["active"] is True


async def test_logout_without_a_hint_asks_the_person_first(
    provider: Provider, browser: httpx.AsyncClient
) -> None:
    config = await discover(provider.base)
    rp = rp_client(provider, provider.first_party, scope="openid")
    verifier = secrets.token_urlsafe(48)
    url, _ = rp.create_authorization_url(config["authorization_endpoint"], code_verifier=verifier)
    location = await sign_in_through_pages(browser, url, consent=False)
    token = await rp.fetch_token(
        config["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    page = await browser.get(
        config["end_session_endpoint"],
        params={
            "client_id": provider.confidential["client"]["id"],
            "post_logout_redirect_uri": RP_SIGNED_OUT,
            "state": "s2",
        },
    )
    assert page.status_code == 200
    assert "Sign out of Gatehouse?" in page.text
    assert "Wiki asked to sign you out." in page.text
    assert "form-action 'self' https://rp.example.com" in page.headers["content-security-policy"]
    # A cross-site form cannot know the CSRF token: nothing ends.
    forged = await browser.post(
        "/oauth2/logout/confirm",
        data={"request": hidden(page.text, "request"), "csrf": "guess", "decision": "logout"},
    )
    assert forged.status_code == 400
    assert (await introspect(provider, token["access_token"]))["active"] is True

    confirmed = await browser.post(
        "/oauth2/logout/confirm",
        data={
            "request": hidden(page.text, "request"),
            "csrf": hidden(page.text, "csrf"),
            "decision": "logout",
        },
    )
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == RP_SIGNED_OUT + "&state=s2"
    assert (await introspect(provider, token["access_token"]))["active"] is False
    # The request was single use.
    again = await browser.post(
        "/oauth2/logout/confirm",
        data={
            "request": hidden(page.text, "request"),
            "csrf": hidden(page.text, "csrf"),
            "decision": "logout",
        },
    )
    assert again.status_code == 400
