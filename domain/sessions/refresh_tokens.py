"""Refresh tokens derived from a per-session secret and a generation counter.

A token is ``r1.<session id>.<generation>.<mac>`` where the MAC is HMAC-SHA256 of the
session id and generation under the session's own 256-bit secret. The secret is
stored sealed (AES-GCM, bound to the session id), so the database alone mints
nothing, and any generation's token can be recomputed: the grace answer (the
successor of the token presented) is derived again instead of stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from beanie import PydanticObjectId

from domain.core.secret_box import SecretBox

_PREFIX = "r1"
_PATTERN = re.compile(r"^r1\.([0-9a-f]{24})\.([1-9][0-9]{0,9})\.([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class PresentedToken:
    session_id: PydanticObjectId
    generation: int
    mac: str


def parse(raw: object) -> PresentedToken | None:
    """The parts of a token in this format, or None (another format, or not a token)."""
    if not isinstance(raw, str):
        return None
    match = _PATTERN.fullmatch(raw)
    if match is None:
        return None
    return PresentedToken(PydanticObjectId(match[1]), int(match[2]), match[3])


class RefreshTokenCodec:
    def __init__(self, box: SecretBox) -> None:
        self._box = box

    def new_secret(self, session_id: PydanticObjectId) -> tuple[bytes, str]:
        """A fresh session secret and its sealed form for storage."""
        secret = secrets.token_bytes(32)
        sealed = self._box.encrypt(secret.hex(), context=self._context(session_id))
        return secret, sealed

    def open_secret(self, session_id: PydanticObjectId, sealed: str) -> bytes:
        """Raises SecretDecryptionError when the sealed secret is not this session's."""
        return bytes.fromhex(self._box.decrypt(sealed, context=self._context(session_id)))

    def token(self, secret: bytes, session_id: PydanticObjectId, generation: int) -> str:
        return f"{_PREFIX}.{session_id}.{generation}.{_mac(secret, session_id, generation)}"

    def verifies(self, secret: bytes, presented: PresentedToken) -> bool:
        expected = _mac(secret, presented.session_id, presented.generation)
        return hmac.compare_digest(expected, presented.mac)

    @staticmethod
    def _context(session_id: PydanticObjectId) -> bytes:
        return f"refresh-family:{session_id}".encode()


def _mac(secret: bytes, session_id: PydanticObjectId, generation: int) -> str:
    digest = hmac.new(secret, f"{session_id}.{generation}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
