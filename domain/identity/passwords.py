"""Password hashing behind a small protocol, so the library can change in one file.

argon2id (OWASP parameters by default) through passlib's API from the maintained
``libpass`` distribution; bcrypt hashes from an imported user base verify and are
upgraded. A stored hash is upgraded (``VerifyResult.new_hash``) when it is bcrypt
or when its argon2 type, version, memory, time or parallelism differ from the
settings, so hashes follow the configured cost in both directions.

Hashing is CPU-bound and releases the GIL, so it runs in a dedicated, bounded
thread pool: the event loop never blocks on it, and no more than
``password_hash_threads`` hashes run at once (the rest queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, TypeVar

from loguru import logger
from passlib.context import CryptContext
from passlib.utils import MAX_PASSWORD_SIZE

from domain.core.settings import Settings

T = TypeVar("T")

# bcrypt reads at most 72 bytes and bcrypt 5 raises beyond that. A longer password
# cannot be the one that was hashed, so it is simply wrong: never truncated.
BCRYPT_MAX_BYTES = 72

# What passlib and its backends raise for a hash they cannot read (MalformedHashError
# and UnknownHashError are ValueErrors; argon2 hashes with a "data" field raise
# NotImplementedError) or a secret bcrypt refuses (NUL bytes: PasswordValueError).
_UNREADABLE = (ValueError, TypeError, NotImplementedError)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    valid: bool
    # Set when the password was right and the stored hash should be replaced.
    new_hash: str | None = None


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str:
        """A new argon2id hash of the password (never truncated)."""
        ...

    async def verify(self, password: str, stored_hash: str) -> VerifyResult:
        """Check a password; a malformed or unknown stored hash is just invalid."""
        ...

    async def dummy_verify(self, password: str) -> None:
        """The cost of a real verify, for unknown accounts (no timing oracle)."""
        ...

    async def matches_any(self, password: str, hashes: Sequence[str]) -> bool:
        """Whether the password matches any of the hashes (password history)."""
        ...

    def close(self) -> None:
        """Stop the worker threads; queued work is cancelled."""
        ...


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
        # A real hash with the same parameters, so a dummy verify does the same work.
        # Made once, here (one hash's time at start-up).
        self._dummy_hash: str = self._context.hash(secrets.token_urlsafe(32))

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    # ------------------------------------------------------------ in the pool

    def _hash_sync(self, password: str) -> str:
        return str(self._context.hash(password))

    def _check_sync(self, password: str, stored_hash: str, *, upgrade: bool) -> VerifyResult:
        try:
            scheme = self._context.identify(stored_hash)
        except _UNREADABLE:
            scheme = None
        if scheme is None:
            logger.warning("stored password hash has an unknown format")
            return VerifyResult(valid=False)
        size = len(password.encode("utf-8"))
        if size > MAX_PASSWORD_SIZE or (scheme == "bcrypt" and size > BCRYPT_MAX_BYTES):
            # Longer than passlib will hash (4 KiB), so it cannot be the one stored: plainly
            # wrong, not a "stored hash could not be verified" warning an attacker can
            # repeat into the log at will.
            return VerifyResult(valid=False)
        try:
            if not upgrade:
                return VerifyResult(valid=bool(self._context.verify(password, stored_hash)))
            valid, new_hash = self._context.verify_and_update(password, stored_hash)
        except _UNREADABLE as exc:
            # The exception text can quote the hash: log only what kind of problem it was.
            logger.bind(scheme=scheme, error=type(exc).__name__).warning(
                "stored password hash could not be verified"
            )
            return VerifyResult(valid=False)
        if not valid:
            return VerifyResult(valid=False)
        return VerifyResult(valid=True, new_hash=str(new_hash) if new_hash else None)

    def _dummy_sync(self, password: str) -> None:
        with contextlib.suppress(*_UNREADABLE):
            self._context.verify(password, self._dummy_hash)

    def _matches_any_sync(self, password: str, hashes: Sequence[str]) -> bool:
        return any(self._check_sync(password, h, upgrade=False).valid for h in hashes)

    # ----------------------------------------------------------------- public

    async def hash(self, password: str) -> str:
        return await self._run(lambda: self._hash_sync(password))

    async def verify(self, password: str, stored_hash: str) -> VerifyResult:
        return await self._run(lambda: self._check_sync(password, stored_hash, upgrade=True))

    async def dummy_verify(self, password: str) -> None:
        await self._run(lambda: self._dummy_sync(password))

    async def matches_any(self, password: str, hashes: Sequence[str]) -> bool:
        if not hashes:
            return False
        stored = list(hashes)
        # One job for the whole history: it holds one worker, not the whole pool.
        return await self._run(lambda: self._matches_any_sync(password, stored))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def create_password_hasher(settings: Settings) -> PasswordHasher:
    return PasslibHasher(settings)
