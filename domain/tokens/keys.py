"""Signing keys: several accepted at once, one active, so keys can rotate.

Keys come from settings as PEM (Ed25519 → EdDSA, P-256 → ES256). The ``kid`` is
the RFC 7638 thumbprint of the public key, so it never changes for a key. Outside
production, a development key is generated once under ``var/keys/``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from domain.core.settings import Settings

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey

_PEM_BLOCK = re.compile(r"-----BEGIN (?P<kind>[A-Z ]+)-----.+?-----END (?P=kind)-----", re.DOTALL)


class KeyConfigurationError(ValueError):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _public_jwk(public: PublicKey) -> dict[str, str]:
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw)}
    numbers = public.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64(numbers.x.to_bytes(32, "big")),
        "y": _b64(numbers.y.to_bytes(32, "big")),
    }


def _thumbprint(jwk: dict[str, str]) -> str:
    required = ("crv", "kty", "x") if jwk["kty"] == "OKP" else ("crv", "kty", "x", "y")
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode()).digest())


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    algorithm: str
    public_key: PublicKey
    private_key: PrivateKey | None

    def jwk(self) -> dict[str, str]:
        return {
            **_public_jwk(self.public_key),
            "kid": self.kid,
            "alg": self.algorithm,
            "use": "sig",
        }


def _make_key(public: object, private: PrivateKey | None) -> SigningKey:
    if isinstance(public, ed25519.Ed25519PublicKey):
        algorithm = "EdDSA"
    elif isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1):
        algorithm = "ES256"
    else:
        raise KeyConfigurationError(
            f"unsupported signing key type {type(public).__name__}: use Ed25519 or P-256"
        )
    return SigningKey(
        kid=_thumbprint(_public_jwk(public)),
        algorithm=algorithm,
        public_key=public,
        private_key=private,
    )


def _pem_blocks(text: str) -> list[str]:
    text = text.replace("\\n", "\n")
    return [m.group(0) for m in _PEM_BLOCK.finditer(text)]


class KeySet:
    def __init__(self, keys: list[SigningKey], active_kid: str) -> None:
        self._by_kid = {key.kid: key for key in keys}
        self.active = self._by_kid[active_kid]
        if self.active.private_key is None:
            raise KeyConfigurationError("the active key must have its private part")

    def by_kid(self, kid: str) -> SigningKey | None:
        return self._by_kid.get(kid)

    @property
    def kids(self) -> list[str]:
        return list(self._by_kid)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.jwk() for key in self._by_kid.values()]}


def _load_private(pem: str) -> SigningKey:
    try:
        private = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyConfigurationError(f"cannot read a private signing key: {exc}") from exc
    if not isinstance(private, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyConfigurationError(
            f"unsupported signing key type {type(private).__name__}: use Ed25519 or P-256"
        )
    return _make_key(private.public_key(), private)


def _load_public(pem: str) -> SigningKey:
    try:
        public = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise KeyConfigurationError(f"cannot read a public key: {exc}") from exc
    return _make_key(public, None)


def _dev_key_pem(var_dir: Path) -> str:
    path = var_dir / "keys" / "dev-signing-key.pem"
    if path.exists():
        return path.read_text()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(pem)
    try:
        # Another process may have won the race to create it: keep theirs.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return path.read_text()


def load_key_set(settings: Settings) -> KeySet:
    configured = settings.jwt_private_keys.get_secret_value() if settings.jwt_private_keys else ""
    private_pems = _pem_blocks(configured)
    if configured.strip() and not private_pems:
        raise KeyConfigurationError("GATEHOUSE_JWT_PRIVATE_KEYS holds no PEM block")
    if not private_pems:
        if settings.is_production:
            raise KeyConfigurationError("production needs GATEHOUSE_JWT_PRIVATE_KEYS")
        private_pems = [_dev_key_pem(settings.var_dir)]
    keys = [_load_private(pem) for pem in private_pems]
    keys += [_load_public(pem) for pem in _pem_blocks(settings.jwt_public_keys or "")]
    active = settings.jwt_active_kid or keys[0].kid
    if active not in {key.kid for key in keys}:
        raise KeyConfigurationError(f"GATEHOUSE_JWT_ACTIVE_KID {active!r} matches no key")
    return KeySet(keys, active)
