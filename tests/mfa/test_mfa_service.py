"""TOTP enrollment, verification, replay protection and backup codes on real FerretDB."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import pyotp
import pytest
from beanie import PydanticObjectId

from domain.core.actor import Actor
from domain.core.claims import Claim
from domain.core.clock import FrozenClock
from domain.core.db import create_mongo_client, init_database
from domain.core.secret_box import SecretBox, SecretDecryptionError
from domain.core.settings import Settings
from domain.mfa.documents import BackupCode, TotpCredential
from domain.mfa.errors import (
    InvalidMfaCodeError,
    NoPendingEnrollmentError,
    TotpAlreadyEnabledError,
    TotpCodeReplayedError,
    TotpNotEnabledError,
)
from domain.mfa.service import BACKUP_CODE_ALPHABET, MfaService

# Five seconds into a 30-second step, so moving by whole steps stays inside a step.
START = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
STEP = timedelta(seconds=30)
KEY = os.urandom(32)


@pytest.fixture(scope="module")
async def _database(make_settings: Callable[..., Settings]) -> AsyncIterator[None]:
    settings = make_settings()
    client = create_mongo_client(settings)
    await init_database(client[settings.mongodb_database], [TotpCredential, BackupCode, Claim])
    yield
    await client.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def service(_database: None, clock: FrozenClock) -> MfaService:
    return MfaService(SecretBox(KEY), clock, issuer="Gatehouse Test")


def code_at(secret: str, moment: datetime) -> str:
    return str(pyotp.TOTP(secret).at(moment))


async def enable(
    service: MfaService, clock: FrozenClock, uid: PydanticObjectId
) -> tuple[str, list[str]]:
    """Enroll and confirm; the clock then moves to a fresh step."""
    enrollment = await service.begin_enrollment(uid, "ada@example.com")
    backup_codes = await service.confirm_enrollment(
        uid, code_at(enrollment.secret, clock.now()), Actor.system()
    )
    clock.advance(STEP)
    return enrollment.secret, backup_codes


# -- enrollment ------------------------------------------------------------------


async def test_enroll_confirm_verify(service: MfaService, clock: FrozenClock) -> None:
    uid = PydanticObjectId()
    enrollment = await service.begin_enrollment(uid, "ada@example.com")
    assert not await service.is_enabled(uid)
    # A pending secret is not good enough to sign in with.
    assert not await service.verify_code(
        uid, code_at(enrollment.secret, clock.now()), Actor.system()
    )

    backup_codes = await service.confirm_enrollment(
        uid, code_at(enrollment.secret, clock.now()), Actor.system()
    )
    assert await service.is_enabled(uid)
    assert len(backup_codes) == 10
    assert len(set(backup_codes)) == 10
    assert await service.remaining_backup_codes(uid) == 10

    clock.advance(STEP)
    assert await service.verify_code(uid, code_at(enrollment.secret, clock.now()), Actor.system())


async def test_enrollment_uri_and_qr(service: MfaService) -> None:
    uid = PydanticObjectId()
    enrollment = await service.begin_enrollment(uid, "ada@example.com")
    assert len(enrollment.secret) == 32
    uri = unquote(enrollment.otpauth_uri)
    assert uri.startswith("otpauth://totp/")
    assert "Gatehouse Test" in uri
    assert "ada@example.com" in uri
    assert f"secret={enrollment.secret}" in uri
    assert enrollment.qr_svg_data_uri.startswith("data:image/svg+xml")


async def test_confirm_with_wrong_code_fails(service: MfaService, clock: FrozenClock) -> None:
    uid = PydanticObjectId()
    enrollment = await service.begin_enrollment(uid, "ada@example.com")
    right = code_at(enrollment.secret, clock.now())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with pytest.raises(InvalidMfaCodeError):
        await service.confirm_enrollment(uid, wrong, Actor.system())
    with pytest.raises(InvalidMfaCodeError):
        await service.confirm_enrollment(uid, "not a code", Actor.system())
    assert not await service.is_enabled(uid)
    assert await service.confirm_enrollment(uid, right, Actor.system())


async def test_confirm_without_enrollment(service: MfaService) -> None:
    with pytest.raises(NoPendingEnrollmentError):
        await service.confirm_enrollment(PydanticObjectId(), "123456", Actor.system())


async def test_confirm_twice_raises(service: MfaService, clock: FrozenClock) -> None:
    uid = PydanticObjectId()
    secret, _ = await enable(service, clock, uid)
    with pytest.raises(TotpAlreadyEnabledError):
        await service.confirm_enrollment(uid, code_at(secret, clock.now()), Actor.system())


async def test_begin_twice_while_pending_replaces_the_secret(
    service: MfaService, clock: FrozenClock
) -> None:
    uid = PydanticObjectId()
    first = await service.begin_enrollment(uid, "ada@example.com")
    second = await service.begin_enrollment(uid, "ada@example.com")
    assert first.secret != second.secret
    assert await TotpCredential.find(TotpCredential.user_id == uid).count() == 1
    with pytest.raises(InvalidMfaCodeError):
        await service.confirm_enrollment(uid, code_at(first.secret, clock.now()), Actor.system())
    assert await service.confirm_enrollment(
        uid, code_at(second.secret, clock.now()), Actor.system()
    )


async def test_concurrent_begins_leave_one_credential(service: MfaService) -> None:
    uid = PydanticObjectId()
    await asyncio.gather(*(service.begin_enrollment(uid, "ada@example.com") for _ in range(10)))
    assert await TotpCredential.find(TotpCredential.user_id == uid).count() == 1


async def test_begin_while_enabled_raises(service: MfaService, clock: FrozenClock) -> None:
    uid = PydanticObjectId()
    await enable(service, clock, uid)
    with pytest.raises(TotpAlreadyEnabledError):
        await service.begin_enrollment(uid, "ada@example.com")


# -- TOTP verification -----------------------------------------------------------


async def test_same_code_twice_is_refused(service: MfaService, clock: FrozenClock) -> None:
    uid = PydanticObjectId()
    secret, _ = await enable(service, clock, uid)
    code = code_at(secret, clock.now())
    assert await service.verify_code(uid, code, Actor.system())
    # A replay is refused as such (not counted as a wrong guess by the callers).
    with pytest.raises(TotpCodeReplayedError):
        await service.verify_code(uid, code, Actor.system())
    clock.advance(timedelta(seconds=10))  # same step, later
    with pytest.raises(TotpCodeReplayedError):
        await service.verify_code(uid, code, Actor.system())


async def test_confirmation_code_cannot_be_replayed(
    service: MfaService, clock: FrozenClock
) -> None:
    uid = PydanticObjectId()
    enrollment = await service.begin_enrollment(uid, "ada@example.com")
    code = code_at(enrollment.secret, clock.now())
    await service.confirm_enrollment(uid, code, Actor.system())
    with pytest.raises(TotpCodeReplayedError):
        await service.verify_code(uid, code, Actor.system())


async def test_concurrent_verifies_of_one_code_succeed_once(
    service: MfaService, clock: FrozenClock
) -> None:
    uid = PydanticObjectId()
    secret, _ = await enable(service, clock, uid)
    code = code_at(secret, clock.now())
    results = await asyncio.gather(
        *(service.verify_code(uid, code, Actor.system()) for _ in range(20)), return_exceptions=True
    )
    assert results.count(True) == 1
    assert all(isinstance(r, TotpCodeReplayedError) for r in results if r is not True)


async def test_window_accepts_previous_step_but_not_two_back(
    service: MfaService, clock: FrozenClock
) -> None:
    uid = PydanticObjectId()
    secret, _ = await enable(service, clock, uid)
    clock.advance(STEP * 3)
    assert await service.verify_code(uid, code_at(secret, clock.now() - STEP), Actor.system())
    clock.advance(STEP * 3)
    assert not await service.verify_code(
        uid, code_at(secret, clock.now() - 2 * STEP), Actor.system()
    )
    assert await service.verify_code(uid, code_at(secret, clock.now() + STEP), Actor.system())


async def test_older_step_after_newer_one_is_refused(
    service: MfaService, clock: FrozenClock
) -> None:
    uid = PydanticObjectId()
    secret, _ = await enable(service, clock, uid)
    clock.advance(STEP * 3)
    assert await service.verify_code(uid, code_at(secret, clock.now()), Actor.system())
    with pytest.raises(TotpCodeReplayedError):
        await service.verify_code(uid, code_at(secret, clock.now() - STEP), Actor.system())


async def test_code_with_spaces_is_accepted(service: MfaService, clock: FrozenClock) -> None:
    uid = PydanticObjectId()
    secret, _ = await enable(service, clock, uid)
    code = code_at(secret, clock.now())
    assert await service.verify_code(uid, f" {code[:3]} {code[3:]} ", Actor.system())


@pytest.mark.parametrize(
    "garbage",
    [None, {"code": "123456"}, ["123456"], 123456, "", "12345", "1234567", "abcdef",
     "١٢٣٤٥٦", "1" * 10_000, "12345\x00", "${code}"],
)  # fmt: skip
async def test_garbage_codes_are_false(
    service: MfaService, clock: FrozenClock, garbage: Any
) -> None:
    uid = PydanticObjectId()
    await enable(service, clock, uid)
    assert await service.verify_code(uid, garbage, Actor.system()) is False
    assert await service.use_backup_code(uid, garbage) is False
    assert await service.verify_code(PydanticObjectId(), garbage, Actor.system()) is False


async def test_verify_for_user_without_totp_is_false(service: MfaService) -> None:
    assert not await service.verify_code(PydanticObjectId(), "123456", Actor.system())


# -- backup codes ----------------------------------------------------------------


async def test_backup_code_format(service: MfaService, clock: FrozenClock) -> None:
    uid = PydanticObjectId()
    _, codes = await enable(service, clock, uid)
    for code in codes:
        left, right = code.split("-")
        assert len(left) == len(right) == 5
        assert set(left + right) <= set(BACKUP_CODE_ALPHABET)
    assert not set("0o1l") & set(BACKUP_CODE_ALPHABET)


async def test_backup_code_works_once(service: MfaService, clock: FrozenClock) -> None:
    uid = PydanticObjectId()
    _, codes = await enable(service, clock, uid)
    assert await service.use_backup_code(uid, codes[0])
    assert not await service.use_backup_code(uid, codes[0])
    assert await service.remaining_backup_codes(uid) == 9
    # Normalised: case, spaces and dashes do not matter.
    assert await service.use_backup_code(uid, f"  {codes[1].upper().replace('-', ' ')} ")
    assert await service.remaining_backup_codes(uid) == 8


async def test_backup_code_of_another_user_is_refused(
    service: MfaService, clock: FrozenClock
) -> None:
    alice, bob = PydanticObjectId(), PydanticObjectId()
    _, alice_codes = await enable(service, clock, alice)
    await enable(service, clock, bob)
    assert not await service.use_backup_code(bob, alice_codes[0])
    assert await service.use_backup_code(alice, alice_codes[0])


async def test_concurrent_backup_code_uses_succeed_once(
    service: MfaService, clock: FrozenClock
) -> None:
    uid = PydanticObjectId()
    _, codes = await enable(service, clock, uid)
    results = await asyncio.gather(*(service.use_backup_code(uid, codes[0]) for _ in range(20)))
    assert results.count(True) == 1
    assert await service.remaining_backup_codes(uid) == 9


async def test_backup_codes_are_stored_hashed(service: MfaService, clock: FrozenClock) -> None:
    uid = PydanticObjectId()
    _, codes = await enable(service, clock, uid)
    stored = await BackupCode.get_pymongo_collection().find({"user_id": uid}).to_list()
    assert len(stored) == 10
    dump = repr(stored)
    for code in codes:
        assert code not in dump
        assert code.replace("-", "") not in dump


async def test_regenerate_invalidates_old_codes(service: MfaService, clock: FrozenClock) -> None:
    uid = PydanticObjectId()
    _, old = await enable(service, clock, uid)
    await service.use_backup_code(uid, old[0])
    new = await service.regenerate_backup_codes(uid)
    assert len(new) == 10
    assert not set(old) & set(new)
    assert await service.remaining_backup_codes(uid) == 10
    assert not await service.use_backup_code(uid, old[1])
    assert await service.use_backup_code(uid, new[0])
    batches = {code.batch async for code in BackupCode.find(BackupCode.user_id == uid)}
    assert len(batches) == 1


async def test_regenerate_requires_enabled(service: MfaService) -> None:
    uid = PydanticObjectId()
    await service.begin_enrollment(uid, "ada@example.com")
    with pytest.raises(TotpNotEnabledError):
        await service.regenerate_backup_codes(uid)


async def test_verify_second_factor_needs_exactly_one(
    service: MfaService, clock: FrozenClock
) -> None:
    uid = PydanticObjectId()
    secret, codes = await enable(service, clock, uid)
    code = code_at(secret, clock.now())
    assert not await service.verify_second_factor(uid, None, None, Actor.system())
    assert not await service.verify_second_factor(uid, code, codes[0], Actor.system())
    assert await service.verify_second_factor(uid, code, None, Actor.system())
    assert await service.verify_second_factor(uid, "", codes[0], Actor.system())
    assert not await service.verify_second_factor(uid, None, codes[0], Actor.system())
    assert await service.remaining_backup_codes(uid) == 9


# -- disable and reset -----------------------------------------------------------


@pytest.mark.parametrize("how", ["disable", "reset"])
async def test_disable_removes_everything(
    service: MfaService, clock: FrozenClock, how: str
) -> None:
    uid = PydanticObjectId()
    secret, codes = await enable(service, clock, uid)
    assert await getattr(service, how)(uid) is True
    assert not await service.is_enabled(uid)
    assert await TotpCredential.find(TotpCredential.user_id == uid).count() == 0
    assert await service.remaining_backup_codes(uid) == 0
    assert not await service.verify_code(uid, code_at(secret, clock.now()), Actor.system())
    assert not await service.use_backup_code(uid, codes[0])
    assert await getattr(service, how)(uid) is False
    # And it can be set up again.
    clock.advance(STEP)
    await enable(service, clock, uid)
    assert await service.is_enabled(uid)


# -- secret at rest --------------------------------------------------------------


async def test_secret_is_stored_encrypted(service: MfaService) -> None:
    uid = PydanticObjectId()
    enrollment = await service.begin_enrollment(uid, "ada@example.com")
    raw = await TotpCredential.get_pymongo_collection().find_one({"user_id": uid})
    assert raw is not None
    assert enrollment.secret not in repr(raw)
    assert enrollment.secret.lower() not in repr(raw).lower()
    assert raw["encrypted_secret"].startswith("v1.")


async def test_tampered_secret_raises(service: MfaService, clock: FrozenClock) -> None:
    uid = PydanticObjectId()
    secret, _ = await enable(service, clock, uid)
    collection = TotpCredential.get_pymongo_collection()
    raw = await collection.find_one({"user_id": uid})
    assert raw is not None
    version, nonce, sealed = raw["encrypted_secret"].split(".")
    flipped = bytearray(base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4)))
    flipped[0] ^= 1
    tampered = base64.urlsafe_b64encode(bytes(flipped)).rstrip(b"=").decode()
    await collection.update_one(
        {"_id": raw["_id"]}, {"$set": {"encrypted_secret": f"{version}.{nonce}.{tampered}"}}
    )
    with pytest.raises(SecretDecryptionError):
        await service.verify_code(uid, code_at(secret, clock.now()), Actor.system())


async def test_secret_of_another_user_does_not_decrypt(service: MfaService) -> None:
    alice, bob = PydanticObjectId(), PydanticObjectId()
    await service.begin_enrollment(alice, "alice@example.com")
    await service.begin_enrollment(bob, "bob@example.com")
    collection = TotpCredential.get_pymongo_collection()
    alice_raw = await collection.find_one({"user_id": alice})
    assert alice_raw is not None
    await collection.update_one(
        {"user_id": bob}, {"$set": {"encrypted_secret": alice_raw["encrypted_secret"]}}
    )
    with pytest.raises(SecretDecryptionError):
        await service.confirm_enrollment(bob, "123456", Actor.system())


# -- SecretBox -------------------------------------------------------------------


def test_secret_box_round_trip_and_tamper() -> None:
    box = SecretBox(KEY)
    sealed = box.encrypt("JBSWY3DPEHPK3PXP", context=b"u1")
    assert sealed != box.encrypt("JBSWY3DPEHPK3PXP", context=b"u1")  # random nonce
    assert box.decrypt(sealed, context=b"u1") == "JBSWY3DPEHPK3PXP"
    nonce = sealed.split(".")[1]
    junk = ["", "v1", "v2" + sealed[2:], sealed + "A", "v1.!!.??", sealed[:-2], sealed + "!"]
    for bad in [*junk, sealed.replace(nonce, nonce[:4] + "*" + nonce[4:], 1)]:
        with pytest.raises(SecretDecryptionError):
            box.decrypt(bad, context=b"u1")
    with pytest.raises(SecretDecryptionError):
        box.decrypt(sealed, context=b"u2")
    with pytest.raises(SecretDecryptionError):
        SecretBox(os.urandom(32)).decrypt(sealed, context=b"u1")


def test_secret_box_from_setting() -> None:
    setting = base64.urlsafe_b64encode(KEY).rstrip(b"=").decode()
    sealed = SecretBox(KEY).encrypt("s")
    assert SecretBox.from_setting(setting, fallback_seed=b"ignored").decrypt(sealed) == "s"
    derived = SecretBox.from_setting(None, fallback_seed=b"dev seed")
    again = SecretBox.from_setting(None, fallback_seed=b"dev seed")
    assert again.decrypt(derived.encrypt("s")) == "s"
    with pytest.raises(SecretDecryptionError):
        SecretBox.from_setting(None, fallback_seed=b"other").decrypt(derived.encrypt("s"))
    for bad in ["short", base64.urlsafe_b64encode(os.urandom(16)).decode(), "***"]:
        with pytest.raises(ValueError, match="key"):
            SecretBox.from_setting(bad, fallback_seed=b"x")
    with pytest.raises(ValueError, match="seed"):
        SecretBox.from_setting(None, fallback_seed=b"")
