"""TOTP two-factor authentication (RFC 6238) and single-use backup codes.

TOTP: SHA-1, 6 digits, 30 s steps, ``valid_window`` steps either side of the
clock's step. A step that matches is claimed once (``totp:<user>:<step>``), so a
code cannot be replayed, even by concurrent requests; steps at or before the last
accepted one are refused as well (RFC 6238 section 5.2).

Backup codes: ``backup_code_count`` codes of 10 characters from a 32-character
alphabet without look-alikes (domain/mfa/backup_codes.py). Each has
50 bits from ``secrets``, so an unsalted, fast SHA-256 is the right stored form:
unlike a password, a random 50-bit code cannot be found by guessing from a
dictionary, and brute force against a single digest costs ~2**49 hashes per code
while the digest (keyed by the user id) is only useful for that one user. Online
guessing is bounded by rate limiting and lockout, not by hash cost. A code is
used by claiming ``backup:<digest>`` and deleting it, so it works exactly once.

A right code for a step already used is a replay, not a guess: it raises
``TotpCodeReplayedError`` so callers do not count it toward the lock (a wrong code
still counts). Every change of factor (enabled, disabled, reset, new backup codes)
is reported to the ``on_change`` hook, which tells the owner.

Nothing here is a read-modify-write that must be atomic: every exactly-once
decision is a claim (``domain.core.claims``), which holds on MongoDB and FerretDB.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import pyotp
import segno
from beanie import PydanticObjectId
from loguru import logger
from pymongo.errors import DuplicateKeyError

from domain.core.actor import Actor
from domain.core.by_id import delete_by_id, update_by_id
from domain.core.claims import claim_once
from domain.core.clock import Clock
from domain.core.secret_box import SecretBox
from domain.mfa.backup_codes import (
    BACKUP_CODE_ALPHABET,
    MAX_INPUT_LENGTH,
    replace_backup_codes,
    use_backup_code,
)
from domain.mfa.documents import BackupCode, TotpCredential
from domain.mfa.errors import (
    InvalidMfaCodeError,
    NoPendingEnrollmentError,
    TotpAlreadyEnabledError,
    TotpCodeReplayedError,
    TotpNotEnabledError,
)

__all__ = ["BACKUP_CODE_ALPHABET", "Enrollment", "FactorChange", "MfaService"]

TOTP_DIGITS = 6
TOTP_INTERVAL_SECONDS = 30
TOTP_SECRET_LENGTH = 32  # base32 characters: 160 bits, the RFC 4226 recommendation

_TOTP_PATTERN = re.compile(r"[0-9]{6}")
# Claims outlive the last moment their step could be accepted, with room for clock skew.
_CLAIM_MARGIN = timedelta(minutes=10)
_CONFIRM_CLAIM_TTL = timedelta(hours=1)

UserId = PydanticObjectId | str
# Told who presented the replayed code and from where (the notice audits it).
ReplayHook = Callable[[PydanticObjectId, Actor], Awaitable[None]]


class FactorChange(StrEnum):
    """A change to a user's second factor that its owner is told about."""

    ENABLED = "enabled"
    DISABLED = "disabled"  # by the user
    RESET = "reset"  # by an administrator
    BACKUP_CODES_REGENERATED = "backup_codes_regenerated"


ChangeHook = Callable[[PydanticObjectId, FactorChange], Awaitable[None]]


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
        on_change: ChangeHook | None = None,
        on_replay: ReplayHook | None = None,
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
        # Told when a right code is presented for a step already used: it was entered
        # twice, or someone else saw it (ASVS 2.8.5: log it and tell the holder).
        self._on_replay = on_replay
        self._on_change = on_change

    async def _replayed(self, user_id: PydanticObjectId, actor: Actor) -> None:
        if self._on_replay is None:
            return
        try:
            await self._on_replay(user_id, actor)
        except Exception as error:  # the refusal stands whatever the notice does
            logger.bind(user_id=str(user_id)).warning("TOTP replay notice failed: {}", error)

    async def _changed(self, user_id: PydanticObjectId, change: FactorChange) -> None:
        if self._on_change is None:
            return
        try:
            await self._on_change(user_id, change)
        except Exception as error:  # the change is made; a lost notice must not undo it
            logger.bind(user_id=str(user_id), change=change.value).warning(
                "second-factor change notice failed: {}", error
            )

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
            replaced = await update_by_id(
                TotpCredential.get_pymongo_collection(),
                uid,
                {
                    "$set": {
                        "encrypted_secret": encrypted,
                        "created_at": now,
                        "last_used_step": None,
                    }
                },
                guard={"confirmed_at": None},
            )
            if not replaced:
                raise TotpAlreadyEnabledError  # confirmed meanwhile
        uri = self._totp(secret).provisioning_uri(name=account_name, issuer_name=self._issuer)
        return Enrollment(
            secret=secret,
            otpauth_uri=uri,
            qr_svg_data_uri=segno.make(uri).svg_data_uri(scale=4),
        )

    async def confirm_enrollment(self, user_id: UserId, code: object, actor: Actor) -> list[str]:
        """Check a code from the pending secret, enable TOTP, return new backup codes.

        The backup codes are returned in plain text this once; only digests are kept.

        Raises:
            NoPendingEnrollmentError: nothing to confirm (or it was replaced meanwhile).
            TotpAlreadyEnabledError: TOTP is already confirmed.
            InvalidMfaCodeError: the code is wrong or malformed.
            TotpCodeReplayedError: the code's step was already used.
            SecretDecryptionError: the stored secret cannot be decrypted.
        """
        uid = _oid(user_id)
        credential = await _credential(uid)
        if credential is None:
            raise NoPendingEnrollmentError
        if credential.confirmed_at is not None:
            raise TotpAlreadyEnabledError
        normalized = _normalize_totp(code)
        if normalized is None or not await self._accept_totp(credential, normalized, actor):
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
        confirmed = await update_by_id(
            TotpCredential.get_pymongo_collection(),
            credential.id,
            {"$set": {"confirmed_at": now}},
            guard={"confirmed_at": None, "encrypted_secret": credential.encrypted_secret},
        )
        if not confirmed:
            raise NoPendingEnrollmentError  # replaced by a new begin, or removed
        codes = await self._replace_backup_codes(uid)
        await self._changed(uid, FactorChange.ENABLED)
        return codes

    # -- state ------------------------------------------------------------------

    async def is_enabled(self, user_id: UserId) -> bool:
        credential = await _credential(_oid(user_id))
        return credential is not None and credential.confirmed_at is not None

    async def remaining_backup_codes(self, user_id: UserId) -> int:
        return await BackupCode.find(BackupCode.user_id == _oid(user_id)).count()

    # -- verification -----------------------------------------------------------

    async def verify_code(self, user_id: UserId, code: object, actor: Actor) -> bool:
        """Whether ``code`` is a fresh TOTP code of the user's confirmed secret.

        Never raises on bad input (anything not six digits is just False).

        Raises:
            TotpCodeReplayedError: the right code of a step already used (not a guess).
            SecretDecryptionError: the stored secret cannot be decrypted.
        """
        normalized = _normalize_totp(code)
        if normalized is None:
            return False
        credential = await _credential(_oid(user_id))
        if credential is None or credential.confirmed_at is None:
            return False
        return await self._accept_totp(credential, normalized, actor)

    async def use_backup_code(self, user_id: UserId, code: object) -> bool:
        """Use a backup code up: True once, False if unknown, malformed or used."""
        return await use_backup_code(_oid(user_id), code, self._clock.now())

    async def verify_second_factor(
        self, user_id: UserId, code: str | None, backup_code: str | None, actor: Actor
    ) -> bool:
        """Check exactly one of a TOTP code or a backup code (both or neither: False).

        Raises: TotpCodeReplayedError (see ``verify_code``).
        """
        has_code = code is not None and code != ""
        has_backup = backup_code is not None and backup_code != ""
        if has_code == has_backup:
            return False
        if has_code:
            return await self.verify_code(user_id, code, actor)
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
        codes = await self._replace_backup_codes(uid)
        await self._changed(uid, FactorChange.BACKUP_CODES_REGENERATED)
        return codes

    async def disable(self, user_id: UserId) -> bool:
        """Remove the TOTP credential (pending or confirmed) and all backup codes.

        Returns whether a credential existed. Idempotent.
        """
        return await self._remove(_oid(user_id), FactorChange.DISABLED)

    async def reset(self, user_id: UserId) -> bool:
        """An administrator's reset: the same as ``disable`` (audited separately)."""
        return await self._remove(_oid(user_id), FactorChange.RESET)

    async def _remove(self, uid: PydanticObjectId, change: FactorChange) -> bool:
        # Only a confirmed factor is news to its owner; a pending enrollment is not.
        was_enabled = await self.is_enabled(uid)
        # The credential first: once it is gone, TOTP is off, whatever happens next.
        deleted = await delete_by_id(TotpCredential.get_pymongo_collection(), uid)
        await BackupCode.find(BackupCode.user_id == uid).delete()
        if was_enabled and deleted:
            await self._changed(uid, change)
        return deleted

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

    async def _accept_totp(self, credential: TotpCredential, code: str, actor: Actor) -> bool:
        """Match ``code`` within the window and claim its step exactly once.

        Raises: TotpCodeReplayedError when the code matches a step already used.
        """
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
            await self._replayed(uid, actor)
            raise TotpCodeReplayedError
        last_acceptable = (matched + self._valid_window + 1) * TOTP_INTERVAL_SECONDS
        expires_at = datetime.fromtimestamp(last_acceptable, UTC) + _CLAIM_MARGIN
        if not await claim_once(f"totp:{uid}:{matched}", now=now, expires_at=expires_at):
            await self._replayed(uid, actor)
            raise TotpCodeReplayedError
        # Best effort, from the step as read: the claim above is what decides (a
        # request that moved the step meanwhile keeps its later step).
        await update_by_id(
            TotpCredential.get_pymongo_collection(),
            credential.id,
            {"$set": {"last_used_step": matched}},
            guard={"last_used_step": credential.last_used_step},
            as_read={"last_used_step": credential.last_used_step},
        )
        credential.last_used_step = matched
        return True

    async def _replace_backup_codes(self, uid: PydanticObjectId) -> list[str]:
        return await replace_backup_codes(uid, self._backup_code_count, self._clock.now())


async def _credential(uid: PydanticObjectId) -> TotpCredential | None:
    return await TotpCredential.get(uid)


def _oid(user_id: UserId) -> PydanticObjectId:
    return user_id if isinstance(user_id, PydanticObjectId) else PydanticObjectId(user_id)


def _context(uid: PydanticObjectId) -> bytes:
    # Binds a sealed secret to its owner: a copied ciphertext will not decrypt for another user.
    return f"totp:{uid}".encode()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _normalize_totp(code: object) -> str | None:
    if not isinstance(code, str) or len(code) > MAX_INPUT_LENGTH:
        return None
    compact = "".join(code.split())
    return compact if _TOTP_PATTERN.fullmatch(compact) else None
