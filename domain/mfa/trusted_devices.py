"""Trusted devices: a device that answered the second factor may skip it for a while.

``completeMfaLogin(rememberDevice: true)`` grants the signing-in device a token that the
client keeps (Gatehouse sets no cookies) and sends back as ``deviceToken`` on its later
sign-ins; with it, that account's second factor is not asked for on that device until
the token expires (``trusted_device_ttl_seconds``, 30 days; 0 turns the feature off).
The first step (a password, an emailed code, a passkey) is always asked.

A token is ``td1.<id>.<secret>``: the id finds its document by ``_id`` (the one lookup
FerretDB serves from an index), and only the SHA-256 of the 256-bit secret is kept,
compared in constant time. A token is bound to its account: another account's token,
an expired, revoked or malformed one is simply not trusted (the second factor is
asked; nothing else changes, so a client may send a stale token without harm).

Every trusted device of an account ends when its password or a factor changes, on
``logoutAll``, and whenever every session of the account is ended; each one can also
be revoked on its own. Each grant, use and revocation is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta

from beanie import PydanticObjectId
from bson.errors import InvalidId

from domain.audit.documents import AuditAction
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.by_id import delete_by_id, update_by_id
from domain.core.clock import Clock
from domain.core.settings import Settings
from domain.mfa.documents import TrustedDevice

# A device beyond this many (per account) pushes out the one used longest ago.
MAX_TRUSTED_DEVICES = 20
_TOKEN = re.compile(r"^td1\.([0-9a-f]{24})\.([A-Za-z0-9_-]{43})$")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _recency(device: TrustedDevice) -> datetime:
    return _utc(device.last_used_at or device.created_at)


class TrustedDevices:
    def __init__(self, settings: Settings, clock: Clock, audit: AuditService) -> None:
        self._ttl = timedelta(seconds=settings.trusted_device_ttl_seconds)
        self._clock = clock
        self._audit = audit

    @property
    def enabled(self) -> bool:
        return self._ttl > timedelta(0)

    async def grant(self, user_id: PydanticObjectId, *, device: str, actor: Actor) -> str | None:
        """A token that lets this device skip the account's second factor (None when
        the deployment remembers no device)."""
        if not self.enabled:
            return None
        now = self._clock.now()
        live = await self.of_user(user_id)
        for stale in sorted(live, key=_recency)[: max(len(live) - MAX_TRUSTED_DEVICES + 1, 0)]:
            await delete_by_id(TrustedDevice.get_pymongo_collection(), stale.id)
        secret = secrets.token_urlsafe(32)
        trusted = TrustedDevice(
            user_id=user_id,
            secret_hash=_digest(secret),
            device=device,
            ip=actor.ip,
            created_at=now,
            expires_at=now + self._ttl,
        )
        await trusted.insert()
        await self._audit.record(
            "user.trusted_device_added",
            AuditAction.CREATE,
            actor=actor.as_user(str(user_id)),
            target_id=str(user_id),
            details={"trusted_device": str(trusted.id), "device": device},
        )
        return f"td1.{trusted.id}.{secret}"

    async def trusts(self, user_id: PydanticObjectId, token: object, actor: Actor) -> bool:
        """Whether ``token`` is a live trusted device of this account; its use is
        recorded and audited. Anything else is False, never an error."""
        if not self.enabled or not isinstance(token, str):
            return False
        match = _TOKEN.fullmatch(token)
        if match is None:
            return False
        device = await TrustedDevice.get(PydanticObjectId(match[1]))
        now = self._clock.now()
        if (
            device is None
            or device.user_id != user_id
            or not hmac.compare_digest(device.secret_hash, _digest(match[2]))
        ):
            return False
        if _utc(device.expires_at) <= now:
            await delete_by_id(TrustedDevice.get_pymongo_collection(), device.id)
            return False
        if not await update_by_id(
            TrustedDevice.get_pymongo_collection(), device.id, {"$set": {"last_used_at": now}}
        ):
            return False  # revoked a moment ago
        await self._audit.record(
            "user.trusted_device_used",
            AuditAction.LOGIN,
            actor=actor.as_user(str(user_id)),
            target_id=str(user_id),
            details={"trusted_device": str(device.id), "device": device.device},
        )
        return True

    async def of_user(self, user_id: PydanticObjectId) -> list[TrustedDevice]:
        """The account's live trusted devices, most recently used first (expired ones
        are deleted on the way)."""
        now = self._clock.now()
        found = await TrustedDevice.find({"user_id": user_id}).to_list()
        expired = [d.id for d in found if _utc(d.expires_at) <= now]
        if expired:
            await TrustedDevice.find({"_id": {"$in": expired}}).delete()
        live = [d for d in found if _utc(d.expires_at) > now]
        return sorted(live, key=lambda d: (_recency(d), str(d.id)), reverse=True)

    async def revoke(self, user_id: PydanticObjectId, device_id: str, actor: Actor) -> bool:
        """End one of the account's trusted devices; False if it is not theirs (or gone)."""
        try:
            oid = PydanticObjectId(device_id)
        except (InvalidId, TypeError):
            return False
        if not await delete_by_id(
            TrustedDevice.get_pymongo_collection(), oid, guard={"user_id": user_id}
        ):
            return False
        await self._audit.record(
            "user.trusted_device_revoked",
            AuditAction.REVOKE,
            actor=actor,
            target_id=str(user_id),
            details={"trusted_device": device_id},
        )
        return True

    async def end_all(self, user_id: PydanticObjectId, reason: str, actor: Actor) -> int:
        """End every trusted device of the account (a password or factor change,
        ``logoutAll``, every session ended); returns how many ended."""
        result = await TrustedDevice.get_pymongo_collection().delete_many({"user_id": user_id})
        if result.deleted_count:
            await self._audit.record(
                "user.trusted_devices_revoked",
                AuditAction.REVOKE,
                actor=actor,
                target_id=str(user_id),
                details={"reason": reason, "trusted_devices": result.deleted_count},
            )
        return int(result.deleted_count)
