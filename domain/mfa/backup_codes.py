"""The shape of backup codes: how they are made, shown, read back and stored.

``BACKUP_CODE_LENGTH`` characters from a 32-character alphabet without look-alikes
(no 0/o/1/l), shown as ``xxxxx-xxxxx``. Each has 50 bits from ``secrets``, so an
unsalted, fast SHA-256 (keyed by the user id) is the right stored form: see
domain/mfa/service.py for why. A code is used by claiming ``backup:<digest>`` and
deleting it, so it works exactly once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from beanie import PydanticObjectId
from beanie.operators import In

from domain.core.claims import claim_once
from domain.mfa.documents import BackupCode

BACKUP_CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # 32 symbols: 5 bits each
BACKUP_CODE_LENGTH = 10

# Longer input is garbage; refusing it early keeps normalisation cheap.
MAX_INPUT_LENGTH = 64
_BACKUP_CODE_PATTERN = re.compile(f"[{BACKUP_CODE_ALPHABET}]{{{BACKUP_CODE_LENGTH}}}")
# A backup-code claim only matters until its document is deleted, right after.
_BACKUP_CLAIM_TTL = timedelta(days=30)


def normalize_backup_code(code: object) -> str | None:
    if not isinstance(code, str) or len(code) > MAX_INPUT_LENGTH:
        return None
    compact = "".join(code.split()).replace("-", "").lower()
    return compact if _BACKUP_CODE_PATTERN.fullmatch(compact) else None


def new_backup_code() -> str:
    return "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))


def format_backup_code(code: str) -> str:
    half = BACKUP_CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def backup_code_digest(uid: PydanticObjectId, normalized: str) -> str:
    return hashlib.sha256(f"{uid}:{normalized}".encode()).hexdigest()


async def use_backup_code(uid: PydanticObjectId, code: object, now: datetime) -> bool:
    """Use a backup code up: True once, False if unknown, malformed or used."""
    normalized = normalize_backup_code(code)
    if normalized is None:
        return False
    digest = backup_code_digest(uid, normalized)
    stored = await BackupCode.get(digest)
    if stored is None or stored.user_id != uid:
        return False
    if not await claim_once(f"backup:{digest}", now=now, expires_at=now + _BACKUP_CLAIM_TTL):
        return False
    await BackupCode.find(BackupCode.id == digest).delete()
    return True


async def replace_backup_codes(uid: PydanticObjectId, count: int, now: datetime) -> list[str]:
    """A new batch of ``count`` codes, returned in plain text this once."""
    # New codes go in before the old ones go out, so there is never a moment without
    # codes. Only the codes seen before are deleted: two concurrent regenerations
    # leave both batches rather than none.
    old_ids = [code.id async for code in BackupCode.find(BackupCode.user_id == uid)]
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(new_backup_code())
    batch = secrets.token_hex(8)
    await BackupCode.insert_many(
        [
            BackupCode(_id=backup_code_digest(uid, code), user_id=uid, created_at=now, batch=batch)
            for code in codes
        ]
    )
    if old_ids:
        await BackupCode.find(In(BackupCode.id, old_ids)).delete()
    return [format_backup_code(code) for code in sorted(codes)]
