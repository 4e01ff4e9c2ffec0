"""What the identity use cases ask of the account lock.

The lock lives in ``domain/lockout/service.py``, which reads and writes users and so
depends on this slice; identity names only this interface, so the dependency points
one way (the composition root hands in the lockout service).
"""

from __future__ import annotations

from typing import Protocol

from beanie import PydanticObjectId

from domain.core.actor import Actor
from domain.identity.documents import User


class AccountLock(Protocol):
    async def check(self, email: str) -> bool:
        """True when the address is locked.

        Raises: RateLimitedError while an unlocked address must wait.
        """
        ...

    async def mark_locked(self, email: str) -> None: ...

    async def record_failed_attempt(self, user: User, actor: Actor) -> None:
        """Raises: AccountLockedError once the account is (or just got) locked."""
        ...

    async def record_unknown_failure(self, email: str, actor: Actor) -> None:
        """Raises: AccountLockedError once the address is (or just got) locked."""
        ...

    async def clear_failures(self, email: str) -> None: ...

    async def unlock(self, user: User, actor: Actor) -> None: ...


class PasskeyProof(Protocol):
    """What re-authentication asks of the passkeys slice (domain/passkeys/
    reauthentication.py), which depends on this one."""

    async def has_passkey(self, user_id: PydanticObjectId) -> bool: ...

    async def prove(self, user: User, session_id: str, credential: object, actor: Actor) -> None:
        """Check the session's answer to its passkey challenge with one of ``user``'s
        passkeys. Raises the passkeys slice's errors (a wrong answer already counted
        toward the lock), or AccountLockedError."""
        ...
