"""Password hashing behind a small protocol, so the library can change in one file.

argon2id (OWASP parameters by default) through passlib's API from the maintained
``libpass`` distribution; bcrypt hashes from an imported user base verify and are
upgraded. Hashing runs in a bounded thread pool so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, TypeVar

from passlib.context import CryptContext

from domain.core.settings import Settings

T = TypeVar("T")

# bcrypt reads at most 72 bytes; bcrypt 5 raises beyond that. Such a password can
# never have been the one hashed, so it is simply wrong (never silently truncated).
BCRYPT_MAX_BYTES = 72


@dataclass(frozen=True, slots=True)
class VerifyResult:
    valid: bool
    new_hash: str | None = None


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password: str, stored_hash: str) -> VerifyResult: ...

    async def dummy_verify(self, password: str) -> None: ...

    async def matches_any(self, password: str, hashes: Sequence[str]) -> bool: ...

    def close(self) -> None: ...


class PasslibHasher:
    def __init__(self, settings: Settings) -> None:
        self._context = CryptContext(
            schemes=["argon2", "bcrypt"],
            deprecated=["bcrypt"],
            argon2__type="ID",
            argon2__memory_cost=settings.argon2_memory_kib,
            argon2__rounds=settings.argon2_time_cost,
            argon2__parallelism=settings.argon2_parallelism,
        )
        self._pool = ThreadPoolExecutor(
            max_workers=settings.password_hash_threads, thread_name_prefix="password-hash"
        )
        # A real hash with the same cost, for unknown emails: same work, same time.
        self._dummy_hash = self._context.hash(secrets.token_urlsafe(24))

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    async def hash(self, password: str) -> str:
        return await self._run(lambda: str(self._context.hash(password)))

    def _verify_sync(self, password: str, stored_hash: str) -> VerifyResult:
        scheme = self._context.identify(stored_hash)
        if scheme is None:
            return VerifyResult(valid=False)
        if scheme == "bcrypt" and len(password.encode()) > BCRYPT_MAX_BYTES:
            return VerifyResult(valid=False)
        try:
            valid, new_hash = self._context.verify_and_update(password, stored_hash)
        except (ValueError, TypeError):
            return VerifyResult(valid=False)
        return VerifyResult(valid=bool(valid), new_hash=new_hash if valid else None)

    async def verify(self, password: str, stored_hash: str) -> VerifyResult:
        return await self._run(lambda: self._verify_sync(password, stored_hash))

    async def dummy_verify(self, password: str) -> None:
        await self._run(lambda: self._context.verify(password, self._dummy_hash))

    async def matches_any(self, password: str, hashes: Sequence[str]) -> bool:
        for stored in hashes:
            if (await self.verify(password, stored)).valid:
                return True
        return False

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def create_password_hasher(settings: Settings) -> PasswordHasher:
    return PasslibHasher(settings)
