"""TOTP two-factor authentication (RFC 6238) and single-use backup codes.

TOTP: SHA-1, 6 digits, 30 s steps, ``valid_window`` steps either side of the
clock's step. A step that matches is claimed once (``totp:<user>:<step>``), so a
code cannot be replayed, even by concurrent requests; steps at or before the last
accepted one are refused as well (RFC 6238 section 5.2).

Backup codes: ``backup_code_count`` codes of 10 characters from a 32-character
alphabet without look-alikes (no 0/o/1/l), shown as ``xxxxx-xxxxx``. Each has
50 bits from ``secrets``, so an unsalted, fast SHA-256 is the right stored form:
unlike a password, a random 50-bit code cannot be found by guessing from a
dictionary, and brute force against a single digest costs ~2**49 hashes per code
while the digest (keyed by the user id) is only useful for that one user. Online
guessing is bounded by rate limiting and lockout, not by hash cost. A code is
used by claiming ``backup:<digest>`` and deleting it, so it works exactly once.

Nothing here is a read-modify-write that must be atomic: every exactly-once
decision is a claim (``domain.core.claims``), which holds on MongoDB and FerretDB.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
import segno
from beanie import PydanticObjectId
from beanie.operators import In
from loguru import logger
from pymongo.errors import DuplicateKeyError

from domain.core.claims import claim_once
from domain.core.clock import Clock
from domain.mfa.crypto import SecretBox
from domain.mfa.documents import BackupCode, TotpCredential
from domain.mfa.errors import (
    InvalidMfaCodeError,
    NoPendingEnrollmentError,
    TotpAlreadyEnabledError,
    TotpNotEnabledError,
)

TOTP_DIGITS = 6
TOTP_INTERVAL_SECONDS = 30
TOTP_SECRET_LENGTH = 32  # base32 characters: 160 bits, the RFC 4226 recommendation

BACKUP_CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # 32 symbols: 5 bits each
BACKUP_CODE_LENGTH = 10

# Longer input is garbage; refusing it early keeps normalisation cheap.
_MAX_INPUT_LENGTH = 64
_TOTP_PATTERN = re.compile(r"[0-9]{6}")
_BACKUP_CODE_PATTERN = re.compile(f"[{BACKUP_CODE_ALPHABET}]{{{BACKUP_CODE_LENGTH}}}")
# Claims outlive the last moment their step could be accepted, with room for clock skew.
_CLAIM_MARGIN = timedelta(minutes=10)
# A backup-code claim only matters until its document is deleted, right after.
_BACKUP_CLAIM_TTL = timedelta(days=30)
_CONFIRM_CLAIM_TTL = timedelta(hours=1)

UserId = PydanticObjectId | str
ReplayHook = Callable[[PydanticObjectId], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Enrollment:
    """What the user needs to add the account to an authenticator app."""

    secret: str  # base32, for manual entry
    otpauth_uri: str
    qr_svg_data_uri: str


class MfaService:
    def __init__(
        self,
        box: SecretBox,
        clock: Clock,
        issuer: str = "Gatehouse",
        valid_window: int = 1,
        backup_code_count: int = 10,
    ) -> None:
        if valid_window < 0:
            raise ValueError("valid_window must be >= 0")
        if backup_code_count < 1:
            raise ValueError("backup_code_count must be >= 1")
        self._box = box
        self._clock = clock
        self._issuer = issuer
        self._valid_window = valid_window
        self._backup_code_count = backup_code_count
        self._on_replay: ReplayHook | None = None

    def set_replay_hook(self, hook: ReplayHook) -> None:
        """Called when a right code is presented for a step already used: it was entered
        twice, or someone else saw it (ASVS 2.8.5: log it and tell the holder)."""
        self._on_replay = hook

    async def _replayed(self, user_id: PydanticObjectId) -> None:
        if self._on_replay is None:
            return
        try:
            await self._on_replay(user_id)
        except Exception as error:  # the refusal stands whatever the notice does
            logger.bind(user_id=str(user_id)).warning("TOTP replay notice failed: {}", error)

    # -- enrollment -------------------------------------------------------------

    async def begin_enrollment(self, user_id: UserId, account_name: str) -> Enrollment:
        """Create (or replace) the user's pending TOTP secret.

        Raises:
            TotpAlreadyEnabledError: the user already has confirmed TOTP.
        """
        uid = _oid(user_id)
        existing = await _credential(uid)
        if existing is not None and existing.confirmed_at is not None:
            raise TotpAlreadyEnabledError
        secret = pyotp.random_base32(TOTP_SECRET_LENGTH)
        encrypted = self._box.encrypt(secret, context=_context(uid))
        now = self._clock.now()
        inserted = False
        if existing is None:
            try:
                await TotpCredential(
                    user_id=uid, encrypted_secret=encrypted, created_at=now
                ).insert()
                inserted = True
            except DuplicateKeyError:
                pass  # a concurrent begin created it: replace that one below
        if not inserted:
            result = await TotpCredential.get_pymongo_collection().update_one(
                {"user_id": uid, "confirmed_at": None},
                {
                    "$set": {
                        "encrypted_secret": encrypted,
                        "created_at": now,
                        "last_used_step": None,
                    }
                },
            )
            if result.matched_count != 1:
                raise TotpAlreadyEnabledError  # confirmed meanwhile
        uri = self._totp(secret).provisioning_uri(name=account_name, issuer_name=self._issuer)
        return Enrollment(
            secret=secret,
            otpauth_uri=uri,
            qr_svg_data_uri=segno.make(uri).svg_data_uri(scale=4),
        )

    async def confirm_enrollment(self, user_id: UserId, code: object) -> list[str]:
        """Check a code from the pending secret, enable TOTP, return new backup codes.

        The backup codes are returned in plain text this once; only digests are kept.

        Raises:
            NoPendingEnrollmentError: nothing to confirm (or it was replaced meanwhile).
            TotpAlreadyEnabledError: TOTP is already confirmed.
            InvalidMfaCodeError: the code is wrong, malformed or already used.
            SecretDecryptionError: the stored secret cannot be decrypted.
        """
        uid = _oid(user_id)
        credential = await _credential(uid)
        if credential is None:
            raise NoPendingEnrollmentError
        if credential.confirmed_at is not None:
            raise TotpAlreadyEnabledError
        normalized = _normalize_totp(code)
        if normalized is None or not await self._accept_totp(credential, normalized):
            raise InvalidMfaCodeError
        now = self._clock.now()
        # Two confirmations with codes of different steps must not both enable it
        # (each would issue its own backup codes). The secret is part of the key, so a
        # new enrollment after an interrupted one can still be confirmed.
        secret_digest = hashlib.sha256(credential.encrypted_secret.encode()).hexdigest()[:32]
        if not await claim_once(
            f"totp-confirm:{credential.id}:{secret_digest}",
            now=now,
            expires_at=now + _CONFIRM_CLAIM_TTL,
        ):
            raise TotpAlreadyEnabledError
        result = await TotpCredential.get_pymongo_collection().update_one(
            {
                "_id": credential.id,
                "confirmed_at": None,
                "encrypted_secret": credential.encrypted_secret,
            },
            {"$set": {"confirmed_at": now}},
        )
        if result.matched_count != 1:
            raise NoPendingEnrollmentError  # replaced by a new begin, or removed
        return await self._replace_backup_codes(uid)

    # -- state ------------------------------------------------------------------

    async def is_enabled(self, user_id: UserId) -> bool:
        credential = await _credential(_oid(user_id))
        return credential is not None and credential.confirmed_at is not None

    async def remaining_backup_codes(self, user_id: UserId) -> int:
        return await BackupCode.find(BackupCode.user_id == _oid(user_id)).count()

    # -- verification -----------------------------------------------------------

    async def verify_code(self, user_id: UserId, code: object) -> bool:
        """Whether ``code`` is a fresh TOTP code of the user's confirmed secret.

        Never raises on bad input (anything not six digits is just False).

        Raises:
            SecretDecryptionError: the stored secret cannot be decrypted.
        """
        normalized = _normalize_totp(code)
        if normalized is None:
            return False
        credential = await _credential(_oid(user_id))
        if credential is None or credential.confirmed_at is None:
            return False
        return await self._accept_totp(credential, normalized)

    async def use_backup_code(self, user_id: UserId, code: object) -> bool:
        """Use a backup code up: True once, False if unknown, malformed or used."""
        normalized = _normalize_backup_code(code)
        if normalized is None:
            return False
        uid = _oid(user_id)
        digest = _backup_code_digest(uid, normalized)
        stored = await BackupCode.get(digest)
        if stored is None or stored.user_id != uid:
            return False
        now = self._clock.now()
        if not await claim_once(f"backup:{digest}", now=now, expires_at=now + _BACKUP_CLAIM_TTL):
            return False
        await BackupCode.find(BackupCode.id == digest).delete()
        return True

    async def verify_second_factor(
        self, user_id: UserId, code: str | None, backup_code: str | None
    ) -> bool:
        """Check exactly one of a TOTP code or a backup code (both or neither: False)."""
        has_code = code is not None and code != ""
        has_backup = backup_code is not None and backup_code != ""
        if has_code == has_backup:
            return False
        if has_code:
            return await self.verify_code(user_id, code)
        return await self.use_backup_code(user_id, backup_code)

    # -- management -------------------------------------------------------------

    async def regenerate_backup_codes(self, user_id: UserId) -> list[str]:
        """Replace all backup codes; the caller has checked the password and a code.

        Raises:
            TotpNotEnabledError: TOTP is not enabled.
        """
        uid = _oid(user_id)
        if not await self.is_enabled(uid):
            raise TotpNotEnabledError
        return await self._replace_backup_codes(uid)

    async def disable(self, user_id: UserId) -> bool:
        """Remove the TOTP credential (pending or confirmed) and all backup codes.

        Returns whether a credential existed. Idempotent.
        """
        uid = _oid(user_id)
        # The credential first: once it is gone, TOTP is off, whatever happens next.
        result = await TotpCredential.get_pymongo_collection().delete_many({"user_id": uid})
        await BackupCode.find(BackupCode.user_id == uid).delete()
        return result.deleted_count > 0

    async def reset(self, user_id: UserId) -> bool:
        """An administrator's reset: the same as ``disable`` (audited separately)."""
        return await self.disable(user_id)

    # -- internals --------------------------------------------------------------

    def _totp(self, secret: str) -> pyotp.TOTP:
        return pyotp.TOTP(
            secret, digits=TOTP_DIGITS, digest=hashlib.sha1, interval=TOTP_INTERVAL_SECONDS
        )

    def _candidate_steps(self, current: int) -> Iterator[int]:
        yield current
        for offset in range(1, self._valid_window + 1):
            yield current - offset
            yield current + offset

    async def _accept_totp(self, credential: TotpCredential, code: str) -> bool:
        """Match ``code`` within the window and claim its step exactly once."""
        uid = credential.user_id
        totp = self._totp(self._box.decrypt(credential.encrypted_secret, context=_context(uid)))
        now = _aware(self._clock.now())
        current = int(now.timestamp()) // TOTP_INTERVAL_SECONDS
        matched: int | None = None
        for step in self._candidate_steps(current):
            if step >= 0 and hmac.compare_digest(str(totp.generate_otp(step)), code):
                matched = step
                break
        if matched is None:
            return False
        if credential.last_used_step is not None and matched <= credential.last_used_step:
            await self._replayed(uid)
            return False
        last_acceptable = (matched + self._valid_window + 1) * TOTP_INTERVAL_SECONDS
        expires_at = datetime.fromtimestamp(last_acceptable, UTC) + _CLAIM_MARGIN
        if not await claim_once(f"totp:{uid}:{matched}", now=now, expires_at=expires_at):
            await self._replayed(uid)
            return False
        # Best effort (not atomic on FerretDB); the claim above is what decides.
        await TotpCredential.get_pymongo_collection().update_one(
            {
                "_id": credential.id,
                "$or": [{"last_used_step": None}, {"last_used_step": {"$lt": matched}}],
            },
            {"$set": {"last_used_step": matched}},
        )
        credential.last_used_step = matched
        return True

    async def _replace_backup_codes(self, uid: PydanticObjectId) -> list[str]:
        # New codes go in before the old ones go out, so there is never a moment
        # without codes. Only the codes seen before are deleted: two concurrent
        # regenerations leave both batches rather than none.
        old_ids = [code.id async for code in BackupCode.find(BackupCode.user_id == uid)]
        codes: set[str] = set()
        while len(codes) < self._backup_code_count:
            codes.add(_new_backup_code())
        now = self._clock.now()
        batch = secrets.token_hex(8)
        await BackupCode.insert_many(
            [
                BackupCode(
                    _id=_backup_code_digest(uid, code), user_id=uid, created_at=now, batch=batch
                )
                for code in codes
            ]
        )
        if old_ids:
            await BackupCode.find(In(BackupCode.id, old_ids)).delete()
        return [_format_backup_code(code) for code in sorted(codes)]


async def _credential(uid: PydanticObjectId) -> TotpCredential | None:
    return await TotpCredential.find_one(TotpCredential.user_id == uid)


def _oid(user_id: UserId) -> PydanticObjectId:
    return user_id if isinstance(user_id, PydanticObjectId) else PydanticObjectId(user_id)


def _context(uid: PydanticObjectId) -> bytes:
    # Binds a sealed secret to its owner: a copied ciphertext will not decrypt for another user.
    return f"totp:{uid}".encode()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _normalize_totp(code: object) -> str | None:
    if not isinstance(code, str) or len(code) > _MAX_INPUT_LENGTH:
        return None
    compact = "".join(code.split())
    return compact if _TOTP_PATTERN.fullmatch(compact) else None


def _normalize_backup_code(code: object) -> str | None:
    if not isinstance(code, str) or len(code) > _MAX_INPUT_LENGTH:
        return None
    compact = "".join(code.split()).replace("-", "").lower()
    return compact if _BACKUP_CODE_PATTERN.fullmatch(compact) else None


def _new_backup_code() -> str:
    return "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))


def _format_backup_code(code: str) -> str:
    half = BACKUP_CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def _backup_code_digest(uid: PydanticObjectId, normalized: str) -> str:
    return hashlib.sha256(f"{uid}:{normalized}".encode()).hexdigest()
