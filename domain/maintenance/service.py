"""Delete what has expired. FerretDB has no TTL indexes, so a periodic job does it.

Every query here is bounded by an indexed time field, so a run costs little even
on large collections; running it twice is harmless.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from loguru import logger

from domain.audit.service import AuditService
from domain.core.claims import Claim
from domain.identity.action_tokens import ActionToken
from domain.impersonation.documents import ImpersonationRecord
from domain.sessions.documents import RefreshFamily, RefreshRotation, RefreshToken, Session

# Ended sessions stay listed for a while so users and admins can see what happened.
SESSION_KEEP = timedelta(days=30)


async def _deleted(result: object) -> int:
    return int(getattr(result, "deleted_count", 0) or 0)


async def purge_expired(now: datetime) -> dict[str, int]:
    counts = {
        "claims": await _deleted(await Claim.find({"expires_at": {"$lt": now}}).delete()),
        "action_tokens": await _deleted(
            await ActionToken.find({"expires_at": {"$lt": now}}).delete()
        ),
        "refresh_tokens": await _deleted(
            await RefreshToken.find({"idle_expires_at": {"$lt": now}}).delete()
        ),
        "refresh_families": await _deleted(
            # Kept to the session's absolute end, so a replay stays reuse until then.
            await RefreshFamily.find({"expires_at": {"$lt": now}}).delete()
        ),
        "refresh_rotations": await _deleted(
            # Kept as long as their family: a replay of a rotated token stays reuse.
            await RefreshRotation.find({"expires_at": {"$lt": now}}).delete()
        ),
        "sessions": await _deleted(
            await Session.find({"expires_at": {"$lt": now - SESSION_KEEP}}).delete()
        ),
        # Kept as long as ended sessions are listed; the audit trail keeps the events.
        "impersonations": await _deleted(
            await ImpersonationRecord.find({"ended_at": {"$lt": now - SESSION_KEEP}}).delete()
        ),
    }
    logger.bind(**counts).info("expired records purged")
    return counts


async def purge_audit(audit: AuditService, now: datetime, retention_days: int) -> int:
    removed = await audit.purge_older_than(now - timedelta(days=retention_days))
    logger.bind(removed=removed, retention_days=retention_days).info("audit retention applied")
    return removed
