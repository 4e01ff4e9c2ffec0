"""What the sessions slice hands out and asks for: the issued pair, the session owner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from beanie import PydanticObjectId

from domain.core.actor import Actor
from domain.core.roles import Role
from domain.sessions.documents import Session


class SessionOwner(Protocol):
    """The account a session belongs to, as far as sessions need it (identity's User)."""

    @property
    def id(self) -> PydanticObjectId | None: ...

    @property
    def role(self) -> Role: ...


# The owner's account if it may go on using its sessions (it is active), else None.
# Identity decides what active means; sessions only ask.
ActiveOwnerLoader = Callable[[PydanticObjectId], Awaitable[SessionOwner | None]]
# Tells the owner of a session whose refresh token was replayed.
ReuseHook = Callable[[Session], Awaitable[None]]
# Told that every session of an account ends, and why (``revoke_all``'s reason).
AllEndedHook = Callable[[PydanticObjectId, str, Actor], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    session_id: str
    user_id: str
    # The account as the session check loaded it, so the caller need not load it again.
    owner: SessionOwner | None = None


def utc(moment: datetime) -> datetime:
    """Datetimes read back from the database are naive UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
