"""The RFC 8693 ``act`` claim of an impersonation session's access tokens.

``sub`` stays the impersonated user (what they see is what the token shows); ``act``
names who really acts: the administrator (``sub``) and the administrator's own session
(``sid``), so the request admission can refuse the token the moment that session ends
without reading the database. ``impersonation.read_only`` tells Gatehouse (and any
resource server that trusts its JWKS) that the holder may only look.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class MalformedDelegation(ValueError):  # noqa: N818 - the token's claim, not an error kind
    """The ``act`` or ``impersonation`` claim is not ours."""


@dataclass(frozen=True, slots=True)
class Delegation:
    """An administrator acting as the token's subject."""

    actor_id: str
    actor_session_id: str
    read_only: bool = True

    def claims(self) -> dict[str, Any]:
        return {
            "act": {"sub": self.actor_id, "sid": self.actor_session_id},
            "impersonation": {"read_only": self.read_only},
        }


def _text(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 64:
        raise MalformedDelegation("act member is not a short non-empty string")
    return value


def delegation_of(payload: dict[str, Any]) -> Delegation | None:
    """The delegation a verified payload carries, None for an ordinary session's token.

    Raises:
        MalformedDelegation: one claim without the other, or either in another shape
            (a nested ``act`` chain included: Gatehouse never issues one).
    """
    act = payload.get("act")
    mode = payload.get("impersonation")
    if act is None and mode is None:
        return None
    if not isinstance(act, dict) or not isinstance(mode, dict) or set(act) != {"sub", "sid"}:
        raise MalformedDelegation("act and impersonation claims do not match")
    read_only = mode.get("read_only")
    if not isinstance(read_only, bool) or set(mode) != {"read_only"}:
        raise MalformedDelegation("impersonation.read_only is not a boolean")
    return Delegation(
        actor_id=_text(act["sub"]), actor_session_id=_text(act["sid"]), read_only=read_only
    )
