"""Authenticated encryption of secrets at rest (AES-256-GCM).

A sealed value is the string ``v1.<nonce>.<ciphertext>`` (both unpadded base64url);
the ciphertext carries GCM's 16-byte tag. The nonce is 96 random bits per message:
with random nonces one key is safe for well over 2**32 messages, far beyond the
number of TOTP enrolments. The version prefix (and any caller context) is bound
as associated data, so a value cannot be moved to another version or context.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.core.errors import DomainError

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96 bits, GCM's native nonce size
VERSION = "v1"
HKDF_INFO = b"gatehouse-totp"


class SecretDecryptionError(DomainError):
    """A stored secret failed authentication: wrong key, corruption or tampering.

    This is a server-side integrity problem, never the user's fault, so the message
    stays generic; the cause is for the logs.
    """

    # The code predates the box's use beyond TOTP secrets; clients already know it.
    code = "MFA_SECRET_UNREADABLE"
    status_code = 500
    default_message = "Two-factor authentication is unavailable for this account. Contact support."


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    # Strict: characters outside the alphabet are an error, not silently skipped.
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"SecretBox needs a {KEY_BYTES}-byte key, got {len(key)} bytes")
        self._aead = AESGCM(key)

    @classmethod
    def from_setting(cls, value: str | None, *, fallback_seed: bytes) -> SecretBox:
        """The box for a configured key, or one derived from ``fallback_seed``.

        ``value`` is a base64url (padding optional) encoding of 32 random bytes, for
        example ``python -c "import secrets; print(secrets.token_urlsafe(32))"``. When
        it is None the key is HKDF-SHA256(``fallback_seed``, info="gatehouse-totp"):
        meant for development, where the seed is the dev signing key material.

        Raises:
            ValueError: ``value`` is not base64url of exactly 32 bytes, or the seed is empty.
        """
        if value is None:
            if not fallback_seed:
                raise ValueError("SecretBox fallback seed is empty")
            key = HKDF(
                algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=HKDF_INFO
            ).derive(fallback_seed)
            return cls(key)
        try:
            key = _b64decode(value.strip())
        except (ValueError, binascii.Error) as exc:
            raise ValueError("the TOTP encryption key is not valid base64url") from exc
        if len(key) != KEY_BYTES:
            raise ValueError(f"the TOTP encryption key must decode to {KEY_BYTES} bytes")
        return cls(key)

    def encrypt(self, plaintext: str, *, context: bytes = b"") -> str:
        """Seal ``plaintext``; ``context`` (say, the owner's id) must match on decrypt."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), self._aad(context))
        return f"{VERSION}.{_b64encode(nonce)}.{_b64encode(sealed)}"

    def decrypt(self, token: str, *, context: bytes = b"") -> str:
        """Open a sealed value.

        Raises:
            SecretDecryptionError: malformed, unknown version, wrong key or context,
                or tampered with.
        """
        parts = token.split(".") if isinstance(token, str) else []
        if len(parts) != 3 or parts[0] != VERSION:
            raise SecretDecryptionError
        try:
            nonce = _b64decode(parts[1])
            sealed = _b64decode(parts[2])
        except (ValueError, binascii.Error) as exc:
            raise SecretDecryptionError from exc
        if len(nonce) != NONCE_BYTES:
            raise SecretDecryptionError
        try:
            plaintext = self._aead.decrypt(nonce, sealed, self._aad(context))
            return plaintext.decode("utf-8")
        except (InvalidTag, UnicodeDecodeError) as exc:
            raise SecretDecryptionError from exc

    @staticmethod
    def _aad(context: bytes) -> bytes:
        return VERSION.encode("ascii") + b"\x00" + context
