"""Keys derived from the deployment's secrets for one purpose each, never stored.

The seed is the sealing key, else the signing keys, else the development key; the
purpose label keeps each derived key apart from every other.
"""

from __future__ import annotations

import hashlib
import hmac

from domain.core.dev_key import dev_key_pem
from domain.core.settings import Settings


def derive_key(settings: Settings, purpose: bytes) -> bytes:
    for secret in (settings.totp_encryption_key, settings.jwt_private_keys):
        if secret is not None and secret.get_secret_value():
            seed = secret.get_secret_value().encode()
            break
    else:
        seed = dev_key_pem(settings.var_dir).encode()
    return hmac.new(seed, purpose, hashlib.sha256).digest()
