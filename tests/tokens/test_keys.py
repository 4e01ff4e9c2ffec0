"""Signing keys: loading, kid thumbprints, JWKS, the development key, refusals."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.core.dev_key import DEV_KEY_FILE
from domain.core.settings import Environment, Settings
from domain.tokens.access import AccessTokenService
from domain.tokens.keys import (
    KeyConfigurationError,
    KeySet,
    load_key_set,
    make_signing_key,
)
from resolvers.http.jwks import jwks
from tests.tokens.support import (
    AUDIENCE,
    ISSUER,
    ed25519_pem,
    make_service,
    make_settings,
    p256_pem,
    p384_pem,
    public_pem,
    rsa_pem,
)


def keys_for(tmp_path: Path, **overrides: Any) -> KeySet:
    return load_key_set(make_settings(tmp_path, **overrides))


def thumbprint(jwk: dict[str, Any]) -> str:
    members = ("crv", "kty", "x") if jwk["kty"] == "OKP" else ("crv", "kty", "x", "y")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# --- kid ---


def test_kid_matches_rfc_8037_thumbprint_example() -> None:
    # RFC 8037 appendix A.2/A.3: this Ed25519 public key has this RFC 7638 thumbprint.
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    raw = base64.urlsafe_b64decode(x + "=")
    key = make_signing_key(ed25519.Ed25519PublicKey.from_public_bytes(raw))
    assert key.kid == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    assert key.algorithm == "EdDSA"
    assert not key.can_sign


@pytest.mark.parametrize("make_pem", [ed25519_pem, p256_pem])
def test_kid_is_stable_and_public(tmp_path: Path, make_pem: Any) -> None:
    pem = make_pem()
    from_private = keys_for(tmp_path, jwt_private_keys=pem).active
    again = keys_for(tmp_path, jwt_private_keys=pem).active
    from_public = keys_for(
        tmp_path, jwt_private_keys=ed25519_pem(), jwt_public_keys=public_pem(pem)
    ).by_kid(from_private.kid)
    assert from_private.kid == again.kid
    assert from_public is not None
    assert not from_public.can_sign
    assert from_private.kid == thumbprint(from_private.jwk())


# --- parsing ---


def test_several_blocks_and_escaped_newlines(tmp_path: Path) -> None:
    first, second, retired = ed25519_pem(), p256_pem(), ed25519_pem()
    # As a .env file writes it: one line with literal backslash-n escapes.
    escaped = (first + second).replace("\n", "\\n")
    keys = keys_for(tmp_path, jwt_private_keys=escaped, jwt_public_keys=public_pem(retired))
    assert len(keys.kids) == 3
    assert keys.active.kid == keys_for(tmp_path, jwt_private_keys=first).active.kid
    loaded = [(k.algorithm, k.can_sign) for k in map(keys.by_kid, keys.kids) if k is not None]
    assert loaded == [("EdDSA", True), ("ES256", True), ("EdDSA", False)]


def test_pem_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pem = ed25519_pem()
    monkeypatch.setenv("GATEHOUSE_JWT_PRIVATE_KEYS", pem.replace("\n", "\\n"))
    settings = Settings(_env_file=None, environment="test", var_dir=tmp_path)
    assert load_key_set(settings).active.kid == keys_for(tmp_path, jwt_private_keys=pem).active.kid
    assert not (tmp_path / DEV_KEY_FILE).exists()


def test_active_kid(tmp_path: Path) -> None:
    first, second = ed25519_pem(), p256_pem()
    second_kid = keys_for(tmp_path, jwt_private_keys=second).active.kid
    keys = keys_for(tmp_path, jwt_private_keys=first + second, jwt_active_kid=second_kid)
    assert keys.active.kid == second_kid
    assert keys.active.algorithm == "ES256"


def test_unknown_active_kid_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigurationError, match="GATEHOUSE_JWT_ACTIVE_KID"):
        keys_for(tmp_path, jwt_private_keys=ed25519_pem(), jwt_active_kid="nope")


def test_verify_only_key_cannot_be_active(tmp_path: Path) -> None:
    retired = ed25519_pem()
    retired_kid = keys_for(tmp_path, jwt_private_keys=retired).active.kid
    with pytest.raises(KeyConfigurationError, match="verify-only"):
        keys_for(
            tmp_path,
            jwt_private_keys=ed25519_pem(),
            jwt_public_keys=public_pem(retired),
            jwt_active_kid=retired_kid,
        )


def test_key_listed_twice_keeps_its_private_part(tmp_path: Path) -> None:
    pem = ed25519_pem()
    keys = keys_for(tmp_path, jwt_private_keys=pem, jwt_public_keys=public_pem(pem))
    assert keys.kids == [keys.active.kid]
    assert keys.active.can_sign
    assert len(keys.jwks()["keys"]) == 1


def test_public_only_duplicate_before_private(tmp_path: Path) -> None:
    pem = ed25519_pem()
    private = keys_for(tmp_path, jwt_private_keys=pem).active
    public = make_signing_key(private.public_key)
    keys = KeySet([public, private])
    assert keys.active is private
    assert keys.by_kid(private.kid) is private


def test_key_set_needs_a_signer() -> None:
    public = make_signing_key(ed25519.Ed25519PrivateKey.generate().public_key())
    with pytest.raises(KeyConfigurationError, match="no private signing key"):
        KeySet([public])
    with pytest.raises(KeyConfigurationError):
        KeySet([])


# --- refusals, with messages that say what to do ---


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"jwt_private_keys": rsa_pem()}, r"unsupported key type RSA: only Ed25519 \(EdDSA\)"),
        ({"jwt_private_keys": p384_pem()}, "unsupported elliptic curve secp384r1"),
        (
            {"jwt_private_keys": "correct horse battery staple"},
            r"no PEM block: shared secrets \(HMAC\) are refused",
        ),
        (
            {"jwt_private_keys": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"},
            "cannot read a private key from GATEHOUSE_JWT_PRIVATE_KEYS",
        ),
        (
            {"jwt_private_keys": public_pem(ed25519_pem())},
            "cannot read a private key from GATEHOUSE_JWT_PRIVATE_KEYS",
        ),
        (
            {"jwt_private_keys": ed25519_pem(), "jwt_public_keys": public_pem(rsa_pem())},
            "unsupported key type RSA",
        ),
        (
            {"jwt_private_keys": ed25519_pem(), "jwt_public_keys": "not a key"},
            "GATEHOUSE_JWT_PUBLIC_KEYS holds no PEM block",
        ),
        (
            {"jwt_private_keys": ed25519_pem(), "jwt_public_keys": ed25519_pem()},
            "cannot read a public key from GATEHOUSE_JWT_PUBLIC_KEYS",
        ),
    ],
    ids=[
        "rsa",
        "p384",
        "hmac-secret",
        "broken-pem",
        "public-as-private",
        "rsa-public",
        "public-not-pem",
        "private-as-public",
    ],
)
def test_unusable_keys_are_refused(tmp_path: Path, overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(KeyConfigurationError, match=message):
        keys_for(tmp_path, **overrides)


def test_error_does_not_echo_the_secret(tmp_path: Path) -> None:
    secret = "hunter2-super-secret-hmac-key"
    with pytest.raises(KeyConfigurationError) as caught:
        keys_for(tmp_path, jwt_private_keys=secret)
    assert secret not in str(caught.value)


# --- the development key ---


def test_dev_key_is_created_once_and_reused(tmp_path: Path) -> None:
    first = keys_for(tmp_path)
    path = tmp_path / DEV_KEY_FILE
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    content = path.read_bytes()
    second = keys_for(tmp_path)
    assert second.active.kid == first.active.kid
    assert second.active.algorithm == "EdDSA"
    assert path.read_bytes() == content
    # No temporary files left behind.
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_dev_key_differs_per_var_dir(tmp_path: Path) -> None:
    assert keys_for(tmp_path / "a").active.kid != keys_for(tmp_path / "b").active.kid


def test_development_environment_also_gets_a_dev_key(tmp_path: Path) -> None:
    keys = keys_for(tmp_path, environment="development")
    assert keys.active.can_sign
    assert (tmp_path / DEV_KEY_FILE).exists()


def test_configured_key_means_no_dev_key(tmp_path: Path) -> None:
    keys_for(tmp_path, jwt_private_keys=ed25519_pem())
    assert not (tmp_path / DEV_KEY_FILE).exists()


def test_production_without_keys(tmp_path: Path) -> None:
    production = {"environment": "production", "public_url": "https://auth.example.com"}
    # Settings refuse first (pydantic wraps the validator's UnsafeSettingsError).
    with pytest.raises(ValidationError, match="GATEHOUSE_JWT_PRIVATE_KEYS"):
        make_settings(tmp_path, **production)
    # Defensive: even settings built without validation never get a dev key.
    unchecked = Settings.model_construct(
        environment=Environment.PRODUCTION, var_dir=tmp_path, jwt_private_keys=None
    )
    with pytest.raises(KeyConfigurationError, match="production needs"):
        load_key_set(unchecked)
    assert not (tmp_path / DEV_KEY_FILE).exists()


def test_production_with_keys(tmp_path: Path) -> None:
    pem = p256_pem()
    keys = keys_for(
        tmp_path,
        environment="production",
        public_url="https://auth.example.com",
        jwt_private_keys=pem,
        totp_encryption_key="A" * 43,
    )
    assert keys.active.algorithm == "ES256"


# --- JWKS ---


def test_jwks_lists_every_public_key_and_no_private_part(tmp_path: Path) -> None:
    ed, p256, retired = ed25519_pem(), p256_pem(), ed25519_pem()
    keys = keys_for(tmp_path, jwt_private_keys=ed + p256, jwt_public_keys=public_pem(retired))
    document = keys.jwks()
    assert set(document) == {"keys"}
    assert [jwk["kid"] for jwk in document["keys"]] == keys.kids
    okp, ec, old = document["keys"]
    assert set(okp) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (okp["kty"], okp["crv"], okp["alg"], okp["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert set(ec) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
    assert (ec["kty"], ec["crv"], ec["alg"], ec["use"]) == ("EC", "P-256", "ES256", "sig")
    assert len(ec["x"]) == len(ec["y"]) == 43  # 32 bytes, unpadded base64url
    assert old["alg"] == "EdDSA"
    for jwk in document["keys"]:
        assert "d" not in jwk
        assert jwk["kid"] == thumbprint(jwk)


def test_jwks_is_a_copy(tmp_path: Path) -> None:
    keys = keys_for(tmp_path, jwt_private_keys=ed25519_pem())
    keys.jwks()["keys"][0]["d"] = "oops"
    assert "d" not in keys.jwks()["keys"][0]


@pytest.mark.parametrize("make_pem", [ed25519_pem, p256_pem])
def test_third_party_verifies_with_the_jwks(tmp_path: Path, make_pem: Any) -> None:
    """What another service does: fetch the JWKS, pick the kid, verify with PyJWT alone."""
    service = make_service(tmp_path, jwt_private_keys=make_pem())
    token, _ = service.issue("user-1", "session-1", "user")
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in service.keys.jwks()["keys"] if k["kid"] == kid)
    claims = jwt.decode(
        token,
        jwt.PyJWK(jwk).key,
        algorithms=[jwk["alg"]],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert claims["sub"] == "user-1"


async def test_jwks_endpoint(tmp_path: Path) -> None:
    service = make_service(tmp_path, jwt_private_keys=ed25519_pem() + p256_pem())
    app = _app_with(service)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == service.keys.jwks()
    assert len(response.json()["keys"]) == 2


class _Services:
    def __init__(self, access_tokens: AccessTokenService) -> None:
        self.access_tokens = access_tokens
        # The OpenID provider's RS256 keys join the set (tests/oauth); none here.
        self.oauth = SimpleNamespace(tokens=SimpleNamespace(keys=SimpleNamespace(jwks=list)))


class _State:
    def __init__(self, access_tokens: AccessTokenService) -> None:
        self.services = _Services(access_tokens)


def _app_with(service: AccessTokenService) -> Starlette:
    """A bare app whose request state carries what the real lifespan provides."""

    class Inject(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            request.state.gatehouse = _State(service)
            return await call_next(request)

    return Starlette(
        routes=[Route("/.well-known/jwks.json", jwks)], middleware=[Middleware(Inject)]
    )
