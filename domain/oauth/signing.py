"""The keys that sign ID tokens and OAuth access tokens.

OpenID Connect requires every provider to offer RS256, which the first-party key set
(domain/tokens/keys.py: EdDSA, ES256) does not. These keys come from
``GATEHOUSE_OIDC_SIGNING_KEYS`` (PEM RSA private keys, 2048 bits or more; the first
signs, the others still verify while tokens they signed are in flight); outside
production one is generated once under ``var/keys/``. Their public JWKs are published
beside the first-party keys at ``/.well-known/jwks.json``.

A client may ask for its ID tokens in ES256 or EdDSA instead (``idTokenSignedResponseAlg``):
the same setting also takes P-256 and Ed25519 private keys (the first of each kind
signs), read and named (RFC 7638 ``kid``) by the first-party key code; outside production
one of each is generated under ``var/keys/`` as for RSA. These are separate keys from
the first-party ones, so an ID token can never pass as a first-party access token.
Access tokens stay RS256.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from domain.core.settings import Settings
from domain.tokens.keys import KeyConfigurationError, SigningKey, make_signing_key

DEV_RSA_KEY_FILE = Path("keys") / "dev-oidc-rsa-key.pem"
DEV_EXTRA_KEY_FILES = {
    "ES256": Path("keys") / "dev-oidc-es256-key.pem",
    "EdDSA": Path("keys") / "dev-oidc-eddsa-key.pem",
}
RS256 = "RS256"
ID_TOKEN_ALGORITHMS = (RS256, "ES256", "EdDSA")
MIN_RSA_BITS = 2048
_PEM_BLOCK = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


@dataclass(frozen=True, slots=True)
class RsaKey:
    kid: str
    private_key: rsa.RSAPrivateKey = field(repr=False)

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    def jwk(self) -> dict[str, str]:
        numbers = self.public_key.public_numbers()
        return {
            "kty": "RSA",
            "n": _b64(_int_bytes(numbers.n)),
            "e": _b64(_int_bytes(numbers.e)),
            "kid": self.kid,
            "alg": "RS256",
            "use": "sig",
        }


def _rsa_key(private: rsa.RSAPrivateKey) -> RsaKey:
    numbers = private.public_key().public_numbers()
    # RFC 7638 thumbprint: stable for the key, so verifiers cache by it.
    canonical = json.dumps(
        {"e": _b64(_int_bytes(numbers.e)), "kty": "RSA", "n": _b64(_int_bytes(numbers.n))},
        separators=(",", ":"),
        sort_keys=True,
    )
    return RsaKey(kid=_b64(hashlib.sha256(canonical.encode()).digest()), private_key=private)


class OidcKeys:
    """The RS256 signing key (``active``), the ES256 / EdDSA ID-token signers when
    configured, and every key that still verifies, by ``kid``."""

    def __init__(self, keys: list[RsaKey], others: list[SigningKey] | None = None) -> None:
        if not keys:
            raise KeyConfigurationError("no RS256 key for OpenID Connect")
        self.active = keys[0]
        self._by_kid = {key.kid: key for key in keys}
        self._others = {key.kid: key for key in others or []}
        self._signers: dict[str, RsaKey | SigningKey] = {RS256: self.active}
        for key in others or []:
            self._signers.setdefault(key.algorithm, key)

    def by_kid(self, kid: str) -> RsaKey | None:
        return self._by_kid.get(kid)

    def signer(self, algorithm: str) -> RsaKey | SigningKey | None:
        return self._signers.get(algorithm)

    def verifier(self, kid: str) -> tuple[str, Any] | None:
        """(algorithm, public key) of any of our keys, for ID tokens."""
        rsa_key = self._by_kid.get(kid)
        if rsa_key is not None:
            return RS256, rsa_key.public_key
        other = self._others.get(kid)
        return (other.algorithm, other.public_key) if other is not None else None

    @property
    def algorithms(self) -> list[str]:
        """The ID-token algorithms this deployment can sign with, RS256 first."""
        return [alg for alg in ID_TOKEN_ALGORITHMS if alg in self._signers]

    def jwks(self) -> list[dict[str, Any]]:
        rsa_keys = [key.jwk() for key in self._by_kid.values()]
        return rsa_keys + [key.jwk() for key in self._others.values()]


def _load(pem: str) -> RsaKey | SigningKey:
    try:
        private = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyConfigurationError(f"cannot read GATEHOUSE_OIDC_SIGNING_KEYS ({exc})") from exc
    if isinstance(private, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        return make_signing_key(private.public_key(), private)  # P-256 only: it says so
    if not isinstance(private, rsa.RSAPrivateKey):
        raise KeyConfigurationError(
            "GATEHOUSE_OIDC_SIGNING_KEYS takes RSA, P-256 and Ed25519 private keys only"
        )
    if private.key_size < MIN_RSA_BITS:
        raise KeyConfigurationError(f"RSA keys need at least {MIN_RSA_BITS} bits")
    return _rsa_key(private)


def _new_private_pem(kind: str) -> bytes:
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    if kind == RS256:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif kind == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _dev_pem(var_dir: Path, kind: str = RS256) -> str:
    """Generated once (mode 0600, atomically, first writer wins), then reused."""
    path = var_dir / (DEV_RSA_KEY_FILE if kind == RS256 else DEV_EXTRA_KEY_FILES[kind])
    if not path.exists():
        pem = _new_private_pem(kind)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".oidc-key-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text()


def load_oidc_keys(settings: Settings) -> OidcKeys:
    """Raises KeyConfigurationError with what to fix."""
    configured = settings.oidc_signing_keys.get_secret_value() if settings.oidc_signing_keys else ""
    configured = configured.replace("\\r", "").replace("\\n", "\n")
    pems = [m.group(0) for m in _PEM_BLOCK.finditer(configured)]
    if configured.strip() and not pems:
        raise KeyConfigurationError("GATEHOUSE_OIDC_SIGNING_KEYS holds no PEM private key")
    if not pems:
        if settings.is_production:
            raise KeyConfigurationError("production needs GATEHOUSE_OIDC_SIGNING_KEYS")
        pems = [_dev_pem(settings.var_dir)]
    loaded = [_load(pem) for pem in pems]
    rsa_keys = [key for key in loaded if isinstance(key, RsaKey)]
    others = [key for key in loaded if isinstance(key, SigningKey)]
    if not settings.is_production:  # development: every algorithm a client may ask for
        kinds = {key.algorithm for key in others}
        others += [
            _load_other(_dev_pem(settings.var_dir, kind))
            for kind in DEV_EXTRA_KEY_FILES
            if kind not in kinds
        ]
    return OidcKeys(rsa_keys, others)


def _load_other(pem: str) -> SigningKey:
    key = _load(pem)
    assert isinstance(key, SigningKey)
    return key
