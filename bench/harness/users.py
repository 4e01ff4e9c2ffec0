"""The users every system is seeded with: bench users with real argon2id hashes, bulk users
sharing one precomputed hash, and the hash cost used everywhere."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from argon2 import PasswordHasher, Type

from domain.core.settings import Settings

PASSWORD = "Lantern-harbor-7f3k2-quiet"
# Registration uses a different strong password (zxcvbn score >= 3, not similar to emails).
REGISTER_PASSWORD = "Copper-meadow-91xq-thunder"


@dataclass(frozen=True)
class HashCost:
    memory_kib: int
    time_cost: int
    parallelism: int

    @classmethod
    def of(cls, settings: Settings) -> HashCost:
        return cls(
            settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism
        )

    def hasher(self) -> PasswordHasher:
        return PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_kib,
            parallelism=self.parallelism,
            type=Type.ID,
        )

    def env(self) -> dict[str, str]:
        return {
            "BENCH_ARGON2_MEMORY_KIB": str(self.memory_kib),
            "BENCH_ARGON2_TIME_COST": str(self.time_cost),
            "BENCH_ARGON2_PARALLELISM": str(self.parallelism),
        }

    def __str__(self) -> str:
        return f"argon2id m={self.memory_kib} KiB, t={self.time_cost}, p={self.parallelism}"


@dataclass(frozen=True)
class BenchUser:
    email: str
    password_hash: str  # standard PHC string: $argon2id$v=19$m=...,t=...,p=...$salt$hash


def bench_users(count: int, cost: HashCost) -> list[BenchUser]:
    """``count`` users with their own real hashes of PASSWORD (hashed on every core)."""
    hasher = cost.hasher()
    emails = [f"bench-{i:04d}@bench.example" for i in range(count)]
    with ThreadPoolExecutor() as pool:  # argon2-cffi releases the GIL
        hashes = list(pool.map(lambda _: hasher.hash(PASSWORD), emails))
    return [BenchUser(e, h) for e, h in zip(emails, hashes, strict=True)]


def bulk_email(index: int) -> str:
    return f"bulk-{index:07d}@bench.example"
