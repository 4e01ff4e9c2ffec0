"""Keys, settings and hand-made tokens for the token tests."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from domain.core.clock import FrozenClock
from domain.core.settings import Settings
from domain.tokens.access import AccessTokenService
from domain.tokens.keys import load_key_set

START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
ISSUER = "https://auth.test"
AUDIENCE = "test-api"
TTL = 900
LEEWAY = 30

_PKCS8 = (
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
)


def ed25519_pem() -> str:
    return ed25519.Ed25519PrivateKey.generate().private_bytes(*_PKCS8).decode()


def p256_pem() -> str:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(*_PKCS8).decode()


def p384_pem() -> str:
    return ec.generate_private_key(ec.SECP384R1()).private_bytes(*_PKCS8).decode()


def rsa_pem() -> str:
    return rsa.generate_private_key(65537, 2048).private_bytes(*_PKCS8).decode()


def public_pem(private_pem: str) -> str:
    private = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def make_settings(var_dir: Path, **overrides: Any) -> Settings:
    # Explicit token settings, so GATEHOUSE_* variables in the environment cannot leak in.
    values: dict[str, Any] = {
        "environment": "test",
        "var_dir": var_dir,
        "jwt_private_keys": None,
        "jwt_public_keys": None,
        "jwt_active_kid": None,
        "jwt_issuer": ISSUER,
        "jwt_audience": AUDIENCE,
        "jwt_leeway_seconds": LEEWAY,
        "access_token_ttl_seconds": TTL,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def make_service(
    var_dir: Path, clock: FrozenClock | None = None, **overrides: Any
) -> AccessTokenService:
    settings = make_settings(var_dir, **overrides)
    return AccessTokenService(load_key_set(settings), settings, clock or FrozenClock(START))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: dict[str, Any]) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def unverified_payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return payload


def forge(header: dict[str, Any], payload: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    """A compact JWS assembled by hand, so any header or signature can be tried."""
    signing_input = f"{segment(header)}.{segment(payload)}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"
