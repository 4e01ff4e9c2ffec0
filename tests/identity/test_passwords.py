"""The password hasher: argon2id by default, bcrypt imports upgraded, never blocking."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import bcrypt
import pytest
from loguru import logger
from passlib.context import CryptContext

from domain.core.settings import Settings
from domain.identity.passwords import PasswordHasher, VerifyResult, create_password_hasher

DEFAULT_PREFIX = "$argon2id$v=19$m=19456,t=2,p=1$"
PASSWORD = "correct horse battery staple 9!"


def _settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, **overrides)


@pytest.fixture(scope="module")
def hasher() -> Iterator[PasswordHasher]:
    hasher = create_password_hasher(_settings(password_hash_threads=2))
    yield hasher
    hasher.close()


def _bcrypt(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


def _argon2(password: str, **params: Any) -> str:
    return str(CryptContext(schemes=["argon2"], **params).hash(password))


def test_default_settings_are_the_owasp_argon2id_parameters() -> None:
    settings = _settings()
    assert (settings.argon2_memory_kib, settings.argon2_time_cost) == (19_456, 2)
    assert settings.argon2_parallelism == 1


async def test_hash_is_argon2id_with_the_configured_parameters(hasher: PasswordHasher) -> None:
    stored = await hasher.hash(PASSWORD)
    assert stored.startswith(DEFAULT_PREFIX)
    # A fresh salt every time.
    assert await hasher.hash(PASSWORD) != stored


async def test_other_parameters_show_in_the_hash() -> None:
    hasher = create_password_hasher(
        _settings(argon2_memory_kib=8192, argon2_time_cost=3, argon2_parallelism=2)
    )
    try:
        assert (await hasher.hash(PASSWORD)).startswith("$argon2id$v=19$m=8192,t=3,p=2$")
    finally:
        hasher.close()


async def test_round_trip(hasher: PasswordHasher) -> None:
    stored = await hasher.hash(PASSWORD)
    assert await hasher.verify(PASSWORD, stored) == VerifyResult(valid=True, new_hash=None)


@pytest.mark.parametrize(
    "attempt", ["correct horse battery staple 9", "Correct horse battery staple 9!", "", " "]
)
async def test_wrong_password(hasher: PasswordHasher, attempt: str) -> None:
    stored = await hasher.hash(PASSWORD)
    assert await hasher.verify(attempt, stored) == VerifyResult(valid=False, new_hash=None)


async def test_bcrypt_hash_is_accepted_and_upgraded_to_argon2id(hasher: PasswordHasher) -> None:
    stored = _bcrypt(PASSWORD)
    result = await hasher.verify(PASSWORD, stored)
    assert result.valid
    assert result.new_hash is not None
    assert result.new_hash.startswith(DEFAULT_PREFIX)
    # The upgraded hash is final: it verifies and asks for nothing more.
    assert await hasher.verify(PASSWORD, result.new_hash) == VerifyResult(True, None)


async def test_wrong_password_against_bcrypt_is_not_upgraded(hasher: PasswordHasher) -> None:
    assert await hasher.verify("not it at all", _bcrypt(PASSWORD)) == VerifyResult(False, None)


@pytest.mark.parametrize(
    ("hashed", "attempt"),
    [
        # bcrypt only ever read 72 bytes: a longer password must not match by truncation.
        ("a" * 72, "a" * 72 + "b"),
        ("a" * 72, "a" * 200),
        # 37 characters, 74 bytes in UTF-8.
        ("é" * 36, "é" * 37),
    ],
)
async def test_bcrypt_with_a_password_over_72_bytes_is_invalid(
    hasher: PasswordHasher, hashed: str, attempt: str
) -> None:
    stored = _bcrypt(hashed)
    assert (await hasher.verify(hashed, stored)).valid
    assert await hasher.verify(attempt, stored) == VerifyResult(False, None)


async def test_bcrypt_with_a_nul_byte_is_invalid(hasher: PasswordHasher) -> None:
    assert await hasher.verify("pass\x00word", _bcrypt("password")) == VerifyResult(False, None)


@pytest.mark.parametrize(
    "params",
    [
        {"argon2__type": "ID", "argon2__memory_cost": 8192, "argon2__rounds": 2},
        {"argon2__type": "ID", "argon2__memory_cost": 19456, "argon2__rounds": 1},
        {"argon2__type": "ID", "argon2__memory_cost": 19456, "argon2__parallelism": 2},
        {"argon2__type": "I", "argon2__memory_cost": 19456, "argon2__rounds": 2},
    ],
    ids=["less-memory", "fewer-rounds", "other-parallelism", "argon2i"],
)
async def test_argon2_hash_with_other_parameters_is_upgraded(
    hasher: PasswordHasher, params: dict[str, Any]
) -> None:
    result = await hasher.verify(PASSWORD, _argon2(PASSWORD, **params))
    assert result.valid
    assert result.new_hash is not None
    assert result.new_hash.startswith(DEFAULT_PREFIX)


GARBAGE = [
    "",
    "garbage",
    "$argon2id$",
    "$argon2id$v=19$m=19456,t=2,p=1$abc$def",
    "$argon2id$v=19$m=1,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
    "$argon2id$v=19$m=19456,t=2,p=1$é",
    "$2b$04$short",
    "$2b$04$" + "!" * 53,
    "$5$rounds=5000$saltsalt$hash",
    "$1$abc$def",
    "plaintext-password",
]


@pytest.mark.parametrize("stored", GARBAGE)
async def test_malformed_or_unknown_stored_hash_is_invalid(
    hasher: PasswordHasher, stored: str
) -> None:
    assert await hasher.verify(PASSWORD, stored) == VerifyResult(False, None)


async def test_truncated_real_hash_is_invalid(hasher: PasswordHasher) -> None:
    stored = await hasher.hash(PASSWORD)
    assert not (await hasher.verify(PASSWORD, stored[:-5])).valid
    assert not (await hasher.verify(PASSWORD, _bcrypt(PASSWORD)[:-5])).valid


async def test_unreadable_hash_logs_neither_hash_nor_password(hasher: PasswordHasher) -> None:
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(str(message)), level="DEBUG", serialize=True)
    try:
        for stored in ["$argon2id$v=19$m=19456,t=2,p=1$SECRETSALT$SECRETHASH", "SECRETHASH"]:
            assert not (await hasher.verify("SECRETPASSWORD", stored)).valid
    finally:
        logger.remove(sink)
    assert lines, "an unreadable hash is worth a warning"
    assert not any("SECRET" in line for line in lines)


async def test_dummy_verify_does_the_argon2_work(hasher: PasswordHasher) -> None:
    for password in ["anything", "", "x" * 1000]:
        started = time.perf_counter()
        await hasher.dummy_verify(password)
        # An argon2id verify with 19 MiB cannot be done in a millisecond; a no-op can.
        assert time.perf_counter() - started > 0.001


async def test_hashing_runs_off_the_event_loop(hasher: PasswordHasher) -> None:
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.0005)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    ticks = 0
    stored = await hasher.hash(PASSWORD)
    await hasher.verify(PASSWORD, stored)
    await hasher.dummy_verify(PASSWORD)
    done.set()
    await task
    # Three argon2 runs (~tens of ms each): a blocked loop would not have ticked at all.
    assert ticks >= 5


async def test_concurrent_hashes_all_complete(hasher: PasswordHasher) -> None:
    passwords = [f"{PASSWORD} {i}" for i in range(6)]
    hashes = await asyncio.gather(*(hasher.hash(p) for p in passwords))
    results = await asyncio.gather(
        *(hasher.verify(p, h) for p, h in zip(passwords, hashes, strict=True))
    )
    assert all(r.valid for r in results)


async def test_matches_any_finds_a_password_in_the_history(hasher: PasswordHasher) -> None:
    history = [
        await hasher.hash("first old password"),
        "not a hash at all",
        _bcrypt("imported bcrypt password"),
        await hasher.hash("second old password"),
    ]
    assert await hasher.matches_any("second old password", history)
    assert await hasher.matches_any("first old password", history)
    assert await hasher.matches_any("imported bcrypt password", history)
    assert not await hasher.matches_any("a brand new password", history)
    assert not await hasher.matches_any("first old password", [])


async def test_long_password_is_hashed_whole(hasher: PasswordHasher) -> None:
    password = "0123456789" * 100
    stored = await hasher.hash(password)
    assert (await hasher.verify(password, stored)).valid
    # Nothing is truncated: a password sharing the first 999 characters is different.
    assert not (await hasher.verify(password[:-1], stored)).valid
    assert not (await hasher.verify(password[:72], stored)).valid


async def test_unicode_and_nul_passwords_round_trip(hasher: PasswordHasher) -> None:
    for password in ["pässwörd with ümlauts", "emoji 🔐🔑 passphrase", "with\x00nul"]:
        stored = await hasher.hash(password)
        assert (await hasher.verify(password, stored)).valid


async def test_close_stops_the_pool() -> None:
    hasher = create_password_hasher(_settings(password_hash_threads=1))
    assert (await hasher.hash(PASSWORD)).startswith(DEFAULT_PREFIX)
    hasher.close()
    hasher.close()  # idempotent
    with pytest.raises(RuntimeError):
        await hasher.hash(PASSWORD)
