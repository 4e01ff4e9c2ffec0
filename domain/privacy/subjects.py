"""Keyed hashes of a person: the pseudonym kept records carry after erasure, and the
tombstone key of an erased address. One derived key (never stored) makes both, so
neither can be recomputed from a database copy alone."""

from __future__ import annotations

import hashlib
import hmac

from domain.core.derived_keys import derive_key
from domain.core.settings import Settings
from domain.identity.documents import User
from domain.privacy.data_map import Subject


class PersonKeys:
    def __init__(self, settings: Settings) -> None:
        self._key = derive_key(settings, b"gatehouse-privacy-person")

    def _digest(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def pseudonym(self, user_id: str) -> str:
        return "erased:" + self._digest("user", user_id)[:24]

    def tombstone_id(self, normalized_email: str) -> str:
        """Of the address as stored and as registration normalises it."""
        return self._digest("email", normalized_email)

    def subject(self, user: User) -> Subject:
        assert user.id is not None
        return Subject(user_id=user.id, email=user.email, pseudonym=self.pseudonym(str(user.id)))
