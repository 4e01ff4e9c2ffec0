"""A bounded memo of the JWTs a process has verified, keyed by the token itself.

A client presents the same token on every call of its life (an SPA's access token to
the API, a resource server's caller to introspection), and checking the signature and
decoding the payload is most of what verifying costs. Only tokens whose signature
verified are kept, so an attacker cannot fill the memo with tokens of their own making;
a token is found again only while the key that signed it is still one the caller
trusts (``kid`` is checked on every hit), and the caller still checks the time claims
against its clock on every hit. Least recently used tokens go first.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

DEFAULT_KEPT = 4096


class VerifiedTokens:
    def __init__(self, kept: int = DEFAULT_KEPT) -> None:
        self._kept = kept
        self._payloads: OrderedDict[str, tuple[str, dict[str, Any]]] = OrderedDict()

    def get(self, token: str) -> tuple[str, dict[str, Any]] | None:
        """The ``(kid, payload)`` remembered for ``token``; the payload is shared, so
        callers read it and never change it."""
        found = self._payloads.get(token)
        if found is not None:
            self._payloads.move_to_end(token)
        return found

    def remember(self, token: str, kid: str, payload: dict[str, Any]) -> None:
        """Keep a token whose signature verified under the key ``kid``."""
        self._payloads[token] = (kid, payload)
        if len(self._payloads) > self._kept:
            self._payloads.popitem(last=False)
