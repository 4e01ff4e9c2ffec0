"""Per-client ID-token signing (``idTokenSignedResponseAlg``): RS256 by default, ES256 or
EdDSA when the client asks; the keys are in the JWKS with ``alg`` and ``kid``, discovery
lists the algorithms, and authlib's relying-party code (``CodeIDToken``: signature
against the JWKS, ``iss``, ``aud``, ``nonce``, ``at_hash`` under the algorithm's hash,
the lifetime against the test's clock) accepts each. The app runs in-process."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from authlib.jose import JsonWebKey, JsonWebToken  # type: ignore[import-untyped]
from authlib.jose.errors import JoseError  # type: ignore[import-untyped]
from authlib.oidc.core import CodeIDToken  # type: ignore[import-untyped]

from domain.core.clock import FrozenClock
from tests.api.identity_ops import call
from tests.oauth.inprocess import RP, LocalProvider, local_provider, walk_pages
from tests.oauth.support import UPDATE, create_client
from tests.support.asgi import AppWith

CLOCK_START = datetime(2026, 6, 5, 8, 0, tzinfo=UTC)
ALGORITHMS = ["RS256", "ES256", "EdDSA"]


@pytest.fixture(scope="module")
async def op(app_with: AppWith, clock: FrozenClock) -> AsyncIterator[LocalProvider]:
    async with local_provider(app_with, clock) as provider:
        for alg in ALGORITHMS:
            spec = {"idTokenSignedResponseAlg": alg} if alg != "RS256" else {}
            await provider.add_client(
                alg, "CONFIDENTIAL", redirectUris=[RP], scopes=["openid", "email"],
                grantTypes=["AUTHORIZATION_CODE"], firstParty=True, **spec,
            )  # fmt: skip
        await provider.person("alg.ada@example.com")
        yield provider


@pytest.mark.parametrize("alg", ALGORITHMS)
async def test_each_clients_id_token_is_signed_with_its_algorithm(
    op: LocalProvider, alg: str
) -> None:
    async with op.http() as http:
        config = (await http.get("/.well-known/openid-configuration")).json()
        jwks = (await http.get(config["jwks_uri"])).json()
    assert config["id_token_signing_alg_values_supported"] == ALGORITHMS
    client = op.clients[alg]["client"]
    assert client["idTokenSignedResponseAlg"] == alg
    rp = op.rp(alg, scope="openid email")
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, _ = rp.create_authorization_url(
        config["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    async with op.http() as browser:
        back = await walk_pages(browser, url, "alg.ada@example.com")
    token = await rp.fetch_token(
        config["token_endpoint"], authorization_response=back, code_verifier=verifier
    )
    claims = JsonWebToken([alg]).decode(
        token["id_token"],
        JsonWebKey.import_key_set(jwks),
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": config["issuer"]}},
        claims_params={
            "nonce": nonce, "client_id": client["id"], "access_token": token["access_token"],
        },
    )  # fmt: skip
    claims.validate(now=int(op.clock.now().timestamp()))
    assert claims.header["alg"] == alg
    assert claims["at_hash"]
    published = {key["kid"]: key for key in jwks["keys"]}
    assert published[claims.header["kid"]]["alg"] == alg
    # Only that algorithm verifies it: a relying party pinned to another refuses it.
    other = next(a for a in ALGORITHMS if a != alg)
    with pytest.raises(JoseError):
        JsonWebToken([other]).decode(token["id_token"], JsonWebKey.import_key_set(jwks))


async def test_an_algorithm_without_a_key_is_refused(op: LocalProvider) -> None:
    async with op.http() as http:
        created = await create_client(
            http, op.admin_token, "CONFIDENTIAL", name="HS", redirectUris=[RP],
            idTokenSignedResponseAlg="HS256",
        )  # fmt: skip
        changed = await call(
            http, UPDATE,
            {"id": op.clients["ES256"]["client"]["id"],
             "client": {"idTokenSignedResponseAlg": "none"}},
            token=op.admin_token,
        )  # fmt: skip
    assert created["fieldErrors"] == [{"field": "idTokenSignedResponseAlg", "code": "INVALID"}]
    assert changed["data"]["updateOAuthClient"]["fieldErrors"] == [
        {"field": "idTokenSignedResponseAlg", "code": "INVALID"}
    ]
