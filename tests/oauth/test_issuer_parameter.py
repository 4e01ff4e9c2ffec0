"""RFC 9207: every authorization response names the issuer (``iss``), the code and the
errors alike, and discovery says so; a client that keeps the issuer it sent the
person to refuses a response naming another (the mix-up defence of RFC 9700 §4.4).
The app runs in-process; authlib's client is the relying party. (``access_denied``
carries it too: tests/oauth/test_headless.py.)"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from domain.core.clock import FrozenClock
from tests.oauth.inprocess import RP, LocalProvider, local_provider, walk_pages
from tests.support.asgi import AppWith

CLOCK_START = datetime(2026, 6, 4, 8, 0, tzinfo=UTC)
OTHER_ISSUER = "https://attacker-as.example.net"


@pytest.fixture(scope="module")
async def op(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LocalProvider]:
    async with local_provider(app_with, clock) as provider:
        await provider.add_client(
            "Mixed", "CONFIDENTIAL", redirectUris=[RP], scopes=["openid", "email"],
            grantTypes=["AUTHORIZATION_CODE"],
        )  # fmt: skip
        await provider.person("iss.ada@example.com")
        yield provider


def accept_response(location: str, expected_issuer: str) -> dict[str, str]:
    """The relying party's check (RFC 9207 §2.4): exactly one ``iss``, equal to the
    issuer the request went to, else the response is refused before the code is used."""
    query = parse_qs(urlsplit(location).query)
    if query.get("iss") != [expected_issuer]:
        raise ValueError(f"mix-up: the response names {query.get('iss')}")
    return {name: values[0] for name, values in query.items()}


async def test_every_authorization_response_names_the_issuer(op: LocalProvider) -> None:
    async with op.http() as http:
        config = (await http.get("/.well-known/openid-configuration")).json()
    assert config["authorization_response_iss_parameter_supported"] is True
    issuer = config["issuer"]
    rp = op.rp("Mixed")
    verifier = secrets.token_urlsafe(48)
    url, state = rp.create_authorization_url(
        config["authorization_endpoint"], code_verifier=verifier
    )
    async with op.http() as browser:
        # An error before anyone signs in (prompt=none): the issuer too.
        silent, _ = rp.create_authorization_url(
            config["authorization_endpoint"], code_verifier=verifier, prompt="none"
        )
        refused = (await browser.get(silent)).headers["location"]
        assert accept_response(refused, issuer)["error"] == "login_required"

        back = await walk_pages(browser, url, "iss.ada@example.com")
    assert back.startswith(RP + "?")
    answered = accept_response(back, issuer)
    assert answered["state"] == state
    # The same response, checked by a client that sent the person to another provider
    # (the attacker's, in a mix-up), is refused before its code goes anywhere.
    with pytest.raises(ValueError, match="mix-up"):
        accept_response(back, OTHER_ISSUER)
    token = await rp.fetch_token(
        config["token_endpoint"], authorization_response=back, code_verifier=verifier
    )
    claims = await op.id_token_claims(token["id_token"], op.clients["Mixed"]["client"]["id"])
    assert claims["iss"] == issuer
