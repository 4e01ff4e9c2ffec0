"""JWT attacks against a running app (ASVS 4.0.3 V3.5.3, V3.3.1): every forged or stale
access token is refused at the API with ``UNAUTHENTICATED`` and no data.

``tests/tokens/test_access.py`` proves the verifier on its own; here the same attacks go
through HTTP, so the middleware, the context and the permission classes are in the path.
The server's signing key is known to the test, so "valid signature, wrong claim" cases
(expired, wrong ``aud``/``iss``, missing ``exp``) are real signatures, not broken ones.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from domain.core.roles import Role
from domain.core.settings import Settings
from tests.api.identity_ops import ME, PASSWORD, call, error_code, login
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager
from tests.tokens.support import ed25519_pem, forge, public_pem, segment, unverified_payload

SERVER_PEM = ed25519_pem()
ACCESS_TYP = "at+jwt"


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(jwt_private_keys=SERVER_PEM)


@pytest.fixture(scope="module")
async def issued(app: LifespanManager, client: httpx.AsyncClient) -> dict[str, Any]:
    """A genuine access token of a student, and its decoded parts."""
    await staff_account(app.state, "jwt.victim@example.com", PASSWORD, Role.STUDENT)
    result = await login(client, "jwt.victim@example.com")
    assert result["__typename"] == "AuthPayload"
    token = result["accessToken"]
    return {
        "token": token,
        "header": jwt.get_unverified_header(token),
        "claims": unverified_payload(token),
    }


def server_key() -> Any:
    return serialization.load_pem_private_key(SERVER_PEM.encode(), password=None)


def resign(issued: dict[str, Any], **changes: Any) -> str:
    """The genuine claims, changed, and signed with the server's own key and kid."""
    claims = {k: v for k, v in {**issued["claims"], **changes}.items() if v is not None}
    return jwt.encode(
        claims,
        server_key(),
        algorithm="EdDSA",
        headers={"kid": issued["header"]["kid"], "typ": ACCESS_TYP},
    )


def alg_none(issued: dict[str, Any]) -> str:
    header = {"alg": "none", "kid": issued["header"]["kid"], "typ": ACCESS_TYP}
    return f"{segment(header)}.{segment({**issued['claims'], 'role': 'super_admin'})}."


def hs256_with_public_key(issued: dict[str, Any]) -> str:
    secret = public_pem(SERVER_PEM).encode()
    header = {"alg": "HS256", "kid": issued["header"]["kid"], "typ": ACCESS_TYP}
    claims = {**issued["claims"], "role": "super_admin"}
    return forge(header, claims, lambda data: hmac.new(secret, data, hashlib.sha256).digest())


def hs256_with_jwks_x(issued: dict[str, Any]) -> str:
    """Key confusion with the raw public key bytes a client would read from the JWKS."""
    raw = (
        server_key()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    header = {"alg": "HS256", "kid": issued["header"]["kid"], "typ": ACCESS_TYP}
    return forge(
        header, issued["claims"], lambda data: hmac.new(raw, data, hashlib.sha256).digest()
    )


def signed_by_a_stranger(issued: dict[str, Any], kid: str) -> str:
    """The genuine claims, validly signed, by a key that is not the server's."""
    stranger = serialization.load_pem_private_key(ed25519_pem().encode(), password=None)
    return jwt.encode(
        issued["claims"], stranger, algorithm="EdDSA", headers={"kid": kid, "typ": ACCESS_TYP}
    )


def tampered_role(issued: dict[str, Any]) -> str:
    header, _, signature = issued["token"].split(".")
    return f"{header}.{segment({**issued['claims'], 'role': 'super_admin'})}.{signature}"


def tampered_subject(issued: dict[str, Any]) -> str:
    header, _, signature = issued["token"].split(".")
    return f"{header}.{segment({**issued['claims'], 'sub': '0' * 24})}.{signature}"


def now() -> int:
    return int(time.time())


ATTACKS: dict[str, Callable[[dict[str, Any]], str]] = {
    "alg_none": alg_none,
    "hs256_public_pem": hs256_with_public_key,
    "hs256_jwks_bytes": hs256_with_jwks_x,
    "unknown_kid": lambda i: signed_by_a_stranger(i, "attacker-kid"),
    "stranger_key_our_kid": lambda i: signed_by_a_stranger(i, i["header"]["kid"]),
    "tampered_role": tampered_role,
    "tampered_subject": tampered_subject,
    "expired": lambda i: resign(i, iat=now() - 7200, nbf=now() - 7200, exp=now() - 3600),
    "expired_past_leeway": lambda i: resign(i, exp=now() - 60),
    "wrong_audience": lambda i: resign(i, aud="some-other-api"),
    "audience_list": lambda i: resign(i, aud=[i["claims"]["aud"], "other"]),
    "wrong_issuer": lambda i: resign(i, iss="https://evil.example.net"),
    "missing_exp": lambda i: resign(i, exp=None),
    "missing_sid": lambda i: resign(i, sid=None),
    "not_yet_valid": lambda i: resign(i, nbf=now() + 3600),
    "refresh_typed": lambda i: resign(i, typ="refresh"),
    "truncated_signature": lambda i: i["token"][:-10],
    "no_signature": lambda i: i["token"].rsplit(".", 1)[0],
}


async def test_the_genuine_and_a_faithfully_resigned_token_work(
    client: httpx.AsyncClient, issued: dict[str, Any]
) -> None:
    """The control: the forging helpers produce tokens the server accepts when nothing changed."""
    for token in (issued["token"], resign(issued)):
        me = await call(client, ME, token=token)
        assert me["data"]["me"]["email"] == "jwt.victim@example.com", me


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_forged_access_token_is_refused(
    client: httpx.AsyncClient, issued: dict[str, Any], attack: str
) -> None:
    token = ATTACKS[attack](issued)
    for document in (ME, "query { users(first: 1) { totalCount } }"):
        body = await call(client, document, token=token)
        assert body["data"] is None, (attack, body)
        assert error_code(body) == "UNAUTHENTICATED", (attack, body)
        assert "Traceback" not in str(body)
        # The refusal does not say why (which check failed would be an oracle).
        assert "kid" not in body["errors"][0]["message"].lower()


@pytest.mark.parametrize("scheme", ["Basic", "bearer", "Token", ""])
async def test_token_under_another_scheme_is_not_accepted(
    client: httpx.AsyncClient, issued: dict[str, Any], scheme: str
) -> None:
    response = await client.post(
        "/graphql",
        json={"query": ME},
        headers={"Authorization": f"{scheme} {issued['token']}".strip()},
    )
    body = response.json()
    if scheme == "bearer":
        # RFC 6750: the scheme is case-insensitive; the genuine token still works.
        assert body["data"]["me"]["email"] == "jwt.victim@example.com"
    else:
        assert error_code(body) == "UNAUTHENTICATED"
