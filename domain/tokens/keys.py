"""Signing keys: several accepted at once, one active, so keys can rotate.

Keys come from settings as PEM (Ed25519 → EdDSA, P-256 → ES256). The ``kid`` is
the RFC 7638 thumbprint of the public key, so it never changes for a key. Outside
production, a development key is generated once under ``var/keys/``.

Rotation: add the new private key (first, or name it in ``GATEHOUSE_JWT_ACTIVE_KID``),
keep the old one as a second private key or move its public key to
``GATEHOUSE_JWT_PUBLIC_KEYS`` until the last token it signed has expired.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from domain.core.dev_key import dev_key_pem
from domain.core.settings import Settings

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
Algorithm = Literal["EdDSA", "ES256"]

_PEM_BLOCK = re.compile(r"-----BEGIN (?P<kind>[A-Z ]+)-----.+?-----END (?P=kind)-----", re.DOTALL)
_ACCEPTED = "only Ed25519 (EdDSA) and P-256 (ES256) keys are accepted"


class KeyConfigurationError(ValueError):
    """The configured keys cannot be used; raised at start-up, never per request."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _public_jwk(public: PublicKey) -> dict[str, str]:
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw)}
    numbers = public.public_numbers()
    # RFC 7518 §6.2.1.2: coordinates are the full field size, leading zeros kept.
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64(numbers.x.to_bytes(32, "big")),
        "y": _b64(numbers.y.to_bytes(32, "big")),
    }


def _thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638: SHA-256 of the required members, sorted, without whitespace."""
    required = ("crv", "kty", "x") if jwk["kty"] == "OKP" else ("crv", "kty", "x", "y")
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode()).digest())


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    algorithm: Algorithm
    private_key: PrivateKey | None = field(repr=False)
    public_key: PublicKey = field(repr=False)

    @property
    def can_sign(self) -> bool:
        return self.private_key is not None

    def jwk(self) -> dict[str, str]:
        """The public JWK: built from the public key only, so no private member can leak."""
        return {
            **_public_jwk(self.public_key),
            "kid": self.kid,
            "alg": self.algorithm,
            "use": "sig",
        }


def _kind(key: object) -> str:
    """The key's family for error messages: RSA for an RSAPrivateKey, and so on."""
    return type(key).__name__.lstrip("_").removesuffix("PrivateKey").removesuffix("PublicKey")


def _algorithm_for(public: PublicKey) -> Algorithm:
    if isinstance(public, ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(public.curve, ec.SECP256R1):
        return "ES256"
    raise KeyConfigurationError(f"unsupported elliptic curve {public.curve.name}: {_ACCEPTED}")


def make_signing_key(public: PublicKey, private: PrivateKey | None = None) -> SigningKey:
    """A key with its ``kid`` and algorithm worked out from the public key."""
    algorithm = _algorithm_for(public)  # first: the JWK below assumes P-256 for EC keys
    return SigningKey(
        kid=_thumbprint(_public_jwk(public)),
        algorithm=algorithm,
        private_key=private,
        public_key=public,
    )


class KeySet:
    """Every key that verifies, looked up by ``kid``; ``active`` is the one that signs."""

    def __init__(self, keys: Sequence[SigningKey], active_kid: str | None = None) -> None:
        by_kid: dict[str, SigningKey] = {}
        for key in keys:
            known = by_kid.get(key.kid)
            # The same key listed twice (say, also among the public keys) keeps
            # its private part, so it can still be the active key.
            if known is None or (key.can_sign and not known.can_sign):
                by_kid[key.kid] = key
        signers = [key for key in by_kid.values() if key.can_sign]
        if not signers:
            raise KeyConfigurationError("no private signing key is configured")
        if active_kid is None:
            active = signers[0]
        elif active_kid not in by_kid:
            raise KeyConfigurationError(f"GATEHOUSE_JWT_ACTIVE_KID {active_kid!r} matches no key")
        else:
            active = by_kid[active_kid]
        if not active.can_sign:
            raise KeyConfigurationError(
                f"the active key {active.kid!r} is verify-only: its private key is needed"
            )
        self.active = active
        self._by_kid = by_kid
        self._jwks = [key.jwk() for key in by_kid.values()]

    def by_kid(self, kid: str) -> SigningKey | None:
        return self._by_kid.get(kid)

    @property
    def kids(self) -> list[str]:
        return list(self._by_kid)

    def jwks(self) -> dict[str, Any]:
        """RFC 7517 JWK Set of every public key (a fresh copy: callers may mutate it)."""
        return {"keys": [dict(jwk) for jwk in self._jwks]}


def _pem_blocks(text: str) -> list[str]:
    # .env files often carry PEM on one line with literal "\n" escapes.
    text = text.replace("\\r", "").replace("\\n", "\n")
    return [m.group(0) for m in _PEM_BLOCK.finditer(text)]


def _load_private(pem: str) -> SigningKey:
    try:
        private = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyConfigurationError(
            f"cannot read a private key from GATEHOUSE_JWT_PRIVATE_KEYS ({exc}); "
            f"it must be an unencrypted PEM private key: {_ACCEPTED}"
        ) from exc
    if not isinstance(private, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyConfigurationError(f"unsupported key type {_kind(private)}: {_ACCEPTED}")
    return make_signing_key(private.public_key(), private)


def _load_public(pem: str) -> SigningKey:
    try:
        public = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise KeyConfigurationError(
            f"cannot read a public key from GATEHOUSE_JWT_PUBLIC_KEYS ({exc}): {_ACCEPTED}"
        ) from exc
    if not isinstance(public, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise KeyConfigurationError(f"unsupported key type {_kind(public)}: {_ACCEPTED}")
    return make_signing_key(public)


def load_key_set(settings: Settings) -> KeySet:
    """Every configured key; raises KeyConfigurationError with what to fix."""
    configured = settings.jwt_private_keys.get_secret_value() if settings.jwt_private_keys else ""
    private_pems = _pem_blocks(configured)
    if configured.strip() and not private_pems:
        raise KeyConfigurationError(
            "GATEHOUSE_JWT_PRIVATE_KEYS holds no PEM block: shared secrets (HMAC) are refused; "
            + _ACCEPTED
        )
    if not private_pems:
        if settings.is_production:
            raise KeyConfigurationError("production needs GATEHOUSE_JWT_PRIVATE_KEYS")
        private_pems = [dev_key_pem(settings.var_dir)]
    public_text = settings.jwt_public_keys or ""
    public_pems = _pem_blocks(public_text)
    if public_text.strip() and not public_pems:
        raise KeyConfigurationError("GATEHOUSE_JWT_PUBLIC_KEYS holds no PEM block")
    keys = [_load_private(pem) for pem in private_pems]
    keys += [_load_public(pem) for pem in public_pems]
    return KeySet(keys, settings.jwt_active_kid or None)
