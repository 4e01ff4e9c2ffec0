"""RFC 9700 §4.2-4.3 (token leakage): a full authorization-code flow against a real
server process, logging at DEBUG into a file, leaves none of its secrets in that log:
the code, the access, refresh and ID tokens (first and rotated), the client secret, the
headless login's challenge and one-time ``login_verifier``, the PKCE verifier and
challenge, the browser session cookie, the person's password and GraphQL tokens. The
failures log too (a replayed code, a wrong secret), so they are part of the flow."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.integrations.base_client.errors import OAuthError

from domain.core.settings import Settings
from tests.api.identity_ops import PASSWORD, login
from tests.oauth.conftest import USER_EMAIL, Provider
from tests.oauth.flows import discover, introspect, rp_client
from tests.oauth.headless_ops import ACCEPT_CONSENT, ACCEPT_LOGIN, LOGIN_UI, answer, challenge_of
from tests.support.processes import settings_env, start_api


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], port: int) -> Settings:
    # The headless login UI, so the flow also carries a login challenge and verifier.
    return make_settings(
        public_url=f"http://127.0.0.1:{port}", log_level="DEBUG", oidc_login_ui_url=LOGIN_UI
    )


@pytest.fixture(scope="module")
def api_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("leakage") / "api.log"


@pytest.fixture(scope="module")
def server(settings: Settings, port: int, api_log: Path) -> Iterator[str]:
    """The conftest's provider on this module's own process and log file."""
    process, _ = start_api(settings_env(settings), api_log, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


def _query(url: str, name: str) -> str:
    return parse_qs(urlsplit(url).query)[name][0]


async def test_a_full_flow_leaves_no_secret_in_the_log(
    provider: Provider, browser: httpx.AsyncClient, api_log: Path
) -> None:
    config = await discover(provider.base)
    wiki = provider.confidential
    rp = rp_client(provider, wiki)
    verifier = secrets.token_urlsafe(48)
    url, _ = rp.create_authorization_url(
        config["authorization_endpoint"], code_verifier=verifier, nonce=secrets.token_urlsafe(16)
    )
    first = await browser.get(url)
    assert first.status_code == 302, first.text
    challenge = challenge_of(first.headers["location"], "login")
    async with httpx.AsyncClient(base_url=provider.base) as ui:
        session = await login(ui, USER_EMAIL)
        accepted = await answer(ui, ACCEPT_LOGIN, challenge, session["accessToken"])
        back = accepted["redirectTo"]
        returned = await browser.get(back)
        assert returned.status_code == 302, returned.text
        consent = challenge_of(returned.headers["location"], "consent")
        allowed = await answer(ui, ACCEPT_CONSENT, consent, session["accessToken"])
        done = await browser.get(allowed["redirectTo"])
    location = done.headers["location"]
    code = _query(location, "code")
    tokens = await rp.fetch_token(
        config["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    refreshed = await rp.refresh_token(
        config["token_endpoint"], refresh_token=tokens["refresh_token"]
    )
    async with httpx.AsyncClient() as http:
        info = await http.get(
            config["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {refreshed['access_token']}"},
        )
        assert info.status_code == 200
        wrong = await http.post(
            config["token_endpoint"],
            data={"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]},
            auth=(wiki["client"]["id"], wiki["clientSecret"][::-1]),
        )
        assert wrong.status_code == 401
    assert (await introspect(provider, refreshed["access_token"]))["active"] is True
    await rp.revoke_token(config["revocation_endpoint"], token=refreshed["refresh_token"])
    with pytest.raises(
        OAuthError
    ):  # the code replayed: refused (and the grant ended), logged as such
        await rp.fetch_token(
            config["token_endpoint"], authorization_response=location, code_verifier=verifier
        )

    secrets_seen = {
        "authorization code": code,
        "PKCE verifier": verifier,
        "PKCE challenge": _query(url, "code_challenge"),
        "login challenge": challenge,
        "consent challenge": consent,
        "login_verifier": _query(back, "login_verifier"),
        "browser session cookie": str(browser.cookies.get("gh_op_session")),
        "client secret": wiki["clientSecret"],
        "service client secret": provider.service["clientSecret"],
        "password": PASSWORD,
        "GraphQL access token": session["accessToken"],
        "GraphQL refresh token": session["refreshToken"],
    }
    for name in ("access_token", "refresh_token", "id_token"):
        secrets_seen[f"first {name}"] = tokens[name]
        if name in refreshed:  # a refresh answers without an ID token
            secrets_seen[f"rotated {name}"] = refreshed[name]
    await asyncio.sleep(0.5)  # the server's last lines reach the file
    log = await asyncio.to_thread(api_log.read_text)
    # The log saw the flow (else the test below proves nothing).
    assert "/oauth2/token" in log
    assert "/oauth2/authorize" in log
    for name, value in secrets_seen.items():
        assert len(value) >= 16, name
        # A JWT's signature part alone would be enough to lift it (with the rest public).
        pieces = [value, *(value.split(".")[1:] if value.count(".") == 2 else [])]
        for piece in pieces:
            assert piece not in log, f"the {name} is in the log"
