"""One change at a time to who is an active super-admin.

"Never remove the last super-admin" is a check (count the others) then an act (demote,
deactivate, delete). Two super-admins demoting each other at the same instant both
counted one other and both went ahead, leaving none; MongoDB without transactions
(and FerretDB) cannot make the pair atomic, so changes that can remove a super-admin
take a short Redis lock around the check and the write. A lock held by a process
that died expires on its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from redis.asyncio import Redis
from redis.exceptions import LockError

from domain.core.errors import DependencyUnavailableError

LOCK_SECONDS = 15.0
WAIT_SECONDS = 5.0


class SuperAdminChanges:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._key = f"{prefix}lock:super-admins"

    @asynccontextmanager
    async def serialised(self) -> AsyncIterator[None]:
        """Raises: DependencyUnavailableError when another change holds it too long."""
        lock = self._redis.lock(self._key, timeout=LOCK_SECONDS, blocking_timeout=WAIT_SECONDS)
        if not await lock.acquire():
            raise DependencyUnavailableError(
                "Another change to super-admins is in progress. Try again shortly."
            )
        try:
            yield
        finally:
            # Expired meanwhile (LockError): there is nothing of ours to release.
            with suppress(LockError):
                await lock.release()
